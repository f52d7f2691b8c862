//! The placeholder syntax of template texts, parsed once and filled in one pass.
//!
//! - `{name}` is a placeholder; `name` is 1 to 64 of `a-z`, `0-9` and `_`.
//! - `{{` is a literal `{` and `}}` a literal `}` (as in Rust's `format!` and Python's
//!   `str.format`, so JSON or code in a post can still be written).
//! - Anything else with a brace is malformed: a `{` not starting a placeholder, an unclosed
//!   `{name`, an empty `{}`, a lone `}`. The error gives the brace's position, counted in
//!   characters from 0, so the frontend can point at it.
//!
//! Filling is a single pass: a value is inserted as written, never read for placeholders
//! itself, so a value may contain braces.

use std::collections::{BTreeMap, BTreeSet};

/// Longest placeholder name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// One piece of a parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as it is (escaped braces already turned into one brace).
    Literal(String),
    /// A `{name}` to fill.
    Placeholder(&'a str),
}

/// Why a text is not a template, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The offending character's index, counting characters from 0.
    pub position: usize,
    /// For people.
    pub reason: &'static str,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

/// Splits `text` into literals and placeholders, or says where it is malformed.
pub fn parse(text: &str) -> Result<Vec<Piece<'_>>, SyntaxError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    // (char index, byte index, char) so that errors count characters and names borrow bytes.
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((position, (_, c))) = chars.next() {
        match c {
            '{' if matches!(chars.peek(), Some((_, (_, '{')))) => {
                chars.next();
                literal.push('{');
            }
            '}' if matches!(chars.peek(), Some((_, (_, '}')))) => {
                chars.next();
                literal.push('}');
            }
            '}' => {
                return Err(SyntaxError {
                    position,
                    reason: "a lone `}`: write `}}` for a literal brace",
                })
            }
            '{' => {
                let mut name_start = None;
                let mut name_end = None;
                let mut length = 0;
                loop {
                    match chars.next() {
                        Some((_, (byte, '}'))) => {
                            name_end = Some(byte);
                            break;
                        }
                        Some((at, (byte, ch))) if is_name_char(ch) => {
                            name_start.get_or_insert(byte);
                            length += 1;
                            if length > MAX_NAME_CHARS {
                                return Err(SyntaxError {
                                    position: at,
                                    reason: "a placeholder name is at most 64 characters",
                                });
                            }
                        }
                        Some((at, _)) => {
                            return Err(SyntaxError {
                                position: at,
                                reason: "a placeholder name uses only a-z, 0-9 and `_`, and ends with `}` (write `{{` for a literal brace)",
                            })
                        }
                        None => break,
                    }
                }
                let (Some(start), Some(end)) = (name_start, name_end) else {
                    return Err(SyntaxError {
                        position,
                        reason: if name_end.is_some() {
                            "an empty placeholder `{}` (write `{{}}` for literal braces)"
                        } else {
                            "an unclosed placeholder: `{` must be closed by `}` (write `{{` for a literal brace)"
                        },
                    });
                };
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Placeholder(&text[start..end]));
            }
            other => literal.push(other),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// The placeholder names of `pieces`, each once.
pub fn names<'a>(pieces: &[Piece<'a>]) -> BTreeSet<&'a str> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Placeholder(name) => Some(*name),
            Piece::Literal(_) => None,
        })
        .collect()
}

/// `pieces` with every placeholder replaced by its value; placeholders without one are left
/// to the caller, who checks [`names`] against the values first.
pub fn fill(pieces: &[Piece<'_>], values: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Placeholder(name) => {
                if let Some(value) = values.get(*name) {
                    out.push_str(value);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn placeholders_are_found_and_filled_and_double_braces_are_literal() {
        let pieces = parse("New: {idea} {{not_a_placeholder}} — {point_1}, {idea}!").unwrap();
        assert_eq!(
            names(&pieces).into_iter().collect::<Vec<_>>(),
            ["idea", "point_1"]
        );
        let filled = fill(&pieces, &values(&[("idea", "tea"), ("point_1", "hot")]));
        assert_eq!(filled, "New: tea {not_a_placeholder} — hot, tea!");
    }

    #[test]
    fn a_value_with_braces_is_inserted_as_written() {
        let pieces = parse("{a}").unwrap();
        assert_eq!(fill(&pieces, &values(&[("a", "{b} }")])), "{b} }");
    }

    #[test]
    fn malformed_texts_name_the_character_position() {
        let cases = [
            ("héllo {", 6, "unclosed"),
            ("ab {} cd", 3, "empty"),
            ("x {Name}", 3, "a-z"),
            ("x {na-me}", 5, "a-z"),
            ("x { name}", 3, "a-z"),
            ("é } y", 2, "lone"),
            ("{a}}", 3, "lone"),
        ];
        for (text, position, reason) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.position, position, "{text}: {err:?}");
            assert!(err.reason.contains(reason), "{text}: {err:?}");
        }
        let long = format!("{{{}}}", "a".repeat(MAX_NAME_CHARS + 1));
        assert!(parse(&long).is_err());
        let longest = format!("{{{}}}", "a".repeat(MAX_NAME_CHARS));
        assert!(parse(&longest).is_ok());
    }

    #[test]
    fn a_text_without_braces_is_one_literal() {
        assert_eq!(
            parse("plain").unwrap(),
            vec![Piece::Literal("plain".into())]
        );
        assert!(parse("").unwrap().is_empty());
    }
}
