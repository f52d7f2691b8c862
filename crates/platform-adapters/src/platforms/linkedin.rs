//! linkedin (being written).
