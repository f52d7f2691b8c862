//! bluesky (being written).
