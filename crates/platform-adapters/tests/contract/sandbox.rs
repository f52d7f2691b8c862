//! sandbox contract tests (being written).
