//! The bodies of the template routes, and the checks that need no database.

use std::collections::{BTreeMap, BTreeSet};

use db::domain::{AccountId, MediaId, Platform};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::syntax;
use crate::{drafts::request::MAX_TEXT_CHARS, error::ApiError};

/// Longest template name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Most values one `POST /v1/templates/{id}/drafts` may send.
pub const MAX_VALUES: usize = 100;

/// One platform's text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateVariant {
    /// The text for this platform, with placeholders (at most 100,000 characters).
    pub text: String,
}

/// A new template.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Launch", "text": "We launched {product}! {{{hashtag}}}", "variants": {"x": {"text": "{product} is out 🚀"}}}))]
pub struct CreateTemplate {
    /// How the user finds it again; unique among the caller's templates (1 to 200 characters).
    pub name: String,
    /// The base text, used where no platform text overrides it. Placeholders are `{name}`
    /// (`name`: `a-z`, `0-9`, `_`); `{{` and `}}` are literal braces.
    #[serde(default)]
    pub text: String,
    /// Per-platform texts, keyed by platform: `{"x": {"text": "shorter {idea}"}}`.
    #[serde(default)]
    pub variants: Option<BTreeMap<String, TemplateVariant>>,
}

/// A partial change: fields left out stay; a given field replaces the old value whole
/// (`"variants": {}` clears the platform texts).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTemplate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New base text.
    #[serde(default)]
    pub text: Option<String>,
    /// New per-platform texts (replace the old ones).
    #[serde(default)]
    pub variants: Option<BTreeMap<String, TemplateVariant>>,
}

/// Values for a template's placeholders, and what else the new draft holds.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"values": {"product": "Postbridge", "hashtag": "launch"}}))]
pub struct DraftFromTemplate {
    /// A value for every placeholder of the template (a missing one is a 422 naming each);
    /// values the template does not use are ignored. At most 100 values.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Uploaded media for the draft, in order.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub media_ids: Option<Vec<MediaId>>,
    /// The accounts the draft is meant for.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub account_ids: Option<Vec<AccountId>>,
}

impl From<CreateTemplate> for UpdateTemplate {
    fn from(create: CreateTemplate) -> Self {
        Self {
            name: Some(create.name),
            text: Some(create.text),
            variants: Some(create.variants.unwrap_or_default()),
        }
    }
}

/// The fields of a template after the checks; `None` is "not given".
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub name: Option<String>,
    pub text: Option<String>,
    /// `{"<platform>": {"text": "..."}}`, keyed by the platform's canonical name.
    pub variants: Option<serde_json::Value>,
}

/// Checks the name, lengths, platform names and the placeholder syntax of every text.
/// Unknown platforms are a 400 naming the key; a malformed text is a 422 `invalid_template`
/// with the field and the position.
pub fn check(request: UpdateTemplate) -> Result<Checked, ApiError> {
    let name = request.name.map(|n| n.trim().to_owned());
    if let Some(name) = &name {
        let length = name.chars().count();
        if length == 0 || length > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ApiError::Unprocessable {
                code: "invalid_template_name",
                message: format!(
                    "`name` must be 1 to {MAX_NAME_CHARS} characters without control characters"
                ),
                details: json!({ "field": "name" }),
            });
        }
    }
    if let Some(text) = &request.text {
        check_text("text", text)?;
    }
    let variants = match &request.variants {
        None => None,
        Some(raw) => {
            let mut stored = serde_json::Map::new();
            for (key, variant) in raw {
                let platform: Platform = key.parse().map_err(|_| {
                    ApiError::bad_request(
                        "unknown_platform",
                        format!(
                            "`variants.{key}` is not a platform; known: {}",
                            Platform::ALL
                                .iter()
                                .map(|p| p.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                check_text(&format!("variants.{platform}.text"), &variant.text)?;
                stored.insert(
                    platform.as_str().to_owned(),
                    json!({ "text": variant.text }),
                );
            }
            Some(serde_json::Value::Object(stored))
        }
    };
    Ok(Checked {
        name,
        text: request.text,
        variants,
    })
}

fn check_text(field: &str, text: &str) -> Result<(), ApiError> {
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(ApiError::Unprocessable {
            code: "text_too_long",
            message: format!(
                "`{field}` is {length} characters; at most {MAX_TEXT_CHARS} are allowed"
            ),
            details: json!({ "field": field, "length": length, "max": MAX_TEXT_CHARS }),
        });
    }
    syntax::parse(text).map_err(|err| ApiError::Unprocessable {
        code: "invalid_template",
        message: format!(
            "`{field}` is not a valid template at character {}: {}",
            err.position, err.reason
        ),
        details: json!({ "field": field, "position": err.position, "reason": err.reason }),
    })?;
    Ok(())
}

/// Bounds the values of a draft request: their number and each one's length.
pub fn check_values(values: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if values.len() > MAX_VALUES {
        return Err(ApiError::bad_request(
            "too_many_values",
            format!(
                "`values` has {} entries; at most {MAX_VALUES} are allowed",
                values.len()
            ),
        ));
    }
    for (name, value) in values {
        let length = value.chars().count();
        if length > MAX_TEXT_CHARS {
            let field = format!("values.{name}");
            return Err(ApiError::Unprocessable {
                code: "text_too_long",
                message: format!(
                    "`{field}` is {length} characters; at most {MAX_TEXT_CHARS} are allowed"
                ),
                details: json!({ "field": field, "length": length, "max": MAX_TEXT_CHARS }),
            });
        }
    }
    Ok(())
}

/// The 422 for placeholders without a value, naming every one.
pub fn missing_values(missing: &BTreeSet<String>) -> ApiError {
    let list = missing
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ");
    ApiError::Unprocessable {
        code: "missing_values",
        message: format!("the template needs a value for {list}"),
        details: json!({ "missing": missing }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(body: serde_json::Value) -> UpdateTemplate {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_malformed_platform_text_is_a_422_with_its_field_and_position() {
        let err = check(update(
            json!({ "variants": { "x": { "text": "hi {Name}" } } }),
        ))
        .unwrap_err();
        let ApiError::Unprocessable { code, details, .. } = err else {
            panic!("not a 422");
        };
        assert_eq!(code, "invalid_template");
        assert_eq!(details["field"], "variants.x.text");
        assert_eq!(details["position"], 4);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        let checked = check(update(json!({ "name": "  Launch  " }))).unwrap();
        assert_eq!(checked.name.as_deref(), Some("Launch"));
        for bad in [
            json!(""),
            json!("   "),
            json!("a".repeat(MAX_NAME_CHARS + 1)),
            json!("a\nb"),
        ] {
            assert!(matches!(
                check(update(json!({ "name": bad }))),
                Err(ApiError::Unprocessable {
                    code: "invalid_template_name",
                    ..
                })
            ));
        }
    }

    #[test]
    fn an_unknown_platform_is_a_400_naming_the_key() {
        let err = check(update(
            json!({ "variants": { "myspace": { "text": "x" } } }),
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
}
