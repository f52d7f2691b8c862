//! The sim's users. There is no sign-up: any valid name is a user, and everything about it
//! (id, display name, counts, avatar colour) is derived from the name, so a test can predict
//! what the platform will say about `alice` without any setup.

use serde::Serialize;

/// The user approved when the authorization request carries no `login_hint`.
pub const DEFAULT_USER: &str = "demo";

/// Lower-cases and checks a user name: 1–32 of `a-z 0-9 _ . -`. Anything else is refused
/// rather than repaired, so a bad `login_hint` is visible.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let name = raw.trim().to_ascii_lowercase();
    let valid = (1..=32).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
        });
    valid.then_some(name)
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserProfile {
    /// Stable id: `sim-<username>`.
    pub id: String,
    /// The user name.
    pub username: String,
    /// `<Username> (sandbox)`.
    pub name: String,
    /// A generated PNG served by the sim.
    pub avatar_url: String,
    /// A small HTML page served by the sim.
    pub profile_url: String,
}

/// `GET /api/v1/me/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserStats {
    /// Followers.
    pub followers_count: i64,
    /// Accounts followed.
    pub following_count: i64,
    /// Posts.
    pub posts_count: i64,
}

/// The profile of `username`, with URLs under `base` (the sim's public origin).
pub(crate) fn profile(username: &str, base: &str) -> UserProfile {
    UserProfile {
        id: format!("sim-{username}"),
        username: username.to_owned(),
        name: format!("{} (sandbox)", capitalized(username)),
        avatar_url: format!("{base}/avatars/{username}.png"),
        profile_url: format!("{base}/u/{username}"),
    }
}

/// Counts derived from the name's hash: stable across restarts and different per user.
pub(crate) fn stats(username: &str) -> UserStats {
    let h = fingerprint(username);
    let pick = |shift: u32, modulo: u64, offset: u64| {
        i64::try_from((h >> shift) % modulo + offset).unwrap_or(0)
    };
    UserStats {
        followers_count: pick(0, 10_000, 10),
        following_count: pick(20, 1_000, 1),
        posts_count: pick(40, 500, 0),
    }
}

/// FNV-1a: tiny, deterministic across platforms and Rust versions (unlike `DefaultHasher`).
pub(crate) fn fingerprint(username: &str) -> u64 {
    username.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn capitalized(username: &str) -> String {
    let mut chars = username.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased_and_checked() {
        assert_eq!(normalize(" Alice ").as_deref(), Some("alice"));
        assert_eq!(normalize("bob.smith-2_x").as_deref(), Some("bob.smith-2_x"));
        assert_eq!(normalize(""), None);
        assert_eq!(normalize("a/b"), None);
        assert_eq!(normalize(&"x".repeat(33)), None);
    }

    #[test]
    fn profile_and_stats_are_derived_from_the_name() {
        let p = profile("alice", "http://sim");
        assert_eq!(p.id, "sim-alice");
        assert_eq!(p.name, "Alice (sandbox)");
        assert_eq!(p.avatar_url, "http://sim/avatars/alice.png");
        assert_eq!(p.profile_url, "http://sim/u/alice");
        assert_eq!(stats("alice"), stats("alice"));
        assert_ne!(stats("alice"), stats("bob"));
        assert!(stats("alice").followers_count >= 10);
    }
}
