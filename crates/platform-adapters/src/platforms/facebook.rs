//! facebook (being written).
