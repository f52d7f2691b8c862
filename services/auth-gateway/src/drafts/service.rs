//! Saving, reading and changing drafts. Every id a draft names must be the caller's: media
//! among their uploads, accounts among their connected accounts. A refusal changes nothing.

use db::{
    accounts::Account,
    domain::{AccountId, AccountStatus, DraftId, MediaId, OwnerId, TemplateId},
    drafts::{Draft, DraftInsertForm, DraftUpdateForm},
    media::Media,
    Connection, PgConnection,
};
use serde_json::json;

use super::request::{self, Checked, CreateDraft, UpdateDraft};
use crate::{cursor::PageRequest, error::ApiError, state::AppState};

/// Saves a new draft.
pub async fn create(
    state: &AppState,
    owner: OwnerId,
    body: CreateDraft,
) -> Result<Draft, ApiError> {
    create_from(state, owner, body, None).await
}

/// Saves a new draft made from `template` (its texts already filled in `body`), which the
/// draft remembers while the template exists.
pub async fn create_from(
    state: &AppState,
    owner: OwnerId,
    body: CreateDraft,
    template: Option<TemplateId>,
) -> Result<Draft, ApiError> {
    let checked = request::check(UpdateDraft::from(body))?;
    state
        .db
        .run(move |conn| {
            check_ownership(conn, &owner, &checked)?;
            let form = DraftInsertForm {
                id: DraftId::new(),
                owner_id: owner,
                text: checked.text.unwrap_or_default(),
                variants: checked.variants.unwrap_or_else(|| json!({})),
                media_ids: checked
                    .media_ids
                    .unwrap_or_default()
                    .into_iter()
                    .map(Some)
                    .collect(),
                account_ids: checked
                    .account_ids
                    .unwrap_or_default()
                    .into_iter()
                    .map(Some)
                    .collect(),
                template_id: template,
            };
            Ok(Draft::insert(conn, &form)?)
        })
        .await
}

/// A page of the owner's drafts, most recently edited first, and the cursor of the next.
pub async fn list(
    state: &AppState,
    owner: OwnerId,
    page: PageRequest<DraftId>,
) -> Result<(Vec<Draft>, Option<String>), ApiError> {
    let drafts = state
        .db
        .query(move |conn| Draft::list_for_owner(conn, &owner, page.position, page.fetch()))
        .await?;
    Ok(page.page(drafts, |d| (d.updated_at, d.id)))
}

/// One of the owner's drafts.
pub async fn get(state: &AppState, owner: OwnerId, id: DraftId) -> Result<Draft, ApiError> {
    state
        .db
        .query(move |conn| Draft::find_for_owner(conn, id, &owner))
        .await?
        .ok_or(ApiError::NotFound("draft"))
}

/// Changes the given fields of one of the owner's drafts.
pub async fn update(
    state: &AppState,
    owner: OwnerId,
    id: DraftId,
    body: UpdateDraft,
) -> Result<Draft, ApiError> {
    let checked = request::check(body)?;
    state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                // Someone else's draft is a 404 before the ids in the body are judged.
                Draft::find_for_owner(conn, id, &owner)?.ok_or(ApiError::NotFound("draft"))?;
                check_ownership(conn, &owner, &checked)?;
                let form = DraftUpdateForm {
                    text: checked.text,
                    variants: checked.variants,
                    media_ids: checked
                        .media_ids
                        .map(|ids| ids.into_iter().map(Some).collect()),
                    account_ids: checked
                        .account_ids
                        .map(|ids| ids.into_iter().map(Some).collect()),
                };
                Draft::update_for_owner(conn, id, &owner, &form)?.ok_or(ApiError::NotFound("draft"))
            })
        })
        .await
}

/// Deletes one of the owner's drafts.
pub async fn delete(state: &AppState, owner: OwnerId, id: DraftId) -> Result<(), ApiError> {
    let deleted = state
        .db
        .query(move |conn| Draft::delete_for_owner(conn, id, &owner))
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(ApiError::NotFound("draft"))
    }
}

/// Every media and account id in `checked` must be the owner's; the 422 names each that is
/// not (someone else's and a missing one look the same, on purpose).
fn check_ownership(
    conn: &mut PgConnection,
    owner: &OwnerId,
    checked: &Checked,
) -> Result<(), ApiError> {
    let unknown_media: Vec<MediaId> = if checked.all_media.is_empty() {
        Vec::new()
    } else {
        let found = Media::find_many_for_owner(conn, &checked.all_media, owner)?;
        checked
            .all_media
            .iter()
            .copied()
            .filter(|id| !found.iter().any(|m| m.id == *id))
            .collect()
    };
    let accounts = checked.account_ids.as_deref().unwrap_or_default();
    let unknown_accounts: Vec<AccountId> = if accounts.is_empty() {
        Vec::new()
    } else {
        // The env account too, while the caller sees it (`db::env_accounts`).
        let found = Account::find_many_visible_to(conn, accounts, owner)?;
        accounts
            .iter()
            .copied()
            .filter(|id| {
                !found
                    .iter()
                    .any(|a| a.id == *id && a.status != AccountStatus::Disconnected)
            })
            .collect()
    };
    if unknown_media.is_empty() && unknown_accounts.is_empty() {
        return Ok(());
    }
    let list = |ids: Vec<String>| ids.join(", ");
    let mut problems = Vec::new();
    if !unknown_media.is_empty() {
        problems.push(format!(
            "not among your uploads: {}",
            list(unknown_media.iter().map(ToString::to_string).collect())
        ));
    }
    if !unknown_accounts.is_empty() {
        problems.push(format!(
            "not among your connected accounts: {}",
            list(unknown_accounts.iter().map(ToString::to_string).collect())
        ));
    }
    Err(ApiError::Unprocessable {
        code: if unknown_media.is_empty() {
            "unknown_account"
        } else {
            "unknown_media"
        },
        message: problems.join("; "),
        details: json!({ "media_ids": unknown_media, "account_ids": unknown_accounts }),
    })
}
