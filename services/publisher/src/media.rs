//! Loading a target's media for the adapters: the bytes from the blob store (for platforms
//! that take uploads) and a signed, expiring URL (for those that fetch by URL).

use std::sync::Arc;

use db::{domain::MediaId, posts::media_for_publishing, Db};
use media_store::{BlobStore, UrlSigner};
use platform_adapters::{MediaItem, MediaKind};

/// Reads media rows and blobs.
#[derive(Clone)]
pub struct MediaLoader {
    db: Db,
    store: Arc<dyn BlobStore>,
    signer: UrlSigner,
}

impl std::fmt::Debug for MediaLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaLoader").finish_non_exhaustive()
    }
}

/// A target's media could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The row is gone (the upload was deleted after the post was accepted).
    #[error("media {0} no longer exists")]
    Missing(MediaId),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// The blob store failed.
    #[error("reading media {id}: {message}")]
    Store {
        /// Which media.
        id: MediaId,
        /// What went wrong.
        message: String,
    },
}

impl MediaLoader {
    /// A loader over `db` and `store`, signing URLs with `signer`.
    pub fn new(db: Db, store: Arc<dyn BlobStore>, signer: UrlSigner) -> Self {
        Self { db, store, signer }
    }

    /// The media items of `ids`, in that order.
    pub async fn load(&self, ids: &[Option<MediaId>]) -> Result<Vec<MediaItem>, MediaError> {
        let ids: Vec<MediaId> = ids.iter().flatten().copied().collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let lookup = ids.clone();
        let rows = self
            .db
            .query(move |conn| media_for_publishing(conn, &lookup))
            .await?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let row = rows
                .iter()
                .find(|r| r.id == id)
                .ok_or(MediaError::Missing(id))?;
            let bytes = self
                .store
                .get(&row.storage_key)
                .await
                .map_err(|e| MediaError::Store {
                    id,
                    message: e.to_string(),
                })?;
            items.push(MediaItem {
                id,
                kind: if row.mime_type.starts_with("video/") {
                    MediaKind::Video
                } else {
                    MediaKind::Image
                },
                mime_type: row.mime_type.clone(),
                width: row.width.and_then(|v| u32::try_from(v).ok()),
                height: row.height.and_then(|v| u32::try_from(v).ok()),
                duration_ms: row.duration_ms.and_then(|v| u32::try_from(v).ok()),
                alt_text: row.alt_text.clone(),
                // A presigned URL of the bucket with media.store = "s3", else a gateway URL.
                url: media_store::fetch_url(
                    self.store.as_ref(),
                    &self.signer,
                    id,
                    &row.storage_key,
                )
                .await
                .map_err(|e| MediaError::Store {
                    id,
                    message: e.to_string(),
                })?,
                bytes,
            });
        }
        Ok(items)
    }
}
