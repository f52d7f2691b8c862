//! After publishing, what Facebook Pages and Threads share (and Instagram may): reading nodes
//! that may be gone or behind a permission the account never granted, Graph's multiple-id read
//! with gone ids taken out, deleting a node, and creating one (a comment) whose missing
//! permission is the post's problem, not the account's.
//!
//! Graph answers a node it no longer has with HTTP 404, or with error code 100 subcode 33
//! ("Object with ID '…' does not exist, cannot be loaded due to missing permissions, or does
//! not support this operation"), and a multiple-id read naming one with code 803 ("Some of the
//! aliases you requested do not exist: …"): the whole read fails, not just that id.
//! <https://developers.facebook.com/docs/graph-api/guides/error-handling> and
//! <https://developers.facebook.com/docs/graph-api/overview/#reading> (`GET /?ids=a,b`, at most
//! 50 ids).
//!
//! A permission error (code 10, 200–299) is classified as "reconnect" everywhere else. Here it
//! is not: a read answers [`Node::NotPermitted`] (the figures are unknown), and a delete or a
//! comment is [`AdapterError::Rejected`] with code `missing_permission` naming the permission,
//! so a post the account may not delete or comment on never marks the whole account as
//! needing to reconnect (and stops its publishing).

use std::collections::HashMap;

use reqwest::{header::HeaderMap, Client, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{de::DeserializeOwned, Deserialize};

use super::{classify, decode, graph_error, is_permission_code, node_url, transport, Created};
use crate::{http::Transmit, AdapterError, Deletion};

/// What a read of one node found.
#[derive(Debug)]
pub(crate) enum Node<T> {
    /// The node, as asked.
    Found(T),
    /// Graph no longer has it.
    Gone,
    /// The token lacks the permission to read it.
    NotPermitted,
}

/// A failed answer, kept whole so the caller can tell "gone" and "not permitted" apart from
/// the rest.
struct Refusal {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Refusal {
    fn code(&self) -> (i64, Option<i64>) {
        graph_error(&self.body).map_or((0, None), |e| (e.code.unwrap_or_default(), e.error_subcode))
    }

    /// 404, 803, 100/33, or a 100 without the subcode whose message says the object "does not
    /// exist" (how Threads words it for a deleted post).
    fn is_gone(&self) -> bool {
        let (code, subcode) = self.code();
        self.status == StatusCode::NOT_FOUND
            || code == 803
            || (code == 100 && (subcode == Some(33) || self.message().contains("does not exist")))
    }

    fn is_not_permitted(&self) -> bool {
        is_permission_code(self.code().0)
    }

    /// Graph's message, for the ids it names.
    fn message(&self) -> String {
        graph_error(&self.body)
            .and_then(|e| e.message)
            .unwrap_or_default()
    }

    fn classified(&self) -> AdapterError {
        classify(self.status, &self.headers, &self.body)
    }
}

/// Sends `request`; a non-2xx answer comes back as a [`Refusal`] to look at.
async fn send(request: RequestBuilder) -> Result<Result<reqwest::Response, Refusal>, AdapterError> {
    let response = request.transmit().await.map_err(transport)?;
    let status = response.status();
    if status.is_success() {
        return Ok(Ok(response));
    }
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Ok(Err(Refusal {
        status,
        headers,
        body,
    }))
}

async fn decoded<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, AdapterError> {
    let bytes = response.bytes().await.map_err(transport)?;
    decode(&bytes)
}

/// A GET of one node (or one of its edges), telling a gone node and a missing permission apart
/// from other failures, which are classified as usual.
pub(crate) async fn read_node<T: DeserializeOwned>(
    request: RequestBuilder,
) -> Result<Node<T>, AdapterError> {
    match send(request).await? {
        Ok(response) => Ok(Node::Found(decoded(response).await?)),
        Err(refusal) if refusal.is_gone() => Ok(Node::Gone),
        Err(refusal) if refusal.is_not_permitted() => Ok(Node::NotPermitted),
        Err(refusal) => Err(refusal.classified()),
    }
}

/// Graph's multiple-id read, `GET {api_base}/?ids=…&fields=…`, of at most 50 `ids`: each node
/// found, by id. A gone id fails the whole read, so the ids Graph names are taken out and the
/// rest asked again; when it names none, each id is read alone. `None`: the token may not read
/// these nodes at all.
pub(crate) async fn read_nodes<T: DeserializeOwned>(
    http: &Client,
    api_base: &str,
    ids: &[&str],
    fields: &str,
    token: &SecretString,
) -> Result<Option<HashMap<String, T>>, AdapterError> {
    let mut asked: Vec<&str> = ids.to_vec();
    while !asked.is_empty() {
        let joined = asked.join(",");
        let request = http.get(root_url(api_base)?).query(&[
            ("ids", joined.as_str()),
            ("fields", fields),
            ("access_token", token.expose_secret()),
        ]);
        let refusal = match send(request).await? {
            Ok(response) => return Ok(Some(decoded(response).await?)),
            Err(refusal) => refusal,
        };
        if refusal.is_not_permitted() {
            return Ok(None);
        }
        if !refusal.is_gone() {
            return Err(refusal.classified());
        }
        let named = named_ids(&refusal.message(), &asked);
        if named.is_empty() {
            return read_one_by_one(http, api_base, &asked, fields, token).await;
        }
        asked.retain(|id| !named.contains(id));
    }
    Ok(Some(HashMap::new()))
}

/// Each of `ids` read alone; the gone ones left out.
async fn read_one_by_one<T: DeserializeOwned>(
    http: &Client,
    api_base: &str,
    ids: &[&str],
    fields: &str,
    token: &SecretString,
) -> Result<Option<HashMap<String, T>>, AdapterError> {
    let mut found = HashMap::new();
    for id in ids {
        let url = node_url(api_base, id, None)?;
        let request = http
            .get(url)
            .query(&[("fields", fields), ("access_token", token.expose_secret())]);
        match read_node(request).await? {
            Node::Found(node) => {
                found.insert((*id).to_owned(), node);
            }
            Node::Gone => {}
            Node::NotPermitted => return Ok(None),
        }
    }
    Ok(Some(found))
}

/// The ids of `asked` that `message` names: Graph lists them separated by commas and spaces,
/// or quotes one (`Object with ID '…'`). Whole words only, so `1_2` never matches `1_23`.
fn named_ids<'a>(message: &str, asked: &[&'a str]) -> Vec<&'a str> {
    let words: Vec<&str> = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    asked
        .iter()
        .copied()
        .filter(|id| words.contains(id))
        .collect()
}

/// `{api_base}/`: where a multiple-id read goes.
fn root_url(api_base: &str) -> Result<reqwest::Url, AdapterError> {
    let base = api_base.trim_end_matches('/');
    reqwest::Url::parse(&format!("{base}/")).map_err(|e| AdapterError::Unsupported {
        what: format!("invalid API base URL `{api_base}`: {e}"),
    })
}

/// `DELETE /{id}`: `{"success": true}` is `Deleted`, a gone node `AlreadyGone`. A permission
/// error is a rejection naming `permission` (what `platform` needs to delete).
pub(crate) async fn delete_node(
    http: &Client,
    api_base: &str,
    id: &str,
    token: &SecretString,
    platform: &str,
    permission: &str,
) -> Result<Deletion, AdapterError> {
    #[derive(Deserialize)]
    struct Success {
        #[serde(default)]
        success: Option<bool>,
    }
    let url = node_url(api_base, id, None)?;
    let request = http
        .delete(url)
        .query(&[("access_token", token.expose_secret())]);
    match send(request).await? {
        Ok(response) => match decoded::<Success>(response).await?.success {
            Some(false) => Err(AdapterError::Transient {
                message: format!("{platform} answered that post {id} was not deleted"),
            }),
            _ => Ok(Deletion::Deleted),
        },
        Err(refusal) if refusal.is_gone() => Ok(Deletion::AlreadyGone),
        Err(refusal) if refusal.is_not_permitted() => {
            Err(missing_permission(platform, permission, "delete posts"))
        }
        Err(refusal) => Err(refusal.classified()),
    }
}

/// Sends a creating POST (a comment) "unsure", like [`super::json_unsure`], except that a
/// permission error is a rejection naming `permission` rather than a reconnect.
pub(crate) async fn create_unsure(
    request: RequestBuilder,
    platform: &str,
    permission: &str,
    what: &str,
) -> Result<Created, AdapterError> {
    let response = request
        .transmit()
        .await
        .map_err(|e| AdapterError::from_transport_unsure(&e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let refusal = Refusal {
            status,
            headers,
            body,
        };
        if refusal.is_not_permitted() {
            return Err(missing_permission(platform, permission, what));
        }
        return Err(match refusal.classified() {
            AdapterError::Transient { message } => AdapterError::OutcomeUnknown { message },
            other => other,
        });
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| AdapterError::OutcomeUnknown {
            message: format!("reading the answer: {}", e.without_url()),
        })?;
    serde_json::from_slice(&bytes).map_err(|e| AdapterError::OutcomeUnknown {
        message: format!(
            "{platform} accepted the request but answered an unexpected shape (line {}, column {})",
            e.line(),
            e.column()
        ),
    })
}

/// The rejection of an action the account's token lacks `permission` for.
pub(crate) fn missing_permission(platform: &str, permission: &str, what: &str) -> AdapterError {
    AdapterError::Rejected {
        code: "missing_permission".into(),
        message: format!(
            "{platform} needs the `{permission}` permission to {what}; this account did not grant it: reconnect it and allow {permission}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_ids_named_in_a_message_are_taken_out() {
        let asked = ["1_2", "1_23", "456"];
        assert_eq!(
            named_ids(
                "(#803) Some of the aliases you requested do not exist: 1_23, 789",
                &asked
            ),
            vec!["1_23"]
        );
        assert_eq!(
            named_ids("Unsupported get request. Object with ID '456' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", &asked),
            vec!["456"]
        );
        assert!(named_ids("(#100) Invalid parameter", &asked).is_empty());
    }
}
