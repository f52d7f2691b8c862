//! URLs in a post's text, found the way twitter-text draws their edges: what the platforms
//! that count a link as a fixed number of characters (X, Mastodon) count.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlForms {
    /// `http://…` and `https://…` only (Mastodon).
    SchemeOnly,
    /// Also `www.…` without a scheme (X).
    AlsoWww,
}

/// Byte ranges of the URLs in `text`, the way twitter-text draws their edges: not glued to a
/// preceding letter, digit, `@`, `$` or `#`; a host with a dot and an alphabetic top-level
/// domain; a path up to whitespace, minus trailing punctuation that ends a sentence rather
/// than the URL (a closing parenthesis stays when the URL opened one).
pub(crate) fn find_urls(text: &str, forms: UrlForms) -> Vec<Range<usize>> {
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
