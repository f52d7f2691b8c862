//! Closed sets of values, stored as `text` columns guarded by `CHECK` constraints.
//!
//! The string of each variant is its wire form everywhere: in the database, in JSON and in
//! routing keys. Changing one is a migration plus an event version bump.

use std::{fmt, str::FromStr};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::UnknownVariant;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident as $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[cfg_attr(feature = "diesel", derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow))]
        #[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The wire and database form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(UnknownVariant { kind: $kind, value: other.to_owned() }),
                }
            }
        }

        #[cfg(feature = "diesel")]
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        #[cfg(feature = "diesel")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                Ok(text.parse()?)
            }
        }
    };
}

text_enum! {
    /// A social platform Postbridge connects to.
    Platform as "platform" {
        /// Facebook Pages (one account per page).
        Facebook => "facebook",
        /// Instagram professional (business/creator) accounts, reached through a Facebook page.
        Instagram => "instagram",
        /// Threads profiles.
        Threads => "threads",
        /// X (formerly Twitter).
        X => "x",
        /// LinkedIn members and organizations.
        Linkedin => "linkedin",
        /// YouTube channels.
        Youtube => "youtube",
        /// TikTok creators.
        Tiktok => "tiktok",
        /// Pinterest accounts.
        Pinterest => "pinterest",
        /// Bluesky (AT Protocol) accounts.
        Bluesky => "bluesky",
        /// Mastodon accounts on any instance.
        Mastodon => "mastodon",
        /// The local `platform-sim`: the zero-credential platform for demos, tests and benchmarks.
        Sandbox => "sandbox",
    }
}

text_enum! {
    /// What kind of presence a connected account is on its platform.
    AccountKind as "account kind" {
        /// A person's own profile.
        Profile => "profile",
        /// A Facebook page.
        Page => "page",
        /// An Instagram business or creator account.
        Business => "business",
        /// A YouTube channel.
        Channel => "channel",
        /// A LinkedIn organization.
        Organization => "organization",
    }
}

text_enum! {
    /// Lifecycle of a connected account.
    AccountStatus as "account status" {
        /// Tokens valid, publishing possible.
        Active => "active",
        /// Token close to expiry and not yet refreshed.
        Expiring => "expiring",
        /// The platform refused our tokens: the user must reconnect.
        NeedsReauth => "needs_reauth",
        /// The platform is rate limiting this account; work resumes after the reset.
        RateLimited => "rate_limited",
        /// The user asked to disconnect; revocation is under way.
        Disconnecting => "disconnecting",
        /// Tokens wiped; kept for history.
        Disconnected => "disconnected",
    }
}

text_enum! {
    /// Overall state of a publish request, derived from its targets.
    PostStatus as "post status" {
        /// Waiting for its due time.
        Scheduled => "scheduled",
        /// At least one target is being published.
        Publishing => "publishing",
        /// Every target published.
        Published => "published",
        /// Some targets published, some failed.
        PartiallyFailed => "partially_failed",
        /// Every target failed.
        Failed => "failed",
        /// Canceled before it went out.
        Canceled => "canceled",
        /// Its published targets are being deleted from their platforms.
        Deleting => "deleting",
        /// Deleted from every platform it was published on.
        Deleted => "deleted",
        /// Deleted from some platforms; still live on others (their platform cannot delete
        /// through its API, or the deletion failed: see each target's `deletion`).
        PartiallyDeleted => "partially_deleted",
    }
}

text_enum! {
    /// State of one account's share of a post.
    TargetStatus as "target status" {
        /// Waiting for `due_at` (or `next_attempt_at` after a retryable failure).
        Scheduled => "scheduled",
        /// Claimed by a publisher under a lease.
        Publishing => "publishing",
        /// Live on the platform.
        Published => "published",
        /// Gave up; `last_error` says why.
        Failed => "failed",
        /// Canceled before publishing.
        Canceled => "canceled",
        /// The platform may or may not have accepted it (timeout, crash mid-call): to be
        /// reconciled, never blindly re-posted.
        Unknown => "unknown",
        /// Published, and its deletion from the platform is requested or under way.
        Deleting => "deleting",
        /// Was published; the platform no longer has it.
        Deleted => "deleted",
    }
}

text_enum! {
    /// What a call to a platform was for (`post_attempts.kind`).
    AttemptKind as "attempt kind" {
        /// Publishing the post (or reconciling a publish).
        Publish => "publish",
        /// Deleting the published post.
        Delete => "delete",
    }
}

text_enum! {
    /// Where the deletion of one published target stands (`post_deletions.status`).
    DeletionStatus as "deletion status" {
        /// Requested, waiting for the publisher (or for its next try after a failure).
        Pending => "pending",
        /// Claimed by a publisher under a lease; the delete call may be in flight.
        Deleting => "deleting",
        /// The platform no longer has the post.
        Deleted => "deleted",
        /// The platform cannot delete posts through its API; the post stays live.
        Unsupported => "unsupported",
        /// Gave up; `last_error` says why. The post stays live; deleting again retries.
        Failed => "failed",
    }
}

text_enum! {
    /// How a single platform call ended (`post_attempts.outcome`).
    AttemptOutcome as "attempt outcome" {
        /// Recorded before the call: a crash leaves this behind, which is how `unknown` is found.
        InFlight => "in_flight",
        /// The platform accepted it.
        Success => "success",
        /// Network error or 5xx: retry with backoff.
        Transient => "transient",
        /// 429 or a known quota: retry after the reset.
        RateLimited => "rate_limited",
        /// Token refused: reconnect or refresh needed.
        NeedsReauth => "needs_reauth",
        /// The post itself is invalid for the platform.
        Rejected => "rejected",
        /// The platform cannot do this at all.
        Unsupported => "unsupported",
        /// Outcome cannot be known (timeout after sending).
        Unknown => "unknown",
    }
}

text_enum! {
    /// How a user proves to a platform that Postbridge may act for them.
    AuthKind as "auth kind" {
        /// OAuth 2.0 authorization code flow (with PKCE where the platform allows it).
        Oauth2 => "oauth2",
        /// OAuth 2.0 on an instance chosen by the user, with an app registered per instance.
        Oauth2PerInstance => "oauth2_per_instance",
        /// A handle plus an app-specific password (Bluesky).
        AppPassword => "app_password",
    }
}

text_enum! {
    /// What follows a post in its chain (`post_parts.kind`).
    PartKind as "part kind" {
        /// A thread's next post, replying to the previous one.
        Part => "part",
        /// A comment under the post (a reply where the platform has no comments), after the
        /// thread's last part.
        FirstComment => "first_comment",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_round_trips_through_its_text_form() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(*platform));
            let json = serde_json::to_string(platform).unwrap();
            assert_eq!(json, format!("\"{platform}\""));
            assert_eq!(serde_json::from_str::<Platform>(&json).unwrap(), *platform);
        }
    }

    #[test]
    fn unknown_text_is_a_clear_error() {
        let err = "myspace".parse::<Platform>().unwrap_err();
        assert_eq!(err.to_string(), "unknown platform `myspace`");
    }
}
