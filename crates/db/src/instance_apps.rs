//! The app Postbridge registered on each instance of a platform whose spec says
//! `Reach::InstanceApp` (today Mastodon): one registration per instance origin.
//!
//! The table keeps its first name, `mastodon_apps`: renaming it would break the replicas still
//! running the previous release during a rolling deploy, and the name is also part of the
//! authenticated data of every stored client secret (`service_kit::tokens::instance_app_secret_aad`).
//! A second instance-app platform would add a `platform` column to the key.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::InstanceAppId;

use crate::schema::mastodon_apps;

/// One registration per instance, reused by every user of that instance.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mastodon_apps, check_for_backend(diesel::pg::Pg))]
pub struct InstanceApp {
    pub id: InstanceAppId,
    pub instance: String,
    pub client_id: String,
    pub client_secret_enc: Vec<u8>,
    pub key_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    /// The instance's own status limits, when they could be read at registration.
    pub max_characters: Option<i32>,
    pub max_media_attachments: Option<i32>,
    pub characters_reserved_per_url: Option<i32>,
}

impl InstanceApp {
    /// The registration for `instance` (normalized origin), if any.
    pub fn find_by_instance(
        conn: &mut PgConnection,
        instance: &str,
    ) -> QueryResult<Option<InstanceApp>> {
        mastodon_apps::table
            .filter(mastodon_apps::instance.eq(instance))
            .select(InstanceApp::as_select())
            .first(conn)
            .optional()
    }

    /// Records an instance's status limits (read from `GET /api/v2/instance`).
    pub fn set_limits(
        conn: &mut PgConnection,
        instance: &str,
        max_characters: i32,
        max_media_attachments: i32,
        characters_reserved_per_url: i32,
    ) -> QueryResult<usize> {
        diesel::update(mastodon_apps::table.filter(mastodon_apps::instance.eq(instance)))
            .set((
                mastodon_apps::max_characters.eq(max_characters),
                mastodon_apps::max_media_attachments.eq(max_media_attachments),
                mastodon_apps::characters_reserved_per_url.eq(characters_reserved_per_url),
            ))
            .execute(conn)
    }

    /// Stores a registration; when another request registered the same instance first, keeps
    /// theirs and returns it (both apps are valid; one is enough).
    pub fn insert_or_get(conn: &mut PgConnection, app: &InstanceApp) -> QueryResult<InstanceApp> {
        diesel::insert_into(mastodon_apps::table)
            .values(app)
            .on_conflict(mastodon_apps::instance)
            .do_nothing()
            .execute(conn)?;
        mastodon_apps::table
            .filter(mastodon_apps::instance.eq(&app.instance))
            .select(InstanceApp::as_select())
            .first(conn)
    }
}
