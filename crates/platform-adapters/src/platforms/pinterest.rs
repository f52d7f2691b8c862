//! pinterest (being written).
