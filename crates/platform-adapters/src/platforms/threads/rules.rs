//! What Threads accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::{ImageFormats, Rules, SizeLimit};

pub(crate) const RULES: Rules = Rules {
    // Images JPEG or PNG, 8 MB maximum; videos 1 GB and 5 minutes maximum;
    // carousels of up to 20 images, videos or a mix.
    // https://developers.facebook.com/docs/threads/overview#media-specifications
    // https://developers.facebook.com/docs/threads/posts#carousel-posts
    image_max: Some(SizeLimit::mb(8)),
    video_max: Some(SizeLimit::gb(1)),
    video_max_ms: Some(5 * 60 * 1000),
    image_formats: Some(ImageFormats {
        mime_types: &["image/jpeg", "image/png"],
        label: "JPEG or PNG",
    }),
    ..Rules::NONE
};
