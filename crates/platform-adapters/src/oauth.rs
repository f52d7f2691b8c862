//! OAuth 2.0 token requests, written once: the code exchange, the refresh grant and revocation
//! (RFC 6749 §4.1.3 and §6, RFC 7009) against one platform's endpoints, authenticated the way
//! the platform wants ([`ClientAuth`]). An OAuth adapter says which fields its form carries,
//! in its own order, and how a failed refresh reads; the sending, decoding and classifying are
//! here.

use std::time::Duration;

use reqwest::{header::HeaderMap, Client, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    http::{self, TokenResponse, Transmit},
    AdapterError, ClientCredentials, TokenSet,
};

/// How our app authenticates at the token and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1): X, Pinterest, the sandbox.
    Basic,
    /// `client_id` and `client_secret` appended to the form body: LinkedIn, Google.
    Body,
    /// Like [`Self::Body`], with the client id under the platform's own field name: TikTok's
    /// `client_key`.
    BodyAs(&'static str),
}

/// One platform's token endpoint, with our app's credentials.
#[derive(Debug, Clone, Copy)]
pub struct TokenEndpoint<'a> {
    /// The platform's name in messages ("X").
    pub platform: &'static str,
    /// The client to send with.
    pub http: &'a Client,
    /// The token endpoint.
    pub url: &'a str,
    /// Our app's credentials there.
    pub credentials: &'a ClientCredentials,
    /// How they are presented.
    pub auth: ClientAuth,
    /// The documented access-token lifetime, for an answer without `expires_in`.
    pub lifetime: Option<Duration>,
}

impl TokenEndpoint<'_> {
    /// A `POST` of `form` to `url`, authenticated as [`Self::auth`] says. Public for a
    /// platform whose answers need a reading of their own before any token is decoded (TikTok
    /// answers OAuth errors with a 200): it sends this and reads the answer itself.
    pub fn post(&self, url: &str, form: &[(&str, &str)]) -> RequestBuilder {
        let request = self.http.post(url);
        let id_field = match self.auth {
            ClientAuth::Basic => {
                return request
                    .basic_auth(
                        &self.credentials.client_id,
                        Some(self.credentials.client_secret.expose_secret()),
                    )
                    .form(form)
            }
            ClientAuth::Body => "client_id",
            ClientAuth::BodyAs(id_field) => id_field,
        };
        let mut fields = form.to_vec();
        fields.push((id_field, self.credentials.client_id.as_str()));
        fields.push((
            "client_secret",
            self.credentials.client_secret.expose_secret(),
        ));
        request.form(&fields)
    }

    /// Exchanges an authorization code: `form` holds `grant_type=authorization_code`, the code,
    /// the redirect URI and whatever else the platform wants (a PKCE verifier, `client_id`).
    pub async fn exchange(&self, form: &[(&str, &str)]) -> Result<TokenSet, AdapterError> {
        let answer: TokenResponse = http::json(self.post(self.url, form)).await?;
        Ok(answer.into_token_set(self.lifetime))
    }

    /// Runs a refresh grant: `form` holds `grant_type=refresh_token` and `sent`, the refresh
    /// token, with any extra field. A failed answer reads through `failure`, which never
    /// echoes `sent`.
    pub async fn refresh(
        &self,
        form: &[(&str, &str)],
        sent: &SecretString,
        failure: impl Fn(StatusCode, &HeaderMap, &str, &str) -> AdapterError,
    ) -> Result<TokenSet, AdapterError> {
        self.grant(form, sent.expose_secret(), failure).await
    }

    /// Runs any grant whose failed answers the platform reads its own way (`failure` gets the
    /// status, headers, body and `sent`, the secret to blank out should it be echoed). An
    /// answer that does not decode is transient and quotes no body.
    pub async fn grant(
        &self,
        form: &[(&str, &str)],
        sent: &str,
        failure: impl Fn(StatusCode, &HeaderMap, &str, &str) -> AdapterError,
    ) -> Result<TokenSet, AdapterError> {
        let response = self
            .post(self.url, form)
            .transmit()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = response.text().await.unwrap_or_default();
            return Err(failure(status, &headers, &body, sent));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| AdapterError::from_transport(&e))?;
        let answer: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|e| AdapterError::Transient {
                message: format!(
                    "unexpected token answer from {} (line {}, column {})",
                    self.platform,
                    e.line(),
                    e.column()
                ),
            })?;
        Ok(answer.into_token_set(self.lifetime))
    }

    /// Revokes a token (RFC 7009) at `url` with `form` (`token`, a hint, …), authenticated like
    /// the token endpoint.
    pub async fn revoke(&self, url: &str, form: &[(&str, &str)]) -> Result<(), AdapterError> {
        http::send(self.post(url, form)).await.map(drop)
    }
}

/// The standard reading of a failed refresh ([`http::refresh_failure`]) for `platform`.
pub fn standard_refresh_failure(
    platform: &'static str,
) -> impl Fn(StatusCode, &HeaderMap, &str, &str) -> AdapterError {
    move |status, headers, body, sent| http::refresh_failure(platform, status, headers, body, sent)
}
