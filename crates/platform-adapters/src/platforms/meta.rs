//! meta (being written).
