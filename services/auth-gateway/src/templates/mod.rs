//! Templates (seed 004): a named base text and per-platform texts with `{placeholders}`,
//! saved per user; `POST /v1/templates/{id}/drafts` fills them with values into a new draft.
//! The syntax is [`syntax`]'s; a malformed text is refused when the template is saved, so a
//! saved template always fills.

pub mod request;
pub mod service;
pub mod syntax;
pub mod view;

/// Largest template body, in bytes: like a draft's (a 100,000-character text plus one per
/// platform), see `crate::drafts::MAX_BODY_BYTES`.
pub const MAX_BODY_BYTES: usize = crate::drafts::MAX_BODY_BYTES;
