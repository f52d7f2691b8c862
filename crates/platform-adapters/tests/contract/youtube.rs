//! youtube contract tests (being written).
