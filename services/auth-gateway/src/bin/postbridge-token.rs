//! Prints a development JWT for a user: `postbridge-token alice` (what `make token USER=alice`
//! runs). Signed with the HS256 secret of `[auth]`; refuses to run in production.

use anyhow::{bail, Context};
use secrecy::ExposeSecret;

fn main() -> anyhow::Result<()> {
    let user = std::env::args()
        .nth(1)
        .context("usage: postbridge-token <user-id>")?;
    if user.trim().is_empty() {
        bail!("the user id must not be empty");
    }
    let loaded = service_kit::config::load()?;
    if loaded.environment == service_kit::config::Environment::Production {
        bail!("development tokens are not issued in production");
    }
    let auth: auth_gateway::configuration::AuthSettings = loaded.section("auth")?;
    let secret = auth
        .jwt_hs256_secret
        .context("auth.jwt_hs256_secret is not set")?;
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "sub": user,
        "iss": auth.jwt_issuer.unwrap_or_default(),
        "iat": now,
        "exp": now + 12 * 3600,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(secret.expose_secret().as_bytes());
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )?;
    println!("{token}");
    Ok(())
}
