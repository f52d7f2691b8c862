//! threads (being written).
