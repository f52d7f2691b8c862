//! What Mastodon accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::{Rules, SizeLimit};

pub(crate) const RULES: Rules = Rules {
    // Mastodon 4.x defaults: images up to 16 MB (16777216 bytes in
    // `image_size_limit`), videos up to 99 MB (103809024 in `video_size_limit`),
    // four images or one video per post.
    // https://docs.joinmastodon.org/user/posting/#media
    image_max: Some(SizeLimit::mib(16)),
    video_max: Some(SizeLimit::mib(99)),
    ..Rules::VIDEO_ALONE
};
