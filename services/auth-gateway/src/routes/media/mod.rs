//! `/v1/media…`: uploading images and videos, reading and deleting them, and the signed
//! content URL that platforms fetch them from (the feature itself is `crate::media`).

pub mod content;
pub mod delete;
pub mod get;
pub mod upload;
