//! What TikTok accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::Rules;

// One video per post (the descriptor's `max_media`).
// https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
pub(crate) const RULES: Rules = Rules::VIDEO_ALONE;
