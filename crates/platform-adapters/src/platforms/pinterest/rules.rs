//! What Pinterest accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::Rules;

pub(crate) const RULES: Rules = Rules {
    // A pin is one video, or one image, or a carousel of 2 to 5 images, on a
    // board (`board_id` is required); `title` is at most 100 characters.
    // https://developers.pinterest.com/docs/api/v5/pins-create
    requires_board: true,
    title_max_chars: Some(100),
    ..Rules::VIDEO_ALONE
};
