//! Who is calling: the frontend's JWT, verified with a shared HS256 secret (development) or
//! the identity provider's JWKS (RS256: Clerk, Auth0, Supabase). The `sub` claim is the owner
//! of every row the caller touches.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use db::domain::OwnerId;
use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::{error::ApiError, observe::AuthFailure};

/// How long fetched signing keys are trusted before they are fetched again.
const JWKS_TTL: Duration = Duration::from_secs(600);

/// Clock skew tolerated on `exp` and `nbf`, in seconds: the identity provider's clock and ours
/// may differ a little; more than this is a token used outside its life.
pub const LEEWAY_SECS: u64 = 30;

/// `[auth]`: how users of the frontend are authenticated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Shared HS256 secret (development and `make token`). Ignored in production.
    #[serde(default)]
    pub jwt_hs256_secret: Option<SecretString>,
    /// Required `iss`, if set: a token without `iss`, or with another, is refused. Production
    /// refuses to start without it.
    #[serde(default)]
    pub jwt_issuer: Option<String>,
    /// Required `aud`, if set: a token without `aud`, or for another audience, is refused.
    /// Production refuses to start without it (a token minted by the same identity provider
    /// for another application must not work here).
    #[serde(default)]
    pub jwt_audience: Option<String>,
    /// The identity provider's JWKS URL (RS256 tokens), e.g.
    /// `https://<tenant>.clerk.accounts.dev/.well-known/jwks.json`.
    #[serde(default)]
    pub jwks_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

struct CachedJwks {
    keys: JwkSet,
    fetched: Instant,
}

/// Verifies bearer tokens.
#[derive(Clone)]
pub struct Authenticator {
    hs256: Option<DecodingKey>,
    jwks_url: Option<String>,
    issuer: Option<String>,
    audience: Option<String>,
    jwks: Arc<RwLock<Option<CachedJwks>>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("hs256", &self.hs256.is_some())
            .field("jwks_url", &self.jwks_url)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// From `[auth]`; `allow_hs256` is false in production, where only JWKS-verified tokens count.
    pub fn new(
        settings: &AuthSettings,
        allow_hs256: bool,
        http: reqwest::Client,
    ) -> Result<Self, String> {
        let hs256 = settings
            .jwt_hs256_secret
            .as_ref()
            .filter(|_| allow_hs256)
            .filter(|s| !s.expose_secret().is_empty())
            .map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes()));
        let jwks_url = settings.jwks_url.clone().filter(|u| !u.is_empty());
        if hs256.is_none() && jwks_url.is_none() {
            return Err("no way to verify users: set auth.jwks_url (production) or auth.jwt_hs256_secret (development)".into());
        }
        let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        let production = !allow_hs256;
        let checks_iss_and_aud = set(&settings.jwt_issuer) && set(&settings.jwt_audience);
        if production && !checks_iss_and_aud {
            return Err("production verifies `iss` and `aud` of every token: set auth.jwt_issuer (POSTBRIDGE__AUTH__JWT_ISSUER) and auth.jwt_audience (POSTBRIDGE__AUTH__JWT_AUDIENCE) to your identity provider's issuer and this API's audience".into());
        }
        Ok(Self {
            hs256,
            jwks_url,
            issuer: settings.jwt_issuer.clone().filter(|i| !i.is_empty()),
            audience: settings.jwt_audience.clone().filter(|a| !a.is_empty()),
            jwks: Arc::default(),
            http,
        })
    }

    /// `exp` always required; `iss` and `aud` required (present and equal) when configured;
    /// `nbf` honoured when present; [`LEEWAY_SECS`] of skew on both.
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// The owner named by a valid token.
    pub async fn verify(&self, token: &str) -> Result<OwnerId, ApiError> {
        let invalid = |why: &str| ApiError::Unauthorized(format!("invalid bearer token: {why}"));
        let header = decode_header(token).map_err(|_| invalid("malformed"))?;
        let key = match header.alg {
            Algorithm::HS256 => self
                .hs256
                .clone()
                .ok_or_else(|| invalid("HS256 tokens are not accepted here"))?,
            Algorithm::RS256 | Algorithm::ES256 => self.jwks_key(header.kid.as_deref()).await?,
            _ => return Err(invalid("unsupported algorithm")),
        };
        let data = decode::<Claims>(token, &key, &self.validation(header.alg))
            .map_err(|e| invalid(&e.to_string()))?;
        if data.claims.sub.trim().is_empty() || data.claims.sub.len() > 255 {
            return Err(invalid("`sub` must name the user"));
        }
        // The owner of the env account (`db::env_accounts`): a user with that id would own the
        // deployment's Facebook Page.
        if data.claims.sub == db::env_accounts::ENV_OWNER {
            return Err(invalid("`sub` is reserved"));
        }
        // A valid signature over an unusable id: the identity provider's, not the user's
        // doing, so a 400 naming the claim rather than a 401 that would send them to log in
        // again and again. PostgreSQL cannot store a NUL character.
        if data.claims.sub.contains('\0') {
            return Err(crate::hardening::nul_refused("sub (bearer token subject)"));
        }
        Ok(OwnerId(data.claims.sub))
    }

    async fn jwks_key(&self, kid: Option<&str>) -> Result<DecodingKey, ApiError> {
        let url = self.jwks_url.as_deref().ok_or_else(|| {
            ApiError::Unauthorized("invalid bearer token: no JWKS configured".into())
        })?;
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None => set.keys.first().cloned(),
        };
        {
            let cached = self.jwks.read().await;
            if let Some(c) = cached.as_ref().filter(|c| c.fetched.elapsed() < JWKS_TTL) {
                if let Some(jwk) = find(&c.keys) {
                    return DecodingKey::from_jwk(&jwk).map_err(|_| {
                        ApiError::Unauthorized("invalid bearer token: unusable key".into())
                    });
                }
            }
        }
        // Unknown kid or stale cache: the provider may have rotated its keys.
        // The identity provider is down or answers garbage: nobody can be verified until it
        // recovers, which is an outage (503, retry), not a bug.
        let unavailable = |err: reqwest::Error| {
            ApiError::Unavailable(anyhow::Error::new(err).context("cannot fetch the JWKS"))
        };
        let keys: JwkSet = self
            .http
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        let jwk = find(&keys);
        *self.jwks.write().await = Some(CachedJwks {
            keys,
            fetched: Instant::now(),
        });
        let jwk = jwk.ok_or_else(|| {
            ApiError::Unauthorized("invalid bearer token: unknown signing key".into())
        })?;
        DecodingKey::from_jwk(&jwk)
            .map_err(|_| ApiError::Unauthorized("invalid bearer token: unusable key".into()))
    }
}

/// The authenticated caller. Extracting it from a request without a valid bearer token
/// answers 401.
#[derive(Debug, Clone)]
pub struct AuthUser(pub OwnerId);

/// The bearer token of a request, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<Authenticator>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let auth = auth.ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("authenticator not configured"))
            })?;
            let Some(token) = token else {
                crate::observe::auth_failure(AuthFailure::MissingToken);
                return Err(ApiError::Unauthorized(
                    "missing `Authorization: Bearer <token>`".into(),
                ));
            };
            auth.verify(&token)
                .await
                .map(AuthUser)
                .inspect_err(|err| crate::observe::auth_failure(AuthFailure::of(err)))
        })
    }
}
