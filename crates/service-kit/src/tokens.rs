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
