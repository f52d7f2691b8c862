//! x contract tests (being written).
