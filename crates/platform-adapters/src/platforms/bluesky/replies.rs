//! A thread's next part on Bluesky: the post record carries `reply: {root, parent}`, each a
//! `com.atproto.repo.strongRef` (`{uri, cid}`) (docs.bsky.app, "Posts" advanced guide,
//! "Replies"; lexicon `app.bsky.feed.post#replyRef`).
//!
//! The CIDs are read back with `getRecord` just before the reply is written, rather than kept
//! from `createRecord`'s answer: keeping them would mean a second id stored beside every
//! post (`Published`, the publisher's tables) for one platform, and the root's CID would be
//! missing for posts published before. Root and parent are always the account's own posts,
//! in its own repository, so the read is one call each (one when the reply answers the root),
//! on a path only threads take; and it references the records as they are now.

use serde_json::{json, Value};

use super::{BlueskyAdapter, POST_COLLECTION};
use crate::{AccountRef, AdapterError, PostRef, ReplyTo};

impl BlueskyAdapter {
    /// The record's `reply` for `to`: strong references to the thread's root and to the post
    /// answered.
    pub(super) async fn reply_refs(
        &self,
        service: &str,
        account: &AccountRef<'_>,
        to: &ReplyTo<'_>,
    ) -> Result<Value, AdapterError> {
        let parent = self.strong_ref(service, account, &to.parent).await?;
        let root = if to.root.platform_post_id == to.parent.platform_post_id {
            parent.clone()
        } else {
            self.strong_ref(service, account, &to.root).await?
        };
        Ok(json!({ "root": root, "parent": parent }))
    }

    /// `{uri, cid}` of one of the account's posts, its CID read with `getRecord`.
    async fn strong_ref(
        &self,
        service: &str,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Value, AdapterError> {
        let uri = post.platform_post_id;
        let gone = || AdapterError::Rejected {
            code: "reply_target_missing".into(),
            message: format!("the Bluesky post this part replies to ({uri}) is gone"),
        };
        let rkey = own_post_rkey(uri, account.platform_account_id).ok_or_else(gone)?;
        let record = self
            .find_post(service, account, rkey)
            .await?
            .ok_or_else(gone)?;
        let cid = record.cid.ok_or_else(|| AdapterError::Transient {
            message: format!("Bluesky answered the record {uri} without its CID"),
        })?;
        Ok(json!({ "uri": uri, "cid": cid }))
    }
}

/// The record key of `uri` when it is a post in `did`'s repository
/// (`at://{did}/app.bsky.feed.post/{rkey}`).
fn own_post_rkey<'u>(uri: &'u str, did: &str) -> Option<&'u str> {
    let rest = uri.strip_prefix("at://")?.strip_prefix(did)?;
    let rkey = rest
        .strip_prefix('/')?
        .strip_prefix(POST_COLLECTION)?
        .strip_prefix('/')?;
    (!rkey.is_empty() && !rkey.contains('/')).then_some(rkey)
}

#[cfg(test)]
mod tests {
    use super::own_post_rkey;

    #[test]
    fn only_a_post_of_the_accounts_own_repository_has_a_record_key_here() {
        let did = "did:plc:z72i7hdynmk6r22z27h6tvur";
        assert_eq!(
            own_post_rkey(&format!("at://{did}/app.bsky.feed.post/3l6oveex3ii2l"), did),
            Some("3l6oveex3ii2l")
        );
        assert_eq!(
            own_post_rkey("at://did:plc:other/app.bsky.feed.post/3l6oveex3ii2l", did),
            None
        );
        assert_eq!(
            own_post_rkey(&format!("at://{did}/app.bsky.feed.like/3l6oveex3ii2l"), did),
            None
        );
        assert_eq!(
            own_post_rkey(&format!("at://{did}/app.bsky.feed.post/"), did),
            None
        );
    }
}
