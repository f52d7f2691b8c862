//! `media`: uploaded images and videos. The bytes live in the blob store under `storage_key`;
//! this row is the only way to find them, so it is written after the blob and deleted before.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{MediaId, OwnerId, TargetStatus};

use crate::schema::{media, post_targets};

/// A row of `media`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = media, check_for_backend(diesel::pg::Pg))]
pub struct Media {
    pub id: MediaId,
    pub owner_id: OwnerId,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i32>,
    pub storage_key: String,
    pub created_at: DateTime<Utc>,
    pub alt_text: Option<String>,
}

/// A stored upload, described.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = media)]
pub struct MediaInsertForm {
    pub id: MediaId,
    pub owner_id: OwnerId,
    pub mime_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration_ms: Option<i32>,
    pub storage_key: String,
    pub alt_text: Option<String>,
}

/// Target statuses that will still read their media: deleting it would fail them.
const PENDING: [TargetStatus; 3] = [
    TargetStatus::Scheduled,
    TargetStatus::Publishing,
    TargetStatus::Unknown,
];

impl Media {
    /// Inserts a new upload.
    pub fn insert(conn: &mut PgConnection, form: &MediaInsertForm) -> QueryResult<Media> {
        diesel::insert_into(media::table)
            .values(form)
            .returning(Media::as_returning())
            .get_result(conn)
    }

    /// One upload by id, whoever owns it: for signed content URLs, where the signature is
    /// the authorization.
    pub fn find(conn: &mut PgConnection, id: MediaId) -> QueryResult<Option<Media>> {
        media::table
            .find(id)
            .select(Media::as_select())
            .first(conn)
            .optional()
    }

    /// One upload of `owner`; another owner's is simply not found.
    pub fn find_for_owner(
        conn: &mut PgConnection,
        id: MediaId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Media>> {
        media::table
            .find(id)
            .filter(media::owner_id.eq(owner))
            .select(Media::as_select())
            .first(conn)
            .optional()
    }

    /// Those of `ids` that belong to `owner`, in no particular order.
    pub fn find_many_for_owner(
        conn: &mut PgConnection,
        ids: &[MediaId],
        owner: &OwnerId,
    ) -> QueryResult<Vec<Media>> {
        media::table
            .filter(media::id.eq_any(ids))
            .filter(media::owner_id.eq(owner))
            .select(Media::as_select())
            .load(conn)
    }

    /// Whether a post target that has not finished will still read `id`.
    pub fn is_pending_in_a_post(conn: &mut PgConnection, id: MediaId) -> QueryResult<bool> {
        diesel::select(diesel::dsl::exists(
            post_targets::table
                .filter(post_targets::media_ids.contains(vec![Some(id)]))
                .filter(post_targets::status.eq_any(PENDING)),
        ))
        .get_result(conn)
    }

    /// Deletes one upload of `owner` and answers it (its `storage_key` says which blob to
    /// remove next); `None` when there is no such upload of theirs.
    pub fn delete_for_owner(
        conn: &mut PgConnection,
        id: MediaId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Media>> {
        diesel::delete(media::table.find(id).filter(media::owner_id.eq(owner)))
            .returning(Media::as_returning())
            .get_result(conn)
            .optional()
    }
}
