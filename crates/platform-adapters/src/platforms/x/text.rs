//! How X counts a post's length: twitter-text v3's weighted count, where most CJK characters
//! and each emoji count double and every URL counts 23.

use unicode_segmentation::UnicodeSegmentation;

use crate::validate::{
    urls::{find_urls, UrlForms},
    AccountLimits, TextCount,
};

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
pub(crate) const X_TRANSFORMED_URL_LENGTH: usize = 23;

/// The count [`crate::validate::check`] holds against X's limit, with how it was counted.
pub(crate) fn count(text: &str, _limits: &AccountLimits) -> TextCount {
    TextCount {
        length: weighted_length(text),
        who: "X".into(),
        note: " (URLs count as 23, most CJK characters and each emoji as 2)".into(),
    }
}

/// X's weighted length of `text` (see [`crate::validate::text_length`]).
pub(crate) fn weighted_length(text: &str) -> usize {
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
