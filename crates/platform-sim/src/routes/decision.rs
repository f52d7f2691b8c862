//! `POST /oauth/authorize/decision`: the consent page's Approve/Deny form.

use actix_web::{http::StatusCode, web, HttpResponse};
use serde::Deserialize;

use super::{html, redirect};
use crate::{html as pages, state::AuthorizeError, Sim};

#[derive(Debug, Deserialize)]
pub(super) struct DecisionForm {
    request_id: String,
    decision: String,
    username: Option<String>,
}

pub(super) async fn decide(sim: web::Data<Sim>, form: web::Form<DecisionForm>) -> HttpResponse {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return html(
                StatusCode::BAD_REQUEST,
                pages::error_page("decision must be approve or deny"),
            )
        }
    };
    // 303: the browser follows a POST's redirect with a GET.
    match sim.decide(&form.request_id, approve, form.username.as_deref()) {
        Ok(url) | Err(AuthorizeError::Redirect(url)) => redirect(StatusCode::SEE_OTHER, &url),
        Err(AuthorizeError::Page(message)) => {
            html(StatusCode::BAD_REQUEST, pages::error_page(message))
        }
    }
}
