//! What the frontend sees of a draft.

use chrono::{DateTime, Utc};
use db::{
    domain::{AccountId, DraftId, MediaId, TemplateId},
    drafts::Draft,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A saved draft.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftView {
    #[schema(value_type = String, format = Uuid)]
    pub id: DraftId,
    pub text: String,
    /// `{"<platform>": {"text"?, "media_ids"?, "title"?, "link"?, "board_id"?, "privacy"?}}`.
    #[schema(value_type = Object)]
    pub variants: serde_json::Value,
    #[schema(value_type = Vec<String>)]
    pub media_ids: Vec<MediaId>,
    #[schema(value_type = Vec<String>)]
    pub account_ids: Vec<AccountId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The template it was made from (`POST /v1/templates/{id}/drafts`), while that template
    /// exists.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub template_id: Option<TemplateId>,
}

impl From<&Draft> for DraftView {
    fn from(d: &Draft) -> Self {
        Self {
            id: d.id,
            text: d.text.clone(),
            variants: d.variants.clone(),
            media_ids: d.media_ids.iter().flatten().copied().collect(),
            account_ids: d.account_ids.iter().flatten().copied().collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
            template_id: d.template_id,
        }
    }
}
