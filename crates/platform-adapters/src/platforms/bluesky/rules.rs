//! What Bluesky accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::{Rules, SizeLimit};

pub(crate) const RULES: Rules = Rules {
    // `app.bsky.embed.images`: at most 4 images of `maxSize` 1000000 bytes each;
    // `app.bsky.feed.post` text: `maxGraphemes` 300 and `maxLength` 3000 (bytes).
    // https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json
    // https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json
    image_max: Some(SizeLimit::exact(1_000_000)),
    text_max_bytes: Some(3000),
    ..Rules::VIDEO_ALONE
};
