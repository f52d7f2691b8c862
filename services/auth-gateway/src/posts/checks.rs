//! Resolving a post into one target per account and checking each against its platform,
//! before anything is written. A refusal names every failing target and its problems.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AccountId, AccountStatus, MediaId, Platform},
    instance_apps::InstanceApp,
    posts::MediaFacts,
    PgConnection,
};
use platform_adapters::{
    validate::{self, AccountLimits},
    MediaKind, PostOptions, Registry,
};
use serde::Serialize;
use serde_json::json;

use crate::{error::ApiError, posts::request::Variant};

/// How far in the past a `scheduled_at` may be and still mean "now" (clock skew, slow
/// networks); anything older is refused rather than published late by surprise.
pub const PAST_GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// The content of a post before it is split into targets.
#[derive(Debug, Clone)]
pub struct Content {
    pub text: String,
    pub media_ids: Vec<MediaId>,
    pub variants: BTreeMap<Platform, Variant>,
}

/// One account's share, resolved and checked.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub account_id: AccountId,
    pub platform: Platform,
    pub text: String,
    pub media_ids: Vec<MediaId>,
    pub options: PostOptions,
    /// The account's instance's own limits, where it has any (the thread's parts are
    /// checked against them too).
    pub limits: Option<AccountLimits>,
}

/// A problem, for the 422's details.
#[derive(Debug, Clone, Serialize)]
struct ProblemView {
    code: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
struct TargetProblems {
    account_id: AccountId,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<Platform>,
    problems: Vec<ProblemView>,
}

/// Checks the time: `None` means now; a time further in the past than [`PAST_GRACE`] is
/// refused. Answers the due time.
pub fn due_at(
    scheduled_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    match scheduled_at {
        None => Ok(now),
        Some(at) if at < now - PAST_GRACE => Err(ApiError::Unprocessable {
            code: "scheduled_in_past",
            message: format!(
                "`scheduled_at` {} is in the past; omit it to publish now",
                at.to_rfc3339()
            ),
            details: json!({ "scheduled_at": at }),
        }),
        Some(at) => {
            crate::dates::schedule(at, now)?;
            Ok(at.max(now))
        }
    }
}

/// Splits `content` into one target per account and checks each against its platform.
/// Reads only; every problem of every target is reported at once.
pub fn resolve(
    conn: &mut PgConnection,
    adapters: &Registry,
    owner: &db::domain::OwnerId,
    account_ids: &[AccountId],
    content: &Content,
) -> Result<Vec<ResolvedTarget>, ApiError> {
    if account_ids.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "no_accounts",
            message: "`account_ids` must name at least one connected account".into(),
            details: json!({}),
        });
    }
    let mut unique = account_ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    // The caller's accounts and the env account when they see it (`db::env_accounts`).
    let accounts: HashMap<AccountId, Account> =
        Account::find_many_visible_to(conn, &unique, owner)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
    let mut all_media: Vec<MediaId> = content.media_ids.clone();
    for variant in content.variants.values() {
        all_media.extend(variant.media_ids.iter().flatten().copied());
    }
    all_media.sort_unstable();
    all_media.dedup();
    let media: HashMap<MediaId, MediaFacts> = db::posts::media_facts(conn, owner, &all_media)?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();

    let mut targets = Vec::new();
    let mut failures = Vec::new();
    // Keep the caller's order; a repeated id is one target.
    let mut seen = Vec::new();
    for &account_id in account_ids {
        if seen.contains(&account_id) {
            continue;
        }
        seen.push(account_id);
        let Some(account) = accounts.get(&account_id) else {
            failures.push(TargetProblems {
                account_id,
                platform: None,
                problems: vec![ProblemView {
                    code: "unknown_account",
                    message: format!("no connected account {account_id}"),
                }],
            });
            continue;
        };
        let platform = account.platform;
        let variant = content.variants.get(&platform).cloned().unwrap_or_default();
        let text = variant.text.clone().unwrap_or_else(|| content.text.clone());
        let media_ids = variant
            .media_ids
            .clone()
            .unwrap_or_else(|| content.media_ids.clone());
        let options = variant.options();
        let mut problems = account_problems(account);
        let mut facts = Vec::new();
        for id in &media_ids {
            match media.get(id) {
                Some(m) => facts.push(validate::MediaFacts {
                    kind: if m.mime_type.starts_with("video/") {
                        MediaKind::Video
                    } else {
                        MediaKind::Image
                    },
                    mime_type: m.mime_type.clone(),
                    size_bytes: u64::try_from(m.size_bytes).unwrap_or_default(),
                    duration_ms: m.duration_ms.and_then(|d| u32::try_from(d).ok()),
                }),
                None => problems.push(ProblemView {
                    code: "unknown_media",
                    message: format!("no uploaded media {id}"),
                }),
            }
        }
        let limits = if adapters.instance_apps(platform).is_some() {
            instance_limits(conn, account)?
        } else {
            None
        };
        problems.extend(
            validate::check(
                &adapters.descriptor(platform),
                &text,
                &facts,
                &options,
                limits,
            )
            .into_iter()
            .map(|p| ProblemView {
                code: p.code,
                message: p.message,
            }),
        );
        if problems.is_empty() {
            targets.push(ResolvedTarget {
                account_id,
                platform,
                text,
                media_ids,
                options,
                limits,
            });
        } else {
            failures.push(TargetProblems {
                account_id,
                platform: Some(platform),
                problems,
            });
        }
    }
    if failures.is_empty() {
        return Ok(targets);
    }
    let summary = failures
        .iter()
        .map(|f| {
            let what = f
                .platform
                .map_or_else(|| "unknown".to_owned(), |p| p.to_string());
            format!(
                "{what} {}: {}",
                f.account_id,
                f.problems
                    .iter()
                    .map(|p| p.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .collect::<Vec<_>>()
        .join(" | ");
    Err(ApiError::Unprocessable {
        code: "invalid_post",
        message: format!(
            "the post cannot go to {} of its {} accounts: {summary}",
            failures.len(),
            seen.len()
        ),
        details: json!({ "targets": failures }),
    })
}

/// Accounts that cannot publish: disconnected (as unknown), disconnecting, or waiting for
/// the user to reconnect.
fn account_problems(account: &Account) -> Vec<ProblemView> {
    let problem = match account.status {
        AccountStatus::Disconnected => Some(ProblemView {
            code: "unknown_account",
            message: format!("no connected account {}", account.id),
        }),
        AccountStatus::Disconnecting => Some(ProblemView {
            code: "account_disconnecting",
            message: "the account is being disconnected".into(),
        }),
        AccountStatus::NeedsReauth => Some(ProblemView {
            code: "account_needs_reconnect",
            message: format!(
                "reconnect this {} account first: the platform no longer accepts its token",
                account.platform
            ),
        }),
        _ => None,
    };
    problem.into_iter().collect()
}

/// The account's instance's own limits, where they were read when our app was registered there.
fn instance_limits(
    conn: &mut PgConnection,
    account: &Account,
) -> Result<Option<AccountLimits>, ApiError> {
    let Some(instance) = account.instance_url.as_deref() else {
        return Ok(None);
    };
    let size = |n: Option<i32>| n.and_then(|n| usize::try_from(n).ok());
    Ok(
        InstanceApp::find_by_instance(conn, instance)?.map(|app| AccountLimits {
            max_characters: size(app.max_characters),
            characters_per_url: size(app.characters_reserved_per_url),
            max_media: size(app.max_media_attachments),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_time_means_now_and_a_past_one_is_refused() {
        let now = Utc::now();
        assert_eq!(due_at(None, now).unwrap(), now);
        assert_eq!(
            due_at(Some(now - chrono::Duration::seconds(5)), now).unwrap(),
            now
        );
        let later = now + chrono::Duration::minutes(5);
        assert_eq!(due_at(Some(later), now).unwrap(), later);
        let err = due_at(Some(now - chrono::Duration::hours(1)), now).unwrap_err();
        assert!(matches!(
            err,
            ApiError::Unprocessable {
                code: "scheduled_in_past",
                ..
            }
        ));
    }
}
