//! The posting side of the platform: uploaded media and posts, with the rules a client must
//! live with (limits, media ownership, idempotency keys).
//!
//! Kept compact on purpose: a benchmark pushes tens of thousands of posts through one sim, so a
//! post keeps its text, its key and the indexes of its media, and an upload keeps its type,
//! size and SHA-256 — never its bytes. Ids are the record's position (`1`, `2`, …), so no
//! second copy of them is stored either. URLs are derived when answering, from the origin the
//! caller used.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ApiError;

/// Longest accepted post text, in Unicode scalar values (the sandbox descriptor's
/// `text_limit`, counted as `TextCounting::Chars`).
pub const MAX_TEXT_CHARS: usize = 5000;
/// Most media one post can carry.
pub const MAX_MEDIA_PER_POST: usize = 4;
/// Largest accepted upload. Only its size and digest are kept, so the limit is about what a
/// real platform would take, not about the sim's memory.
pub const MAX_MEDIA_BYTES: u64 = 64 * 1024 * 1024;
/// The `Content-Type`s `POST /api/v1/media` accepts.
pub(crate) const MEDIA_TYPES: [&str; 7] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "video/webm",
];
/// Longest accepted `Idempotency-Key` (Stripe's limit; Postbridge sends 36-character UUIDs).
const MAX_KEY_LEN: usize = 255;
/// Longest accepted alternative text of an upload.
const MAX_ALT_TEXT_CHARS: usize = 1500;

/// A post as the sim recorded it: `GET /_sim/posts`, [`crate::Sim::posts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimPost {
    /// The platform's id (decimal, from `1`).
    pub id: String,
    /// The author's user name (the token's subject; its `/api/v1/me` id is `sim-<user>`).
    pub user: String,
    /// The text as posted.
    pub text: String,
    /// The `Idempotency-Key` it was created with, if any.
    pub idempotency_key: Option<String>,
    /// Ids of its media, in order.
    pub media_ids: Vec<String>,
    /// When it was created (millisecond precision).
    pub created_at: DateTime<Utc>,
    /// Create calls that resolved to this post: 1, plus one per replay of its idempotency key.
    /// More than 1 means a client repeated a create call it was unsure about — and was saved by
    /// the key.
    pub create_calls: u32,
}

/// An upload as the sim recorded it ([`crate::Sim::media`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimMedia {
    /// The platform's id (decimal, from `1`; a separate sequence from posts).
    pub id: String,
    /// The uploader's user name.
    pub user: String,
    /// The `Content-Type` it was uploaded with.
    pub mime_type: String,
    /// Bytes received.
    pub size: u64,
    /// Hex SHA-256 of the bytes received: proves a client sent the file intact.
    pub sha256: String,
    /// Alternative text, if given.
    pub alt_text: Option<String>,
    /// The post it is attached to, once it is.
    pub post_id: Option<String>,
}

/// A post in the REST API's answers.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PostAnswer {
    id: String,
    text: String,
    media_ids: Vec<String>,
    url: String,
    created_at: DateTime<Utc>,
}

impl PostAnswer {
    /// The answer for `post`, its URL under `base` (the sim's public origin).
    pub fn new(post: SimPost, base: &str) -> Self {
        Self {
            url: format!("{base}/u/{}/posts/{}", post.user, post.id),
            id: post.id,
            text: post.text,
            media_ids: post.media_ids,
            created_at: post.created_at,
        }
    }
}

/// An upload in the REST API's answer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MediaAnswer {
    id: String,
    mime_type: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    alt_text: Option<String>,
}

impl From<SimMedia> for MediaAnswer {
    fn from(media: SimMedia) -> Self {
        Self {
            id: media.id,
            mime_type: media.mime_type,
            size: media.size,
            alt_text: media.alt_text,
        }
    }
}

/// What a create call asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewPost<'a> {
    pub text: &'a str,
    pub media_ids: &'a [String],
    pub idempotency_key: Option<&'a str>,
}

/// What a create call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Created {
    /// A new post (`201`).
    New(SimPost),
    /// The key was used before by this user: its post, unchanged (`200`).
    Replayed(SimPost),
}

/// An upload, as received.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub mime_type: &'static str,
    pub size: u64,
    pub sha256: [u8; 32],
    pub alt_text: Option<String>,
}

/// Counters of the posting API, merged into [`crate::SimStats`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counters {
    pub posts_created: u64,
    pub posts_deduplicated: u64,
    pub media_uploads: u64,
}

#[derive(Debug)]
struct PostRecord {
    user: usize,
    text: Box<str>,
    key: Option<Box<str>>,
    media: Box<[usize]>,
    created_at: DateTime<Utc>,
    create_calls: u32,
}

#[derive(Debug)]
struct MediaRecord {
    user: usize,
    mime_type: &'static str,
    size: u64,
    sha256: [u8; 32],
    alt_text: Option<Box<str>>,
    post: Option<usize>,
}

/// Posts and uploads. A plain data structure: [`crate::Sim`] puts it behind its own mutex, so
/// posting never waits for the token endpoints' lock and vice versa.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// User names, interned: every record refers to its user by index.
    users: Vec<Box<str>>,
    user_index: HashMap<Box<str>, usize>,
    posts: Vec<PostRecord>,
    /// `(user, Idempotency-Key)` → post. Keys are per user, as at Stripe and Mastodon: two
    /// users may happen to pick the same key without seeing each other's posts.
    by_key: HashMap<(usize, Box<str>), usize>,
    /// Each user's posts, oldest first.
    by_user: Vec<Vec<usize>>,
    media: Vec<MediaRecord>,
    pub counters: Counters,
}

impl Store {
    /// Records an upload by `user`.
    pub fn upload(&mut self, user: &str, upload: Upload) -> Result<SimMedia, ApiError> {
        if upload.size == 0 {
            return Err(ApiError::unprocessable(
                "invalid_media",
                "the upload is empty",
            ));
        }
        let alt_text = upload.alt_text.filter(|a| !a.trim().is_empty());
        if alt_text
            .as_deref()
            .is_some_and(|a| a.chars().count() > MAX_ALT_TEXT_CHARS)
        {
            return Err(ApiError::unprocessable(
                "invalid_media",
                format!("alt_text is longer than {MAX_ALT_TEXT_CHARS} characters"),
            ));
        }
        let user = self.intern(user);
        self.media.push(MediaRecord {
            user,
            mime_type: upload.mime_type,
            size: upload.size,
            sha256: upload.sha256,
            alt_text: alt_text.map(String::into_boxed_str),
            post: None,
        });
        self.counters.media_uploads += 1;
        Ok(self.media_view(self.media.len() - 1))
    }

    /// Creates a post by `user`, or finds the one an earlier call with the same idempotency key
    /// created.
    ///
    /// The key is looked up *before* the request is validated and its body is not compared
    /// with the first one (as at Mastodon): a retry after an unanswered call gets the original
    /// post even though it names freshly re-uploaded media. The check and the insert happen
    /// under one `&mut self` — one lock in [`crate::Sim`] — so two concurrent calls with one key
    /// can never both create. Keys never expire: the sim lives in memory for a test run.
    pub fn create(
        &mut self,
        user: &str,
        new: NewPost<'_>,
        now: DateTime<Utc>,
    ) -> Result<Created, ApiError> {
        if let Some(key) = new.idempotency_key {
            check_idempotency_key(key)?;
            let existing = self
                .find_user(user)
                .and_then(|u| self.by_key.get(&(u, Box::from(key))).copied());
            if let Some(index) = existing {
                self.posts[index].create_calls += 1;
                self.counters.posts_deduplicated += 1;
                return Ok(Created::Replayed(self.post_view(index)));
            }
        }
        let text_chars = new.text.chars().count();
        if text_chars > MAX_TEXT_CHARS {
            return Err(ApiError::unprocessable(
                "text_too_long",
                format!("text is {text_chars} characters long, the limit is {MAX_TEXT_CHARS}"),
            ));
        }
        if new.text.trim().is_empty() && new.media_ids.is_empty() {
            return Err(ApiError::unprocessable(
                "empty_post",
                "a post needs text or media",
            ));
        }
        if new.media_ids.len() > MAX_MEDIA_PER_POST {
            return Err(ApiError::unprocessable(
                "too_many_media",
                format!("a post carries at most {MAX_MEDIA_PER_POST} media"),
            ));
        }
        let author = self.find_user(user);
        let mut media = Vec::with_capacity(new.media_ids.len());
        for id in new.media_ids {
            // Another user's upload is "unknown" too: ids must not reveal what others uploaded.
            let index = parse_id(id, self.media.len())
                .filter(|i| Some(self.media[*i].user) == author)
                .ok_or_else(|| {
                    ApiError::unprocessable("invalid_media", format!("unknown media id {id:?}"))
                })?;
            if self.media[index].post.is_some() || media.contains(&index) {
                return Err(ApiError::unprocessable(
                    "invalid_media",
                    format!("media {id:?} is already attached to a post"),
                ));
            }
            media.push(index);
        }

        let user = self.intern(user);
        let index = self.posts.len();
        for &m in &media {
            self.media[m].post = Some(index);
        }
        let key = new.idempotency_key.map(Box::<str>::from);
        if let Some(key) = &key {
            self.by_key.insert((user, key.clone()), index);
        }
        self.posts.push(PostRecord {
            user,
            text: Box::from(new.text),
            key,
            media: media.into_boxed_slice(),
            created_at: DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now),
            create_calls: 1,
        });
        self.by_user[user].push(index);
        self.counters.posts_created += 1;
        Ok(Created::New(self.post_view(index)))
    }

    /// The post with `id`, whoever wrote it (posts are public).
    pub fn get(&self, id: &str) -> Option<SimPost> {
        parse_id(id, self.posts.len()).map(|i| self.post_view(i))
    }

    /// `user`'s post created with `key`, if any.
    pub fn by_key(&self, user: &str, key: &str) -> Option<SimPost> {
        let user = self.find_user(user)?;
        let index = *self.by_key.get(&(user, Box::from(key)))?;
        Some(self.post_view(index))
    }

    /// `user`'s latest `limit` posts, newest first.
    pub fn recent(&self, user: &str, limit: usize) -> Vec<SimPost> {
        let Some(user) = self.find_user(user) else {
            return Vec::new();
        };
        self.by_user[user]
            .iter()
            .rev()
            .take(limit)
            .map(|&i| self.post_view(i))
            .collect()
    }

    /// Every post, oldest first.
    pub fn all(&self) -> Vec<SimPost> {
        (0..self.posts.len()).map(|i| self.post_view(i)).collect()
    }

    /// Number of posts.
    pub fn len(&self) -> usize {
        self.posts.len()
    }

    /// Every upload, oldest first.
    pub fn all_media(&self) -> Vec<SimMedia> {
        (0..self.media.len()).map(|i| self.media_view(i)).collect()
    }

    fn find_user(&self, user: &str) -> Option<usize> {
        self.user_index.get(user).copied()
    }

    fn intern(&mut self, user: &str) -> usize {
        if let Some(index) = self.find_user(user) {
            return index;
        }
        let index = self.users.len();
        self.users.push(Box::from(user));
        self.user_index.insert(Box::from(user), index);
        self.by_user.push(Vec::new());
        index
    }

    fn post_view(&self, index: usize) -> SimPost {
        let post = &self.posts[index];
        SimPost {
            id: format_id(index),
            user: self.users[post.user].to_string(),
            text: post.text.to_string(),
            idempotency_key: post.key.as_deref().map(str::to_owned),
            media_ids: post.media.iter().map(|&m| format_id(m)).collect(),
            created_at: post.created_at,
            create_calls: post.create_calls,
        }
    }

    fn media_view(&self, index: usize) -> SimMedia {
        let media = &self.media[index];
        SimMedia {
            id: format_id(index),
            user: self.users[media.user].to_string(),
            mime_type: media.mime_type.to_owned(),
            size: media.size,
            sha256: media.sha256.iter().map(|b| format!("{b:02x}")).collect(),
            alt_text: media.alt_text.as_deref().map(str::to_owned),
            post_id: media.post.map(format_id),
        }
    }
}

/// The accepted media type named by a `Content-Type` value (parameters and case ignored).
pub(crate) fn media_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next()?.trim();
    MEDIA_TYPES
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(essence))
}

/// 1–255 visible ASCII characters, without spaces: what fits a header value unambiguously.
pub(crate) fn check_idempotency_key(key: &str) -> Result<(), ApiError> {
    if (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(ApiError::InvalidRequest(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
        )))
    }
}

fn format_id(index: usize) -> String {
    (index + 1).to_string()
}

/// The index behind an id; only the canonical spelling counts (`"01"` and `"+1"` are unknown).
fn parse_id(id: &str, len: usize) -> Option<usize> {
    let index = id.parse::<usize>().ok()?.checked_sub(1)?;
    (index < len && format_id(index) == id).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(size: u64) -> Upload {
        Upload {
            mime_type: "image/png",
            size,
            sha256: [7; 32],
            alt_text: None,
        }
    }

    fn text(text: &str) -> NewPost<'_> {
        NewPost {
            text,
            media_ids: &[],
            idempotency_key: None,
        }
    }

    #[test]
    fn a_key_is_per_user_and_replays_without_validating_again() {
        let mut store = Store::default();
        let keyed = NewPost {
            idempotency_key: Some("k1"),
            ..text("hello")
        };
        let Ok(Created::New(first)) = store.create("alice", keyed, Utc::now()) else {
            panic!("created");
        };
        let empty_retry = NewPost {
            idempotency_key: Some("k1"),
            ..text("")
        };
        let Ok(Created::Replayed(again)) = store.create("alice", empty_retry, Utc::now()) else {
            panic!("replayed");
        };
        assert_eq!(again.id, first.id);
        assert_eq!(again.create_calls, 2);
        assert!(matches!(
            store.create("bob", keyed, Utc::now()),
            Ok(Created::New(p)) if p.id != first.id
        ));
        assert_eq!(store.counters.posts_created, 2);
        assert_eq!(store.counters.posts_deduplicated, 1);
        assert_eq!(store.by_key("alice", "k1").map(|p| p.id), Some(first.id));
        assert_eq!(store.by_key("carol", "k1"), None);
    }

    #[test]
    fn media_belong_to_their_uploader_and_attach_once() {
        let mut store = Store::default();
        let mine = store.upload("alice", upload(10)).unwrap().id;
        let theirs = store.upload("bob", upload(10)).unwrap().id;
        fn with(ids: &[String]) -> NewPost<'_> {
            NewPost {
                media_ids: ids,
                ..text("")
            }
        }
        let code = |r: Result<Created, ApiError>| r.err().map(|e| e.code());
        assert_eq!(
            code(store.create("alice", with(&[theirs]), Utc::now())),
            Some("invalid_media")
        );
        assert_eq!(
            code(store.create("alice", with(&["01".into()]), Utc::now())),
            Some("invalid_media")
        );
        assert_eq!(
            code(store.create("alice", with(&[mine.clone(), mine.clone()]), Utc::now())),
            Some("invalid_media")
        );
        assert_eq!(store.len(), 0, "refusals create nothing");
        assert!(store
            .create("alice", with(std::slice::from_ref(&mine)), Utc::now())
            .is_ok());
        assert_eq!(
            code(store.create("alice", with(&[mine]), Utc::now())),
            Some("invalid_media")
        );
        assert_eq!(store.all_media()[0].post_id.as_deref(), Some("1"));
    }

    #[test]
    fn empty_uploads_and_unknown_types_are_refused() {
        let mut store = Store::default();
        assert!(store.upload("alice", upload(0)).is_err());
        assert_eq!(media_type("IMAGE/PNG; x=y"), Some("image/png"));
        assert_eq!(media_type("application/pdf"), None);
        assert!(check_idempotency_key("0b7c6a3e-5f1d").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("has space").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
    }
}
