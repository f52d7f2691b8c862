//! Storing, reading and deleting uploads. The blob is written before its row and deleted
//! after it, so a row always points at a whole file; a crash in between leaves at worst an
//! unreachable blob, never a row without bytes.

use chrono::Utc;
use db::{
    domain::{MediaId, OwnerId},
    media::{Media, MediaInsertForm},
    Connection,
};

use super::intake::Upload;
use crate::{error::ApiError, state::AppState};

/// Stores `upload` for `owner` and records it.
pub async fn create(state: &AppState, owner: OwnerId, upload: Upload) -> Result<Media, ApiError> {
    let id = MediaId::new();
    let key = media_store::key_for(owner.as_str(), id);
    let probe = upload.probe;
    let form = MediaInsertForm {
        id,
        owner_id: owner,
        mime_type: probe.media_type.mime().to_owned(),
        size_bytes: i64::try_from(upload.size).map_err(ApiError::internal)?,
        sha256: upload.sha256,
        width: probe.width.and_then(|w| i32::try_from(w).ok()),
        height: probe.height.and_then(|h| i32::try_from(h).ok()),
        duration_ms: probe.duration_ms.and_then(|d| i32::try_from(d).ok()),
        storage_key: key.clone(),
        alt_text: upload.alt_text,
    };
    state
        .blobs
        .put_staged(&key, upload.file)
        .await
        .map_err(ApiError::internal)?;
    match state.db.query(move |conn| Media::insert(conn, &form)).await {
        Ok(media) => {
            tracing::info!(media.id = %media.id, media.mime_type = %media.mime_type, media.size_bytes = media.size_bytes, "media stored");
            crate::observe::upload(
                &media.mime_type,
                u64::try_from(media.size_bytes).unwrap_or(0),
            );
            Ok(media)
        }
        Err(err) => {
            // Without its row the blob is unreachable: take it back.
            if let Err(cleanup) = state.blobs.delete(&key).await {
                tracing::warn!(error = %cleanup, media.id = %id, "could not remove the blob of a failed upload");
            }
            Err(err.into())
        }
    }
}

/// One of the owner's uploads.
pub async fn get(state: &AppState, owner: OwnerId, id: MediaId) -> Result<Media, ApiError> {
    state
        .db
        .query(move |conn| Media::find_for_owner(conn, id, &owner))
        .await?
        .ok_or(ApiError::NotFound("media"))
}

/// Deletes one of the owner's uploads, unless a post that has not gone out yet still needs
/// it (that post would fail at publishing time): a 409 says so.
pub async fn delete(state: &AppState, owner: OwnerId, id: MediaId) -> Result<(), ApiError> {
    let deleted = state
        .db
        .run(move |conn| {
            conn.transaction(|conn| {
                let media =
                    Media::find_for_owner(conn, id, &owner)?.ok_or(ApiError::NotFound("media"))?;
                if Media::is_pending_in_a_post(conn, media.id)? {
                    return Err(ApiError::Conflict {
                        code: "media_in_use",
                        message:
                            "a scheduled post still uses this media; cancel or publish it first"
                                .into(),
                    });
                }
                Media::delete_for_owner(conn, id, &owner)?.ok_or(ApiError::NotFound("media"))
            })
        })
        .await?;
    // The row is gone, so nothing can reach the blob any more; a failure here only leaves
    // an orphan file behind.
    if let Err(err) = state.blobs.delete(&deleted.storage_key).await {
        tracing::warn!(error = %err, media.id = %id, "media row deleted but its blob remains");
    }
    Ok(())
}

/// The upload behind a signed content URL, its size, and how many seconds the URL has left.
/// The signature is checked before anything is looked up, so unsigned requests cost nothing.
pub async fn content(
    state: &AppState,
    raw_id: &str,
    expires: Option<&str>,
    sig: Option<&str>,
) -> Result<(Media, u64, i64), ApiError> {
    let expires: i64 = expires
        .and_then(|e| e.parse().ok())
        .ok_or_else(ApiError::forbidden)?;
    let sig = sig.ok_or_else(ApiError::forbidden)?;
    // Ids are signed in their canonical form; any other spelling of the id fails here.
    state
        .signer
        .verify_now(raw_id, expires, sig)
        .map_err(|err| {
            tracing::debug!(reason = %err, "content URL refused");
            ApiError::forbidden()
        })?;
    let id = crate::params::parse_media_id(raw_id)?;
    let media = state
        .db
        .query(move |conn| Media::find(conn, id))
        .await?
        .ok_or(ApiError::NotFound("media"))?;
    let size = match state.blobs.size(&media.storage_key).await {
        Ok(size) => size,
        Err(media_store::StoreError::NotFound(_)) => {
            tracing::warn!(media.id = %id, "media row without its blob");
            return Err(ApiError::NotFound("media"));
        }
        Err(err) => return Err(ApiError::internal(err)),
    };
    let remaining = (expires - Utc::now().timestamp()).max(0);
    Ok((media, size, remaining))
}
