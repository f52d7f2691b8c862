//! youtube (being written).
