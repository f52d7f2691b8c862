//! meta contract tests (being written).
