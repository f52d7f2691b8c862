//! What YouTube accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::Rules;

pub(crate) const RULES: Rules = Rules {
    // `snippet.title` is required, at most 100 characters; `snippet.description`
    // at most 5000 bytes; neither may contain `<` or `>`.
    // https://developers.google.com/youtube/v3/docs/videos#properties
    requires_title: true,
    title_max_chars: Some(100),
    text_max_bytes: Some(5000),
    no_angle_brackets: true,
    ..Rules::VIDEO_ALONE
};
