//! The bodies of `POST /v1/drafts` and `PATCH /v1/drafts/{id}`, and the checks that need no
//! database.

use std::collections::BTreeMap;

use db::domain::{AccountId, MediaId};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    posts::request::{parse_variants, Variant},
};

/// Longest text of a draft or of one of its variants, in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// Longest title, link, board id or privacy value of a variant, in characters.
pub const MAX_FIELD_CHARS: usize = 4_096;

/// Most media or accounts one draft may name.
pub const MAX_IDS: usize = 100;

/// A new draft. Every field may be left out; a draft is a work in progress.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Ideas for Friday", "variants": {"bluesky": {"text": "Friday ideas 🦋"}}}))]
pub struct CreateDraft {
    /// The base text, used where no variant overrides it (at most 100,000 characters).
    #[serde(default)]
    pub text: String,
    /// Per-platform overrides, keyed by platform: `{"x": {"text": "shorter"}}`.
    #[serde(default)]
    pub variants: Option<BTreeMap<String, Variant>>,
    /// Uploaded media (`POST /v1/media`), in order.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub media_ids: Option<Vec<MediaId>>,
    /// The accounts it is meant for.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub account_ids: Option<Vec<AccountId>>,
}

/// A partial change: fields left out stay as they are; a given field replaces the old value
/// whole (`"variants": {}` or `"media_ids": []` clears it).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDraft {
    /// New base text.
    #[serde(default)]
    pub text: Option<String>,
    /// New per-platform overrides (replace the old ones).
    #[serde(default)]
    pub variants: Option<BTreeMap<String, Variant>>,
    /// New media, in order.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub media_ids: Option<Vec<MediaId>>,
    /// New accounts.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub account_ids: Option<Vec<AccountId>>,
}

/// The fields of a draft after the checks that need no database; `None` is "not given".
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub text: Option<String>,
    /// Keyed by the platform's canonical name, as stored.
    pub variants: Option<serde_json::Value>,
    pub media_ids: Option<Vec<MediaId>>,
    pub account_ids: Option<Vec<AccountId>>,
    /// Every media id named anywhere (base and variants), each once.
    pub all_media: Vec<MediaId>,
}

impl From<CreateDraft> for UpdateDraft {
    fn from(create: CreateDraft) -> Self {
        Self {
            text: Some(create.text),
            variants: Some(create.variants.unwrap_or_default()),
            media_ids: Some(create.media_ids.unwrap_or_default()),
            account_ids: Some(create.account_ids.unwrap_or_default()),
        }
    }
}

/// Checks lengths, platform names and id counts. Unknown platforms are a 400 naming the key;
/// overlong texts are a 422 naming the field.
pub fn check(request: UpdateDraft) -> Result<Checked, ApiError> {
    if let Some(text) = &request.text {
        check_length("text", text, MAX_TEXT_CHARS)?;
    }
    let mut all_media = Vec::new();
    let variants = match &request.variants {
        None => None,
        Some(raw) => {
            let parsed = parse_variants(raw)?;
            let mut stored = serde_json::Map::new();
            for (platform, variant) in &parsed {
                let field = |name: &str| format!("variants.{platform}.{name}");
                if let Some(text) = &variant.text {
                    check_length(&field("text"), text, MAX_TEXT_CHARS)?;
                }
                for (name, value) in [
                    ("title", &variant.title),
                    ("link", &variant.link),
                    ("board_id", &variant.board_id),
                    ("privacy", &variant.privacy),
                ] {
                    if let Some(value) = value {
                        check_length(&field(name), value, MAX_FIELD_CHARS)?;
                    }
                }
                let media = variant.media_ids.as_deref().unwrap_or_default();
                check_count(&field("media_ids"), media.len())?;
                all_media.extend_from_slice(media);
                stored.insert(
                    platform.as_str().to_owned(),
                    serde_json::to_value(variant).map_err(ApiError::internal)?,
                );
            }
            Some(serde_json::Value::Object(stored))
        }
    };
    let media_ids = request.media_ids.map(dedup);
    let account_ids = request.account_ids.map(dedup);
    check_count("media_ids", media_ids.as_ref().map_or(0, Vec::len))?;
    check_count("account_ids", account_ids.as_ref().map_or(0, Vec::len))?;
    all_media.extend(media_ids.iter().flatten());
    Ok(Checked {
        text: request.text,
        variants,
        media_ids,
        account_ids,
        all_media: dedup(all_media),
    })
}

/// Keeps the first of each id, in order.
fn dedup<T: PartialEq + Copy>(ids: Vec<T>) -> Vec<T> {
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    unique
}

fn check_length(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let length = value.chars().count();
    if length > max {
        return Err(ApiError::Unprocessable {
            code: "text_too_long",
            message: format!("`{field}` is {length} characters; at most {max} are allowed"),
            details: json!({ "field": field, "length": length, "max": max }),
        });
    }
    Ok(())
}

fn check_count(field: &str, count: usize) -> Result<(), ApiError> {
    if count > MAX_IDS {
        return Err(ApiError::bad_request(
            "too_many_ids",
            format!("`{field}` names {count} ids; at most {MAX_IDS} are allowed"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(body: serde_json::Value) -> UpdateDraft {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn an_unknown_platform_is_a_400_naming_it() {
        let err = check(update(
            json!({ "variants": { "myspace": { "text": "hi" } } }),
        ))
        .unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "unknown_platform",
                ..
            }
        ));
        assert!(err.to_string().contains("variants.myspace"), "{err}");
    }

    #[test]
    fn texts_are_limited_by_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_TEXT_CHARS);
        assert!(check(update(json!({ "text": at_limit }))).is_ok());
        let over = "a".repeat(MAX_TEXT_CHARS + 1);
        let err = check(update(json!({ "text": over }))).unwrap_err();
        assert!(matches!(
            err,
            ApiError::Unprocessable {
                code: "text_too_long",
                ..
            }
        ));
        let err = check(update(
            json!({ "variants": { "x": { "text": "a".repeat(MAX_TEXT_CHARS + 1) } } }),
        ))
        .unwrap_err();
        assert!(err.to_string().contains("variants.x.text"), "{err}");
    }

    #[test]
    fn media_are_collected_from_the_base_and_every_variant_once() {
        let a = MediaId::new();
        let b = MediaId::new();
        let checked = check(update(json!({
            "media_ids": [a, a],
            "variants": { "x": { "media_ids": [b, a] }, "bluesky": {} }
        })))
        .unwrap();
        assert_eq!(checked.media_ids, Some(vec![a]));
        assert_eq!(checked.all_media.len(), 2);
        assert!(checked.all_media.contains(&b));
        let variants = checked.variants.unwrap();
        assert_eq!(variants["x"]["media_ids"], json!([b, a]));
        assert_eq!(variants["bluesky"], json!({}));
    }

    #[test]
    fn absent_fields_stay_absent() {
        let checked = check(update(json!({ "text": "new" }))).unwrap();
        assert_eq!(checked.text.as_deref(), Some("new"));
        assert!(checked.variants.is_none() && checked.media_ids.is_none());
        assert!(checked.account_ids.is_none());
    }
}
