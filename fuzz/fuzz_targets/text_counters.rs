//! Any text as a post: every counter must take it without panicking, and the simple bounds
//! between them must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use platform_adapters::{validate, TextCounting};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let chars = validate::text_length(TextCounting::Chars, text);
    let graphemes = validate::text_length(TextCounting::Graphemes, text);
    let _ = validate::text_length(TextCounting::XWeighted, text);
    assert_eq!(chars, text.chars().count());
    assert!(graphemes <= chars);
    for per_url in [0, 1, 23, 500] {
        let _ = validate::mastodon_length(text, per_url);
    }
});
