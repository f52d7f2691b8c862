//! instagram (being written).
