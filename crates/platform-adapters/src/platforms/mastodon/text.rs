//! How a Mastodon server counts a post's length (`StatusLengthValidator`).

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use crate::validate::{
    urls::{find_urls, UrlForms},
    AccountLimits, TextCount,
};

/// What Mastodon counts every link as, whatever its length: the default
/// `configuration.statuses.characters_reserved_per_url` of `/api/v2/instance`.
/// <https://docs.joinmastodon.org/user/posting/#links>
pub const CHARS_PER_URL: usize = 23;

/// The count [`crate::validate::check`] holds against the instance's limit: links count as the
/// instance says (else [`CHARS_PER_URL`]).
pub(crate) fn count(text: &str, limits: &AccountLimits) -> TextCount {
    let per_url = limits.characters_per_url.unwrap_or(CHARS_PER_URL);
    TextCount {
        length: length(text, per_url),
        who: "This Mastodon server".into(),
        note: format!(" (links count as {per_url}, and a mention only by its @username)"),
    }
}

/// The length of `text` as a Mastodon server counts it (`StatusLengthValidator`): every
/// `http(s)://` link counts `chars_per_url` characters, a mention `@user@domain` counts as
/// `@user`, and the rest is counted in grapheme clusters, so an emoji sequence counts once.
/// <https://docs.joinmastodon.org/user/posting/#text>
pub fn length(text: &str, chars_per_url: usize) -> usize {
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
