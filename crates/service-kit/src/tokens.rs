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

/// The associated data of an instance app's client secret (the app Postbridge registers on a
/// user-chosen server, `Reach::InstanceApp`): bound to its instance, which is the row's natural
/// key (`instance` is unique). The parts name the table the secrets were first sealed in,
/// `mastodon_apps`: they are bytes every stored secret is authenticated with, so they stay
/// whatever the table or the platforms are called (a unit test pins them).
pub fn instance_app_secret_aad(instance: &str) -> Aad {
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

    use secrecy::{ExposeSecret, SecretString};
    use vault::{Aad, KeyConfig, Vault};

    use super::{instance_app_secret_aad, next_refresh_at};

    /// Decodes the hex of a pinned ciphertext.
    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_default())
            .collect()
    }

    #[test]
    fn an_instance_apps_secret_is_bound_to_the_same_associated_data_as_ever() {
        // Pinned: the parts (and so the bytes) of the AAD under which every stored instance
        // app secret was sealed, when the helper was `mastodon_client_secret_aad`. The table
        // name is data here, not a platform branch: changing it would make them undecryptable.
        let instance = "https://mastodon.example";
        assert_eq!(
            instance_app_secret_aad(instance),
            Aad::new("mastodon_apps", instance, "client_secret")
        );

        // A secret sealed before the rename (key k1 = 32 bytes of 0x2a) still opens.
        let vault = Vault::from_config(
            &KeyConfig::parse_list(&SecretString::from(
                "k1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=".to_string(),
            ))
            .expect("a key list"),
        )
        .expect("a vault");
        let sealed = unhex(
            "01026b3174f5021654b322e75e6a26ca1c348215d0505e40f081764bb40c6994db7f2b3f8663f5b873b21ec38169eeb43ce7ad",
        );
        let opened = vault
            .decrypt(&sealed, &instance_app_secret_aad(instance))
            .expect("decrypts under the same AAD");
        assert_eq!(opened.expose_secret(), "instance-app-secret");
        assert!(vault
            .decrypt(&sealed, &instance_app_secret_aad("https://other.example"))
            .is_err());
    }

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
