//! Uploads: reading an image or video off the wire, storing it, the view of it, and the
//! signed content URL that platforms fetch it from.

pub mod intake;
pub mod service;
pub mod view;
