//! pinterest contract tests (being written).
