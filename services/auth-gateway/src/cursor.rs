//! Opaque keyset cursors for paged lists: `(created_at, id)` of the last item of a page,
//! base64url-encoded so clients treat them as tokens rather than build them.

use std::{fmt::Display, str::FromStr};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};

use crate::error::ApiError;

/// The cursor after the item created at `created_at` with `id`.
pub fn encode(created_at: DateTime<Utc>, id: impl Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", created_at.to_rfc3339()))
}

/// Reads a cursor made by [`encode`]; anything else is a clear 400.
pub fn decode<Id: FromStr>(cursor: &str) -> Result<(DateTime<Utc>, Id), ApiError> {
    let invalid =
        || ApiError::bad_request("invalid_cursor", "`cursor` is not one this API returned");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(raw).map_err(|_| invalid())?;
    let (at, id) = text.split_once('|').ok_or_else(invalid)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| invalid())?
        .with_timezone(&Utc);
    Ok((at, id.parse().map_err(|_| invalid())?))
}

#[cfg(test)]
mod tests {
    use db::domain::AccountId;

    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let at = Utc::now();
        let id = AccountId::new();
        let (back_at, back_id) = decode::<AccountId>(&encode(at, id)).unwrap();
        assert_eq!((back_at, back_id), (at, id));
    }

    #[test]
    fn a_forged_cursor_is_a_clear_400() {
        let err = decode::<AccountId>("not-a-cursor").unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "invalid_cursor",
                ..
            }
        ));
    }
}
