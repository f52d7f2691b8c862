//! `POST /oauth/revoke`: token revocation (RFC 7009). Answers 200 for any token once the
//! client is authenticated, as §2.2 requires.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::{client_auth, OAuthError, Sim};

#[derive(Debug, Deserialize)]
pub(super) struct RevokeForm {
    token: Option<String>,
    /// Accepted and ignored: the sim recognises a token by its value (§2.1 allows that).
    #[serde(rename = "token_type_hint")]
    _token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub(super) async fn revoke(
    sim: web::Data<Sim>,
    req: HttpRequest,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, OAuthError> {
    let client_id = client_auth::authenticate(
        req.headers(),
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )?;
    let token = form
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or(OAuthError::InvalidRequest("token is required"))?;
    sim.revoke(&client_id, token);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}
