//! What Facebook accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::Rules;

// A multi-photo Page post attaches unpublished photos (`attached_media`); a video
// is its own post through `/{page-id}/videos`: one or the other, never both.
// https://developers.facebook.com/docs/pages-api/posts
pub(crate) const RULES: Rules = Rules::VIDEO_ALONE;
