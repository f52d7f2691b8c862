//! Finding the facets of a post's text: links, mentions and hashtags, by UTF-8 byte range
//! (<https://docs.bsky.app/docs/advanced-guides/post-richtext>).
//!
//! Bluesky's servers take facets as the client sends them and detect nothing themselves, so
//! what a post links is what its client found. We find what the Bluesky app finds, following
//! `@atproto/api`'s `packages/api/src/rich-text/detection.ts` and `util.ts` (and their tests,
//! from which the unit tests below take many cases):
//! - a **tag** is `#` or the full-width `＃` at the start of the text or after whitespace,
//!   followed by a run of characters up to whitespace or one of the zero-width characters
//!   U+00AD, U+2060, U+200A–U+200D, U+20E2; the run must not begin with U+FE0F (so the keycap
//!   emoji `#️⃣` is no tag) and must hold a character that is neither an ASCII digit nor
//!   punctuation (so `#2024` is none); trailing punctuation (Unicode category P, `_` included)
//!   is trimmed; a tag of more than 64 graphemes is dropped, not cut. We also drop one of more
//!   than 640 bytes, the lexicon's other limit, which the app does not check: the PDS would
//!   refuse the whole record for it.
//! - a **link** starts the text or follows whitespace or `(`. Either `http(s)://` and what
//!   follows up to whitespace, or a bare domain (`example.com/path`): ASCII labels of letters
//!   and digits, the first starting with a letter, the last a top-level domain of the list the
//!   app checks (the npm package `tlds`, in `tlds.txt`), compared case-sensitively as the app
//!   does; the link then points to `https://` plus the text. Trailing sentence punctuation and
//!   an unbalanced `)` are not part of a link. A `#fragment` inside a link is no tag, since a
//!   tag needs whitespace before it.
//! - a **mention** is `@handle` at the start of the text or after whitespace or `(`, with the
//!   handle syntax of <https://atproto.com/specs/handle>; the adapter resolves it to a DID.
//!
//! Where the app's detectors overlap (a mention inside a link's parentheses) the app emits
//! both; we keep the first span and skip what lies inside it, so facets never overlap.

use std::{collections::HashSet, sync::LazyLock};

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

/// Most graphemes in a tag (`app.bsky.richtext.facet#tag`: `maxGraphemes: 64`).
const MAX_TAG_GRAPHEMES: usize = 64;

/// Most bytes in a tag (`app.bsky.richtext.facet#tag`: `maxLength: 640`).
const MAX_TAG_BYTES: usize = 640;

/// A link, mention or tag in a post's text, by UTF-8 byte range (`start` inclusive, `end`
/// exclusive), which is how facets index text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpanKind {
    /// The URI the link points to.
    Link(String),
    /// The handle, lowercased, without the `@`.
    Mention(String),
    /// The tag, without its `#`, as written.
    Tag(String),
}

/// The spans of `text`, in order, none inside another.
pub fn find_spans(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut previous: Option<char> = None;
    let mut resume_at = 0;
    for (at, c) in text.char_indices() {
        let before = previous.replace(c);
        if at < resume_at {
            continue;
        }
        let after_space = before.is_none_or(is_space);
        let span = match c {
            '#' | '＃' if after_space => tag_at(text, at, c),
            '@' if after_space || before == Some('(') => mention_at(text, at),
            _ if after_space || before == Some('(') => link_at(text, at),
            _ => None,
        };
        if let Some(span) = span {
            resume_at = span.end;
            spans.push(span);
        }
    }
    spans
}

/// JavaScript's `\s`, which the app's patterns are written with: Unicode spaces and line
/// ends, and U+FEFF (but not U+0085, which Rust's `char::is_whitespace` counts).
fn is_space(c: char) -> bool {
    const SPACES: &[char] = &[
        '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{a0}', '\u{1680}', '\u{2028}', '\u{2029}',
        '\u{202f}', '\u{205f}', '\u{3000}', '\u{feff}',
    ];
    matches!(c, '\u{2000}'..='\u{200a}') || SPACES.contains(&c)
}

fn is_punctuation(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Punctuation
}

/// Characters that end a tag besides whitespace: the soft hyphen, the word joiner, zero-width
/// spaces and joiners, and the combining enclosing screen.
fn ends_tag(c: char) -> bool {
    is_space(c)
        || matches!(
            c,
            '\u{ad}' | '\u{2060}' | '\u{200a}'..='\u{200d}' | '\u{20e2}'
        )
}

fn tag_at(text: &str, start: usize, sign: char) -> Option<Span> {
    let rest = text.get(start + sign.len_utf8()..)?;
    if rest.starts_with('\u{fe0f}') {
        return None;
    }
    let run = rest.get(..rest.find(ends_tag).unwrap_or(rest.len()))?;
    if run.chars().all(|c| c.is_ascii_digit() || is_punctuation(c)) {
        return None;
    }
    let tag = run.trim_end_matches(is_punctuation);
    let fits = tag.len() <= MAX_TAG_BYTES && tag.graphemes(true).count() <= MAX_TAG_GRAPHEMES;
    fits.then(|| Span {
        start,
        end: start + sign.len_utf8() + tag.len(),
        kind: SpanKind::Tag(tag.to_owned()),
    })
}

/// A link at `start`: `http(s)://…`, or a bare domain with a known top-level domain.
fn link_at(text: &str, start: usize) -> Option<Span> {
    let rest = text.get(start..)?;
    let word = rest.get(..rest.find(is_space).unwrap_or(rest.len()))?;
    let has_prefix = |prefix: &str| {
        word.get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let scheme = if has_prefix("https://") {
        Some("https://".len())
    } else if has_prefix("http://") {
        Some("http://".len())
    } else {
        None
    };
    let candidate = trim_link_end(word);
    let address = match scheme {
        Some(scheme_len) if word.len() > scheme_len => {
            if candidate.len() <= scheme_len {
                return None;
            }
            candidate.to_owned()
        }
        _ => {
            if !has_known_tld(bare_domain(word)?) {
                return None;
            }
            format!("https://{candidate}")
        }
    };
    let url = reqwest::Url::parse(&address).ok()?;
    if url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    // The facet's `uri` must be a URI: non-ASCII text (an IRI) goes in percent-encoded.
    let uri = if address.is_ascii() {
        address
    } else {
        url.to_string()
    };
    Some(Span {
        start,
        end: start + candidate.len(),
        kind: SpanKind::Link(uri),
    })
}

/// `word` without what ends a sentence around a link: trailing punctuation, and a closing
/// parenthesis with no opening one in the link (`(see https://a.example/x)`).
fn trim_link_end(word: &str) -> &str {
    let mut candidate = word;
    loop {
        if let Some(shorter) = candidate.strip_suffix(|c: char| {
            matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | '"' | '\'' | '»' | '”' | '’'
            )
        }) {
            candidate = shorter;
        } else if candidate.ends_with(')')
            && candidate.matches(')').count() > candidate.matches('(').count()
        {
            candidate = &candidate[..candidate.len() - 1];
        } else {
            return candidate;
        }
    }
}

/// The domain a bare link begins with, as the app's pattern takes it (case-insensitively):
/// a letter, letters and digits, then one or more `.label` of letters and digits, as many as
/// there are. Hyphens end it (`my-site.com` is no link in the app either).
fn bare_domain(word: &str) -> Option<&str> {
    let bytes = word.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let mut end = 1 + bytes[1..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let mut labels = 0;
    while bytes.get(end) == Some(&b'.') {
        let label = bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if label == 0 {
            break;
        }
        end += 1 + label;
        labels += 1;
    }
    (labels > 0).then(|| &word[..end])
}

/// The ASCII top-level domains the app knows (`tlds.txt`).
static TLDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("tlds.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

fn has_known_tld(domain: &str) -> bool {
    domain
        .rsplit_once('.')
        .is_some_and(|(_, tld)| TLDS.contains(tld))
}

fn mention_at(text: &str, start: usize) -> Option<Span> {
    let rest = text.get(start + 1..)?;
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    let handle = rest.get(..len)?.trim_end_matches(['.', '-']);
    is_valid_handle(handle).then(|| Span {
        start,
        end: start + 1 + handle.len(),
        kind: SpanKind::Mention(handle.to_ascii_lowercase()),
    })
}

/// The handle syntax of <https://atproto.com/specs/handle>: at least two dot-separated labels of
/// ASCII letters, digits and inner hyphens (1–63 characters each, 253 in all), the last one not
/// starting with a digit.
fn is_valid_handle(handle: &str) -> bool {
    crate::hosts::is_multi_label_hostname(handle)
        && handle
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spans of `text` as (covered text, kind).
    fn spans(text: &str) -> Vec<(&str, SpanKind)> {
        find_spans(text)
            .into_iter()
            .map(|span| {
                (
                    text.get(span.start..span.end)
                        .unwrap_or("<not a char boundary>"),
                    span.kind,
                )
            })
            .collect()
    }

    /// The tags of `text` with their byte ranges.
    fn tags(text: &str) -> Vec<(String, usize, usize)> {
        find_spans(text)
            .into_iter()
            .filter_map(|span| match span.kind {
                SpanKind::Tag(tag) => Some((tag, span.start, span.end)),
                _ => None,
            })
            .collect()
    }

    fn tag(name: &str, start: usize, end: usize) -> (String, usize, usize) {
        (name.to_owned(), start, end)
    }

    fn link(uri: &str) -> SpanKind {
        SpanKind::Link(uri.into())
    }

    #[test]
    fn tags_start_the_text_or_follow_whitespace() {
        assert_eq!(tags("#a"), vec![tag("a", 0, 2)]);
        assert_eq!(tags("#a #b"), vec![tag("a", 0, 2), tag("b", 3, 5)]);
        assert_eq!(tags("body #tag body"), vec![tag("tag", 5, 9)]);
        assert_eq!(tags("this #t\nag"), vec![tag("t", 5, 7)]);
        assert_eq!(tags("a#b (#c x/#d"), vec![]);
        assert_eq!(
            tags("#same #same"),
            vec![tag("same", 0, 5), tag("same", 6, 11)]
        );
    }

    #[test]
    fn digit_only_and_empty_tags_are_not_tags() {
        for text in [
            "#1",
            "body #1",
            "#",
            "#?",
            "text # text",
            "##",
            "#1?",
            "#2024!",
        ] {
            assert_eq!(tags(text), vec![], "{text:?}");
        }
        assert_eq!(tags("#1a"), vec![tag("1a", 0, 3)]);
        assert_eq!(tags("body #a1"), vec![tag("a1", 5, 8)]);
    }

    #[test]
    fn trailing_punctuation_is_trimmed_and_inner_punctuation_kept() {
        assert_eq!(
            tags("strips trailing #punctuation, #like. #this!"),
            vec![
                tag("punctuation", 16, 28),
                tag("like", 30, 35),
                tag("this", 37, 42)
            ]
        );
        assert_eq!(
            tags("strips #multi_trailing___..."),
            vec![tag("multi_trailing", 7, 22)]
        );
        assert_eq!(
            tags("works #with,punctuation"),
            vec![tag("with,punctuation", 6, 23)]
        );
        assert_eq!(
            tags("its a #double#rainbow"),
            vec![tag("double#rainbow", 6, 21)]
        );
        assert_eq!(tags("##hashash"), vec![tag("#hashash", 0, 9)]);
        assert_eq!(tags("some #n0n3s@n5e!"), vec![tag("n0n3s@n5e", 5, 15)]);
        // Symbols are not punctuation: `$` and `+` stay.
        assert_eq!(tags("#c++ #12$"), vec![tag("c++", 0, 4), tag("12$", 5, 9)]);
    }

    #[test]
    fn tags_of_more_than_64_graphemes_are_dropped_not_cut() {
        let sixty_four = format!("t{}", "a".repeat(63));
        assert_eq!(
            tags(&format!("body #{sixty_four}!")),
            vec![tag(&sixty_four, 5, 70)]
        );
        assert_eq!(tags(&format!("body #{sixty_four}b")), vec![]);
        // A subdivision flag is one grapheme of 28 bytes (no zero-width joiner, which would end
        // the tag): 22 fit the lexicon's 640 bytes, 23 do not.
        let scotland = "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}";
        assert_eq!(tags(&format!("#{}", scotland.repeat(22))).len(), 1);
        assert_eq!(tags(&format!("#{}", scotland.repeat(23))), vec![]);
        let accents = "é".repeat(64);
        assert_eq!(tags(&format!("#{accents}")), vec![tag(&accents, 0, 129)]);
    }

    #[test]
    fn emoji_and_cjk_tags_count_in_utf8_bytes() {
        assert_eq!(
            tags("works with #🦋 emoji, and #butter🦋fly"),
            vec![tag("🦋", 11, 16), tag("butter🦋fly", 28, 42)]
        );
        assert_eq!(tags("日本語 #タグ。"), vec![tag("タグ", 10, 17)]);
        // A space of another script ends a tag and may precede one.
        assert_eq!(tags("東京\u{3000}#旅行"), vec![tag("旅行", 9, 16)]);
    }

    #[test]
    fn keycap_emoji_and_zero_width_characters_follow_the_apps_rules() {
        assert_eq!(
            tags("this #\u{fe0f}\u{20e3}tag should not be a tag"),
            vec![]
        );
        assert_eq!(
            tags("this ##\u{fe0f}\u{20e3}tag should be a tag"),
            vec![tag("#\u{fe0f}\u{20e3}tag", 5, 16)]
        );
        assert_eq!(tags("#\u{200b}"), vec![]);
        assert_eq!(tags("#\u{200b}a"), vec![]);
        assert_eq!(tags("#a\u{200b}b"), vec![tag("a", 0, 2)]);
        assert_eq!(tags("#ab\u{200b}"), vec![tag("ab", 0, 3)]);
        assert_eq!(tags("#\u{20e2}tag"), vec![]);
        assert_eq!(tags("#a\u{20e2}b"), vec![tag("a", 0, 2)]);
    }

    #[test]
    fn the_full_width_number_sign_starts_a_tag() {
        let text = "match full width number sign (tag): ＃tag";
        assert_eq!(tags(text), vec![tag("tag", 36, 42)]);
        assert_eq!(
            tags("x ＃#\u{fe0f}\u{20e3}tag"),
            vec![tag("#\u{fe0f}\u{20e3}tag", 2, 15)]
        );
    }

    #[test]
    fn url_fragments_are_part_of_links_not_tags() {
        assert_eq!(
            spans("see https://example.com/a#intro and example.org/b#c."),
            vec![
                (
                    "https://example.com/a#intro",
                    link("https://example.com/a#intro")
                ),
                ("example.org/b#c", link("https://example.org/b#c")),
            ]
        );
    }

    #[test]
    fn bare_domains_with_a_known_tld_are_https_links() {
        assert_eq!(
            spans("start middle.com/foo/bar?baz=bux#hash end"),
            vec![(
                "middle.com/foo/bar?baz=bux#hash",
                link("https://middle.com/foo/bar?baz=bux#hash")
            )]
        );
        assert_eq!(
            spans("newline1.com\nnewline2.com"),
            vec![
                ("newline1.com", link("https://newline1.com")),
                ("newline2.com", link("https://newline2.com")),
            ]
        );
        assert_eq!(
            spans("a example.com/index.php php link"),
            vec![(
                "example.com/index.php",
                link("https://example.com/index.php")
            )]
        );
        assert_eq!(
            spans("a trailing bsky.app: colon (sub.example.co.uk)"),
            vec![
                ("bsky.app", link("https://bsky.app")),
                ("sub.example.co.uk", link("https://sub.example.co.uk")),
            ]
        );
        assert_eq!(
            spans("Visit Example.com"),
            vec![("Example.com", link("https://Example.com"))]
        );
    }

    #[test]
    fn words_that_are_not_domains_stay_text() {
        for text in [
            "not.. a..url ..here",
            "e.g.",
            "something-cool.jpg",
            "website.com.jpg",
            "e.g./foo",
            "website.com.jpg/foo",
            "notes.txt",
            "EXAMPLE.COM",
            "mail bob@example.com",
            "1example.com",
        ] {
            assert_eq!(spans(text), vec![], "{text:?}");
        }
    }

    #[test]
    fn links_end_before_sentence_punctuation_and_unbalanced_parentheses() {
        assert_eq!(
            spans("see https://example.com/a_(b)?q=1. and (https://example.org/x), ok"),
            vec![
                (
                    "https://example.com/a_(b)?q=1",
                    link("https://example.com/a_(b)?q=1")
                ),
                ("https://example.org/x", link("https://example.org/x")),
            ]
        );
        assert_eq!(
            spans("punctuation https://foo.com, https://bar.com/whatever; https://baz.com."),
            vec![
                ("https://foo.com", link("https://foo.com")),
                ("https://bar.com/whatever", link("https://bar.com/whatever")),
                ("https://baz.com", link("https://baz.com")),
            ]
        );
    }

    #[test]
    fn only_words_that_start_with_the_sign_or_scheme_are_spans() {
        assert_eq!(
            spans("mail bob@example.com or see x/https://a.example"),
            vec![]
        );
        assert_eq!(spans("https:// alone"), vec![]);
        assert_eq!(
            spans("(@Alice.Bsky.Social) @nodot @9lives.123 @bob.test."),
            vec![
                (
                    "@Alice.Bsky.Social",
                    SpanKind::Mention("alice.bsky.social".into())
                ),
                ("@bob.test", SpanKind::Mention("bob.test".into())),
            ]
        );
    }

    #[test]
    fn non_ascii_links_are_percent_encoded_in_the_facet() {
        assert_eq!(
            spans("→ https://example.com/päge and example.com/päge"),
            vec![
                (
                    "https://example.com/päge",
                    link("https://example.com/p%C3%A4ge")
                ),
                ("example.com/päge", link("https://example.com/p%C3%A4ge")),
            ]
        );
    }

    #[test]
    fn a_mention_inside_a_link_is_part_of_the_link() {
        assert_eq!(
            spans("https://example.com/(@alice.test) #x"),
            vec![
                (
                    "https://example.com/(@alice.test)",
                    link("https://example.com/(@alice.test)")
                ),
                ("#x", SpanKind::Tag("x".into())),
            ]
        );
    }

    #[test]
    fn the_tld_list_is_sorted_lowercase_ascii_without_duplicates() {
        let listed: Vec<&str> = include_str!("tlds.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect();
        assert!(listed.len() > 1000, "{} TLDs", listed.len());
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(listed.iter().all(|t| !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())));
        for known in ["com", "app", "social", "uk", "dev"] {
            assert!(TLDS.contains(known), "{known}");
        }
    }
}
