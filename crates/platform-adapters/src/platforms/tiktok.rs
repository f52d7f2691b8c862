//! tiktok (being written).
