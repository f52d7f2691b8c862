//! `GET /openapi.json`: generated from the handlers' annotations, so it cannot drift from the
//! code; `docs/openapi.json` is a copy that a test keeps equal to what is served
//! (`make openapi` rewrites it), from which the TypeScript client is generated.
//!
//! What the annotations would repeat on every operation is added here once, by modifiers:
//! the bearer scheme (every route needs it but the public ones, which say `security: []`),
//! the error body on every 4xx/5xx, the 401 and 503 any protected route may answer,
//! `X-Request-Id` on every answer and `Retry-After` where a retry is invited.

use actix_web::HttpResponse;
use utoipa::{
    openapi::{
        header::{Header, HeaderBuilder},
        path::{Operation, PathItem},
        schema::{ArrayBuilder, ObjectBuilder, Schema, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
    },
    Modify, OpenApi,
};

use crate::{
    analytics, connect,
    drafts::{request as drafts_request, view::DraftView},
    error::schema::ErrorBody,
    media::view::MediaView,
    posts, routes, templates, views,
};

/// Operations a browser or a platform calls without a bearer token: the OAuth callback
/// (a redirect from the platform) and media content (fetched by platforms; the URL's
/// signature is the authorization).
const PUBLIC_OPERATIONS: [&str; 3] = ["oauthCallback", "getMediaContent", "headMediaContent"];

/// The request id header, sent back on every answer (and accepted on requests).
const REQUEST_ID: &str = "X-Request-Id";

/// The gateway's API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Postbridge API",
        version = "0.1.0",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        description = "Connect social accounts and publish to them.\n\nAuthenticate with `Authorization: Bearer <JWT>` (in development, `make token USER=alice` prints one). Errors are `{\"error\": {\"code\", \"message\", \"details\"?}}` (see the `Error` schema); lists are `{\"items\", \"next_cursor\"}`: pass `next_cursor` back as `cursor` for the next page. Every answer carries `X-Request-Id`; quote it when reporting a problem.\n\nAny endpoint may answer 503 with the code `unavailable` and a `Retry-After` header while the database or the message broker is unreachable; retry after that delay. A 503 on a write may still have been applied: send `POST /v1/posts` with an `Idempotency-Key` so that its retry is safe.\n\nConnecting an OAuth platform: `POST /v1/connections/{platform}` answers an `authorize_url`; send the browser there. The platform sends it back through `GET /v1/oauth/{platform}/callback` to the frontend with `?platform=…&ticket=…`; the frontend then calls `POST /v1/connections/complete` with the ticket and its user's token."
    ),
    servers(
        (url = "http://127.0.0.1:8080", description = "Local development (`make run`)"),
    ),
    tags(
        (name = "platforms", description = "What this deployment can connect"),
        (name = "connections", description = "Connecting accounts: OAuth in the browser, or an app password"),
        (name = "accounts", description = "The caller's connected accounts"),
        (name = "media", description = "Images and videos for posts"),
        (name = "drafts", description = "Posts in progress"),
        (name = "posts", description = "Publishing now or later, and where each target stands"),
        (name = "analytics", description = "Engagement of published posts and accounts' counts over time"),
        (name = "templates", description = "Texts with `{placeholders}` that drafts are made from"),
    ),
    security(("bearer" = [])),
    paths(
        routes::platforms::list,
        routes::connections::start,
        routes::complete_connection::complete,
        routes::oauth_callback::callback,
        routes::accounts::list::list,
        routes::accounts::get::get,
        routes::accounts::delete::delete,
        routes::accounts::sync::sync,
        routes::accounts::refresh::refresh,
        routes::accounts::pause::pause,
        routes::accounts::resume::resume,
        routes::media::upload::upload,
        routes::media::get::get,
        routes::media::delete::delete,
        routes::media::content::content,
        routes::drafts::create::create,
        routes::drafts::list::list,
        routes::drafts::get::get,
        routes::drafts::update::update,
        routes::drafts::delete::delete,
        routes::posts::create::create,
        routes::posts::list::list,
        routes::posts::get::get,
        routes::posts::update::update,
        routes::posts::cancel::cancel,
        routes::posts::retry::retry,
        routes::analytics::post_metrics::get,
        routes::analytics::refresh::refresh,
        routes::analytics::account_metrics::get,
        routes::analytics::overview::get,
        routes::posts::delete::delete,
        routes::templates::create::create,
        routes::templates::list::list,
        routes::templates::get::get,
        routes::templates::update::update,
        routes::templates::delete::delete,
        routes::templates::draft::draft,
    ),
    components(schemas(ErrorBody, analytics::view::PostMetricsView, analytics::view::RefreshView, analytics::view::AccountMetricsView, analytics::view::AnalyticsView, views::AccountView, views::AuthorizeView, views::CompletedView, views::AcceptedView, connect::StartConnection, connect::CompleteConnection, MediaView, routes::media::upload::UploadForm, DraftView, drafts_request::CreateDraft, drafts_request::UpdateDraft, posts::view::PostView, posts::deletion::DeletionView, posts::request::CreatePost, posts::request::UpdatePost, posts::request::Variant, posts::thread::PartInput, posts::thread::PartView, templates::view::TemplateView, templates::request::CreateTemplate, templates::request::UpdateTemplate, templates::request::TemplateVariant, templates::request::DraftFromTemplate)),
    modifiers(&BearerAuth, &PageItems, &HeadOperations, &PublicOperations, &ErrorResponses, &ResponseHeaders)
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as served, pretty-printed with a final newline (the form of `docs/openapi.json`).
pub fn document() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
    json.push('\n');
    json
}

/// Serves the document.
pub async fn get() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// Every operation of the document, with its method.
fn operations(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi
        .paths
        .paths
        .values_mut()
        .flat_map(|item: &mut PathItem| {
            [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.delete.as_mut(),
                item.options.as_mut(),
                item.head.as_mut(),
                item.patch.as_mut(),
                item.trace.as_mut(),
            ]
            .into_iter()
            .flatten()
        })
}

/// utoipa inlines the item type of a generic `Page<T>`; the items of `Page_AccountView` are
/// made a reference to `AccountView`, so clients get one type per view, not two.
struct PageItems;

impl Modify for PageItems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let names: Vec<String> = components.schemas.keys().cloned().collect();
        for name in names {
            let Some(item) = name.strip_prefix("Page_") else {
                continue;
            };
            if !components.schemas.contains_key(item) {
                continue;
            }
            if let Some(RefOr::T(Schema::Object(page))) = components.schemas.get_mut(&name) {
                page.properties.insert(
                    "items".into(),
                    ArrayBuilder::new()
                        .items(Ref::from_schema_name(item))
                        .description(Some("This page's items."))
                        .into(),
                );
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT of the identity provider (RS256 via JWKS in production; HS256 from `make token` in development). Its `sub` is the user.",
                    ))
                    .build(),
            ),
        );
    }
}

/// `method(get, head)` gives both methods one operation; HEAD gets an id of its own and no
/// bodies (it answers the same headers only).
struct HeadOperations;

impl Modify for HeadOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let Some(head) = item.head.as_mut() else {
                continue;
            };
            if let Some(id) = head.operation_id.as_mut() {
                if let Some(rest) = id.strip_prefix("get") {
                    *id = format!("head{rest}");
                }
            }
            head.summary = Some("The headers of the file, without its bytes".to_owned());
            for response in head.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response.content.clear();
                }
            }
        }
    }
}

/// Public operations need no token: `security: []` overrides the document's default.
struct PublicOperations;

impl Modify for PublicOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            let public = operation
                .operation_id
                .as_deref()
                .is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
            if public {
                operation.security = Some(Vec::new());
            }
        }
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new().description(description).build()
}

/// Every 4xx/5xx carries the `Error` body; protected operations add the 401 of a missing or
/// invalid token, every operation the 503 of an outage and the opaque 500.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            let public = operation.security.as_ref().is_some_and(Vec::is_empty);
            let redirect = operation.responses.responses.contains_key("302");
            let responses = &mut operation.responses.responses;
            if !public {
                responses.entry("401".into()).or_insert_with(|| {
                    error_response("No, an expired or an invalid bearer token").into()
                });
            }
            // The callback answers every failure with a redirect carrying `?error=`.
            if !redirect {
                responses.entry("500".into()).or_insert_with(|| {
                    error_response("`internal`: a bug on our side (logged with the request id)")
                        .into()
                });
                responses.entry("503".into()).or_insert_with(|| {
                    error_response(
                        "`unavailable` (the database or broker is briefly unreachable) or busy: retry after `Retry-After` seconds",
                    )
                    .into()
                });
            }
            let head = operation
                .operation_id
                .as_deref()
                .is_some_and(|id| id.starts_with("head"));
            for (status, response) in responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                if !head && (status.starts_with('4') || status.starts_with('5')) {
                    response.content.clear();
                    response.content.insert(
                        "application/json".into(),
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Error")))
                            .build(),
                    );
                }
            }
        }
    }
}

fn header(description: &str, schema_type: Type) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(schema_type))
        .description(Some(description))
        .build()
}

/// `X-Request-Id` on every answer; `Retry-After` on 429 and 503.
struct ResponseHeaders;

impl Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations(openapi) {
            for (status, response) in operation.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                response.headers.insert(
                    REQUEST_ID.into(),
                    header(
                        "This request's id (the caller's, when it sent one); it appears in every log line about the request",
                        Type::String,
                    ),
                );
                if status == "429" || status == "503" {
                    response.headers.insert(
                        "Retry-After".into(),
                        header("Seconds to wait before retrying", Type::Integer),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::HashSet, path::PathBuf};

    use actix_web::body::MessageBody;
    use serde_json::Value;

    use super::*;

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
    }

    /// The TypeScript client is generated from `docs/openapi.json`: it must be what the
    /// gateway serves. `POSTBRIDGE_UPDATE_SCHEMAS=1` (or `make openapi`) rewrites it.
    #[actix_web::test]
    async fn the_committed_openapi_json_is_what_the_gateway_serves() {
        let served = get().await.into_body().try_into_bytes().unwrap_or_default();
        let served = String::from_utf8(served.to_vec()).unwrap();
        let path = committed_path();
        if std::env::var_os("POSTBRIDGE_UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &served).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == served,
            "docs/openapi.json differs from the document the gateway serves; regenerate it with \
             `make openapi` (POSTBRIDGE_UPDATE_SCHEMAS=1 cargo nextest run -p auth-gateway openapi) \
             and regenerate the TypeScript client (clients/typescript: npm run build)"
        );
    }

    fn doc() -> Value {
        serde_json::from_str(&document()).unwrap()
    }

    fn each_operation(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                out.push((path.clone(), method.clone(), operation.clone()));
            }
        }
        out
    }

    #[test]
    fn operation_ids_are_unique_and_say_what_they_do() {
        let doc = doc();
        let mut seen = HashSet::new();
        for (path, method, op) in each_operation(&doc) {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(
                id.len() > 6,
                "{method} {path}: operationId `{id}` says too little"
            );
            assert!(
                seen.insert(id.clone()),
                "{method} {path}: operationId `{id}` reused"
            );
        }
        for id in [
            "listAccounts",
            "createPost",
            "completeConnection",
            "headMediaContent",
        ] {
            assert!(seen.contains(id), "no operation {id}");
        }
    }

    #[test]
    fn query_parameters_are_in_the_query_and_path_parameters_are_in_the_path() {
        for (path, method, op) in each_operation(&doc()) {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    param["in"] == "path",
                    in_path,
                    "{method} {path}: parameter `{name}` is `in: {}`",
                    param["in"]
                );
            }
        }
    }

    #[test]
    fn every_error_answer_has_the_error_body_and_public_routes_need_no_token() {
        let doc = doc();
        for (path, method, op) in each_operation(&doc) {
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["headers"][REQUEST_ID].is_object(),
                    "{method} {path} {status}"
                );
                if method != "head" && (status.starts_with('4') || status.starts_with('5')) {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/Error",
                        "{method} {path} {status}"
                    );
                }
            }
            let public = ["oauthCallback", "getMediaContent", "headMediaContent"]
                .contains(&op["operationId"].as_str().unwrap());
            assert_eq!(op.get("security").is_some(), public, "{method} {path}");
            if public {
                assert_eq!(op["security"], serde_json::json!([]), "{method} {path}");
            }
        }
        assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
        assert!(doc["servers"][0]["url"].is_string());
    }

    #[test]
    fn statuses_and_platforms_are_enums_from_the_domain() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let platforms = schemas["Platform"]["enum"].as_array().unwrap();
        assert_eq!(platforms.len(), db::domain::Platform::ALL.len());
        assert!(platforms.contains(&"sandbox".into()));
        assert!(schemas["PostStatus"]["enum"]
            .as_array()
            .unwrap()
            .contains(&"published".into()));
        assert_eq!(
            schemas["TargetView"]["properties"]["status"]["$ref"],
            "#/components/schemas/TargetStatus"
        );
        let details = &schemas["ErrorDetails"]["properties"]["targets"];
        assert!(details.to_string().contains("TargetProblems"), "{details}");
        let create = &doc["paths"]["/v1/posts"]["post"];
        assert_eq!(
            create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/CreatePost"
        );
        assert!(create["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
    }
}
