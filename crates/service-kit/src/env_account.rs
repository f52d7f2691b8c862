//! `[env_account]`: the deployment's own Facebook Page, configured by token, which every user
//! without a Facebook account of their own sees as a read-only account (`source: "env"`).
//! account-registry keeps its row (sealed token, name and picture from the Graph API); the
//! gateway shows it and decides whether posts may go to it. See `db::env_accounts`.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// `[env_account]`. Every key is optional; without a token there is no env account.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvAccountSettings {
    /// A Facebook Page access token (one that does not expire: a Page token taken with a
    /// long-lived user token). Set it with `POSTBRIDGE__ENV_ACCOUNT__FACEBOOK_PAGE_TOKEN`;
    /// empty = no env account. Never logged (`Debug` shows `[REDACTED]`).
    #[serde(default)]
    pub facebook_page_token: Option<SecretString>,
    /// The Page's id; empty = the Page the token belongs to (asked from Graph's `/me`).
    #[serde(default)]
    pub facebook_page_id: Option<String>,
    /// Whether users may publish to the env account (`false`: `POST /v1/posts` naming it is a
    /// 422 `env_account_publishing_disabled`).
    #[serde(default)]
    pub allow_publishing: bool,
}

impl EnvAccountSettings {
    /// The Page token, when one is configured (an empty value is none).
    pub fn facebook_page_token(&self) -> Option<&SecretString> {
        self.facebook_page_token
            .as_ref()
            .filter(|t| !t.expose_secret().trim().is_empty())
    }

    /// The configured Page id, when one is (an empty value is none).
    pub fn facebook_page_id(&self) -> Option<&str> {
        self.facebook_page_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_token_is_redacted_in_debug_output() {
        let settings = EnvAccountSettings {
            facebook_page_token: Some(SecretString::from("EAAB-page-token-123".to_owned())),
            facebook_page_id: Some("1234".into()),
            allow_publishing: false,
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("EAAB-page-token-123"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
        assert!(settings.facebook_page_token().is_some());
    }

    #[test]
    fn the_section_is_read_from_postbridge_environment_variables() {
        // One process per test under nextest: this variable is seen by this test only.
        std::env::set_var(
            "POSTBRIDGE__ENV_ACCOUNT__FACEBOOK_PAGE_TOKEN",
            "EAAB-from-the-environment",
        );
        std::env::set_var("POSTBRIDGE__ENV_ACCOUNT__FACEBOOK_PAGE_ID", "1234567890");
        std::env::set_var("POSTBRIDGE__ENV_ACCOUNT__ALLOW_PUBLISHING", "true");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let loaded = crate::config::load_from(&root, "development").unwrap();
        let settings: EnvAccountSettings = loaded.section_or_default("env_account").unwrap();
        assert_eq!(
            settings
                .facebook_page_token()
                .map(|t| t.expose_secret().to_owned()),
            Some("EAAB-from-the-environment".to_owned())
        );
        // A numeric id stays the text it was (the loader parses values where it can).
        assert_eq!(settings.facebook_page_id(), Some("1234567890"));
        assert!(settings.allow_publishing);
    }

    #[test]
    fn empty_values_mean_not_configured_and_publishing_is_off_by_default() {
        let settings: EnvAccountSettings = serde_json::from_value(serde_json::json!({
            "facebook_page_token": " ",
            "facebook_page_id": ""
        }))
        .unwrap_or_default();
        assert!(settings.facebook_page_token().is_none());
        assert!(settings.facebook_page_id().is_none());
        assert!(!settings.allow_publishing);
        assert!(!EnvAccountSettings::default().allow_publishing);
    }
}
