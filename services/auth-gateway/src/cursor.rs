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

/// Cursors come back from clients: any string must decode or be a 400, never panic, and every
/// cursor we make must decode to what it was made from.
#[cfg(test)]
mod properties {
    use chrono::TimeZone;
    use db::domain::AccountId;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_string_decodes_or_is_a_400(cursor in any::<String>()) {
            if let Err(err) = decode::<AccountId>(&cursor) {
                let is_invalid_cursor = matches!(err, ApiError::BadRequest { code: "invalid_cursor", .. });
                prop_assert!(is_invalid_cursor);
            }
        }

        #[test]
        fn base64_of_anything_decodes_or_is_a_400(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode::<AccountId>(&URL_SAFE_NO_PAD.encode(raw));
        }

        #[test]
        fn every_cursor_we_make_round_trips(
            secs in 946_684_800i64..4_102_444_800,
            nanos in 0u32..1_000_000_000,
            id in any::<u128>(),
        ) {
            let at = Utc.timestamp_opt(secs, nanos).unwrap();
            let id: AccountId = uuid_of(id).parse().unwrap();
            let (back_at, back_id) = decode::<AccountId>(&encode(at, id)).unwrap();
            prop_assert_eq!((back_at, back_id), (at, id));
        }
    }

    fn uuid_of(n: u128) -> String {
        let h = format!("{n:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}
