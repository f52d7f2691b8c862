//! Deleting a sandbox post: `DELETE /api/v1/posts/{id}` (scope `publish`, the author only).
//! platform-sim answers `204` when it deleted the post and `404` when it has no such post (never
//! had it, or deleted it before): the second is [`Deletion::AlreadyGone`], so a delete repeated
//! after a lost answer ends the same way.

use reqwest::StatusCode;

use super::SandboxAdapter;
use crate::{
    http::{self, Transmit},
    AccountRef, AdapterError, Deletion, PostRef,
};

impl SandboxAdapter {
    /// `DELETE /api/v1/posts/{id}`.
    pub(super) async fn delete(
        &self,
        account: &AccountRef<'_>,
        post: &PostRef<'_>,
    ) -> Result<Deletion, AdapterError> {
        // The sim's ids are decimal; anything else would change the path.
        let id = post.platform_post_id;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(AdapterError::Rejected {
                code: "invalid_post_id".into(),
                message: format!("{id:?} is not a sandbox post id"),
            });
        }
        let url = format!("{}/api/v1/posts/{id}", self.settings.endpoints.api_base);
        let response = http::bearer(self.http.delete(url), account.access_token)
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Deletion::AlreadyGone);
        }
        http::GENERIC
            .checked(response)
            .await
            .map_err(super::explain)?;
        Ok(Deletion::Deleted)
    }
}
