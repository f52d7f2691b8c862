//! tiktok contract tests (being written).
