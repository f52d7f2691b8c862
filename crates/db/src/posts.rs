//! `posts`, `post_targets` and `post_attempts`: what the gateway accepts and the publisher
//! works through.
//!
//! A post's status is never written by hand: [`Post::refresh_status`] derives it from its
//! targets, in the same transaction as whatever changed them.

use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types};
use domain::{
    AccountId, AttemptKind, AttemptOutcome, DraftId, MediaId, OwnerId, Platform, PostAttemptId,
    PostId, PostStatus, PostTargetId, TargetStatus,
};
use uuid::Uuid;

use crate::schema::{post_attempts, post_targets, posts};

/// A row of `posts`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = posts, check_for_backend(diesel::pg::Pg))]
pub struct Post {
    pub id: PostId,
    pub owner_id: OwnerId,
    pub draft_id: Option<DraftId>,
    pub text: String,
    pub media_ids: Vec<Option<MediaId>>,
    pub variants: serde_json::Value,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<Vec<u8>>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub status: PostStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new post.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = posts)]
pub struct NewPost {
    pub id: PostId,
    pub owner_id: OwnerId,
    pub draft_id: Option<DraftId>,
    pub text: String,
    pub media_ids: Vec<Option<MediaId>>,
    pub variants: serde_json::Value,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<Vec<u8>>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub status: PostStatus,
}

/// A row of `post_targets`: one account's share of a post.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable, QueryableByName)]
#[diesel(table_name = post_targets, check_for_backend(diesel::pg::Pg))]
pub struct PostTarget {
    pub id: PostTargetId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub platform: Platform,
    pub text: String,
    pub media_ids: Vec<Option<MediaId>>,
    pub status: TargetStatus,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub platform_post_id: Option<String>,
    pub url: Option<String>,
    pub error_code: Option<String>,
    pub last_error: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub options: serde_json::Value,
    /// The fence of the publisher holding the target (see [`PostTarget::claim_due`]).
    pub claim_id: Option<Uuid>,
    /// Parts and first comment that follow the post (see [`crate::post_parts`]); 0 for a
    /// single post.
    pub follow_ups: i32,
}

/// A new target; `next_attempt_at` starts at `due_at`.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = post_targets)]
pub struct NewTarget {
    pub id: PostTargetId,
    pub post_id: PostId,
    pub account_id: AccountId,
    pub platform: Platform,
    pub text: String,
    pub media_ids: Vec<Option<MediaId>>,
    pub status: TargetStatus,
    pub due_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub options: serde_json::Value,
}

/// A row of `post_attempts`: one call to a platform.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Identifiable)]
#[diesel(table_name = post_attempts, check_for_backend(diesel::pg::Pg))]
pub struct PostAttempt {
    pub id: PostAttemptId,
    pub target_id: PostTargetId,
    pub attempt_no: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub http_status: Option<i32>,
    pub outcome: AttemptOutcome,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub response: Option<serde_json::Value>,
    pub account_id: Option<AccountId>,
    /// What the call was for: publishing, or deleting the published post.
    pub kind: AttemptKind,
}

/// How an attempt ended.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = post_attempts, treat_none_as_null = true)]
pub struct AttemptResult {
    pub finished_at: Option<DateTime<Utc>>,
    pub http_status: Option<i32>,
    pub outcome: AttemptOutcome,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub response: Option<serde_json::Value>,
}

/// Where a target stands after an attempt. The lease and the claim are always released.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = post_targets, treat_none_as_null = true)]
pub struct TargetResult {
    pub status: TargetStatus,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub claim_id: Option<Uuid>,
    pub platform_post_id: Option<String>,
    pub url: Option<String>,
    pub error_code: Option<String>,
    pub last_error: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// When the publisher first reads the target's engagement (set as it is published).
    pub metrics_due_at: Option<DateTime<Utc>>,
}

/// `GET /v1/posts` filters.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    pub status: Option<PostStatus>,
    pub account_id: Option<AccountId>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Keyset cursor: posts strictly older than this `(created_at, id)`.
    pub before: Option<(DateTime<Utc>, PostId)>,
}

/// A target the dispatcher claimed, with the status it had: `scheduled` (publish it),
/// `unknown` (reconcile it) or `publishing` (recovered from a publisher whose lease ran out:
/// its last attempt may have reached the platform).
#[derive(Debug, Clone)]
pub struct ClaimedTarget {
    pub target: PostTarget,
    pub previous: TargetStatus,
    /// The claim's fence: every write of this publish is made only while the target still
    /// carries it.
    pub claim: Uuid,
}

impl Post {
    /// Inserts a post with its targets. With an idempotency key already used by this owner,
    /// inserts nothing and answers `None` (the caller reads the existing post).
    pub fn insert_with_targets(
        conn: &mut PgConnection,
        post: &NewPost,
        targets: &[NewTarget],
    ) -> QueryResult<Option<Post>> {
        let inserted = diesel::insert_into(posts::table)
            .values(post)
            .on_conflict_do_nothing()
            .returning(Post::as_returning())
            .get_result(conn)
            .optional()?;
        if inserted.is_some() {
            diesel::insert_into(post_targets::table)
                .values(targets)
                .execute(conn)?;
        }
        Ok(inserted)
    }

    /// The owner's post with this idempotency key.
    pub fn find_by_idempotency_key(
        conn: &mut PgConnection,
        owner: &OwnerId,
        key: &str,
    ) -> QueryResult<Option<Post>> {
        posts::table
            .filter(posts::owner_id.eq(owner))
            .filter(posts::idempotency_key.eq(key))
            .select(Post::as_select())
            .first(conn)
            .optional()
    }

    /// The owner's post; another owner's is as missing as an unknown id.
    pub fn get_for_owner(
        conn: &mut PgConnection,
        owner: &OwnerId,
        id: PostId,
    ) -> QueryResult<Option<Post>> {
        posts::table
            .filter(posts::id.eq(id))
            .filter(posts::owner_id.eq(owner))
            .select(Post::as_select())
            .first(conn)
            .optional()
    }

    /// The owner's post, row-locked for the rest of the transaction (edits and cancels).
    pub fn lock_for_owner(
        conn: &mut PgConnection,
        owner: &OwnerId,
        id: PostId,
    ) -> QueryResult<Option<Post>> {
        posts::table
            .filter(posts::id.eq(id))
            .filter(posts::owner_id.eq(owner))
            .for_update()
            .select(Post::as_select())
            .first(conn)
            .optional()
    }

    /// The owner's posts, newest first, at most `limit`: an index scan of
    /// `posts_owner_created_idx` from the cursor on, so every page costs the same however long
    /// the owner's history (`bench posts_list`).
    pub fn list_for_owner(
        conn: &mut PgConnection,
        owner: &OwnerId,
        filter: &PostFilter,
        limit: i64,
    ) -> QueryResult<Vec<Post>> {
        let mut query = posts::table
            .filter(posts::owner_id.eq(owner))
            .select(Post::as_select())
            .order((posts::created_at.desc(), posts::id.desc()))
            .limit(limit)
            .into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(posts::status.eq(status));
        }
        if let Some(account) = filter.account_id {
            query = query.filter(
                posts::id.eq_any(
                    post_targets::table
                        .filter(post_targets::account_id.eq(account))
                        .select(post_targets::post_id),
                ),
            );
        }
        if let Some(from) = filter.from {
            query = query.filter(posts::created_at.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(posts::created_at.lt(to));
        }
        if let Some((at, id)) = filter.before {
            // `created_at <= at` is implied by the keyset condition after it, and is there for
            // the planner: a range on the owner index, so a deep page starts its scan at the
            // cursor instead of filtering every newer post of the owner (the `OR` alone is
            // only a filter).
            query = query.filter(posts::created_at.le(at)).filter(
                posts::created_at
                    .lt(at)
                    .or(posts::created_at.eq(at).and(posts::id.lt(id))),
            );
        }
        query.load(conn)
    }

    /// Updates the text and schedule of a post (the targets are updated separately).
    pub fn update_content(
        conn: &mut PgConnection,
        id: PostId,
        text: &str,
        variants: &serde_json::Value,
        scheduled_at: Option<DateTime<Utc>>,
    ) -> QueryResult<Post> {
        diesel::update(posts::table.find(id))
            .set((
                posts::text.eq(text),
                posts::variants.eq(variants),
                posts::scheduled_at.eq(scheduled_at),
                posts::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Post::as_returning())
            .get_result(conn)
    }

    /// Row-locks these posts (in id order, so concurrent lockers cannot deadlock). Every
    /// transaction that changes targets and then a post's status takes this lock *first*:
    /// the one lock order (post, then targets) that the gateway's edits also follow, and the
    /// reason two targets finishing at once still leave the right status.
    pub fn lock_many(conn: &mut PgConnection, ids: &[PostId]) -> QueryResult<usize> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        posts::table
            .filter(posts::id.eq_any(&ids))
            .order(posts::id)
            .for_update()
            .select(posts::id)
            .load::<PostId>(conn)
            .map(|rows| rows.len())
    }

    /// Derives the status of each post from its targets and stores it where it changed:
    /// any being deleted → deleting; some deleted and some still live → partially_deleted;
    /// deleted where published (the rest canceled or failed) → deleted;
    /// all canceled → canceled; all waiting → scheduled; any still waiting, in flight or being
    /// reconciled →
    /// publishing; all done → published, partially_failed or failed.
    /// Locks the posts first (see [`Post::lock_many`]), so the targets are read after any
    /// concurrent change to them committed.
    pub fn refresh_status(conn: &mut PgConnection, ids: &[PostId]) -> QueryResult<usize> {
        Post::lock_many(conn, ids)?;
        diesel::sql_query(
            "UPDATE posts p SET status = d.status, updated_at = now() FROM ( \
                SELECT post_id, CASE \
                    WHEN bool_or(status = 'deleting') THEN 'deleting' \
                    WHEN bool_or(status = 'deleted') AND bool_or(status = 'published') \
                        THEN 'partially_deleted' \
                    WHEN bool_or(status = 'deleted') \
                        AND bool_and(status IN ('deleted', 'canceled', 'failed')) THEN 'deleted' \
                    WHEN bool_and(status = 'canceled') THEN 'canceled' \
                    WHEN bool_and(status IN ('scheduled', 'canceled')) THEN 'scheduled' \
                    WHEN bool_or(status IN ('scheduled', 'publishing', 'unknown')) THEN 'publishing' \
                    WHEN bool_and(status IN ('published', 'canceled')) THEN 'published' \
                    WHEN bool_or(status = 'published') THEN 'partially_failed' \
                    ELSE 'failed' END AS status \
                FROM post_targets WHERE post_id = ANY($1) GROUP BY post_id) d \
             WHERE p.id = d.post_id AND p.status <> d.status",
        )
        .bind::<sql_types::Array<sql_types::Uuid>, _>(ids)
        .execute(conn)
    }
}

impl PostTarget {
    /// The targets of these posts, in creation order.
    pub fn of_posts(conn: &mut PgConnection, ids: &[PostId]) -> QueryResult<Vec<PostTarget>> {
        post_targets::table
            .filter(post_targets::post_id.eq_any(ids))
            .order((post_targets::created_at, post_targets::id))
            .select(PostTarget::as_select())
            .load(conn)
    }

    /// One target.
    pub fn get(conn: &mut PgConnection, id: PostTargetId) -> QueryResult<Option<PostTarget>> {
        post_targets::table
            .find(id)
            .select(PostTarget::as_select())
            .first(conn)
            .optional()
    }

    /// Cancels the post's targets that are still waiting; answers the canceled ids. Targets a
    /// publisher already claimed are left alone: they are going out.
    pub fn cancel_scheduled(
        conn: &mut PgConnection,
        post: PostId,
    ) -> QueryResult<Vec<PostTargetId>> {
        diesel::update(
            post_targets::table
                .filter(post_targets::post_id.eq(post))
                .filter(post_targets::status.eq(TargetStatus::Scheduled)),
        )
        .set((
            post_targets::status.eq(TargetStatus::Canceled),
            post_targets::updated_at.eq(diesel::dsl::now),
        ))
        .returning(post_targets::id)
        .get_results(conn)
    }

    /// Reschedules one waiting target and replaces its content. `false` when the target is no
    /// longer waiting (a publisher claimed it in the meantime).
    pub fn reschedule(
        conn: &mut PgConnection,
        id: PostTargetId,
        text: &str,
        due_at: DateTime<Utc>,
        options: &serde_json::Value,
    ) -> QueryResult<bool> {
        diesel::update(
            post_targets::table
                .filter(post_targets::id.eq(id))
                .filter(post_targets::status.eq(TargetStatus::Scheduled)),
        )
        .set((
            post_targets::text.eq(text),
            post_targets::due_at.eq(due_at),
            post_targets::next_attempt_at.eq(due_at),
            post_targets::options.eq(options),
            post_targets::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Puts the post's failed targets back in the queue, due now; answers them.
    pub fn retry_failed(
        conn: &mut PgConnection,
        post: PostId,
        now: DateTime<Utc>,
    ) -> QueryResult<Vec<PostTarget>> {
        diesel::update(
            post_targets::table
                .filter(post_targets::post_id.eq(post))
                .filter(post_targets::status.eq(TargetStatus::Failed)),
        )
        .set((
            post_targets::status.eq(TargetStatus::Scheduled),
            post_targets::next_attempt_at.eq(now),
            post_targets::lease_until.eq(None::<DateTime<Utc>>),
            post_targets::error_code.eq(None::<String>),
            post_targets::last_error.eq(None::<String>),
            post_targets::updated_at.eq(diesel::dsl::now),
        ))
        .returning(PostTarget::as_returning())
        .get_results(conn)
    }

    /// Claims up to `limit` targets that are due (scheduled, or unknown and due for
    /// reconciliation; not of a paused account: those stay `scheduled` until it is resumed,
    /// skipped by an anti-join on the partial index `social_accounts_paused_idx`, so the scan
    /// of the dispatch index costs no more than before while no account is paused)
    /// and up to `limit` whose publisher's lease ran out, leasing
    /// them until `lease_until` under the fence `claim`. Rows another replica is claiming are
    /// skipped (`SKIP LOCKED`), so replicas split the work. Locks targets only: the caller
    /// refreshes the posts' status in a transaction of its own (posts are always locked
    /// before targets).
    ///
    /// The fence, not the lease, proves ownership: the owner renews the lease while it
    /// publishes ([`PostTarget::renew_leases`]), and a target taken over after its lease ran
    /// out gets a new fence, so the old owner's late writes change nothing.
    pub fn claim_due(
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        claim: Uuid,
        limit: i64,
    ) -> QueryResult<Vec<ClaimedTarget>> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(embed)]
            target: PostTarget,
            #[diesel(sql_type = sql_types::Text)]
            previous: TargetStatus,
        }
        // One statement: the claimed rows come back with the UPDATE (an earlier version read
        // them again by id, a second round trip per pass).
        let mut claimed: Vec<Row> = diesel::sql_query(
            "WITH waiting AS ( \
                SELECT id, status AS previous FROM post_targets \
                WHERE status IN ('scheduled', 'unknown') AND next_attempt_at <= $1 \
                AND NOT EXISTS (SELECT 1 FROM social_accounts a \
                    WHERE a.id = post_targets.account_id AND a.paused_at IS NOT NULL) \
                ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED), \
             abandoned AS ( \
                SELECT id, status AS previous FROM post_targets \
                WHERE status = 'publishing' AND lease_until < $1 \
                ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED), \
             due AS (SELECT * FROM waiting UNION ALL SELECT * FROM abandoned) \
             UPDATE post_targets t SET status = 'publishing', lease_until = $2, claim_id = $4, \
                updated_at = now() \
             FROM due WHERE t.id = due.id \
             RETURNING t.*, due.previous",
        )
        .bind::<sql_types::Timestamptz, _>(now)
        .bind::<sql_types::Timestamptz, _>(lease_until)
        .bind::<sql_types::BigInt, _>(limit)
        .bind::<sql_types::Uuid, _>(claim)
        .load(conn)?;
        claimed.sort_by_key(|row| row.target.next_attempt_at);
        Ok(claimed
            .into_iter()
            .map(|row| ClaimedTarget {
                target: row.target,
                previous: row.previous,
                claim,
            })
            .collect())
    }

    /// When the earliest waiting target is due, for the dispatcher's sleep. Targets of a
    /// paused account are not counted (they wait for `account.resumed`, which wakes it).
    ///
    /// Asked on every dispatcher pass that does not fill its claim, so it is the first row of
    /// the dispatch index (`ORDER BY … LIMIT 1`), not `min()`: PostgreSQL answers `min()` over
    /// the pause anti-join by reading every waiting target (0.5 s with a million scheduled).
    /// The statuses are literals, as in the claim, so the partial index always applies.
    pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
        #[derive(QueryableByName)]
        struct Next {
            #[diesel(sql_type = sql_types::Timestamptz)]
            at: DateTime<Utc>,
        }
        // The first row of the dispatch index (its predicate written out, so the planner
        // uses the partial index), not `min()` over every waiting target: one row read
        // however many are scheduled.
        diesel::sql_query(
            "SELECT next_attempt_at AS at FROM post_targets \
             WHERE status IN ('scheduled', 'unknown') \
             AND NOT EXISTS (SELECT 1 FROM social_accounts a \
                WHERE a.id = post_targets.account_id AND a.paused_at IS NOT NULL) \
             ORDER BY next_attempt_at LIMIT 1",
        )
        .get_result::<Next>(conn)
        .optional()
        .map(|next| next.map(|n| n.at))
    }

    /// Records the outcome of an attempt on a target this publisher still holds (under the
    /// fence `claim`). `None` when the claim was lost: another replica took the target over.
    pub fn record_result(
        conn: &mut PgConnection,
        id: PostTargetId,
        claim: Uuid,
        result: &TargetResult,
    ) -> QueryResult<Option<PostTarget>> {
        diesel::update(
            post_targets::table
                .filter(post_targets::id.eq(id))
                .filter(post_targets::status.eq(TargetStatus::Publishing))
                .filter(post_targets::claim_id.eq(claim)),
        )
        .set((result, post_targets::updated_at.eq(diesel::dsl::now)))
        .returning(PostTarget::as_returning())
        .get_result(conn)
        .optional()
    }

    /// The heartbeat: extends to `until` the lease of each `(target, claim)` still held under
    /// that claim, in one statement for all of a publisher's publishes in flight. Answers the
    /// `(target, claim)`s renewed; one missing from it was taken over, or skipped because a
    /// write held its row at that moment (`SKIP LOCKED`: a heartbeat never waits behind, or
    /// deadlocks with, the writes of the publishes it keeps alive; the next beat renews it).
    pub fn renew_leases(
        conn: &mut PgConnection,
        held: &[(PostTargetId, Uuid)],
        until: DateTime<Utc>,
    ) -> QueryResult<Vec<(PostTargetId, Uuid)>> {
        if held.is_empty() {
            return Ok(Vec::new());
        }
        #[derive(QueryableByName)]
        struct Renewed {
            #[diesel(sql_type = sql_types::Uuid)]
            id: PostTargetId,
            #[diesel(sql_type = sql_types::Uuid)]
            claim_id: Uuid,
        }
        let (ids, claims): (Vec<PostTargetId>, Vec<Uuid>) = held.iter().copied().unzip();
        let renewed: Vec<Renewed> = diesel::sql_query(
            "WITH mine AS ( \
                SELECT t.id FROM post_targets t \
                JOIN unnest($1::uuid[], $2::uuid[]) AS h(id, claim) \
                  ON t.id = h.id AND t.claim_id = h.claim \
                WHERE t.status = 'publishing' FOR UPDATE OF t SKIP LOCKED) \
             UPDATE post_targets t SET lease_until = $3 FROM mine WHERE t.id = mine.id \
             RETURNING t.id, t.claim_id",
        )
        .bind::<sql_types::Array<sql_types::Uuid>, _>(&ids)
        .bind::<sql_types::Array<sql_types::Uuid>, _>(&claims)
        .bind::<sql_types::Timestamptz, _>(until)
        .load(conn)?;
        Ok(renewed.into_iter().map(|r| (r.id, r.claim_id)).collect())
    }

    /// Makes the account's targets that wait with `error_code` (for its token to be
    /// refreshed; waiting to publish, or to be reconciled) due at `now`; answers how many.
    pub fn wake_waiting(
        conn: &mut PgConnection,
        account: AccountId,
        error_code: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(
            post_targets::table
                .filter(post_targets::account_id.eq(account))
                .filter(
                    post_targets::status.eq_any([TargetStatus::Scheduled, TargetStatus::Unknown]),
                )
                .filter(post_targets::error_code.eq(error_code))
                .filter(post_targets::next_attempt_at.gt(now)),
        )
        .set(post_targets::next_attempt_at.eq(now))
        .execute(conn)
    }

    /// Live targets per status (the `postbridge_post_targets` gauge): scheduled, unknown,
    /// publishing and deleting, each counted from its partial index, so the cost follows the
    /// work waiting, never the history. Finished targets (published, failed, canceled,
    /// deleted) grow without bound; `postbridge_publish_targets_total` counts them as they
    /// finish.
    pub fn count_by_status(conn: &mut PgConnection) -> QueryResult<Vec<(TargetStatus, i64)>> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = sql_types::Text)]
            status: TargetStatus,
            #[diesel(sql_type = sql_types::BigInt)]
            targets: i64,
        }
        let counts = diesel::sql_query(
            "SELECT s.status, coalesce(c.targets, 0) AS targets \
             FROM unnest(ARRAY['scheduled', 'unknown']) AS s(status) \
             LEFT JOIN (SELECT status, count(*) AS targets FROM post_targets \
                WHERE status IN ('scheduled', 'unknown') GROUP BY status) c USING (status) \
             UNION ALL SELECT 'publishing', count(*) FROM post_targets \
                WHERE status = 'publishing' \
             UNION ALL SELECT 'deleting', count(*) FROM post_targets WHERE status = 'deleting'",
        )
        .load::<Count>(conn)?;
        Ok(counts.into_iter().map(|c| (c.status, c.targets)).collect())
    }
}

impl PostAttempt {
    /// Marks an attempt in flight before the platform is called, on a target this publisher
    /// holds under the fence `claim`. Committed before the call: a crash during the call
    /// leaves it behind, which is how a recovered target knows its outcome is unknown. `None`
    /// when the claim was lost. One statement (count the attempt, insert it), so it is atomic
    /// alone and costs one round trip inside a group commit.
    pub fn start(
        conn: &mut PgConnection,
        target: PostTargetId,
        account: AccountId,
        claim: Uuid,
    ) -> QueryResult<Option<PostAttempt>> {
        diesel::sql_query(
            "WITH counted AS ( \
                UPDATE post_targets SET attempts = attempts + 1 \
                WHERE id = $1 AND status = $2 AND claim_id = $3 \
                RETURNING attempts) \
             INSERT INTO post_attempts (id, target_id, account_id, attempt_no, outcome) \
             SELECT $4, $1, $5, attempts, $6 FROM counted \
             RETURNING *",
        )
        .bind::<sql_types::Uuid, _>(target)
        .bind::<sql_types::Text, _>(TargetStatus::Publishing)
        .bind::<sql_types::Uuid, _>(claim)
        .bind::<sql_types::Uuid, _>(PostAttemptId::new())
        .bind::<sql_types::Uuid, _>(account)
        .bind::<sql_types::Text, _>(AttemptOutcome::InFlight)
        .get_result(conn)
        .optional()
    }

    /// Stores how an attempt ended.
    pub fn finish(
        conn: &mut PgConnection,
        id: PostAttemptId,
        result: &AttemptResult,
    ) -> QueryResult<usize> {
        diesel::update(post_attempts::table.find(id))
            .set(result)
            .execute(conn)
    }

    /// The latest attempt of a target.
    pub fn latest(
        conn: &mut PgConnection,
        target: PostTargetId,
    ) -> QueryResult<Option<PostAttempt>> {
        post_attempts::table
            .filter(post_attempts::target_id.eq(target))
            .order(post_attempts::attempt_no.desc())
            .select(PostAttempt::as_select())
            .first(conn)
            .optional()
    }

    /// The attempts of these targets, oldest first.
    pub fn of_targets(
        conn: &mut PgConnection,
        targets: &[PostTargetId],
    ) -> QueryResult<Vec<PostAttempt>> {
        post_attempts::table
            .filter(post_attempts::target_id.eq_any(targets))
            .order((post_attempts::target_id, post_attempts::attempt_no))
            .select(PostAttempt::as_select())
            .load(conn)
    }

    /// Serializes, until the transaction ends, everyone who counts these accounts' attempts
    /// against a publishing limit and then starts one. Without it, two publishes of one
    /// account could both see one slot left and both take it. One advisory lock per account,
    /// keyed by the random tail of its id and taken in key order, so two batches cannot
    /// deadlock (two accounts sharing a key merely wait for each other).
    pub fn lock_for_counting(conn: &mut PgConnection, accounts: &[AccountId]) -> QueryResult<()> {
        /// Namespace of these advisory locks (the first key), so they collide with no other.
        const COUNTING: i32 = 0x5042_4331; // "PBC1"
        let mut keys: Vec<i32> = accounts
            .iter()
            .map(|account| {
                let bytes = account.0.as_bytes();
                i32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]])
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind::<sql_types::Integer, _>(COUNTING)
                .bind::<sql_types::Integer, _>(key)
                .execute(conn)?;
        }
        Ok(())
    }

    /// Start times of the account's attempts since `since` that count against a platform's
    /// publishing limit (published, or possibly published), newest first, at most `limit`.
    pub fn counted_since(
        conn: &mut PgConnection,
        account: AccountId,
        since: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<Vec<DateTime<Utc>>> {
        post_attempts::table
            .filter(post_attempts::account_id.eq(account))
            .filter(post_attempts::started_at.ge(since))
            .filter(post_attempts::kind.eq(AttemptKind::Publish))
            .filter(post_attempts::outcome.eq_any([
                AttemptOutcome::Success,
                AttemptOutcome::InFlight,
                AttemptOutcome::Unknown,
            ]))
            .order(post_attempts::started_at.desc())
            .limit(limit)
            .select(post_attempts::started_at)
            .load(conn)
    }
}

/// What validating a post needs to know of a media item.
#[derive(Debug, Clone, Queryable)]
pub struct MediaFacts {
    pub id: MediaId,
    pub mime_type: String,
    pub size_bytes: i64,
    pub duration_ms: Option<i32>,
}

/// The facts of those of `ids` that `owner` uploaded.
pub fn media_facts(
    conn: &mut PgConnection,
    owner: &OwnerId,
    ids: &[MediaId],
) -> QueryResult<Vec<MediaFacts>> {
    use crate::schema::media;
    media::table
        .filter(media::id.eq_any(ids))
        .filter(media::owner_id.eq(owner))
        .select((
            media::id,
            media::mime_type,
            media::size_bytes,
            media::duration_ms,
        ))
        .load(conn)
}

/// What publishing needs of a media item: how to describe it and where its bytes are.
#[derive(Debug, Clone, Queryable)]
pub struct MediaForPublishing {
    pub id: MediaId,
    pub mime_type: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i32>,
    pub alt_text: Option<String>,
    pub storage_key: String,
}

/// The media of a target, whoever owns them (the gateway checked ownership when the post
/// was accepted).
pub fn media_for_publishing(
    conn: &mut PgConnection,
    ids: &[MediaId],
) -> QueryResult<Vec<MediaForPublishing>> {
    use crate::schema::media;
    media::table
        .filter(media::id.eq_any(ids))
        .select((
            media::id,
            media::mime_type,
            media::width,
            media::height,
            media::duration_ms,
            media::alt_text,
            media::storage_key,
        ))
        .load(conn)
}
