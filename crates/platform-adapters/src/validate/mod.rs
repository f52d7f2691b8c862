//! Checks a post against a platform's capabilities before it is accepted, so a post that the
//! platform would refuse is refused at once, with a reason, instead of failing at its due time.
//!
//! Everything here is pure: the caller passes what it knows (the text, the facts of each media
//! item from the media table, the per-platform options) and gets back every problem at once,
//! each with a stable `code` for programs and a concrete message for the person who wrote the
//! post. Limits that vary per account (X Premium video length, TikTok's per-creator maximum)
//! are left to the platform: refusing them here would refuse posts the platform accepts.

pub(crate) mod urls;

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

pub use crate::platforms::mastodon::text::{
    length as mastodon_length, CHARS_PER_URL as MASTODON_CHARS_PER_URL,
};
use crate::{spec::PlatformSpec, Descriptor, MediaKind, PostOptions, TextCounting};

/// What the gateway knows of one media item (from the media table), enough to check it
/// against a platform without reading the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFacts {
    /// Image or video.
    pub kind: MediaKind,
    /// `image/jpeg`, `video/mp4`, … as stored at upload.
    pub mime_type: String,
    /// Size of the file in bytes.
    pub size_bytes: u64,
    /// Duration of a video, where it was measured.
    pub duration_ms: Option<u32>,
}

/// One reason a platform would refuse the post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable, machine-readable: `text_too_long`, `text_required`, `media_required`,
    /// `too_many_media`, `media_kind_not_supported`, `media_format_not_supported`,
    /// `media_too_large`, `mixed_media`, `video_too_long`, `video_too_short`,
    /// `board_required`, `title_required`, `title_too_long`, `invalid_characters`.
    pub code: &'static str,
    /// For the person who wrote the post: names the platform and the numbers involved.
    pub message: String,
}

impl Problem {
    fn new(code: &'static str, message: String) -> Self {
        Self { code, message }
    }
}

/// The length of `text` as the platform counts it, in the units of
/// [`crate::Capabilities::text_limit`].
///
/// `XWeighted` follows twitter-text v3 except for two simplifications: the text is not NFC
/// normalized first (input from browsers and phones nearly always is already), and only URLs
/// starting with `http://`, `https://` or `www.` are recognised (a bare `example.com` counts
/// as its characters rather than 23).
pub fn text_length(counting: TextCounting, text: &str) -> usize {
    match counting {
        TextCounting::Chars => text.chars().count(),
        TextCounting::Graphemes => text.graphemes(true).count(),
        TextCounting::XWeighted => crate::platforms::x::text::weighted_length(text),
    }
}

/// What one account's own server says about its limits, where they differ from the platform's
/// defaults: a Mastodon instance's `configuration.statuses` and `media_attachments` of
/// `GET /api/v2/instance`, read when the instance was registered. `None` fields keep the
/// descriptor's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountLimits {
    /// Characters per post (`max_characters`).
    pub max_characters: Option<usize>,
    /// What every link counts as (`characters_reserved_per_url`).
    pub characters_per_url: Option<usize>,
    /// Media items per post (`max_media_attachments`).
    pub max_media: Option<usize>,
}

/// A text's length as one platform counts it, and how to say so: who counts (`"X"`, `"This
/// Mastodon server"`) and a note on what counts differently (links, emoji).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextCount {
    /// The length, in the units of the limit.
    pub length: usize,
    /// Who allows the limit, as the message names them.
    pub who: String,
    /// What counts unusually, in parentheses with a leading space; empty when nothing does.
    pub note: String,
}

/// Every problem `descriptor.platform` would have with this post, in a stable order: text,
/// presence, media, options. Empty means the platform should accept it.
///
/// `account_limits` replace the descriptor's where the account's server knows better (a
/// Mastodon instance's own limits). The platform's spec supplies its rules, its name and, where
/// it counts text its own way, the count ([`crate::spec::PlatformSpec::count_text`]).
pub fn check(
    descriptor: &Descriptor,
    text: &str,
    media: &[MediaFacts],
    options: &PostOptions,
    account_limits: Option<AccountLimits>,
) -> Vec<Problem> {
    let spec = crate::platforms::spec(descriptor.platform);
    let rules = spec.rules;
    let limits = account_limits.unwrap_or_default();
    let mut problems = Vec::new();
    check_text(descriptor, spec, text, &limits, &mut problems);
    check_presence(descriptor, spec.name, text, media, &mut problems);
    check_media(descriptor, spec.name, rules, media, &limits, &mut problems);
    check_options(spec.name, rules, text, options, &mut problems);
    problems
}

fn check_text(
    descriptor: &Descriptor,
    spec: &PlatformSpec,
    text: &str,
    limits: &AccountLimits,
    problems: &mut Vec<Problem>,
) {
    let capabilities = &descriptor.capabilities;
    let rules = spec.rules;
    let limit = limits.max_characters.unwrap_or(capabilities.text_limit);
    let TextCount { length, who, note } = match spec.count_text {
        Some(count) => count(text, limits),
        None => TextCount {
            length: text_length(capabilities.text_counting, text),
            who: spec.name.to_owned(),
            note: String::new(),
        },
    };
    if length > limit {
        problems.push(Problem::new(
            "text_too_long",
            format!("{who} allows {limit} characters{note}; this text is {length}"),
        ));
    } else if let Some(max_bytes) = rules.text_max_bytes {
        // Only when the character count passed: one length problem is enough to act on.
        if text.len() > max_bytes {
            problems.push(Problem::new(
                "text_too_long",
                format!(
                    "{} allows {max_bytes} bytes of text, and accented letters, CJK characters \
                     and emoji take 2 to 4 bytes each; this text is {} bytes",
                    spec.name,
                    text.len()
                ),
            ));
        }
    }
}

fn check_presence(
    descriptor: &Descriptor,
    name: &str,
    text: &str,
    media: &[MediaFacts],
    problems: &mut Vec<Problem>,
) {
    if !media.is_empty() {
        return;
    }
    let kinds = &descriptor.capabilities.media_kinds;
    if descriptor.capabilities.requires_media {
        // Text alone is never enough here, and media alone is: the media is what is missing.
        let what = match (
            kinds.contains(&MediaKind::Image),
            kinds.contains(&MediaKind::Video),
        ) {
            (true, true) => "an image or a video",
            (false, true) => "a video",
            _ => "an image",
        };
        problems.push(Problem::new(
            "media_required",
            format!("{name} posts need {what}; this post has no media"),
        ));
    } else if text.trim().is_empty() {
        let alternative = if kinds.is_empty() {
            ""
        } else {
            " or attach media"
        };
        problems.push(Problem::new(
            "text_required",
            format!("The post is empty: write some text{alternative} for {name}"),
        ));
    }
}

fn check_media(
    descriptor: &Descriptor,
    name: &str,
    rules: &Rules,
    media: &[MediaFacts],
    limits: &AccountLimits,
    problems: &mut Vec<Problem>,
) {
    let capabilities = &descriptor.capabilities;
    let accepted = &capabilities.media_kinds;

    for kind in [MediaKind::Image, MediaKind::Video] {
        let count = media.iter().filter(|m| m.kind == kind).count();
        if count > 0 && !accepted.contains(&kind) {
            let only = match (
                accepted.contains(&MediaKind::Image),
                accepted.contains(&MediaKind::Video),
            ) {
                (true, false) => "images only",
                (false, true) => "videos only",
                _ => "no media",
            };
            problems.push(Problem::new(
                "media_kind_not_supported",
                format!(
                    "{name} accepts {only}; this post has {}",
                    count_of(kind, count)
                ),
            ));
        }
    }

    // Counts and combinations are judged on what the platform could take at all, so a video
    // refused above is not reported a second time as one item too many.
    let usable: Vec<(usize, &MediaFacts)> = media
        .iter()
        .enumerate()
        .filter(|(_, m)| accepted.contains(&m.kind))
        .collect();
    let images = usable
        .iter()
        .filter(|(_, m)| m.kind == MediaKind::Image)
        .count();
    let videos = usable.len() - images;
    let max = limits.max_media.unwrap_or(capabilities.max_media);
    if rules.mixing {
        if usable.len() > max {
            problems.push(Problem::new(
                "too_many_media",
                format!(
                    "{name} allows up to {max} media items per post; this post has {}",
                    usable.len()
                ),
            ));
        }
    } else {
        let mixed = images > 0 && videos > 0;
        if mixed {
            problems.push(Problem::new(
                "mixed_media",
                format!(
                    "{name} does not combine images and videos in one post; this post has {} and {}",
                    count_of(MediaKind::Image, images),
                    count_of(MediaKind::Video, videos)
                ),
            ));
        }
        if videos > rules.max_videos {
            let allowed = if rules.max_videos == 1 {
                "one video".to_owned()
            } else {
                format!("up to {} videos", rules.max_videos)
            };
            problems.push(Problem::new(
                "too_many_media",
                format!("{name} allows {allowed} per post; this post has {videos}"),
            ));
        }
        if images > max {
            problems.push(Problem::new(
                "too_many_media",
                format!("{name} allows up to {max} images per post; this post has {images}"),
            ));
        }
        let gifs = usable.iter().filter(|(_, m)| is_gif(m)).count();
        if rules.gif_alone && !mixed && gifs > 0 && usable.len() > 1 {
            problems.push(Problem::new(
                "mixed_media",
                format!(
                    "{name} takes an animated GIF on its own, without other images or videos; \
                     this post has {} media items including {}",
                    usable.len(),
                    if gifs == 1 {
                        "a GIF".to_owned()
                    } else {
                        format!("{gifs} GIFs")
                    }
                ),
            ));
        }
    }

    for &(index, item) in &usable {
        check_item(name, rules, index + 1, item, problems);
    }
}

fn check_item(
    name: &str,
    rules: &Rules,
    position: usize,
    item: &MediaFacts,
    problems: &mut Vec<Problem>,
) {
    let gif = is_gif(item) && rules.gif_max.is_some();
    let what = match item.kind {
        MediaKind::Video => "video",
        MediaKind::Image if gif => "GIF",
        MediaKind::Image => "image",
    };

    if item.kind == MediaKind::Image {
        if let Some(formats) = &rules.image_formats {
            let mime = mime_essence(&item.mime_type);
            if !formats.mime_types.contains(&mime.as_str()) {
                problems.push(Problem::new(
                    "media_format_not_supported",
                    format!(
                        "the image in position {position} is {}; {name} accepts {} images",
                        item.mime_type, formats.label
                    ),
                ));
            }
        }
    }

    let limit = match item.kind {
        MediaKind::Video => rules.video_max,
        MediaKind::Image if gif => rules.gif_max,
        MediaKind::Image => rules.image_max,
    };
    if let Some(limit) = limit {
        if item.size_bytes > limit.bytes {
            problems.push(Problem::new(
                "media_too_large",
                format!(
                    "the {what} in position {position} is {}; {name} allows {what}s up to {}",
                    limit.show(item.size_bytes),
                    limit.show(limit.bytes)
                ),
            ));
        }
    }

    if item.kind == MediaKind::Video {
        if let Some(duration) = item.duration_ms {
            if let Some(max) = rules.video_max_ms.filter(|max| duration > *max) {
                problems.push(Problem::new(
                    "video_too_long",
                    format!(
                        "the video in position {position} runs {}; {name} allows videos up to {}",
                        show_duration(duration, Rounding::Up),
                        show_duration(max, Rounding::Up)
                    ),
                ));
            }
            if let Some(min) = rules.video_min_ms.filter(|min| duration < *min) {
                problems.push(Problem::new(
                    "video_too_short",
                    format!(
                        "the video in position {position} runs {}; {name} needs videos of at least {}",
                        show_duration(duration, Rounding::Down),
                        show_duration(min, Rounding::Up)
                    ),
                ));
            }
        }
    }
}

fn check_options(
    name: &str,
    rules: &Rules,
    text: &str,
    options: &PostOptions,
    problems: &mut Vec<Problem>,
) {
    let has_board = options
        .board_id
        .as_deref()
        .is_some_and(|board| !board.trim().is_empty());
    if rules.requires_board && !has_board {
        problems.push(Problem::new(
            "board_required",
            format!("{name} pins go on a board: set `board_id` to one of the account's boards"),
        ));
    }

    let title = options
        .title
        .as_deref()
        .map(str::trim)
        .filter(|title| !title.is_empty());
    if rules.requires_title && title.is_none() && text.trim().is_empty() {
        problems.push(Problem::new(
            "title_required",
            format!("{name} videos need a title: set `title`, or write text to take it from"),
        ));
    }
    if let (Some(max), Some(title)) = (rules.title_max_chars, title) {
        let length = title.chars().count();
        if length > max {
            problems.push(Problem::new(
                "title_too_long",
                format!("{name} allows titles of {max} characters; this title is {length}"),
            ));
        }
    }
    if rules.no_angle_brackets
        && (text.contains(['<', '>']) || title.is_some_and(|t| t.contains(['<', '>'])))
    {
        problems.push(Problem::new(
            "invalid_characters",
            format!("{name} does not allow < or > in a title or description; remove them"),
        ));
    }
}

/// What a platform adds to its descriptor: the per-kind limits the descriptor cannot express.
/// Each platform's folder states its own (`platforms/<name>/rules.rs`), every number with the
/// page that documents it.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Largest image file.
    pub(crate) image_max: Option<SizeLimit>,
    /// Largest GIF where GIFs are a category of their own (X); `None`: GIFs are images.
    pub(crate) gif_max: Option<SizeLimit>,
    /// Largest video file.
    pub(crate) video_max: Option<SizeLimit>,
    /// Longest video.
    pub(crate) video_max_ms: Option<u32>,
    /// Shortest video.
    pub(crate) video_min_ms: Option<u32>,
    /// Accepted image formats, where the platform restricts them.
    pub(crate) image_formats: Option<ImageFormats>,
    /// Images and videos may share a post (carousels), counted together against `max_media`.
    pub(crate) mixing: bool,
    /// Videos per post when they may not be mixed with images.
    pub(crate) max_videos: usize,
    /// An (animated) GIF must be the only item of its post.
    pub(crate) gif_alone: bool,
    /// A byte limit on the text on top of the descriptor's character limit.
    pub(crate) text_max_bytes: Option<usize>,
    /// Longest `title` option.
    pub(crate) title_max_chars: Option<usize>,
    /// A title is needed: the `title` option, or text to derive it from.
    pub(crate) requires_title: bool,
    /// `board_id` is needed.
    pub(crate) requires_board: bool,
    /// `<` and `>` are refused in the title and the text.
    pub(crate) no_angle_brackets: bool,
}

/// Image formats a platform restricts itself to.
#[derive(Debug, Clone, Copy)]
pub struct ImageFormats {
    /// Accepted MIME types (essences, lowercase).
    pub(crate) mime_types: &'static [&'static str],
    /// How messages list them ("JPEG or PNG").
    pub(crate) label: &'static str,
}

impl Rules {
    /// Nothing beyond the descriptor: what the sandbox gets ("whatever its descriptor says").
    pub(crate) const NONE: Self = Self {
        image_max: None,
        gif_max: None,
        video_max: None,
        video_max_ms: None,
        video_min_ms: None,
        image_formats: None,
        mixing: true,
        max_videos: usize::MAX,
        gif_alone: false,
        text_max_bytes: None,
        title_max_chars: None,
        requires_title: false,
        requires_board: false,
        no_angle_brackets: false,
    };

    /// A single video, or images only.
    pub(crate) const VIDEO_ALONE: Self = Self {
        mixing: false,
        max_videos: 1,
        ..Self::NONE
    };
}

/// A file size limit, with the unit its documentation uses, so that messages speak the same
/// units as the platform (X's "5 MB" is 5 MiB; Bluesky's limit is a byte count).
#[derive(Debug, Clone, Copy)]
pub struct SizeLimit {
    bytes: u64,
    unit: SizeUnit,
}

#[derive(Debug, Clone, Copy)]
enum SizeUnit {
    /// "MB" meaning 1024 × 1024 bytes.
    Mebibytes,
    /// "MB" meaning 1,000,000 bytes ("GB" from 1,000,000,000 on).
    Megabytes,
    /// Plain bytes.
    Bytes,
}

const MIB: u64 = 1024 * 1024;
const MB: u64 = 1_000_000;
const GB: u64 = 1_000_000_000;

impl SizeLimit {
    pub(crate) const fn mib(n: u64) -> Self {
        Self {
            bytes: n * MIB,
            unit: SizeUnit::Mebibytes,
        }
    }

    pub(crate) const fn mb(n: u64) -> Self {
        Self {
            bytes: n * MB,
            unit: SizeUnit::Megabytes,
        }
    }

    pub(crate) const fn gb(n: u64) -> Self {
        Self {
            bytes: n * GB,
            unit: SizeUnit::Megabytes,
        }
    }

    pub(crate) const fn exact(bytes: u64) -> Self {
        Self {
            bytes,
            unit: SizeUnit::Bytes,
        }
    }

    /// `bytes` in this limit's unit. Rounded up, so that a file over the limit never reads as
    /// equal to it.
    fn show(self, bytes: u64) -> String {
        match self.unit {
            SizeUnit::Mebibytes => tenths_up(bytes, MIB, "MB"),
            SizeUnit::Megabytes if self.bytes >= GB => tenths_up(bytes, GB, "GB"),
            SizeUnit::Megabytes => tenths_up(bytes, MB, "MB"),
            SizeUnit::Bytes => format!("{} bytes", group_thousands(bytes)),
        }
    }
}

fn tenths_up(bytes: u64, per_unit: u64, unit: &str) -> String {
    let tenths = (u128::from(bytes) * 10).div_ceil(u128::from(per_unit));
    if tenths % 10 == 0 {
        format!("{} {unit}", tenths / 10)
    } else {
        format!("{}.{} {unit}", tenths / 10, tenths % 10)
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    // Digits left before the next comma: the leading group is the short one.
    let mut until_comma = match digits.len() % 3 {
        0 => 3,
        short => short,
    };
    for digit in digits.chars() {
        if until_comma == 0 {
            out.push(',');
            until_comma = 3;
        }
        out.push(digit);
        until_comma -= 1;
    }
    out
}

#[derive(Debug, Clone, Copy)]
enum Rounding {
    Up,
    Down,
}

/// `15 min`, `2 min 20 s`, `0.5 s`, to a tenth of a second: up for "too long" (so an
/// overlong video never reads as equal to the limit), down for "too short".
fn show_duration(ms: u32, rounding: Rounding) -> String {
    let tenths = match rounding {
        Rounding::Up => ms.div_ceil(100),
        Rounding::Down => ms / 100,
    };
    let minutes = tenths / 600;
    let seconds = tenths % 600;
    let mut parts = Vec::new();
    if minutes > 0 {
        parts.push(format!("{minutes} min"));
    }
    if seconds > 0 || minutes == 0 {
        if seconds % 10 == 0 {
            parts.push(format!("{} s", seconds / 10));
        } else {
            parts.push(format!("{}.{} s", seconds / 10, seconds % 10));
        }
    }
    parts.join(" ")
}

fn count_of(kind: MediaKind, n: usize) -> String {
    let noun = match (kind, n) {
        (MediaKind::Image, 1) => "image",
        (MediaKind::Image, _) => "images",
        (MediaKind::Video, 1) => "video",
        (MediaKind::Video, _) => "videos",
    };
    format!("{n} {noun}")
}

/// `image/jpeg` from `Image/JPEG; charset=…`, with the common non-standard `image/jpg` folded
/// into `image/jpeg`.
fn mime_essence(mime_type: &str) -> String {
    let essence = mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "image/jpg" || essence == "image/pjpeg" {
        "image/jpeg".to_owned()
    } else {
        essence
    }
}

/// GIFs are treated as animated: the media table does not say, and an animated GIF posted
/// among other images is the case platforms refuse.
fn is_gif(item: &MediaFacts) -> bool {
    item.kind == MediaKind::Image && mime_essence(&item.mime_type) == "image/gif"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::{
        bluesky, facebook, instagram, linkedin, mastodon, pinterest, sandbox, threads, tiktok, x,
        youtube,
    };

    const FAMILY: &str = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";

    fn image(mime: &str, size_bytes: u64) -> MediaFacts {
        MediaFacts {
            kind: MediaKind::Image,
            mime_type: mime.to_owned(),
            size_bytes,
            duration_ms: None,
        }
    }

    fn jpeg(size_bytes: u64) -> MediaFacts {
        image("image/jpeg", size_bytes)
    }

    fn jpegs(n: usize) -> Vec<MediaFacts> {
        (0..n).map(|_| jpeg(100_000)).collect()
    }

    fn video(size_bytes: u64, duration_ms: Option<u32>) -> MediaFacts {
        MediaFacts {
            kind: MediaKind::Video,
            mime_type: "video/mp4".to_owned(),
            size_bytes,
            duration_ms,
        }
    }

    fn clip() -> MediaFacts {
        video(10 * MB, Some(30_000))
    }

    fn codes(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.code).collect()
    }

    fn check_codes(descriptor: &Descriptor, text: &str, media: &[MediaFacts]) -> Vec<&'static str> {
        codes(&check(
            descriptor,
            text,
            media,
            &PostOptions::default(),
            None,
        ))
    }

    fn board() -> PostOptions {
        PostOptions {
            board_id: Some("549755885175".into()),
            ..PostOptions::default()
        }
    }

    fn titled(title: &str) -> PostOptions {
        PostOptions {
            title: Some(title.into()),
            ..PostOptions::default()
        }
    }

    fn only(problems: &[Problem]) -> &Problem {
        assert_eq!(problems.len(), 1, "expected one problem: {problems:?}");
        &problems[0]
    }

    // --- Counting ---------------------------------------------------------------------------

    #[test]
    fn chars_count_unicode_scalar_values() {
        assert_eq!(text_length(TextCounting::Chars, "héllo"), 5);
        // e + combining acute accent: two scalar values, one grapheme.
        assert_eq!(text_length(TextCounting::Chars, "e\u{301}"), 2);
        assert_eq!(text_length(TextCounting::Chars, FAMILY), 7);
    }

    #[test]
    fn graphemes_count_a_zwj_family_emoji_as_one() {
        assert_eq!(text_length(TextCounting::Graphemes, FAMILY), 1);
        assert_eq!(text_length(TextCounting::Graphemes, "e\u{301}"), 1);
        assert_eq!(text_length(TextCounting::Graphemes, "🇫🇷 ok"), 4);
    }

    #[test]
    fn x_counts_latin_characters_once() {
        assert_eq!(text_length(TextCounting::XWeighted, &"a".repeat(280)), 280);
        assert_eq!(text_length(TextCounting::XWeighted, "Ünïcödé"), 7);
    }

    #[test]
    fn x_counts_cjk_characters_twice() {
        assert_eq!(text_length(TextCounting::XWeighted, &"の".repeat(140)), 280);
        assert_eq!(text_length(TextCounting::XWeighted, "日本語"), 6);
        assert_eq!(text_length(TextCounting::XWeighted, "저찀쯿쿿"), 8);
    }

    #[test]
    fn x_counts_the_light_punctuation_ranges_once_and_the_rest_twice() {
        // U+2014 em dash is in 8208–8223, U+2032 prime in 8242–8247, U+2009 thin space in
        // 8192–8205; U+2026 ellipsis is in none of them.
        assert_eq!(text_length(TextCounting::XWeighted, "\u{2014}"), 1);
        assert_eq!(text_length(TextCounting::XWeighted, "\u{2032}"), 1);
        assert_eq!(text_length(TextCounting::XWeighted, "\u{2009}"), 1);
        assert_eq!(text_length(TextCounting::XWeighted, "\u{2026}"), 2);
    }

    #[test]
    fn x_counts_a_long_url_as_23() {
        let url = format!("https://example.com/{}", "a".repeat(200));
        assert_eq!(text_length(TextCounting::XWeighted, &url), 23);
        assert_eq!(
            text_length(TextCounting::XWeighted, &format!("read {url} now")),
            5 + 23 + 4
        );
        // A short one counts 23 too: X wraps every link in t.co.
        assert_eq!(text_length(TextCounting::XWeighted, "http://t.co"), 23);
    }

    #[test]
    fn x_counts_www_urls_without_a_scheme_as_23() {
        assert_eq!(
            text_length(TextCounting::XWeighted, "see www.example.com/page"),
            4 + 23
        );
    }

    #[test]
    fn x_leaves_sentence_punctuation_out_of_a_url() {
        assert_eq!(
            text_length(TextCounting::XWeighted, "https://example.com/a."),
            24
        );
        assert_eq!(
            text_length(TextCounting::XWeighted, "(https://example.com/a)"),
            1 + 23 + 1
        );
        // A parenthesis the URL opened is part of it.
        assert_eq!(
            text_length(
                TextCounting::XWeighted,
                "https://en.wikipedia.org/wiki/Rust_(programming_language)"
            ),
            23
        );
        assert_eq!(
            text_length(TextCounting::XWeighted, "https://example.com, then"),
            23 + 6
        );
    }

    #[test]
    fn x_does_not_take_non_urls_for_urls() {
        assert_eq!(
            text_length(TextCounting::XWeighted, "https://localhost"),
            17
        );
        assert_eq!(
            text_length(TextCounting::XWeighted, "xhttps://example.com"),
            20
        );
        assert_eq!(text_length(TextCounting::XWeighted, "http://"), 7);
    }

    #[test]
    fn x_counts_each_emoji_as_2_however_many_code_points_it_joins() {
        for emoji in [
            "😷",
            FAMILY,
            "👍🏽",
            "🇫🇷",
            "1\u{FE0F}\u{20E3}",
            "\u{2764}\u{FE0F}",
            "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
        ] {
            assert_eq!(text_length(TextCounting::XWeighted, emoji), 2, "{emoji}");
        }
        assert_eq!(text_length(TextCounting::XWeighted, &"😷".repeat(140)), 280);
    }

    #[test]
    fn x_weighted_length_matches_the_twitter_text_example() {
        // twitter-text's own example: 13 Latin + 3 CJK (6) + 2 spaces + 😷 (2) + a URL (23).
        assert_eq!(
            text_length(
                TextCounting::XWeighted,
                "english text 日本語 😷 https://example.com"
            ),
            46
        );
    }

    #[test]
    fn mastodon_counts_every_url_as_the_reserved_length() {
        let long = format!("https://example.com/{}", "a".repeat(300));
        assert_eq!(mastodon_length(&long, 23), 23);
        assert_eq!(mastodon_length(&format!("look: {long}"), 23), 6 + 23);
        assert_eq!(mastodon_length("https://a.io", 23), 23);
        assert_eq!(mastodon_length(&long, 30), 30);
        // Mastodon only links URLs with a scheme: a bare domain counts as typed.
        assert_eq!(mastodon_length("www.example.com", 23), 15);
    }

    #[test]
    fn mastodon_counts_a_remote_mention_as_its_username_only() {
        assert_eq!(mastodon_length("@alice@mastodon.example.org", 23), 6);
        assert_eq!(mastodon_length("hi @alice@example.com!", 23), 3 + 6 + 1);
        assert_eq!(mastodon_length("@alice", 23), 6);
        assert_eq!(mastodon_length("@first.last@example.com", 23), 11);
    }

    #[test]
    fn mastodon_does_not_take_addresses_or_profile_urls_for_mentions() {
        assert_eq!(mastodon_length("bob@example.com", 23), 15);
        assert_eq!(mastodon_length("https://example.social/@alice", 23), 23);
        assert_eq!(mastodon_length("@ alone", 23), 7);
    }

    #[test]
    fn mastodon_counts_graphemes() {
        assert_eq!(mastodon_length(FAMILY, 23), 1);
        assert_eq!(
            mastodon_length(&format!("{FAMILY} @bob@a.example"), 23),
            1 + 1 + 4
        );
    }

    // --- Text -------------------------------------------------------------------------------

    #[test]
    fn x_accepts_280_latin_characters_and_refuses_281() {
        let d = x::descriptor();
        assert!(check_codes(&d, &"a".repeat(280), &[]).is_empty());
        let problems = check(&d, &"a".repeat(281), &[], &PostOptions::default(), None);
        assert_eq!(only(&problems).code, "text_too_long");
    }

    #[test]
    fn x_accepts_140_cjk_characters_and_refuses_141() {
        let d = x::descriptor();
        assert!(check_codes(&d, &"の".repeat(140), &[]).is_empty());
        assert_eq!(check_codes(&d, &"の".repeat(141), &[]), ["text_too_long"]);
    }

    #[test]
    fn x_too_long_message_names_the_platform_the_limit_and_the_count() {
        let text = format!(
            "{} https://example.com/{}",
            "a".repeat(277),
            "b".repeat(100)
        );
        let problems = check(&x::descriptor(), &text, &[], &PostOptions::default(), None);
        assert_eq!(
            only(&problems).message,
            "X allows 280 characters (URLs count as 23, most CJK characters and each emoji as 2); \
             this text is 301"
        );
    }

    #[test]
    fn bluesky_counts_graphemes_against_300() {
        let d = bluesky::descriptor();
        // 300 graphemes of two scalar values each.
        assert!(check_codes(&d, &"e\u{301}".repeat(300), &[]).is_empty());
        assert!(check_codes(&d, &"a".repeat(300), &[]).is_empty());
        let problems = check(&d, &"a".repeat(301), &[], &PostOptions::default(), None);
        assert_eq!(
            only(&problems).message,
            "Bluesky allows 300 characters; this text is 301"
        );
    }

    #[test]
    fn bluesky_refuses_text_over_3000_bytes_even_within_300_graphemes() {
        let d = bluesky::descriptor();
        // A family emoji is one grapheme but 25 bytes.
        let mut text = FAMILY.repeat(120);
        assert!(text.len() <= 3000);
        assert!(check_codes(&d, &text, &[]).is_empty());
        text.push_str(FAMILY);
        assert!(text.len() > 3000);
        let problems = check(&d, &text, &[], &PostOptions::default(), None);
        assert_eq!(only(&problems).code, "text_too_long");
        assert!(only(&problems).message.contains("3000 bytes"));
    }

    #[test]
    fn mastodon_uses_the_instance_limit_when_known() {
        let d = mastodon::descriptor();
        let text = "a".repeat(600);
        assert_eq!(check_codes(&d, &text, &[]), ["text_too_long"]);
        let chars = |n| {
            Some(AccountLimits {
                max_characters: Some(n),
                ..AccountLimits::default()
            })
        };
        let with_instance_limit = check(&d, &text, &[], &PostOptions::default(), chars(1000));
        assert!(with_instance_limit.is_empty());
        let problems = check(&d, &text, &[], &PostOptions::default(), chars(550));
        assert_eq!(
            only(&problems).message,
            "This Mastodon server allows 550 characters (links count as 23, and a mention only \
             by its @username); this text is 600"
        );
    }

    #[test]
    fn mastodon_uses_the_instances_link_length_and_media_limit_when_known() {
        let d = mastodon::descriptor();
        // 470 + 1 + a link: 494 where links count as 23, 501 where they count as 30.
        let text = format!("{} https://example.com/{}", "a".repeat(470), "p".repeat(50));
        assert!(check_codes(&d, &text, &[]).is_empty());
        let instance = AccountLimits {
            characters_per_url: Some(30),
            max_media: Some(6),
            ..AccountLimits::default()
        };
        let problems = check(&d, &text, &[], &PostOptions::default(), Some(instance));
        assert_eq!(
            only(&problems).message,
            "This Mastodon server allows 500 characters (links count as 30, and a mention only \
             by its @username); this text is 501"
        );
        // The default is 4 media; this instance allows 6.
        assert_eq!(check_codes(&d, "hi", &jpegs(5)), ["too_many_media"]);
        assert!(check(&d, "hi", &jpegs(5), &PostOptions::default(), Some(instance)).is_empty());
    }

    #[test]
    fn mastodon_counts_urls_and_mentions_its_own_way_against_the_limit() {
        let d = mastodon::descriptor();
        // 476 + 1 + 23 = 500 once the URL is reserved, though the raw text is much longer.
        let text = format!(
            "{} https://example.com/{}",
            "a".repeat(476),
            "p".repeat(200)
        );
        assert!(check_codes(&d, &text, &[]).is_empty());
        let text = format!("{} @bob@very-long-server-name.example", "a".repeat(495));
        assert!(check_codes(&d, &text, &[]).is_empty());
        let text = format!("{} @bobby@example.social", "a".repeat(495));
        assert_eq!(check_codes(&d, &text, &[]), ["text_too_long"]);
    }

    #[test]
    fn threads_accepts_500_characters_and_refuses_501() {
        let d = threads::descriptor();
        assert!(check_codes(&d, &"a".repeat(500), &[]).is_empty());
        assert_eq!(check_codes(&d, &"a".repeat(501), &[]), ["text_too_long"]);
    }

    #[test]
    fn sandbox_follows_its_descriptor() {
        let d = sandbox::descriptor();
        assert!(check_codes(&d, &"a".repeat(5000), &[]).is_empty());
        assert_eq!(check_codes(&d, &"a".repeat(5001), &[]), ["text_too_long"]);
        let four_mixed = [jpeg(1), clip(), jpeg(1), clip()];
        assert!(check_codes(&d, "hi", &four_mixed).is_empty());
        let five = [jpeg(1), clip(), jpeg(1), clip(), jpeg(1)];
        assert_eq!(check_codes(&d, "hi", &five), ["too_many_media"]);
    }

    // --- Empty posts ------------------------------------------------------------------------

    #[test]
    fn an_empty_post_needs_text_where_media_is_optional() {
        for d in [
            x::descriptor(),
            bluesky::descriptor(),
            mastodon::descriptor(),
            threads::descriptor(),
            facebook::descriptor(),
            linkedin::descriptor(),
            sandbox::descriptor(),
        ] {
            assert_eq!(
                check_codes(&d, "", &[]),
                ["text_required"],
                "{}",
                d.platform
            );
            assert_eq!(
                check_codes(&d, " \n\t", &[]),
                ["text_required"],
                "{}",
                d.platform
            );
        }
    }

    #[test]
    fn media_alone_is_a_valid_post_where_text_is_optional() {
        for d in [
            x::descriptor(),
            bluesky::descriptor(),
            mastodon::descriptor(),
            threads::descriptor(),
            facebook::descriptor(),
            linkedin::descriptor(),
        ] {
            assert!(
                check_codes(&d, "", &[jpeg(1000)]).is_empty(),
                "{}",
                d.platform
            );
        }
        assert!(check_codes(&instagram::descriptor(), "", &[jpeg(1000)]).is_empty());
        assert!(check_codes(&tiktok::descriptor(), "", &[clip()]).is_empty());
    }

    #[test]
    fn platforms_that_require_media_ask_for_media_not_text() {
        for (d, message) in [
            (
                instagram::descriptor(),
                "Instagram posts need an image or a video; this post has no media",
            ),
            (
                tiktok::descriptor(),
                "TikTok posts need a video; this post has no media",
            ),
            (
                youtube::descriptor(),
                "YouTube posts need a video; this post has no media",
            ),
        ] {
            let problems = check(&d, "some words", &[], &PostOptions::default(), None);
            assert_eq!(only(&problems).code, "media_required");
            assert_eq!(only(&problems).message, message);
        }
        let problems = check(&pinterest::descriptor(), "", &[], &board(), None);
        assert_eq!(codes(&problems), ["media_required"]);
    }

    // --- X ----------------------------------------------------------------------------------

    #[test]
    fn x_accepts_four_images_and_refuses_five() {
        let d = x::descriptor();
        assert!(check_codes(&d, "hi", &jpegs(4)).is_empty());
        let problems = check(&d, "hi", &jpegs(5), &PostOptions::default(), None);
        assert_eq!(
            only(&problems).message,
            "X allows up to 4 images per post; this post has 5"
        );
    }

    #[test]
    fn x_accepts_one_video_and_refuses_two() {
        let d = x::descriptor();
        assert!(check_codes(&d, "hi", &[clip()]).is_empty());
        let problems = check(&d, "hi", &[clip(), clip()], &PostOptions::default(), None);
        assert_eq!(
            only(&problems).message,
            "X allows one video per post; this post has 2"
        );
    }

    #[test]
    fn x_refuses_images_and_a_video_together() {
        let problems = check(
            &x::descriptor(),
            "hi",
            &[jpeg(1000), clip()],
            &PostOptions::default(),
            None,
        );
        assert_eq!(only(&problems).code, "mixed_media");
        assert_eq!(
            only(&problems).message,
            "X does not combine images and videos in one post; this post has 1 image and 1 video"
        );
    }

    #[test]
    fn x_takes_a_gif_only_on_its_own() {
        let d = x::descriptor();
        let gif = image("image/gif", 2 * MIB);
        assert!(check_codes(&d, "hi", std::slice::from_ref(&gif)).is_empty());
        assert_eq!(check_codes(&d, "hi", &[gif, jpeg(1000)]), ["mixed_media"]);
    }

    #[test]
    fn x_limits_images_to_5_mb_and_gifs_to_15_mb() {
        let d = x::descriptor();
        assert!(check_codes(&d, "hi", &[jpeg(5 * MIB)]).is_empty());
        let problems = check(
            &d,
            "hi",
            &[jpeg(5 * MIB + 1)],
            &PostOptions::default(),
            None,
        );
        assert_eq!(
            only(&problems).message,
            "the image in position 1 is 5.1 MB; X allows images up to 5 MB"
        );
        assert!(check_codes(&d, "hi", &[image("image/gif", 15 * MIB)]).is_empty());
        assert_eq!(
            check_codes(&d, "hi", &[image("image/gif", 15 * MIB + 1)]),
            ["media_too_large"]
        );
    }

    #[test]
    fn x_limits_videos_to_512_mb() {
        let d = x::descriptor();
        assert!(check_codes(&d, "hi", &[video(512 * MIB, Some(60_000))]).is_empty());
        assert_eq!(
            check_codes(&d, "hi", &[video(512 * MIB + 1, Some(60_000))]),
            ["media_too_large"]
        );
    }

    #[test]
    fn x_refuses_videos_shorter_than_half_a_second() {
        let d = x::descriptor();
        assert!(check_codes(&d, "hi", &[video(MB, Some(500))]).is_empty());
        let problems = check(
            &d,
            "hi",
            &[video(MB, Some(499))],
            &PostOptions::default(),
            None,
        );
        assert_eq!(
            only(&problems).message,
            "the video in position 1 runs 0.4 s; X needs videos of at least 0.5 s"
        );
        // An unmeasured duration is left to X.
        assert!(check_codes(&d, "hi", &[video(MB, None)]).is_empty());
    }

    #[test]
    fn x_refuses_image_formats_it_does_not_take() {
        let d = x::descriptor();
        assert!(check_codes(&d, "hi", &[image("image/webp", 1000)]).is_empty());
        assert!(check_codes(&d, "hi", &[image("Image/JPG", 1000)]).is_empty());
        assert_eq!(
            check_codes(&d, "hi", &[image("image/tiff", 1000)]),
            ["media_format_not_supported"]
        );
    }

    // --- Instagram --------------------------------------------------------------------------

    #[test]
    fn instagram_accepts_a_carousel_of_ten_mixed_items_and_refuses_eleven() {
        let d = instagram::descriptor();
        let mut ten = jpegs(8);
        ten.extend([clip(), clip()]);
        assert!(check_codes(&d, "hi", &ten).is_empty());
        ten.push(jpeg(1000));
        let problems = check(&d, "hi", &ten, &PostOptions::default(), None);
        assert_eq!(
            only(&problems).message,
            "Instagram allows up to 10 media items per post; this post has 11"
        );
    }

    #[test]
    fn instagram_takes_jpeg_images_only() {
        let d = instagram::descriptor();
        assert!(check_codes(&d, "", &[jpeg(1000)]).is_empty());
        let problems = check(
            &d,
            "",
            &[jpeg(1000), image("image/png", 1000)],
            &PostOptions::default(),
            None,
        );
        assert_eq!(
            only(&problems).message,
            "the image in position 2 is image/png; Instagram accepts JPEG images"
        );
    }

    #[test]
    fn instagram_limits_images_to_8_mb() {
        let d = instagram::descriptor();
        assert!(check_codes(&d, "", &[jpeg(8 * MB)]).is_empty());
        assert_eq!(
            check_codes(&d, "", &[jpeg(8 * MB + 1)]),
            ["media_too_large"]
        );
    }

    #[test]
    fn instagram_limits_reels_to_300_mb_and_3_seconds_to_15_minutes() {
        let d = instagram::descriptor();
        assert!(check_codes(&d, "", &[video(300 * MB, Some(15 * 60 * 1000))]).is_empty());
        assert!(check_codes(&d, "", &[video(MB, Some(3000))]).is_empty());
        assert_eq!(
            check_codes(&d, "", &[video(300 * MB + 1, Some(60_000))]),
            ["media_too_large"]
        );
        let problems = check(
            &d,
            "",
            &[video(MB, Some(15 * 60 * 1000 + 2000))],
            &PostOptions::default(),
            None,
        );
        assert_eq!(
            only(&problems).message,
            "the video in position 1 runs 15 min 2 s; Instagram allows videos up to 15 min"
        );
        assert_eq!(
            check_codes(&d, "", &[video(MB, Some(2999))]),
            ["video_too_short"]
        );
    }

    // --- Threads ----------------------------------------------------------------------------

    #[test]
    fn threads_accepts_a_carousel_of_twenty_and_refuses_twenty_one() {
        let d = threads::descriptor();
        let mut items = jpegs(19);
        items.push(clip());
        assert!(check_codes(&d, "hi", &items).is_empty());
        items.push(jpeg(1000));
        assert_eq!(check_codes(&d, "hi", &items), ["too_many_media"]);
    }

    #[test]
    fn threads_limits_images_to_8_mb_jpeg_or_png_and_videos_to_5_minutes() {
        let d = threads::descriptor();
        assert!(check_codes(&d, "", &[image("image/png", 8 * MB)]).is_empty());
        assert_eq!(
            check_codes(&d, "", &[image("image/png", 8 * MB + 1)]),
            ["media_too_large"]
        );
        assert_eq!(
            check_codes(&d, "", &[image("image/webp", 1000)]),
            ["media_format_not_supported"]
        );
        assert!(check_codes(&d, "", &[video(GB, Some(5 * 60 * 1000))]).is_empty());
        assert_eq!(
            check_codes(&d, "", &[video(GB + 1, Some(5 * 60 * 1000 + 1))]),
            ["media_too_large", "video_too_long"]
        );
    }

    // --- Facebook ---------------------------------------------------------------------------

    #[test]
    fn facebook_accepts_photos_or_one_video_but_not_both() {
        let d = facebook::descriptor();
        assert!(check_codes(&d, "hi", &jpegs(10)).is_empty());
        assert!(check_codes(&d, "hi", &[clip()]).is_empty());
        assert_eq!(
            check_codes(&d, "hi", &[jpeg(1000), clip()]),
            ["mixed_media"]
        );
        assert_eq!(check_codes(&d, "hi", &[clip(), clip()]), ["too_many_media"]);
        assert_eq!(check_codes(&d, "hi", &jpegs(11)), ["too_many_media"]);
    }

    // --- Bluesky ----------------------------------------------------------------------------

    #[test]
    fn bluesky_accepts_four_images_and_refuses_five() {
        let d = bluesky::descriptor();
        assert!(check_codes(&d, "hi", &jpegs(4)).is_empty());
        assert_eq!(check_codes(&d, "hi", &jpegs(5)), ["too_many_media"]);
    }

    #[test]
    fn bluesky_refuses_videos() {
        let problems = check(
            &bluesky::descriptor(),
            "hi",
            &[jpeg(1000), clip()],
            &PostOptions::default(),
            None,
        );
        // Not also `mixed_media`: the video is refused for what it is.
        assert_eq!(
            only(&problems).message,
            "Bluesky accepts images only; this post has 1 video"
        );
    }

    #[test]
    fn bluesky_limits_each_image_to_1000000_bytes() {
        let d = bluesky::descriptor();
        assert!(check_codes(&d, "hi", &[jpeg(1_000_000)]).is_empty());
        let problems = check(
            &d,
            "hi",
            &[jpeg(1000), jpeg(1_000_001)],
            &PostOptions::default(),
            None,
        );
        assert_eq!(
            only(&problems).message,
            "the image in position 2 is 1,000,001 bytes; Bluesky allows images up to 1,000,000 bytes"
        );
    }

    // --- Mastodon ---------------------------------------------------------------------------

    #[test]
    fn mastodon_accepts_four_attachments_and_refuses_five() {
        let d = mastodon::descriptor();
        assert!(check_codes(&d, "hi", &jpegs(4)).is_empty());
        assert_eq!(check_codes(&d, "hi", &jpegs(5)), ["too_many_media"]);
    }

    #[test]
    fn mastodon_limits_images_to_16_mb() {
        let d = mastodon::descriptor();
        assert!(check_codes(&d, "hi", &[jpeg(16 * MIB)]).is_empty());
        assert_eq!(
            check_codes(&d, "hi", &[jpeg(16 * MIB + 1)]),
            ["media_too_large"]
        );
    }

    #[test]
    fn mastodon_limits_a_video_to_99_mb_and_alone() {
        let d = mastodon::descriptor();
        assert!(check_codes(&d, "hi", &[clip()]).is_empty());
        assert!(check_codes(&d, "hi", &[video(99 * MIB, None)]).is_empty());
        assert_eq!(
            check_codes(&d, "hi", &[video(99 * MIB + 1, None)]),
            ["media_too_large"]
        );
        assert_eq!(
            check_codes(&d, "hi", &[jpeg(1000), clip()]),
            ["mixed_media"]
        );
    }

    // --- Pinterest --------------------------------------------------------------------------

    #[test]
    fn pinterest_needs_a_board() {
        let d = pinterest::descriptor();
        assert!(codes(&check(&d, "hi", &[jpeg(1000)], &board(), None)).is_empty());
        let problems = check(&d, "hi", &[jpeg(1000)], &PostOptions::default(), None);
        assert_eq!(only(&problems).code, "board_required");
        let blank = PostOptions {
            board_id: Some("  ".into()),
            ..PostOptions::default()
        };
        assert_eq!(
            codes(&check(&d, "hi", &[jpeg(1000)], &blank, None)),
            ["board_required"]
        );
    }

    #[test]
    fn pinterest_takes_up_to_five_images_or_one_video() {
        let d = pinterest::descriptor();
        let check_pin = |media: &[MediaFacts]| codes(&check(&d, "hi", media, &board(), None));
        assert!(check_pin(&jpegs(5)).is_empty());
        assert!(check_pin(&[clip()]).is_empty());
        assert_eq!(check_pin(&jpegs(6)), ["too_many_media"]);
        assert_eq!(check_pin(&[clip(), clip()]), ["too_many_media"]);
        assert_eq!(check_pin(&[jpeg(1000), clip()]), ["mixed_media"]);
    }

    #[test]
    fn pinterest_limits_titles_to_100_characters() {
        let d = pinterest::descriptor();
        let mut options = board();
        options.title = Some("t".repeat(100));
        assert!(check(&d, "hi", &[jpeg(1000)], &options, None).is_empty());
        options.title = Some("t".repeat(101));
        assert_eq!(
            codes(&check(&d, "hi", &[jpeg(1000)], &options, None)),
            ["title_too_long"]
        );
    }

    // --- YouTube ----------------------------------------------------------------------------

    #[test]
    fn youtube_takes_exactly_one_video() {
        let d = youtube::descriptor();
        assert!(check_codes(&d, "about", &[clip()]).is_empty());
        assert_eq!(check_codes(&d, "about", &[]), ["media_required"]);
        assert_eq!(
            check_codes(&d, "about", &[clip(), clip()]),
            ["too_many_media"]
        );
        assert_eq!(
            check_codes(&d, "about", &[jpeg(1000)]),
            ["media_kind_not_supported"]
        );
    }

    #[test]
    fn youtube_needs_a_title_or_text_to_take_it_from() {
        let d = youtube::descriptor();
        assert!(check(&d, "", &[clip()], &titled("Launch"), None).is_empty());
        assert!(check_codes(&d, "Launch day", &[clip()]).is_empty());
        assert_eq!(check_codes(&d, " ", &[clip()]), ["title_required"]);
    }

    #[test]
    fn youtube_limits_titles_to_100_characters() {
        let d = youtube::descriptor();
        assert!(check(&d, "", &[clip()], &titled(&"t".repeat(100)), None).is_empty());
        let problems = check(&d, "", &[clip()], &titled(&"t".repeat(101)), None);
        assert_eq!(
            only(&problems).message,
            "YouTube allows titles of 100 characters; this title is 101"
        );
    }

    #[test]
    fn youtube_refuses_angle_brackets() {
        let d = youtube::descriptor();
        assert_eq!(
            check_codes(&d, "a <b> tag", &[clip()]),
            ["invalid_characters"]
        );
        assert_eq!(
            codes(&check(&d, "fine", &[clip()], &titled("1 > 0"), None)),
            ["invalid_characters"]
        );
    }

    #[test]
    fn youtube_limits_descriptions_to_5000_bytes() {
        let d = youtube::descriptor();
        assert!(check_codes(&d, &"é".repeat(2500), &[clip()]).is_empty());
        assert_eq!(
            check_codes(&d, &"é".repeat(2501), &[clip()]),
            ["text_too_long"]
        );
    }

    // --- TikTok -----------------------------------------------------------------------------

    #[test]
    fn tiktok_takes_exactly_one_video() {
        let d = tiktok::descriptor();
        assert!(check_codes(&d, "", &[clip()]).is_empty());
        assert_eq!(check_codes(&d, "caption", &[]), ["media_required"]);
        assert_eq!(check_codes(&d, "", &[clip(), clip()]), ["too_many_media"]);
        let problems = check(&d, "", &jpegs(2), &PostOptions::default(), None);
        assert_eq!(
            only(&problems).message,
            "TikTok accepts videos only; this post has 2 images"
        );
    }

    // --- LinkedIn ---------------------------------------------------------------------------

    #[test]
    fn linkedin_takes_up_to_twenty_images_or_one_video() {
        let d = linkedin::descriptor();
        assert!(check_codes(&d, "hi", &jpegs(20)).is_empty());
        assert!(check_codes(&d, "hi", &[clip()]).is_empty());
        assert_eq!(check_codes(&d, "hi", &jpegs(21)), ["too_many_media"]);
        assert_eq!(check_codes(&d, "hi", &[clip(), clip()]), ["too_many_media"]);
        assert_eq!(
            check_codes(&d, "hi", &[jpeg(1000), clip()]),
            ["mixed_media"]
        );
    }

    #[test]
    fn linkedin_limits_videos_to_500_mb_and_3_seconds_to_30_minutes() {
        let d = linkedin::descriptor();
        assert!(check_codes(&d, "", &[video(500 * MB, Some(30 * 60 * 1000))]).is_empty());
        assert_eq!(
            check_codes(&d, "", &[video(500 * MB + 1, Some(60_000))]),
            ["media_too_large"]
        );
        assert_eq!(
            check_codes(&d, "", &[video(MB, Some(30 * 60 * 1000 + 1))]),
            ["video_too_long"]
        );
        assert_eq!(
            check_codes(&d, "", &[video(MB, Some(2000))]),
            ["video_too_short"]
        );
    }

    // --- Together ---------------------------------------------------------------------------

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = check(
            &pinterest::descriptor(),
            &"a".repeat(501),
            &[],
            &titled(&"t".repeat(101)),
            None,
        );
        assert_eq!(
            codes(&problems),
            [
                "text_too_long",
                "media_required",
                "board_required",
                "title_too_long"
            ]
        );
    }

    #[test]
    fn media_problems_of_several_items_are_all_reported() {
        let problems = check(
            &x::descriptor(),
            &"a".repeat(300),
            &[
                jpeg(6 * MIB),
                jpeg(1000),
                image("image/bmp", 7 * MIB),
                clip(),
            ],
            &PostOptions::default(),
            None,
        );
        assert_eq!(
            codes(&problems),
            [
                "text_too_long",
                "mixed_media",
                "media_too_large",
                "media_format_not_supported",
                "media_too_large"
            ]
        );
        assert!(problems[4]
            .message
            .starts_with("the image in position 3 is 7 MB"));
    }

    #[test]
    fn a_valid_post_has_no_problems_on_any_platform_that_takes_it() {
        let text = "Launching today! https://example.com 🚀";
        assert!(check_codes(&x::descriptor(), text, &[jpeg(1000)]).is_empty());
        assert!(check_codes(&bluesky::descriptor(), text, &[jpeg(1000)]).is_empty());
        assert!(check_codes(&mastodon::descriptor(), text, &[jpeg(1000)]).is_empty());
        assert!(check_codes(&linkedin::descriptor(), text, &[clip()]).is_empty());
        assert!(check(
            &pinterest::descriptor(),
            text,
            &[jpeg(1000)],
            &board(),
            None
        )
        .is_empty());
    }

    #[test]
    fn problems_serialize_as_code_and_message() {
        let problem = Problem::new("board_required", "set a board".into());
        assert_eq!(
            serde_json::to_value(&problem).unwrap(),
            serde_json::json!({"code": "board_required", "message": "set a board"})
        );
    }

    #[test]
    fn sizes_and_durations_read_in_the_platforms_units() {
        assert_eq!(SizeLimit::mib(5).show(5 * MIB), "5 MB");
        assert_eq!(SizeLimit::mb(300).show(300 * MB + 1), "300.1 MB");
        assert_eq!(SizeLimit::gb(1).show(1_500_000_000), "1.5 GB");
        assert_eq!(SizeLimit::exact(1_000_000).show(999), "999 bytes");
        assert_eq!(SizeLimit::exact(1).show(12_345_678), "12,345,678 bytes");
        assert_eq!(SizeLimit::exact(1).show(123_456), "123,456 bytes");
        assert_eq!(show_duration(15 * 60 * 1000, Rounding::Up), "15 min");
        assert_eq!(show_duration(140_000, Rounding::Up), "2 min 20 s");
        assert_eq!(show_duration(2999, Rounding::Down), "2.9 s");
        assert_eq!(show_duration(0, Rounding::Down), "0 s");
    }
}

/// Properties of the text counters over arbitrary input (issue 16): they take text from any
/// user, so they must never panic, and their results must stay within what the definitions
/// allow, whatever the Unicode.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Text that cannot contain a URL (no `:` for a scheme, no `.` for `www.`) nor a mention.
    fn url_free() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| s.replace([':', '.', '@'], ""))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn every_counter_takes_any_text(text in any::<String>(), per_url in 0usize..64) {
            let chars = text.chars().count();
            prop_assert_eq!(text_length(TextCounting::Chars, &text), chars);
            prop_assert!(text_length(TextCounting::Graphemes, &text) <= chars);
            let _ = text_length(TextCounting::XWeighted, &text);
            let _ = mastodon_length(&text, per_url);
        }

        #[test]
        fn x_weighs_each_code_point_once_or_twice_without_urls(text in url_free()) {
            let weighted = text_length(TextCounting::XWeighted, &text);
            let graphemes = text_length(TextCounting::Graphemes, &text);
            let chars = text.chars().count();
            prop_assert!(graphemes <= weighted, "{} graphemes, weighs {}", graphemes, weighted);
            prop_assert!(weighted <= 2 * chars, "{} chars, weighs {}", chars, weighted);
        }

        #[test]
        fn ascii_without_urls_weighs_its_length_on_x(text in "[a-zA-Z0-9 ,!?'-]{0,400}") {
            prop_assert_eq!(text_length(TextCounting::XWeighted, &text), text.len());
        }

        #[test]
        fn x_counts_any_url_as_23(
            before in "[a-z ]{0,40}",
            path in "[a-z0-9]{1,200}",
            after in "[a-z ]{0,40}",
        ) {
            let text = format!("{before} https://example.com/{path} {after}");
            prop_assert_eq!(
                text_length(TextCounting::XWeighted, &text),
                before.len() + 1 + crate::platforms::x::text::X_TRANSFORMED_URL_LENGTH + 1 + after.len()
            );
        }

        #[test]
        fn mastodon_counts_a_link_as_its_reserved_length_and_the_rest_in_graphemes(
            before in url_free(),
            path in "[a-z0-9]{1,200}",
            after in url_free(),
            per_url in 1usize..64,
        ) {
            let text = format!("{before} https://example.com/{path} {after}");
            let rewritten = format!("{before} {} {after}", "x".repeat(per_url));
            prop_assert_eq!(
                mastodon_length(&text, per_url),
                rewritten.graphemes(true).count()
            );
            prop_assert_eq!(
                mastodon_length(&before, per_url),
                before.graphemes(true).count(),
                "without links or mentions it is the grapheme count"
            );
        }
    }
}
