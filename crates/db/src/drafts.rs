//! `drafts`: text, per-platform variants, media and selected accounts, saved until posted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{AccountId, DraftId, MediaId, OwnerId, TemplateId};

use crate::schema::drafts;

/// A row of `drafts`. `variants` is `{"<platform>": {"text"?, "media_ids"?, …}}`, checked by
/// the gateway before it is written.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = drafts, check_for_backend(diesel::pg::Pg))]
pub struct Draft {
    pub id: DraftId,
    pub owner_id: OwnerId,
    pub text: String,
    pub variants: serde_json::Value,
    pub media_ids: Vec<Option<MediaId>>,
    pub account_ids: Vec<Option<AccountId>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The template it was made from, while that template exists.
    pub template_id: Option<TemplateId>,
}

/// A new draft.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = drafts)]
pub struct DraftInsertForm {
    pub id: DraftId,
    pub owner_id: OwnerId,
    pub text: String,
    pub variants: serde_json::Value,
    pub media_ids: Vec<Option<MediaId>>,
    pub account_ids: Vec<Option<AccountId>>,
    pub template_id: Option<TemplateId>,
}

/// A partial change: `None` leaves the column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = drafts)]
pub struct DraftUpdateForm {
    pub text: Option<String>,
    pub variants: Option<serde_json::Value>,
    pub media_ids: Option<Vec<Option<MediaId>>>,
    pub account_ids: Option<Vec<Option<AccountId>>>,
}

impl Draft {
    /// Inserts a new draft.
    pub fn insert(conn: &mut PgConnection, form: &DraftInsertForm) -> QueryResult<Draft> {
        diesel::insert_into(drafts::table)
            .values(form)
            .returning(Draft::as_returning())
            .get_result(conn)
    }

    /// One draft of `owner`; another owner's is simply not found.
    pub fn find_for_owner(
        conn: &mut PgConnection,
        id: DraftId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Draft>> {
        drafts::table
            .find(id)
            .filter(drafts::owner_id.eq(owner))
            .select(Draft::as_select())
            .first(conn)
            .optional()
    }

    /// `owner`'s drafts, most recently edited first, after the cursor `before` (the
    /// `(updated_at, id)` of the last draft of the previous page). Keyset paging on the
    /// `(owner_id, updated_at)` index: no OFFSET scans, stable under concurrent inserts.
    pub fn list_for_owner(
        conn: &mut PgConnection,
        owner: &OwnerId,
        before: Option<(DateTime<Utc>, DraftId)>,
        limit: i64,
    ) -> QueryResult<Vec<Draft>> {
        let mut query = drafts::table
            .filter(drafts::owner_id.eq(owner))
            .into_boxed();
        if let Some((updated_at, id)) = before {
            query = query.filter(
                drafts::updated_at
                    .lt(updated_at)
                    .or(drafts::updated_at.eq(updated_at).and(drafts::id.lt(id))),
            );
        }
        query
            .order((drafts::updated_at.desc(), drafts::id.desc()))
            .limit(limit)
            .select(Draft::as_select())
            .load(conn)
    }

    /// Applies `form` to one draft of `owner` and bumps `updated_at`; `None` when there is
    /// no such draft of theirs.
    pub fn update_for_owner(
        conn: &mut PgConnection,
        id: DraftId,
        owner: &OwnerId,
        form: &DraftUpdateForm,
    ) -> QueryResult<Option<Draft>> {
        diesel::update(drafts::table.find(id).filter(drafts::owner_id.eq(owner)))
            .set((form, drafts::updated_at.eq(diesel::dsl::now)))
            .returning(Draft::as_returning())
            .get_result(conn)
            .optional()
    }

    /// Deletes one draft of `owner`; answers whether there was one. Posts made from it keep
    /// their content (`posts.draft_id` turns NULL).
    pub fn delete_for_owner(
        conn: &mut PgConnection,
        id: DraftId,
        owner: &OwnerId,
    ) -> QueryResult<bool> {
        diesel::delete(drafts::table.find(id).filter(drafts::owner_id.eq(owner)))
            .execute(conn)
            .map(|n| n > 0)
    }
}
