//! linkedin contract tests (being written).
