//! `templates`: a user's named texts with `{placeholders}` (a base text and per-platform
//! texts), from which drafts are made. The placeholder syntax is checked by the gateway before
//! a template is written; the database keeps the texts as given.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{OwnerId, TemplateId};

use crate::schema::templates;

/// The unique constraint that keeps one user's template names apart; a write that breaks it
/// is a name already taken.
pub const NAME_CONSTRAINT: &str = "templates_owner_name";

/// A row of `templates`. `variants` is `{"<platform>": {"text": "..."}}`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = templates, check_for_backend(diesel::pg::Pg))]
pub struct Template {
    pub id: TemplateId,
    pub owner_id: OwnerId,
    pub name: String,
    pub text: String,
    pub variants: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new template.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = templates)]
pub struct TemplateInsertForm {
    pub id: TemplateId,
    pub owner_id: OwnerId,
    pub name: String,
    pub text: String,
    pub variants: serde_json::Value,
}

/// A partial change: `None` leaves the column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = templates)]
pub struct TemplateUpdateForm {
    pub name: Option<String>,
    pub text: Option<String>,
    pub variants: Option<serde_json::Value>,
}

/// Whether `err` is the unique violation of [`NAME_CONSTRAINT`].
pub fn is_name_taken(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        ) if info.constraint_name() == Some(NAME_CONSTRAINT)
    )
}

impl Template {
    /// Inserts a new template; a name `owner` already uses is [`is_name_taken`].
    pub fn insert(conn: &mut PgConnection, form: &TemplateInsertForm) -> QueryResult<Template> {
        diesel::insert_into(templates::table)
            .values(form)
            .returning(Template::as_returning())
            .get_result(conn)
    }

    /// One template of `owner`; another owner's is simply not found.
    pub fn find_for_owner(
        conn: &mut PgConnection,
        id: TemplateId,
        owner: &OwnerId,
    ) -> QueryResult<Option<Template>> {
        templates::table
            .find(id)
            .filter(templates::owner_id.eq(owner))
            .select(Template::as_select())
            .first(conn)
            .optional()
    }

    /// `owner`'s templates, most recently edited first, after the cursor `before` (the
    /// `(updated_at, id)` of the last template of the previous page); keyset paging on
    /// `templates_owner_updated_idx`, like the drafts list.
    pub fn list_for_owner(
        conn: &mut PgConnection,
        owner: &OwnerId,
        before: Option<(DateTime<Utc>, TemplateId)>,
        limit: i64,
    ) -> QueryResult<Vec<Template>> {
        let mut query = templates::table
            .filter(templates::owner_id.eq(owner))
            .into_boxed();
        if let Some((updated_at, id)) = before {
            query = query.filter(
                templates::updated_at
                    .lt(updated_at)
                    .or(templates::updated_at
                        .eq(updated_at)
                        .and(templates::id.lt(id))),
            );
        }
        query
            .order((templates::updated_at.desc(), templates::id.desc()))
            .limit(limit)
            .select(Template::as_select())
            .load(conn)
    }

    /// Applies `form` to one template of `owner` and bumps `updated_at`; `None` when there is
    /// no such template of theirs.
    pub fn update_for_owner(
        conn: &mut PgConnection,
        id: TemplateId,
        owner: &OwnerId,
        form: &TemplateUpdateForm,
    ) -> QueryResult<Option<Template>> {
        diesel::update(
            templates::table
                .find(id)
                .filter(templates::owner_id.eq(owner)),
        )
        .set((form, templates::updated_at.eq(diesel::dsl::now)))
        .returning(Template::as_returning())
        .get_result(conn)
        .optional()
    }

    /// Deletes one template of `owner`; answers whether there was one. Drafts made from it
    /// keep their texts.
    pub fn delete_for_owner(
        conn: &mut PgConnection,
        id: TemplateId,
        owner: &OwnerId,
    ) -> QueryResult<bool> {
        diesel::delete(
            templates::table
                .find(id)
                .filter(templates::owner_id.eq(owner)),
        )
        .execute(conn)
        .map(|n| n > 0)
    }
}
