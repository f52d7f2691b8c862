//! Saving, reading and changing templates, and making drafts from them. Every query is scoped
//! to the caller; another user's template is a 404.

use std::collections::{BTreeMap, BTreeSet};

use db::{
    domain::{OwnerId, TemplateId},
    drafts::Draft,
    templates::{self, Template, TemplateInsertForm, TemplateUpdateForm},
};
use serde_json::json;

use super::{
    request::{self, CreateTemplate, DraftFromTemplate, UpdateTemplate},
    syntax,
};
use crate::{
    cursor::PageRequest,
    drafts::{self, request::CreateDraft},
    error::ApiError,
    posts::request::Variant,
    state::AppState,
};

/// A write that reused one of the owner's names is a 409; anything else stays a database error.
fn name_taken(err: db::diesel::result::Error) -> ApiError {
    if templates::is_name_taken(&err) {
        ApiError::Conflict {
            code: "template_name_taken",
            message: "you already have a template with this name".into(),
        }
    } else {
        err.into()
    }
}

/// Saves a new template.
pub async fn create(
    state: &AppState,
    owner: OwnerId,
    body: CreateTemplate,
) -> Result<Template, ApiError> {
    let checked = request::check(UpdateTemplate::from(body))?;
    state
        .db
        .run(move |conn| {
            let form = TemplateInsertForm {
                id: TemplateId::new(),
                owner_id: owner,
                name: checked.name.unwrap_or_default(),
                text: checked.text.unwrap_or_default(),
                variants: checked.variants.unwrap_or_else(|| json!({})),
            };
            Template::insert(conn, &form).map_err(name_taken)
        })
        .await
}

/// A page of the owner's templates, most recently edited first, and the cursor of the next.
pub async fn list(
    state: &AppState,
    owner: OwnerId,
    page: PageRequest<TemplateId>,
) -> Result<(Vec<Template>, Option<String>), ApiError> {
    let rows = state
        .db
        .query(move |conn| Template::list_for_owner(conn, &owner, page.position, page.fetch()))
        .await?;
    Ok(page.page(rows, |t| (t.updated_at, t.id)))
}

/// One of the owner's templates.
pub async fn get(state: &AppState, owner: OwnerId, id: TemplateId) -> Result<Template, ApiError> {
    state
        .db
        .query(move |conn| Template::find_for_owner(conn, id, &owner))
        .await?
        .ok_or(ApiError::NotFound("template"))
}

/// Changes the given fields of one of the owner's templates.
pub async fn update(
    state: &AppState,
    owner: OwnerId,
    id: TemplateId,
    body: UpdateTemplate,
) -> Result<Template, ApiError> {
    let checked = request::check(body)?;
    state
        .db
        .run(move |conn| {
            let form = TemplateUpdateForm {
                name: checked.name,
                text: checked.text,
                variants: checked.variants,
            };
            Template::update_for_owner(conn, id, &owner, &form)
                .map_err(name_taken)?
                .ok_or(ApiError::NotFound("template"))
        })
        .await
}

/// Deletes one of the owner's templates; drafts made from it keep their texts.
pub async fn delete(state: &AppState, owner: OwnerId, id: TemplateId) -> Result<(), ApiError> {
    let deleted = state
        .db
        .query(move |conn| Template::delete_for_owner(conn, id, &owner))
        .await?;
    if deleted {
        Ok(())
    } else {
        Err(ApiError::NotFound("template"))
    }
}

/// Fills the template's texts with `body.values` into a new draft, through the drafts'
/// own checks (lengths after filling, media and accounts the caller's). Every placeholder
/// without a value is named in one 422 `missing_values`; values no text uses are ignored.
pub async fn draft(
    state: &AppState,
    owner: OwnerId,
    id: TemplateId,
    body: DraftFromTemplate,
) -> Result<Draft, ApiError> {
    request::check_values(&body.values)?;
    let template = get(state, owner.clone(), id).await?;
    let (text, variants) = fill(&template, &body.values)?;
    drafts::service::create_from(
        state,
        owner,
        CreateDraft {
            text,
            variants: Some(variants),
            media_ids: body.media_ids,
            account_ids: body.account_ids,
        },
        Some(template.id),
    )
    .await
}

/// The base text and each platform's text of `template`, filled; or the 422 naming every
/// placeholder (of any text) that has no value.
fn fill(
    template: &Template,
    values: &BTreeMap<String, String>,
) -> Result<(String, BTreeMap<String, Variant>), ApiError> {
    let unusable = |err: syntax::SyntaxError| {
        ApiError::internal(anyhow::anyhow!(
            "stored template {} no longer parses at {}: {}",
            template.id,
            err.position,
            err.reason
        ))
    };
    let base = syntax::parse(&template.text).map_err(unusable)?;
    let mut platform_texts = Vec::new();
    for (platform, variant) in template.variants.as_object().into_iter().flatten() {
        let text = variant["text"].as_str().unwrap_or_default();
        platform_texts.push((platform.clone(), syntax::parse(text).map_err(unusable)?));
    }
    let missing: BTreeSet<String> = std::iter::once(&base)
        .chain(platform_texts.iter().map(|(_, pieces)| pieces))
        .flat_map(|pieces| syntax::names(pieces))
        .filter(|name| !values.contains_key(*name))
        .map(str::to_owned)
        .collect();
    if !missing.is_empty() {
        return Err(request::missing_values(&missing));
    }
    let variants = platform_texts
        .iter()
        .map(|(platform, pieces)| {
            (
                platform.clone(),
                Variant {
                    text: Some(syntax::fill(pieces, values)),
                    ..Variant::default()
                },
            )
        })
        .collect();
    Ok((syntax::fill(&base, values), variants))
}
