//! `GET /oauth/authorize`: the browser-facing authorization endpoint (RFC 6749 §4.1.1, PKCE
//! S256 required).

use actix_web::{http::StatusCode, web, HttpResponse};

use super::{html, redirect};
use crate::{
    html as pages,
    state::{AuthorizeError, AuthorizeOutcome, AuthorizeRequest},
    Sim,
};

pub(super) async fn authorize(
    sim: web::Data<Sim>,
    query: web::Query<AuthorizeRequest>,
) -> HttpResponse {
    match sim.authorize(query.into_inner()) {
        Ok(AuthorizeOutcome::Redirect(url)) | Err(AuthorizeError::Redirect(url)) => {
            redirect(StatusCode::FOUND, &url)
        }
        Ok(AuthorizeOutcome::Consent(view)) => html(StatusCode::OK, pages::consent_page(&view)),
        Err(AuthorizeError::Page(message)) => {
            html(StatusCode::BAD_REQUEST, pages::error_page(message))
        }
    }
}
