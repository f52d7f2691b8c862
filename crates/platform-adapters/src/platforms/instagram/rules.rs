//! What Instagram accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::{ImageFormats, Rules, SizeLimit};

pub(crate) const RULES: Rules = Rules {
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
    ..Rules::NONE
};
