//! mastodon contract tests (being written).
