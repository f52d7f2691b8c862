//! Account tokens at rest: how every service encrypts and decrypts them the same way.
//!
//! The associated data is `("social_accounts", <account id>, <column>)`, so a ciphertext only
//! decrypts in the row and column it was written for.

use db::{accounts::Account, domain::AccountId};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use vault::{Aad, KeyConfig, Vault, VaultError};

/// Column name bound into the access token's ciphertext.
pub const ACCESS_TOKEN: &str = "access_token";
/// Column name bound into the refresh token's ciphertext.
pub const REFRESH_TOKEN: &str = "refresh_token";

/// `[vault]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSettings {
    /// `id:base64` pairs, newest (encrypting) first: `k2:…,k1:…`. Each key is 32 random bytes.
    pub keys: SecretString,
}

/// Builds the vault from `[vault] keys`; an empty list is an error that says how to fix it.
pub fn vault_from(settings: &VaultSettings) -> Result<Vault, VaultError> {
    if settings.keys.expose_secret().trim().is_empty() {
        return Err(VaultError::NoKeys);
    }
    Vault::from_config(&KeyConfig::parse_list(&settings.keys)?)
}

/// The associated data of `field` of account `id`.
pub fn aad(id: AccountId, field: &str) -> Aad {
    Aad::new("social_accounts", id, field)
}

/// Encrypts a token for `field` of account `id`.
pub fn seal(
    vault: &Vault,
    id: AccountId,
    field: &str,
    token: &SecretString,
) -> Result<Vec<u8>, VaultError> {
    vault.encrypt(token, &aad(id, field))
}

/// The account's access token, or `None` when it has none (disconnected).
pub fn access_token(vault: &Vault, account: &Account) -> Result<Option<SecretString>, VaultError> {
    account
        .access_token_enc
        .as_deref()
        .map(|c| vault.decrypt(c, &aad(account.id, ACCESS_TOKEN)))
        .transpose()
}

/// The account's refresh token, or `None` when the platform granted none.
pub fn refresh_token(vault: &Vault, account: &Account) -> Result<Option<SecretString>, VaultError> {
    account
        .refresh_token_enc
        .as_deref()
        .map(|c| vault.decrypt(c, &aad(account.id, REFRESH_TOKEN)))
        .transpose()
}

/// The associated data of a Mastodon app's client secret: bound to its instance, which is the
/// row's natural key (`mastodon_apps.instance` is unique).
pub fn mastodon_client_secret_aad(instance: &str) -> Aad {
    Aad::new("mastodon_apps", instance, "client_secret")
}

/// Longest safety margin kept between a scheduled refresh and the token's expiry.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// When to refresh a token that expires at `expires_at`: at 80 % of its remaining lifetime,
/// and never later than a safety margin before it expires (ten minutes, or a quarter of the
/// lifetime for tokens shorter than forty minutes), so a failed attempt still has time to be
/// retried. `None` when the token does not expire: nothing to schedule.
pub fn next_refresh_at(
    now: chrono::DateTime<chrono::Utc>,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let expires_at = expires_at?;
    let remaining = expires_at - now;
    if remaining <= chrono::Duration::zero() {
        return Some(now);
    }
    let at_80_percent = now + remaining * 4 / 5;
    let latest = expires_at - std::cmp::min(REFRESH_MARGIN, remaining / 4);
    Some(std::cmp::max(now, std::cmp::min(at_80_percent, latest)))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::next_refresh_at;

    #[test]
    fn a_token_is_refreshed_at_eighty_percent_of_its_lifetime() {
        let now = Utc::now();
        assert_eq!(
            next_refresh_at(now, Some(now + Duration::days(60))),
            Some(now + Duration::days(48))
        );
        assert_eq!(
            next_refresh_at(now, Some(now + Duration::hours(2))),
            Some(now + Duration::minutes(96))
        );
    }

    #[test]
    fn a_short_token_keeps_a_margin_before_expiry() {
        let now = Utc::now();
        // 80 % of 20 minutes is 16, but a quarter of the lifetime (5 minutes) must remain.
        assert_eq!(
            next_refresh_at(now, Some(now + Duration::minutes(20))),
            Some(now + Duration::minutes(15))
        );
    }

    #[test]
    fn an_expired_token_is_due_now_and_one_that_never_expires_is_never_scheduled() {
        let now = Utc::now();
        assert_eq!(
            next_refresh_at(now, Some(now - Duration::minutes(1))),
            Some(now)
        );
        assert_eq!(next_refresh_at(now, None), None);
    }
}
