//! `POST /oauth/token`: code exchange (RFC 6749 §4.1.3 with RFC 7636 §4.5) and refresh
//! (§6), answered as §5.1 / §5.2.
//!
//! The `refresh_hold_ms` knob holds a refresh grant's answer *after* the refresh token was
//! rotated: the presented token is spent, its successor is known only to this answer. Killing
//! or cutting off the client inside that window is the "rotated, never saved" case a refresher
//! must be tested against.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::{client_auth, OAuthError, Sim};

#[derive(Debug, Deserialize)]
pub(super) struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub(super) async fn token(
    sim: web::Data<Sim>,
    req: HttpRequest,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, OAuthError> {
    let form = form.into_inner();
    let client_id = client_auth::authenticate(
        req.headers(),
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )?;
    let grant = match form.grant_type.as_deref() {
        Some("authorization_code") => sim.exchange_code(
            &client_id,
            required(form.code.as_deref(), "code is required")?,
            required(form.redirect_uri.as_deref(), "redirect_uri is required")?,
            required(
                form.code_verifier.as_deref(),
                "code_verifier is required (PKCE)",
            )?,
        )?,
        Some("refresh_token") => {
            let grant = sim.refresh(
                &client_id,
                required(form.refresh_token.as_deref(), "refresh_token is required")?,
            )?;
            if let Some(hold) = sim.draw_refresh_hold() {
                tracing::debug!(
                    hold_ms = hold.as_millis() as u64,
                    "holding back a rotated refresh grant"
                );
                tokio::time::sleep(hold).await;
            }
            grant
        }
        Some(_) => return Err(OAuthError::UnsupportedGrantType),
        None => return Err(OAuthError::InvalidRequest("grant_type is required")),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(grant))
}

fn required<'a>(value: Option<&'a str>, message: &'static str) -> Result<&'a str, OAuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or(OAuthError::InvalidRequest(message))
}
