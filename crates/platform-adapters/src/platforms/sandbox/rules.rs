//! What the sandbox accepts beyond its descriptor: the per-kind media limits, checked by
//! [`crate::validate::check`] before a post is accepted.

use crate::validate::Rules;

/// Whatever the descriptor says, nothing more: the sandbox is the reference platform.
pub(crate) const RULES: Rules = Rules::NONE;
