//! Checks a post against a platform's capabilities before it is accepted, so a post that the
//! platform would refuse is refused at once, with a reason, instead of failing at its due time.
//!
//! Everything here is pure: the caller passes what it knows (the text, the facts of each media
//! item from the media table, the per-platform options) and gets back every problem at once,
//! each with a stable `code` for programs and a concrete message for the person who wrote the
//! post. Limits that vary per account (X Premium video length, TikTok's per-creator maximum)
//! are left to the platform: refusing them here would refuse posts the platform accepts.

use std::ops::Range;

use domain::Platform;
use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

use crate::{Descriptor, MediaKind, PostOptions, TextCounting};

/// What Mastodon counts every link as, whatever its length: the default
/// `configuration.statuses.characters_reserved_per_url` of `/api/v2/instance`.
/// <https://docs.joinmastodon.org/user/posting/#links>
pub const MASTODON_CHARS_PER_URL: usize = 23;

// X's weighted length, from twitter-text's v3 configuration:
// <https://github.com/twitter/twitter-text/blob/master/config/v3.json>. Weights are in
// hundredths of a character (`scale`); code points in the listed ranges weigh 100, every other
// one `defaultWeight`; every URL weighs `transformedURLLength` characters; and, with
// `emojiParsingEnabled`, an emoji sequence weighs `defaultWeight` once, however many code
// points it joins.
const X_SCALE: usize = 100;
const X_DEFAULT_WEIGHT: usize = 200;
const X_RANGES: [(u32, u32, usize); 4] = [
    (0, 4351, 100),
    (8192, 8205, 100),
    (8208, 8223, 100),
    (8242, 8247, 100),
];
const X_TRANSFORMED_URL_LENGTH: usize = 23;

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
        TextCounting::XWeighted => x_weighted_length(text),
    }
}

/// The length of `text` as a Mastodon server counts it (`StatusLengthValidator`): every
/// `http(s)://` link counts `chars_per_url` characters, a mention `@user@domain` counts as
/// `@user`, and the rest is counted in grapheme clusters, so an emoji sequence counts once.
/// <https://docs.joinmastodon.org/user/posting/#text>
pub fn mastodon_length(text: &str, chars_per_url: usize) -> usize {
    let mut entities: Vec<(Range<usize>, Option<&str>)> = find_urls(text, UrlForms::SchemeOnly)
        .into_iter()
        .map(|range| (range, None))
        .collect();
    entities.extend(
        find_mentions(text)
            .into_iter()
            .map(|(range, user)| (range, Some(user))),
    );
    entities.sort_by_key(|(range, _)| range.start);

    // Rewrite the text the way Mastodon does, then count it: counting pieces separately could
    // split a grapheme cluster at an entity boundary.
    let placeholder = "x".repeat(chars_per_url);
    let mut countable = String::with_capacity(text.len());
    let mut rest = 0;
    for (range, user) in entities {
        if range.start < rest {
            // Overlaps an earlier entity (a mention inside a URL): the earlier one wins.
            continue;
        }
        countable.push_str(&text[rest..range.start]);
        match user {
            Some(user) => {
                countable.push('@');
                countable.push_str(user);
            }
            None => countable.push_str(&placeholder),
        }
        rest = range.end;
    }
    countable.push_str(&text[rest..]);
    countable.graphemes(true).count()
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

/// Every problem `descriptor.platform` would have with this post, in a stable order: text,
/// presence, media, options. Empty means the platform should accept it.
///
/// `account_limits` replace the descriptor's where the account's server knows better (a
/// Mastodon instance's own limits). Mastodon text is always counted with [`mastodon_length`].
pub fn check(
    descriptor: &Descriptor,
    text: &str,
    media: &[MediaFacts],
    options: &PostOptions,
    account_limits: Option<AccountLimits>,
) -> Vec<Problem> {
    let rules = Rules::of(descriptor.platform);
    let limits = account_limits.unwrap_or_default();
    let mut problems = Vec::new();
    check_text(descriptor, &rules, text, &limits, &mut problems);
    check_presence(descriptor, text, media, &mut problems);
    check_media(descriptor, &rules, media, &limits, &mut problems);
    check_options(descriptor, &rules, text, options, &mut problems);
    problems
}

fn check_text(
    descriptor: &Descriptor,
    rules: &Rules,
    text: &str,
    limits: &AccountLimits,
    problems: &mut Vec<Problem>,
) {
    let platform = descriptor.platform;
    let capabilities = &descriptor.capabilities;
    let limit = limits.max_characters.unwrap_or(capabilities.text_limit);
    let mastodon_note;
    let (length, who, note) = if platform == Platform::Mastodon {
        let per_url = limits.characters_per_url.unwrap_or(MASTODON_CHARS_PER_URL);
        mastodon_note = format!(" (links count as {per_url}, and a mention only by its @username)");
        (
            mastodon_length(text, per_url),
            "This Mastodon server",
            mastodon_note.as_str(),
        )
    } else {
        let note = match capabilities.text_counting {
            TextCounting::XWeighted => {
                " (URLs count as 23, most CJK characters and each emoji as 2)"
            }
            TextCounting::Chars | TextCounting::Graphemes => "",
        };
        (
            text_length(capabilities.text_counting, text),
            platform_name(platform),
            note,
        )
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
                    platform_name(platform),
                    text.len()
                ),
            ));
        }
    }
}

fn check_presence(
    descriptor: &Descriptor,
    text: &str,
    media: &[MediaFacts],
    problems: &mut Vec<Problem>,
) {
    if !media.is_empty() {
        return;
    }
    let name = platform_name(descriptor.platform);
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
    rules: &Rules,
    media: &[MediaFacts],
    limits: &AccountLimits,
    problems: &mut Vec<Problem>,
) {
    let name = platform_name(descriptor.platform);
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
    descriptor: &Descriptor,
    rules: &Rules,
    text: &str,
    options: &PostOptions,
    problems: &mut Vec<Problem>,
) {
    let name = platform_name(descriptor.platform);
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
/// Every number carries the page that documents it.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// Largest image file.
    image_max: Option<SizeLimit>,
    /// Largest GIF where GIFs are a category of their own (X); `None`: GIFs are images.
    gif_max: Option<SizeLimit>,
    /// Largest video file.
    video_max: Option<SizeLimit>,
    /// Longest video.
    video_max_ms: Option<u32>,
    /// Shortest video.
    video_min_ms: Option<u32>,
    /// Accepted image formats, where the platform restricts them.
    image_formats: Option<ImageFormats>,
    /// Images and videos may share a post (carousels), counted together against `max_media`.
    mixing: bool,
    /// Videos per post when they may not be mixed with images.
    max_videos: usize,
    /// An (animated) GIF must be the only item of its post.
    gif_alone: bool,
    /// A byte limit on the text on top of the descriptor's character limit.
    text_max_bytes: Option<usize>,
    /// Longest `title` option.
    title_max_chars: Option<usize>,
    /// A title is needed: the `title` option, or text to derive it from.
    requires_title: bool,
    /// `board_id` is needed.
    requires_board: bool,
    /// `<` and `>` are refused in the title and the text.
    no_angle_brackets: bool,
}

#[derive(Debug, Clone, Copy)]
struct ImageFormats {
    mime_types: &'static [&'static str],
    label: &'static str,
}

impl Rules {
    /// Nothing beyond the descriptor: what the sandbox gets ("whatever its descriptor says").
    const NONE: Self = Self {
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
    const VIDEO_ALONE: Self = Self {
        mixing: false,
        max_videos: 1,
        ..Self::NONE
    };

    fn of(platform: Platform) -> Self {
        match platform {
            Platform::X => Self {
                // "You may attach up to 4 photos, 1 animated GIF or 1 video in a Post";
                // image <= 5 MB, animated GIF <= 15 MB, video 512 MB, at least 0.5 s.
                // https://docs.x.com/x-api/media/quickstart/best-practices
                // https://docs.x.com/x-api/media/introduction
                // The maximum video length depends on the account (20 minutes, 125 with
                // Premium), so it is left to X.
                image_max: Some(SizeLimit::mib(5)),
                gif_max: Some(SizeLimit::mib(15)),
                video_max: Some(SizeLimit::mib(512)),
                video_min_ms: Some(500),
                image_formats: Some(ImageFormats {
                    mime_types: &["image/jpeg", "image/png", "image/gif", "image/webp"],
                    label: "JPEG, PNG, GIF or WebP",
                }),
                gif_alone: true,
                ..Self::VIDEO_ALONE
            },
            Platform::Instagram => Self {
                // Images: "Format: JPEG", "File size: 8 MB maximum". Reels: 300 MB maximum,
                // 3 seconds to 15 minutes. Carousels mix images and videos (10 items: the
                // descriptor's `max_media`).
                // https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media
                image_max: Some(SizeLimit::mb(8)),
                video_max: Some(SizeLimit::mb(300)),
                video_max_ms: Some(15 * 60 * 1000),
                video_min_ms: Some(3 * 1000),
                image_formats: Some(ImageFormats {
                    mime_types: &["image/jpeg"],
                    label: "JPEG",
                }),
                ..Self::NONE
            },
            Platform::Threads => Self {
                // Images JPEG or PNG, 8 MB maximum; videos 1 GB and 5 minutes maximum;
                // carousels of up to 20 images, videos or a mix.
                // https://developers.facebook.com/docs/threads/overview#media-specifications
                // https://developers.facebook.com/docs/threads/posts#carousel-posts
                image_max: Some(SizeLimit::mb(8)),
                video_max: Some(SizeLimit::gb(1)),
                video_max_ms: Some(5 * 60 * 1000),
                image_formats: Some(ImageFormats {
                    mime_types: &["image/jpeg", "image/png"],
                    label: "JPEG or PNG",
                }),
                ..Self::NONE
            },
            // A multi-photo Page post attaches unpublished photos (`attached_media`); a video
            // is its own post through `/{page-id}/videos`: one or the other, never both.
            // https://developers.facebook.com/docs/pages-api/posts
            Platform::Facebook => Self::VIDEO_ALONE,
            // A MultiImage post holds 2 to 20 images; a video post one video of 75 KB to
            // 500 MB and 3 seconds to 30 minutes.
            // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
            // https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api
            Platform::Linkedin => Self {
                video_max: Some(SizeLimit::mb(500)),
                video_max_ms: Some(30 * 60 * 1000),
                video_min_ms: Some(3 * 1000),
                ..Self::VIDEO_ALONE
            },
            Platform::Bluesky => Self {
                // `app.bsky.embed.images`: at most 4 images of `maxSize` 1000000 bytes each;
                // `app.bsky.feed.post` text: `maxGraphemes` 300 and `maxLength` 3000 (bytes).
                // https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json
                // https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json
                image_max: Some(SizeLimit::exact(1_000_000)),
                text_max_bytes: Some(3000),
                ..Self::VIDEO_ALONE
            },
            Platform::Mastodon => Self {
                // Mastodon 4.x defaults: images up to 16 MB (16777216 bytes in
                // `image_size_limit`), videos up to 99 MB (103809024 in `video_size_limit`),
                // four images or one video per post.
                // https://docs.joinmastodon.org/user/posting/#media
                image_max: Some(SizeLimit::mib(16)),
                video_max: Some(SizeLimit::mib(99)),
                ..Self::VIDEO_ALONE
            },
            Platform::Pinterest => Self {
                // A pin is one video, or one image, or a carousel of 2 to 5 images, on a
                // board (`board_id` is required); `title` is at most 100 characters.
                // https://developers.pinterest.com/docs/api/v5/pins-create
                requires_board: true,
                title_max_chars: Some(100),
                ..Self::VIDEO_ALONE
            },
            Platform::Youtube => Self {
                // `snippet.title` is required, at most 100 characters; `snippet.description`
                // at most 5000 bytes; neither may contain `<` or `>`.
                // https://developers.google.com/youtube/v3/docs/videos#properties
                requires_title: true,
                title_max_chars: Some(100),
                text_max_bytes: Some(5000),
                no_angle_brackets: true,
                ..Self::VIDEO_ALONE
            },
            // One video per post (the descriptor's `max_media`).
            // https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
            Platform::Tiktok => Self::VIDEO_ALONE,
            Platform::Sandbox => Self::NONE,
        }
    }
}

/// A file size limit, with the unit its documentation uses, so that messages speak the same
/// units as the platform (X's "5 MB" is 5 MiB; Bluesky's limit is a byte count).
#[derive(Debug, Clone, Copy)]
struct SizeLimit {
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
    const fn mib(n: u64) -> Self {
        Self {
            bytes: n * MIB,
            unit: SizeUnit::Mebibytes,
        }
    }

    const fn mb(n: u64) -> Self {
        Self {
            bytes: n * MB,
            unit: SizeUnit::Megabytes,
        }
    }

    const fn gb(n: u64) -> Self {
        Self {
            bytes: n * GB,
            unit: SizeUnit::Megabytes,
        }
    }

    const fn exact(bytes: u64) -> Self {
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

/// The platform's name as its users know it.
fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Facebook => "Facebook",
        Platform::Instagram => "Instagram",
        Platform::Threads => "Threads",
        Platform::X => "X",
        Platform::Linkedin => "LinkedIn",
        Platform::Youtube => "YouTube",
        Platform::Tiktok => "TikTok",
        Platform::Pinterest => "Pinterest",
        Platform::Bluesky => "Bluesky",
        Platform::Mastodon => "Mastodon",
        Platform::Sandbox => "The sandbox",
    }
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

fn x_weighted_length(text: &str) -> usize {
    let mut weight = 0;
    let mut rest = 0;
    for url in find_urls(text, UrlForms::AlsoWww) {
        weight += x_plain_weight(&text[rest..url.start]);
        weight += X_TRANSFORMED_URL_LENGTH * X_SCALE;
        rest = url.end;
    }
    weight += x_plain_weight(&text[rest..]);
    weight / X_SCALE
}

fn x_plain_weight(text: &str) -> usize {
    text.graphemes(true)
        .map(|cluster| {
            if is_emoji_sequence(cluster) {
                X_DEFAULT_WEIGHT
            } else {
                cluster.chars().map(x_char_weight).sum()
            }
        })
        .sum()
}

fn x_char_weight(c: char) -> usize {
    let code_point = u32::from(c);
    X_RANGES
        .iter()
        .find(|(start, end, _)| (*start..=*end).contains(&code_point))
        .map_or(X_DEFAULT_WEIGHT, |(_, _, weight)| *weight)
}

/// Whether a grapheme cluster of several code points is one emoji (a ZWJ family, a skin tone,
/// a flag, a keycap, a `VS16` presentation form), which twitter-text v3 weighs once. A lone
/// emoji code point needs no special case: all of them but © and ® lie outside the light
/// ranges and already weigh the default, and those two only count as emoji with `VS16`.
fn is_emoji_sequence(cluster: &str) -> bool {
    let mut chars = cluster.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let mut rest = chars.peekable();
    if rest.peek().is_none() {
        return false;
    }
    if matches!(first, '0'..='9' | '#' | '*') {
        return cluster.contains('\u{20E3}');
    }
    is_pictographic(first) && rest.any(is_emoji_modifier)
}

/// The blocks emoji bases come from (a superset of Unicode's `Extended_Pictographic` below
/// U+1F000, and everything above it up to the end of the emoji blocks).
fn is_pictographic(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00A9
            | 0x00AE
            | 0x203C
            | 0x2049
            | 0x2122
            | 0x2139
            | 0x2194..=0x21AA
            | 0x231A..=0x23FF
            | 0x24C2
            | 0x25AA..=0x25FE
            | 0x2600..=0x27BF
            | 0x2934..=0x2935
            | 0x2B05..=0x2BFF
            | 0x3030
            | 0x303D
            | 0x3297
            | 0x3299
            | 0x1F000..=0x1FAFF
    )
}

/// Code points that only occur inside emoji sequences: `VS16`, the keycap, `ZWJ`, skin tones,
/// regional indicators and tags.
fn is_emoji_modifier(c: char) -> bool {
    matches!(
        u32::from(c),
        0xFE0F | 0x20E3 | 0x200D | 0x1F3FB..=0x1F3FF | 0x1F1E6..=0x1F1FF | 0xE0020..=0xE007F
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlForms {
    /// `http://…` and `https://…` only (Mastodon).
    SchemeOnly,
    /// Also `www.…` without a scheme (X).
    AlsoWww,
}

/// Byte ranges of the URLs in `text`, the way twitter-text draws their edges: not glued to a
/// preceding letter, digit, `@`, `$` or `#`; a host with a dot and an alphabetic top-level
/// domain; a path up to whitespace, minus trailing punctuation that ends a sentence rather
/// than the URL (a closing parenthesis stays when the URL opened one).
fn find_urls(text: &str, forms: UrlForms) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find(|c: char| {
        matches!(c, 'h' | 'H') || (forms == UrlForms::AlsoWww && matches!(c, 'w' | 'W'))
    }) {
        let at = from + offset;
        match url_at(text, at, forms) {
            Some(end) => {
                found.push(at..end);
                from = end;
            }
            // `h` and `w` are one byte: the next byte starts a character.
            None => from = at + 1,
        }
    }
    found
}

fn url_at(text: &str, at: usize, forms: UrlForms) -> Option<usize> {
    let before = text[..at].chars().next_back();
    if before
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '$' | '#' | '＠' | '＃'))
    {
        return None;
    }
    let rest = &text[at..];
    let host_start = if starts_with_ignoring_case(rest, "https://") {
        at + "https://".len()
    } else if starts_with_ignoring_case(rest, "http://") {
        at + "http://".len()
    } else if forms == UrlForms::AlsoWww
        && starts_with_ignoring_case(rest, "www.")
        && !before.is_some_and(|c| matches!(c, '.' | '/' | '-' | '_'))
    {
        at
    } else {
        return None;
    };

    let after_host = &text[host_start..];
    let host_len = after_host
        .find(|c: char| !is_host_char(c))
        .unwrap_or(after_host.len());
    let host = after_host[..host_len].trim_end_matches(['.', '-', '_']);
    let (name, tld) = host.rsplit_once('.')?;
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || tld.starts_with("xn--");
    if name.is_empty() || name.ends_with('.') || !tld_ok {
        return None;
    }
    let mut end = host_start + host.len();
    if host.len() < host_len {
        // The host ended in punctuation ("see https://example.com."): so does the URL.
        return Some(end);
    }

    if let Some(port) = text[end..].strip_prefix(':') {
        let digits = port
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(port.len());
        if digits > 0 {
            end += 1 + digits;
        }
    }
    if text[end..].starts_with(['/', '?', '#']) {
        let tail = &text[end..];
        let tail_len = tail
            .find(|c: char| !is_url_path_char(c))
            .unwrap_or(tail.len());
        end += trimmed_path_len(&tail[..tail_len]);
    }
    Some(end)
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// Letters of Latin, Greek, Cyrillic and the like may appear in internationalised hosts;
/// CJK and emoji end a URL (twitter-text does not run a URL into them either).
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '-' | '.' | '_')
        || (!c.is_ascii() && c.is_alphanumeric() && u32::from(c) <= 4351)
}

fn is_url_path_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '^' | '`' | '{' | '}')
    } else {
        c.is_alphanumeric() && u32::from(c) <= 4351
    }
}

/// How much of a path, query or fragment belongs to the URL: trailing punctuation goes,
/// except a `)` that closes a `(` inside the URL (Wikipedia links).
fn trimmed_path_len(path: &str) -> usize {
    let mut kept = path;
    while let Some(last) = kept.chars().next_back() {
        let ends_url =
            last.is_alphanumeric() || matches!(last, '/' | '=' | '_' | '#' | '+' | '-' | '&');
        let balanced_paren = last == ')' && kept.matches('(').count() >= kept.matches(')').count();
        if ends_url || balanced_paren {
            break;
        }
        kept = &kept[..kept.len() - last.len_utf8()];
    }
    kept.len()
}

/// Mentions as Mastodon's `Account::MENTION_RE` finds them: `@user` or `@user@domain`, not
/// preceded by a word character, `=` or `/` (so neither an e-mail address nor a profile URL).
/// Answers each mention's byte range and its username.
fn find_mentions(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found: Vec<(Range<usize>, &str)> = Vec::new();
    for (at, _) in text.match_indices('@') {
        if found.last().is_some_and(|(range, _)| at < range.end) {
            continue;
        }
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c == '=' || c == '/' || is_word_char(c)) {
            continue;
        }
        let user_start = at + 1;
        let user_len = dotted_name_len(&text[user_start..], |c| {
            c.is_ascii_alphanumeric() || c == '_'
        });
        if user_len == 0 {
            continue;
        }
        let user_end = user_start + user_len;
        let mut end = user_end;
        if text[end..].starts_with('@') {
            let domain_len = dotted_name_len(&text[end + 1..], is_word_char);
            if domain_len > 0 {
                end += 1 + domain_len;
            }
        }
        found.push((at..end, &text[user_start..user_end]));
    }
    found
}

/// Ruby's `[[:word:]]`, near enough: letters, digits and the underscore, in any script.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Byte length of the longest `w+([.-]+w+)*` at the start of `s`, `w` being `word`: dots and
/// dashes join names but never end one.
fn dotted_name_len(s: &str, word: impl Fn(char) -> bool) -> usize {
    let mut chars = s.char_indices().peekable();
    let mut matched = 0;
    let mut position = 0;
    loop {
        let run_start = position;
        while let Some(&(i, c)) = chars.peek() {
            if !word(c) {
                break;
            }
            position = i + c.len_utf8();
            chars.next();
        }
        if position == run_start {
            return matched;
        }
        matched = position;
        let separators_start = position;
        while let Some(&(i, c)) = chars.peek() {
            if !matches!(c, '.' | '-') {
                break;
            }
            position = i + 1;
            chars.next();
        }
        if position == separators_start {
            return matched;
        }
    }
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
                before.len() + 1 + X_TRANSFORMED_URL_LENGTH + 1 + after.len()
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
