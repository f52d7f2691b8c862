//! A target with follow-ups (`post_targets.follow_ups > 0`): the post (position 0), then each
//! part of its thread replying to the previous one, then its first comment. A single post
//! never comes here, so it costs no query more than before.
//!
//! Each position is published once, by the rules of the post itself:
//! - its attempt is committed in flight before the call (`post_attempts.part` says which
//!   position), and its success is recorded in `post_target_parts` in the same transaction as
//!   the attempt's result, under the target's claim;
//! - its idempotency key is its own (`{target_id}` for the post, `{target_id}:{n}` after), so a
//!   platform that deduplicates keeps each part once, and a call in doubt on another platform
//!   is looked up (`find_published`) before it is repeated;
//! - a failure stops the chain where it is: the target waits (retryable) or fails with an
//!   error naming the position, and whoever continues it (the dispatcher, `POST …/retry`)
//!   starts from the first position without a row.
//!
//! The target is `published` (with the first post's id and URL) only once every position
//! exists.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use db::{
    accounts::Account,
    domain::{AttemptOutcome, PartKind, TargetStatus},
    post_parts::{self, Chain, PostPart, TargetPart},
    posts::{AttemptResult, ClaimedTarget, PostAttempt},
};
use platform_adapters::{
    AccountRef, AdapterError, MediaItem, PostRef, PublishRequest, Published, ReplyTo,
};

use super::{attempt_result, dedup_still_holds, Held, PublishError, Publisher, Ready};
use crate::record::{Decision, StartAttempt, Started};

/// Where a position's call went.
enum Step {
    /// It exists now: go on.
    Done(Published),
    /// The chain stops here (its outcome is stored, or the target was lost).
    Stopped,
}

/// A position of the chain, with what it publishes.
struct Position<'c> {
    /// 0: the post itself.
    n: i32,
    /// `None` for the post itself.
    part: Option<&'c PostPart>,
    /// Parts of the thread (the post and its next parts, without the first comment).
    total: i32,
}

impl Position<'_> {
    /// How the user sees it in an error: "part 2 of 3", "the first comment".
    fn label(&self) -> String {
        if self.is_comment() {
            "the first comment".to_owned()
        } else {
            format!("part {} of {}", self.n + 1, self.total)
        }
    }

    fn key(&self, target: &str) -> String {
        if self.n == 0 {
            target.to_owned()
        } else {
            format!("{target}:{}", self.n)
        }
    }

    fn is_comment(&self) -> bool {
        self.part.is_some_and(|p| p.kind == PartKind::FirstComment)
    }
}

impl Publisher {
    /// Publishes what is missing of a target's chain, in order (see the module's doc).
    pub(super) async fn publish_chain(
        &self,
        claimed: ClaimedTarget,
        account: Option<Account>,
    ) -> Result<(), PublishError> {
        let (post, id) = (claimed.target.post_id, claimed.target.id);
        let chain = self
            .db
            .query(move |conn| TargetPart::chain(conn, post, id))
            .await?;
        let held = Held {
            target: claimed.target,
            claim: claimed.claim,
        };
        let mut chain = chain;
        let doubt = self
            .chain_doubt(&claimed.previous, &mut chain, &held)
            .await?;
        // The post's own media are loaded only while the post itself is still to publish.
        let checked = if chain.existing.iter().any(|p| p.position == 0) {
            Held {
                target: db::posts::PostTarget {
                    media_ids: Vec::new(),
                    ..held.target.clone()
                },
                claim: held.claim,
            }
        } else {
            Held {
                target: held.target.clone(),
                claim: held.claim,
            }
        };
        let ready = match self
            .preflight(&checked, account, doubt.map(|(_, since)| since))
            .await
        {
            Ok(ready) => ready,
            Err(early) => return self.store(*early).await,
        };
        let mut existing: BTreeMap<i32, Published> = chain
            .existing
            .iter()
            .map(|p| {
                let published = Published {
                    platform_post_id: p.platform_post_id.clone(),
                    url: p.url.clone(),
                };
                (p.position, published)
            })
            .collect();
        let total = i32::try_from(chain.parts.len()).unwrap_or(i32::MAX) + 1;
        let thread_parts = total
            - i32::from(
                chain
                    .parts
                    .last()
                    .is_some_and(|p| p.kind == PartKind::FirstComment),
            );
        for n in 0..total {
            if existing.contains_key(&n) {
                continue;
            }
            let position = Position {
                n,
                part: usize::try_from(n - 1).ok().and_then(|i| chain.parts.get(i)),
                total: thread_parts,
            };
            let in_doubt = doubt.filter(|(part, _)| *part == n).map(|(_, since)| since);
            match self
                .position(&held, &ready, &existing, &position, in_doubt)
                .await?
            {
                Step::Done(published) => {
                    existing.insert(n, published);
                }
                Step::Stopped => return Ok(()),
            }
        }
        let Some(root) = existing.remove(&0) else {
            return Ok(());
        };
        self.store(held.outcome(Decision::Published(root))).await
    }

    /// The position the target's last call may have published, and since when: the target
    /// is `unknown`, or was taken over with an attempt in flight (closed as `unknown` here).
    /// A position whose call succeeded has its row, written with the attempt, unless the
    /// publisher that made it had lost the target by then: its row is written now, from the
    /// attempt's recorded answer.
    async fn chain_doubt(
        &self,
        previous: &TargetStatus,
        chain: &mut Chain,
        held: &Held,
    ) -> Result<Option<(i32, DateTime<Utc>)>, PublishError> {
        let Some((latest, part)) = chain.latest.clone() else {
            return Ok(None);
        };
        if chain.existing.iter().any(|p| p.position == part) {
            return Ok(None);
        }
        match (previous, latest.outcome) {
            (TargetStatus::Unknown, _) => Ok(Some((part, latest.started_at))),
            (TargetStatus::Publishing, AttemptOutcome::InFlight) => {
                let stopped = AttemptResult {
                    finished_at: Some(Utc::now()),
                    http_status: None,
                    outcome: AttemptOutcome::Unknown,
                    error_code: Some("publisher_stopped".into()),
                    error_message: Some(
                        "the publisher stopped (or lost the target) during this call; its outcome is unknown"
                            .into(),
                    ),
                    response: None,
                };
                let id = latest.id;
                self.db
                    .query(move |conn| PostAttempt::finish(conn, id, &stopped))
                    .await?;
                self.metrics.recovered.inc();
                Ok(Some((part, latest.started_at)))
            }
            (TargetStatus::Publishing, AttemptOutcome::Success) => {
                let Some(published) = super::recorded(&latest) else {
                    return Ok(Some((part, latest.started_at)));
                };
                let row = TargetPart {
                    target_id: held.target.id,
                    position: part,
                    platform_post_id: published.platform_post_id,
                    url: published.url,
                    published_at: latest.finished_at.unwrap_or_else(Utc::now),
                };
                let (kept, claim) = (row.clone(), held.claim);
                self.db
                    .query(move |conn| TargetPart::record(conn, &kept, claim, None))
                    .await?;
                self.metrics.recovered.inc();
                chain.existing.push(row);
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Publishes one position: looked up first if its last call is in doubt on a platform
    /// that cannot simply repeat it, then called.
    async fn position(
        &self,
        held: &Held,
        ready: &Ready<'_>,
        existing: &BTreeMap<i32, Published>,
        position: &Position<'_>,
        in_doubt: Option<DateTime<Utc>>,
    ) -> Result<Step, PublishError> {
        let target = &held.target;
        let key = position.key(&target.id.to_string());
        let media: Vec<MediaItem> = match position.part {
            None => ready.media.clone(),
            Some(part) => match self.media.load(&part.media_ids).await {
                Ok(media) => media,
                Err(err) => {
                    let message =
                        format!("{}: its media could not be read: {err}", position.label());
                    self.store(held.failed("media_unavailable", message))
                        .await?;
                    return Ok(Step::Stopped);
                }
            },
        };
        let root = existing.get(&0);
        let parent = existing.get(&(position.n - 1));
        let reply_to = match (position.n, root, parent) {
            (0, _, _) => None,
            (_, Some(root), Some(parent)) => Some(ReplyTo {
                root: post_ref(root),
                parent: post_ref(parent),
            }),
            _ => {
                let message = format!("{}: the post it follows is missing", position.label());
                self.store(held.failed("thread_broken", message)).await?;
                return Ok(Step::Stopped);
            }
        };
        let request = PublishRequest {
            idempotency_key: &key,
            created_at: target.created_at + chrono::Duration::milliseconds(position.n.into()),
            text: position.part.map_or(&target.text, |p| &p.text),
            media: &media,
            options: &ready.options,
            account_kind: ready.account.account_kind,
            reply_to,
        };
        let account = ready.account_ref();
        let capabilities = &ready.adapter.descriptor().capabilities;
        let comments = position.is_comment() && !capabilities.follow_ups.threads;
        if let Some(since) = in_doubt {
            let repeatable = !comments
                && capabilities.idempotent_publish
                && dedup_still_holds(capabilities.dedup_window, since);
            if !repeatable {
                let decision = if comments {
                    Some(Decision::Failed {
                        code: "outcome_unknown",
                        message: format!(
                            "{} may have been posted (its call went unanswered) and comments cannot be looked up: check the post; retrying may comment twice",
                            position.label()
                        ),
                    })
                } else {
                    self.look_up(ready.adapter.as_ref(), &account, &request, target, since)
                        .await
                };
                match decision {
                    None => {}
                    Some(Decision::Published(published)) => {
                        return self.found(held, position, published).await;
                    }
                    Some(other) => {
                        let outcome = held.outcome(named(other, position));
                        self.store(outcome).await?;
                        return Ok(Step::Stopped);
                    }
                }
            }
        }
        self.call_position(held, ready, &account, &request, position, comments)
            .await
    }

    /// Records a position found on the platform by a lookup, logged as the attempt that
    /// settled it.
    async fn found(
        &self,
        held: &Held,
        position: &Position<'_>,
        published: Published,
    ) -> Result<Step, PublishError> {
        let Some(attempt) = self.start_position(held, position.n, None).await? else {
            return Ok(Step::Stopped);
        };
        let Started::Attempt(attempt) = attempt else {
            return Ok(Step::Stopped);
        };
        let result = AttemptResult {
            finished_at: Some(Utc::now()),
            http_status: None,
            outcome: AttemptOutcome::Success,
            error_code: None,
            error_message: None,
            response: Some(serde_json::json!({
                "reconciled": true,
                "platform_post_id": published.platform_post_id,
                "url": published.url,
            })),
        };
        self.record_position(held, position.n, &published, attempt.id, result)
            .await
    }

    /// Calls the platform for one position (after the account's gate and an app-wide pause
    /// allow it) and records what came of it.
    async fn call_position(
        &self,
        held: &Held,
        ready: &Ready<'_>,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
        position: &Position<'_>,
        comments: bool,
    ) -> Result<Step, PublishError> {
        let target = &held.target;
        let _gate = self.gates.enter(ready.account.id).await;
        if let Some(until) = self.pauses.paused_until(target.platform, Utc::now()) {
            let message = format!(
                "{} has paused this application (all its accounts) until {}; continuing the thread then",
                target.platform,
                until.to_rfc3339()
            );
            let decision = self.defer(target, until, "app_rate_limited", message);
            self.store(held.outcome(decision)).await?;
            return Ok(Step::Stopped);
        }
        let limit = (position.n == 0)
            .then_some(ready.adapter.descriptor().capabilities.publish_limit)
            .flatten();
        let attempt = match self.start_position(held, position.n, limit).await? {
            Some(Started::Attempt(attempt)) => attempt,
            Some(Started::OverLimit { limit, free_at }) => {
                let decision = self.deferred_by_limit(target, limit, free_at);
                self.store(held.outcome(decision)).await?;
                return Ok(Step::Stopped);
            }
            Some(Started::LeaseLost) | None => {
                tracing::info!(
                    "lease lost before publishing a part; another publisher has the target"
                );
                return Ok(Step::Stopped);
            }
        };
        let (result, http_status) = if comments {
            self.timed_comment(ready, account, request, target).await
        } else {
            self.timed_publish(ready, account, request, target).await
        };
        let finished = attempt_result(&result, http_status);
        match result {
            Ok(published) => {
                self.record_position(held, position.n, &published, attempt.id, finished)
                    .await
            }
            Err(err) => {
                let tries = self.tries(held, position.n, &err, attempt.attempt_no).await;
                let mut outcome = self.after_error(held, &ready.account, &err, tries).await;
                outcome.decision = named(outcome.decision, position);
                outcome.attempt = Some((attempt, finished));
                self.store(outcome).await?;
                Ok(Step::Stopped)
            }
        }
    }

    /// The attempt number the retry policy judges a failed call of position `n` by: the tries
    /// of this position alone (a long thread must not run out of retries on its last part
    /// because earlier parts took some), except for a refused token, whose rule compares
    /// the target's own attempt numbers (a refusal after a refresh fails the target).
    async fn tries(&self, held: &Held, n: i32, err: &AdapterError, attempt_no: i32) -> i32 {
        if matches!(err, AdapterError::NeedsReauth { .. }) {
            return attempt_no;
        }
        let id = held.target.id;
        self.db
            .query(move |conn| post_parts::attempts_at(conn, id, n))
            .await
            .ok()
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or(attempt_no)
            .max(1)
    }

    /// Starts an attempt at position `n`: the post's goes through the grouped writer (with
    /// its publishing limit, as a single post's does), a follow-up's is written directly.
    /// `None`: the claim was lost.
    async fn start_position(
        &self,
        held: &Held,
        n: i32,
        limit: Option<platform_adapters::PublishLimit>,
    ) -> Result<Option<Started>, PublishError> {
        let target = &held.target;
        if n == 0 {
            let start = StartAttempt {
                target: target.id,
                account: target.account_id,
                claim: held.claim,
                limit,
            };
            return Ok(Some(self.starts.submit(start).await?));
        }
        let (id, account, claim) = (target.id, target.account_id, held.claim);
        let started = self
            .db
            .query(move |conn| post_parts::start_attempt(conn, id, account, claim, n))
            .await?;
        Ok(started.map(Started::Attempt))
    }

    /// Records that position `n` exists, with the attempt that made it.
    async fn record_position(
        &self,
        held: &Held,
        n: i32,
        published: &Published,
        attempt: db::domain::PostAttemptId,
        result: AttemptResult,
    ) -> Result<Step, PublishError> {
        let row = TargetPart {
            target_id: held.target.id,
            position: n,
            platform_post_id: published.platform_post_id.clone(),
            url: published.url.clone(),
            published_at: Utc::now(),
        };
        let claim = held.claim;
        let kept = self
            .db
            .query(move |conn| TargetPart::record(conn, &row, claim, Some((attempt, &result))))
            .await?;
        if !kept {
            tracing::warn!(
                part = n,
                "lease lost while publishing a thread; the part is recorded on its attempt, the target left to its new holder"
            );
            return Ok(Step::Stopped);
        }
        Ok(Step::Done(published.clone()))
    }

    /// The comment call, bounded by the publish timeout, with the last HTTP status seen.
    async fn timed_comment(
        &self,
        ready: &Ready<'_>,
        account: &AccountRef<'_>,
        request: &PublishRequest<'_>,
        target: &db::posts::PostTarget,
    ) -> (Result<Published, AdapterError>, Option<i32>) {
        let Some(root) = request.reply_to.map(|r| r.root) else {
            let err = AdapterError::Rejected {
                code: "thread_broken".into(),
                message: "a first comment needs its post".into(),
            };
            return (Err(err), None);
        };
        let started = std::time::Instant::now();
        let call = platform_adapters::http::observe(ready.adapter.comment(account, &root, request));
        let (result, http_status) = tokio::time::timeout(self.tuning.timeout, call)
            .await
            .unwrap_or_else(|_| {
                let message = format!("no answer within {:?}", self.tuning.timeout);
                (Err(AdapterError::OutcomeUnknown { message }), None)
            });
        self.metrics
            .observe(target.platform, &result, started.elapsed());
        (result, http_status.map(i32::from))
    }
}

/// A stored post as the adapters refer to it.
fn post_ref(published: &Published) -> PostRef<'_> {
    PostRef {
        platform_post_id: &published.platform_post_id,
        url: published.url.as_deref(),
    }
}

/// The decision with its message naming the position it stopped at.
fn named(decision: Decision, position: &Position<'_>) -> Decision {
    let label = position.label();
    match decision {
        Decision::Failed { code, message } => Decision::Failed {
            code,
            message: format!("{label}: {message}"),
        },
        Decision::Wait {
            status,
            at,
            code,
            message,
        } => Decision::Wait {
            status,
            at,
            code,
            message: format!("{label}: {message}"),
        },
        published @ Decision::Published(_) => published,
    }
}
