//! What the frontend sees. Built from rows, field by field, so nothing secret can slip in by
//! adding a column.

use chrono::{DateTime, Utc};
use db::{
    accounts::{Account, AccountListing},
    domain::{AccountId, AccountKind, AccountStatus, AuthKind, Platform},
};
use platform_adapters::{Descriptor, MediaKind, Registry, TextCounting};
use serde::Serialize;
use utoipa::ToSchema;

use self::enums::{
    AccountKindSchema, AccountSourceSchema, AccountStatusSchema, AuthKindSchema, MediaKindSchema,
    PlatformSchema, TextCountingSchema,
};

/// The closed sets the API speaks, as named OpenAPI enums. Built from the domain's own lists
/// (`Platform::ALL`, …), so a new variant reaches the document, its drift test and the
/// generated clients without editing this module.
pub mod enums {
    use std::borrow::Cow;

    use db::domain::{
        AccountKind, AccountStatus, AttemptKind, AttemptOutcome, AuthKind, DeletionStatus,
        Platform, PostStatus, TargetStatus,
    };
    use platform_adapters::{MediaKind, TextCounting};
    use utoipa::openapi::{schema::Type, ObjectBuilder, RefOr, Schema};

    /// The wire form of a serde-serialized unit variant.
    fn wire<T: serde::Serialize>(value: T) -> String {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::String(text)) => text,
            other => format!("{other:?}"),
        }
    }

    macro_rules! enum_schema {
        ($(#[$meta:meta])* $schema:ident as $name:literal, $description:literal, $values:expr) => {
            $(#[$meta])*
            #[derive(Debug)]
            pub struct $schema;

            impl utoipa::PartialSchema for $schema {
                fn schema() -> RefOr<Schema> {
                    let values: Vec<String> = $values;
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .description(Some($description))
                        .enum_values(Some(values))
                        .into()
                }
            }

            impl utoipa::ToSchema for $schema {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed($name)
                }
            }
        };
    }

    enum_schema!(
        /// `Platform`.
        PlatformSchema as "Platform",
        "A social platform.",
        Platform::ALL.iter().map(|p| p.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `AccountStatus`.
        AccountStatusSchema as "AccountStatus",
        "Where a connected account stands: `active`; `needs_reauth` (reconnect it); `disconnecting`; …",
        AccountStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `AccountKind`.
        AccountKindSchema as "AccountKind",
        "What kind of presence the account is on its platform (a profile, a page, …).",
        AccountKind::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `AuthKind`.
        AuthKindSchema as "AuthKind",
        "How a platform is connected: OAuth 2.0 in the browser, or an app password.",
        AuthKind::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `PostStatus`.
        PostStatusSchema as "PostStatus",
        "A post's status, derived from its targets.",
        PostStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `TargetStatus`.
        TargetStatusSchema as "TargetStatus",
        "One target's status; `unknown`: the platform may have the post, being checked.",
        TargetStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `AttemptOutcome`.
        AttemptOutcomeSchema as "AttemptOutcome",
        "How one call to a platform ended (`in_flight` while it runs).",
        AttemptOutcome::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `AttemptKind`.
        AttemptKindSchema as "AttemptKind",
        "What a call to a platform was for: publishing the post, or deleting it.",
        AttemptKind::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `DeletionStatus`.
        DeletionStatusSchema as "DeletionStatus",
        "Where the deletion of a published target stands; `unsupported`: its platform cannot delete through its API.",
        DeletionStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect()
    );
    enum_schema!(
        /// `TextCounting`.
        TextCountingSchema as "TextCounting",
        "How a platform counts the length of a text.",
        [TextCounting::Chars, TextCounting::Graphemes, TextCounting::XWeighted]
            .into_iter()
            .map(wire)
            .collect()
    );
    enum_schema!(
        /// `MediaKind`.
        MediaKindSchema as "MediaKind",
        "A kind of media a platform accepts.",
        [MediaKind::Image, MediaKind::Video].into_iter().map(wire).collect()
    );
    enum_schema!(
        /// `AccountSource`.
        AccountSourceSchema as "AccountSource",
        "How an account was connected: `oauth`, `app_password`, or `env` (the deployment's own account, configured by it: read-only).",
        vec!["oauth".to_owned(), "app_password".to_owned(), "env".to_owned()]
    );
}

/// A connected account, sanitized: never a token, secret or ciphertext.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(value_type = String, format = Uuid)]
    pub id: AccountId,
    #[schema(value_type = PlatformSchema)]
    pub platform: Platform,
    /// The account's id on its platform.
    pub platform_account_id: String,
    #[schema(value_type = AccountKindSchema)]
    pub account_kind: AccountKind,
    pub display_name: Option<String>,
    pub handle: Option<String>,
    pub avatar_url: Option<String>,
    pub profile_url: Option<String>,
    #[schema(value_type = AccountStatusSchema)]
    pub status: AccountStatus,
    /// 0 (failing) to 100 (healthy), from recent refreshes and publishes.
    #[schema(minimum = 0, maximum = 100, example = 100)]
    pub health_score: i16,
    pub followers_count: Option<i64>,
    pub following_count: Option<i64>,
    pub posts_count: Option<i64>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub connected_at: DateTime<Utc>,
    /// Paused (`POST /v1/accounts/{id}/pause`): its due posts wait until it is resumed; its
    /// tokens are still kept fresh and new posts are still accepted.
    pub paused: bool,
    /// Since when it is paused.
    pub paused_at: Option<DateTime<Utc>>,
    /// How the account was connected: `oauth`, `app_password`, or `env`: the deployment's own
    /// Facebook Page, shown to users without a Facebook account of their own; read-only
    /// (disconnecting, syncing or refreshing it is a 409 `env_account_read_only`).
    #[schema(value_type = AccountSourceSchema)]
    pub source: &'static str,
}

impl AccountView {
    /// The view of `a`; `adapters` says how its platform connects (`source`).
    pub fn new(a: &Account, adapters: &Registry) -> Self {
        Self::listed(AccountListing::from(a), adapters)
    }

    /// The view of a listed account (the columns lists select).
    pub fn listed(a: AccountListing, adapters: &Registry) -> Self {
        let source = if a.is_env() {
            "env"
        } else {
            match adapters.descriptor(a.platform).auth_kind {
                AuthKind::AppPassword => "app_password",
                AuthKind::Oauth2 | AuthKind::Oauth2PerInstance => "oauth",
            }
        };
        Self {
            id: a.id,
            platform: a.platform,
            platform_account_id: a.platform_account_id,
            account_kind: a.account_kind,
            display_name: a.display_name,
            handle: a.handle,
            avatar_url: a.avatar_url,
            profile_url: a.profile_url,
            status: a.status,
            health_score: a.health_score,
            followers_count: a.followers_count,
            following_count: a.following_count,
            posts_count: a.posts_count,
            token_expires_at: a.token_expires_at,
            last_synced_at: a.last_synced_at,
            last_error: a.last_error,
            connected_at: a.created_at,
            paused: a.paused_at.is_some(),
            paused_at: a.paused_at,
            source,
        }
    }
}

/// A list page: `{"items": [...], "next_cursor": null|string}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// This page's items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A platform and whether this deployment can connect it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformView {
    #[schema(value_type = PlatformSchema)]
    pub platform: Platform,
    /// Whether this deployment has credentials for it (only these can be connected).
    pub configured: bool,
    #[schema(value_type = AuthKindSchema)]
    pub auth_kind: AuthKind,
    pub capabilities: CapabilitiesView,
}

/// What a post to the platform may contain.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapabilitiesView {
    pub text_limit: usize,
    #[schema(value_type = TextCountingSchema)]
    pub text_counting: TextCounting,
    #[schema(value_type = Vec<MediaKindSchema>)]
    pub media_kinds: Vec<MediaKind>,
    pub max_media: usize,
    pub requires_media: bool,
    pub scheduling: bool,
    /// What the platform offers once a post is out.
    pub follow_ups: FollowUpsView,
}

/// What can be done with a published post on the platform (`Capabilities::follow_ups`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpsView {
    /// `DELETE /v1/posts/{id}` removes it from the platform (otherwise: `unsupported`).
    pub delete: bool,
    /// A post may have `parts`, each replying to the previous one.
    pub threads: bool,
    /// A post may have a `first_comment`.
    pub first_comment: bool,
    /// Its engagement is read (`GET /v1/posts/{id}/metrics`).
    pub metrics: bool,
}

impl PlatformView {
    /// The view of `descriptor`.
    pub fn new(descriptor: &Descriptor, configured: bool) -> Self {
        let c = &descriptor.capabilities;
        Self {
            platform: descriptor.platform,
            configured,
            auth_kind: descriptor.auth_kind,
            capabilities: CapabilitiesView {
                text_limit: c.text_limit,
                text_counting: c.text_counting,
                media_kinds: c.media_kinds.clone(),
                max_media: c.max_media,
                requires_media: c.requires_media,
                // Postbridge schedules itself; every platform can be scheduled.
                scheduling: true,
                follow_ups: FollowUpsView {
                    delete: c.follow_ups.delete,
                    threads: c.follow_ups.threads,
                    first_comment: c.follow_ups.first_comment,
                    metrics: c.follow_ups.metrics_batch > 0,
                },
            },
        }
    }
}

/// `{"authorize_url": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeView {
    /// Send the browser here; it comes back to the frontend with `?platform=…&ticket=…`.
    #[schema(
        example = "http://127.0.0.1:8090/oauth/authorize?response_type=code&client_id=postbridge-local&state=…"
    )]
    pub authorize_url: String,
}

/// The answer of `POST /v1/connections/complete`: what was connected.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletedView {
    /// The platform, e.g. `sandbox`.
    #[schema(value_type = PlatformSchema)]
    pub platform: String,
    /// The connected accounts (several for a Facebook login that manages several pages).
    pub accounts: Vec<AccountView>,
}

/// `{"status": "..."}` for accepted asynchronous requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedView {
    /// What was asked for: `sync_requested` or `refresh_requested`.
    #[schema(example = "sync_requested")]
    pub status: &'static str,
}

#[cfg(test)]
mod follow_ups_tests {
    use super::*;

    #[test]
    fn the_platform_view_says_what_a_published_post_allows_as_the_descriptor_does() {
        let descriptor = platform_adapters::platforms::instagram::descriptor();
        let view = PlatformView::new(&descriptor, true).capabilities.follow_ups;
        let want = descriptor.capabilities.follow_ups;
        assert_eq!(
            (view.delete, view.threads, view.first_comment),
            (want.delete, want.threads, want.first_comment)
        );
        assert!(!view.delete, "Instagram's API cannot delete a post");
        assert_eq!(view.metrics, want.metrics_batch > 0);
        let json = serde_json::to_value(PlatformView::new(&descriptor, true)).unwrap();
        assert!(json["capabilities"]["follow_ups"]["first_comment"].is_boolean());
    }
}
