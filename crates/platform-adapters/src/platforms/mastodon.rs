//! mastodon (being written).
