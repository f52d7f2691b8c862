//! What the frontend sees of a template.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use db::{domain::TemplateId, templates::Template};
use serde::Serialize;
use utoipa::ToSchema;

use super::syntax;

/// A saved template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateView {
    #[schema(value_type = String, format = Uuid)]
    pub id: TemplateId,
    pub name: String,
    /// The base text, with placeholders.
    pub text: String,
    /// `{"<platform>": {"text"}}`: per-platform texts, with placeholders.
    #[schema(value_type = Object)]
    pub variants: serde_json::Value,
    /// Every placeholder name used in any of its texts, sorted: the values a draft needs.
    #[schema(example = json!(["idea", "point1"]))]
    pub placeholders: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The texts of `template`: the base text, then each platform's.
pub fn texts(template: &Template) -> impl Iterator<Item = &str> {
    std::iter::once(template.text.as_str()).chain(
        template
            .variants
            .as_object()
            .into_iter()
            .flat_map(|v| v.values())
            .filter_map(|v| v["text"].as_str()),
    )
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        let mut placeholders = BTreeSet::new();
        for text in texts(t) {
            // Saved templates were checked; a text that no longer parses has nothing to list.
            if let Ok(pieces) = syntax::parse(text) {
                placeholders.extend(syntax::names(&pieces).into_iter().map(str::to_owned));
            }
        }
        Self {
            id: t.id,
            name: t.name.clone(),
            text: t.text.clone(),
            variants: t.variants.clone(),
            placeholders: placeholders.into_iter().collect(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}
