//! What LinkedIn accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::{Rules, SizeLimit};

// A MultiImage post holds 2 to 20 images; a video post one video of 75 KB to
// 500 MB and 3 seconds to 30 minutes.
// https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api
// https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api
pub(crate) const RULES: Rules = Rules {
    video_max: Some(SizeLimit::mb(500)),
    video_max_ms: Some(30 * 60 * 1000),
    video_min_ms: Some(3 * 1000),
    ..Rules::VIDEO_ALONE
};
