//! What X accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::{ImageFormats, Rules, SizeLimit};

pub(crate) const RULES: Rules = Rules {
    // "You may attach up to 4 photos, 1 animated GIF or 1 video in a Post";
    // image <= 5 MB, animated GIF <= 15 MB, video 512 MB, at least 0.5 s.
    // https://docs.x.com/x-api/media/quickstart/best-practices
    // https://docs.x.com/x-api/media/introduction
    // The maximum video length depends on the account (20 minutes, 125 with
    // Premium), so it is left to X.
    image_max: Some(SizeLimit::mib(5)),
    gif_max: Some(SizeLimit::mib(15)),
    video_max: Some(SizeLimit::mib(512)),
    video_min_ms: Some(500),
    image_formats: Some(ImageFormats {
        mime_types: &["image/jpeg", "image/png", "image/gif", "image/webp"],
        label: "JPEG, PNG, GIF or WebP",
    }),
    gif_alone: true,
    ..Rules::VIDEO_ALONE
};
