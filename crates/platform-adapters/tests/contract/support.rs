//! support contract tests (being written).
