//! x (being written).
