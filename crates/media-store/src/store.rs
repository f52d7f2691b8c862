//! Where media bytes live: a small trait and its local-directory implementation.

use std::{
    fmt::{self, Display},
    future::Future,
    io,
    ops::RangeInclusive,
    path::{Path, PathBuf},
    pin::Pin,
    time::Duration,
};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

/// A boxed future, so [`BlobStore`] can be used as `Arc<dyn BlobStore>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A reader of (part of) a blob, for serving it without holding it in memory.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// A blob store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key is not a plain relative path (empty, absolute, `..`, odd characters).
    #[error("invalid storage key `{0}`")]
    InvalidKey(String),
    /// Nothing is stored under the key.
    #[error("no blob under `{0}`")]
    NotFound(String),
    /// The storage backend failed.
    #[error("{operation} `{key}`: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// With which key.
        key: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The object store answered with an error (unreachable, refused, throttled…).
    #[error("{operation} `{key}` in the object store: {source}")]
    Backend {
        /// What was being done.
        operation: &'static str,
        /// With which key.
        key: String,
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Bytes by key. Keys are relative, `/`-separated paths of `[A-Za-z0-9._-]` segments, e.g.
/// `media/<owner-hash>/<uuid>` (see [`key_for`]).
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores `bytes` under `key`, replacing what was there. Either the whole blob is stored
    /// or nothing is: readers never see a partial write.
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StoreError>>;
    /// A new, empty file to receive an upload into, so a large upload never sits in memory;
    /// [`BlobStore::put_staged`] then stores it without copying.
    fn stage(&self) -> BoxFuture<'_, Result<Staged, StoreError>>;
    /// Stores the staged file under `key`, replacing what was there; whole or nothing.
    fn put_staged<'a>(
        &'a self,
        key: &'a str,
        staged: Staged,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The blob under `key`.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Bytes, StoreError>>;
    /// The size in bytes of the blob under `key`.
    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<u64, StoreError>>;
    /// A reader of bytes `range` (inclusive offsets, within the blob) of the blob under `key`.
    fn read_range<'a>(
        &'a self,
        key: &'a str,
        range: RangeInclusive<u64>,
    ) -> BoxFuture<'a, Result<BlobReader, StoreError>>;
    /// Removes the blob under `key`; a missing blob is not an error (deleting twice is fine).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// A URL that fetches the blob under `key` without other credentials for `ttl`, when the
    /// store can issue one (an object store's presigned GET); `None` means the gateway's own
    /// signed URL must be used (see [`crate::fetch_url`]).
    fn presigned_get<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let _ = (key, ttl);
        Box::pin(async { Ok(None) })
    }
}

/// A file being received (see [`BlobStore::stage`]). Removed when dropped unless it was
/// stored, so an upload that fails halfway leaves nothing behind.
#[derive(Debug)]
pub struct Staged {
    path: PathBuf,
    stored: bool,
}

impl Staged {
    /// A new empty file in `dir` (created if missing), named so it never collides with a key.
    pub(crate) async fn create_in(dir: &Path) -> Result<Self, StoreError> {
        let io = |operation| {
            move |source| StoreError::Io {
                operation,
                key: dir.display().to_string(),
                source,
            }
        };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(io("creating"))?;
        let path = dir.join(format!(".{}.part", uuid::Uuid::new_v4()));
        tokio::fs::File::create(&path)
            .await
            .map_err(io("creating a file in"))?;
        Ok(Self {
            path,
            stored: false,
        })
    }

    /// Where to write it.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.stored {
            // Gone already is fine; anything else leaves a stray file, never a wrong one.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A failed read: `NotFound` for a missing file, `Io` otherwise.
fn read_error(key: &str, source: io::Error) -> StoreError {
    if source.kind() == io::ErrorKind::NotFound {
        StoreError::NotFound(key.to_owned())
    } else {
        StoreError::Io {
            operation: "reading",
            key: key.to_owned(),
            source,
        }
    }
}

/// The storage key of media `id` uploaded by `owner`: `media/<owner-hash>/<id>`. The owner id
/// is hashed because it comes from the identity provider and may hold any character; the hash
/// also keeps user ids out of file names and spreads users over directories.
pub fn key_for(owner: &str, id: impl Display) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, owner.as_bytes());
    let owner_hash = hex::encode(&digest.as_ref()[..16]);
    format!("media/{owner_hash}/{id}")
}

/// Checks `key` and answers its segments.
pub(crate) fn segments(key: &str) -> Result<Vec<&str>, StoreError> {
    let invalid = || StoreError::InvalidKey(key.to_owned());
    if key.is_empty() || key.len() > 512 {
        return Err(invalid());
    }
    let parts: Vec<&str> = key.split('/').collect();
    for part in &parts {
        let plain = part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        // A leading dot also rules out `.`, `..` and our own temporary files.
        if part.is_empty() || !plain || part.starts_with('.') {
            return Err(invalid());
        }
    }
    Ok(parts)
}

/// Blobs as files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalDirStore {
    root: PathBuf,
}

impl LocalDirStore {
    /// A store under `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file of `key`, after checking the key.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        Ok(segments(key)?
            .into_iter()
            .fold(self.root.clone(), |path, part| path.join(part)))
    }

    /// Under the root, so that storing is a rename on one filesystem; the dot keeps it apart
    /// from every valid key.
    async fn stage_file(&self) -> Result<Staged, StoreError> {
        Staged::create_in(&self.root.join(".staging")).await
    }

    async fn put_staged_file(&self, key: &str, mut staged: Staged) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let io = |operation| {
            move |source| StoreError::Io {
                operation,
                key: key.to_owned(),
                source,
            }
        };
        let dir = path.parent().unwrap_or(&self.root);
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(io("creating the directory of"))?;
        // Durable before it becomes visible, as in `put`.
        let file = tokio::fs::File::open(staged.path())
            .await
            .map_err(io("opening the staged file of"))?;
        file.sync_all().await.map_err(io("syncing"))?;
        drop(file);
        tokio::fs::rename(staged.path(), &path)
            .await
            .map_err(io("moving the staged file to"))?;
        staged.stored = true;
        if let Ok(dir) = tokio::fs::File::open(dir).await {
            let _ = dir.sync_all().await;
        }
        Ok(())
    }

    /// Through a staged file, as an upload would be stored.
    async fn put_file(&self, key: &str, bytes: Bytes) -> Result<(), StoreError> {
        // A bad key is refused before anything is written.
        self.path_of(key)?;
        let staged = self.stage_file().await?;
        tokio::fs::write(staged.path(), &bytes)
            .await
            .map_err(|source| StoreError::Io {
                operation: "writing",
                key: key.to_owned(),
                source,
            })?;
        self.put_staged_file(key, staged).await
    }

    async fn get_file(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = self.path_of(key)?;
        tokio::fs::read(&path)
            .await
            .map(Bytes::from)
            .map_err(|e| read_error(key, e))
    }

    async fn file_size(&self, key: &str) -> Result<u64, StoreError> {
        let path = self.path_of(key)?;
        tokio::fs::metadata(&path)
            .await
            .map(|meta| meta.len())
            .map_err(|e| read_error(key, e))
    }

    async fn file_range(
        &self,
        key: &str,
        range: RangeInclusive<u64>,
    ) -> Result<BlobReader, StoreError> {
        let path = self.path_of(key)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| read_error(key, e))?;
        file.seek(io::SeekFrom::Start(*range.start()))
            .await
            .map_err(|e| read_error(key, e))?;
        let len = range.end().saturating_sub(*range.start()).saturating_add(1);
        Ok(Box::pin(file.take(len)))
    }

    async fn delete_file(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io {
                operation: "deleting",
                key: key.to_owned(),
                source,
            }),
        }
    }
}

impl BlobStore for LocalDirStore {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.put_file(key, bytes))
    }

    fn stage(&self) -> BoxFuture<'_, Result<Staged, StoreError>> {
        Box::pin(self.stage_file())
    }

    fn put_staged<'a>(
        &'a self,
        key: &'a str,
        staged: Staged,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.put_staged_file(key, staged))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Bytes, StoreError>> {
        Box::pin(self.get_file(key))
    }

    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.file_size(key))
    }

    fn read_range<'a>(
        &'a self,
        key: &'a str,
        range: RangeInclusive<u64>,
    ) -> BoxFuture<'a, Result<BlobReader, StoreError>> {
        Box::pin(self.file_range(key, range))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.delete_file(key))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn files_under(root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    }

    #[tokio::test]
    async fn put_get_delete_round_trip_through_the_trait_object() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn BlobStore> = Arc::new(LocalDirStore::new(dir.path()));
        let key = key_for("user_2abc|weird id", "0b0f6a52-8d0e-4c3a-9d0b-1f4f0f6b2a11");
        store.put(&key, Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"hello"));
        store.put(&key, Bytes::from_static(b"again")).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Bytes::from_static(b"again"));
        store.delete(&key).await.unwrap();
        assert!(matches!(
            store.get(&key).await,
            Err(StoreError::NotFound(k)) if k == key
        ));
        // Deleting again is fine.
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn a_write_leaves_exactly_one_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path());
        let key = key_for("alice", "one");
        store
            .put(&key, Bytes::from(vec![1u8; 100_000]))
            .await
            .unwrap();
        let files = files_under(dir.path());
        assert_eq!(files, vec![store.path_of(&key).unwrap()]);
        assert_eq!(std::fs::read(&files[0]).unwrap().len(), 100_000);
    }

    #[tokio::test]
    async fn a_staged_file_is_stored_by_moving_it_and_an_abandoned_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn BlobStore> = Arc::new(LocalDirStore::new(dir.path()));
        let key = key_for("alice", "staged");
        let staged = store.stage().await.unwrap();
        std::fs::write(staged.path(), b"received in pieces").unwrap();
        store.put_staged(&key, staged).await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap(),
            Bytes::from_static(b"received in pieces")
        );

        let abandoned = store.stage().await.unwrap();
        std::fs::write(abandoned.path(), b"half an upload").unwrap();
        drop(abandoned);
        assert_eq!(
            files_under(dir.path()),
            vec![LocalDirStore::new(dir.path()).path_of(&key).unwrap()],
            "only the stored file remains"
        );
    }

    #[tokio::test]
    async fn a_range_of_a_blob_is_read_without_reading_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn BlobStore> = Arc::new(LocalDirStore::new(dir.path()));
        let key = key_for("alice", "ranged");
        let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        store.put(&key, Bytes::from(bytes.clone())).await.unwrap();
        assert_eq!(store.size(&key).await.unwrap(), 10_000);
        let mut part = Vec::new();
        store
            .read_range(&key, 300..=1299)
            .await
            .unwrap()
            .read_to_end(&mut part)
            .await
            .unwrap();
        assert_eq!(part, bytes[300..=1299]);
        let missing = key_for("alice", "missing");
        assert!(matches!(
            store.size(&missing).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.read_range(&missing, 0..=1).await,
            Err(StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_failed_write_leaves_nothing_under_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDirStore::new(dir.path());
        // The target path is an existing directory: the rename fails after the data was written.
        std::fs::create_dir_all(dir.path().join("media/x/blocked/inner")).unwrap();
        let err = store
            .put("media/x/blocked", Bytes::from_static(b"data"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Io { .. }), "{err}");
        assert!(
            files_under(dir.path()).is_empty(),
            "no temporary file is left"
        );
    }

    #[test]
    fn keys_are_plain_relative_paths() {
        let store = LocalDirStore::new("/srv/media");
        assert_eq!(
            store.path_of("media/ab12/c-d_e.f").unwrap(),
            PathBuf::from("/srv/media/media/ab12/c-d_e.f")
        );
        for bad in [
            "",
            "/etc/passwd",
            "../secret",
            "media/../../etc",
            "media/./x",
            "media//x",
            "media/x/",
            "media\\x",
            "media/x y",
            "media/.hidden",
            "media/ü",
        ] {
            assert!(
                matches!(store.path_of(bad), Err(StoreError::InvalidKey(_))),
                "{bad:?} must be refused"
            );
        }
        assert!(store.path_of(&"a".repeat(513)).is_err());
    }

    #[test]
    fn keys_hash_the_owner_and_keep_the_id() {
        let key = key_for("alice", "42");
        assert!(key.starts_with("media/") && key.ends_with("/42"), "{key}");
        assert_eq!(key.len(), "media/".len() + 32 + "/42".len());
        assert_ne!(key, key_for("bob", "42"));
        assert!(segments(&key).is_ok());
    }
}
