//! bluesky contract tests (being written).
