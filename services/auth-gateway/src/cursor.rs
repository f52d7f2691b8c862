//! Keyset pagination shared by every list (`GET /v1/accounts`, `/v1/posts`, `/v1/drafts`).
//!
//! A cursor is the `(timestamp, id)` of the last item of a page, base64url-encoded so clients
//! treat it as a token rather than build one. [`PageRequest`] turns `cursor` and `limit` into
//! what a query needs, and cuts the fetched rows into a page and the next cursor, so the three
//! lists cannot drift apart in their defaults, bounds or cursor format.

use std::{fmt::Display, str::FromStr};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};

use crate::error::ApiError;

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 50;

/// Largest page of any list; a larger `limit` is clamped to it.
pub const MAX_LIMIT: i64 = 100;

/// A list request: where the page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRequest<Id> {
    /// The key of the last item of the previous page; `None` for the first page.
    pub position: Option<(DateTime<Utc>, Id)>,
    /// Items per page, 1 to [`MAX_LIMIT`].
    pub limit: i64,
}

impl<Id: FromStr> PageRequest<Id> {
    /// Reads `cursor` (a malformed one is a 400 `invalid_cursor`) and clamps `limit`.
    pub fn new(cursor: Option<&str>, limit: Option<i64>) -> Result<Self, ApiError> {
        Ok(Self {
            position: cursor.map(decode).transpose()?,
            limit: limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        })
    }
}

impl<Id> PageRequest<Id> {
    /// How many rows to fetch: one more than the page, to learn whether another follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts `rows` (at most [`PageRequest::fetch`] of them, in list order) to the page, and
    /// makes the cursor of the next page from the last kept row's `key`, if more follow.
    pub fn page<T, K: Display>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (DateTime<Utc>, K),
    ) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() <= limit {
            return (rows, None);
        }
        rows.truncate(limit);
        let next = rows.last().map(|row| {
            let (at, id) = key(row);
            encode(at, id)
        });
        (rows, next)
    }
}

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
    fn a_page_request_clamps_the_limit_and_defaults_to_fifty() {
        let page = |limit| PageRequest::<AccountId>::new(None, limit).unwrap().limit;
        assert_eq!(page(None), DEFAULT_LIMIT);
        assert_eq!(page(Some(0)), 1);
        assert_eq!(page(Some(-5)), 1);
        assert_eq!(page(Some(1_000)), MAX_LIMIT);
        assert_eq!(page(Some(7)), 7);
    }

    #[test]
    fn a_full_page_has_the_next_cursor_of_its_last_item_and_a_short_page_has_none() {
        let at = Utc::now();
        let ids: Vec<AccountId> = (0..4).map(|_| AccountId::new()).collect();
        let request = PageRequest::<AccountId>::new(None, Some(3)).unwrap();
        assert_eq!(request.fetch(), 4);

        let (items, next) = request.page(ids.clone(), |id| (at, *id));
        assert_eq!(items, ids[..3]);
        let next = next.expect("a fourth row means another page follows");
        assert_eq!(decode::<AccountId>(&next).unwrap(), (at, ids[2]));
        let following = PageRequest::<AccountId>::new(Some(&next), Some(3)).unwrap();
        assert_eq!(following.position, Some((at, ids[2])));

        let (items, next) = request.page(ids[..3].to_vec(), |id| (at, *id));
        assert_eq!((items.len(), next), (3, None));
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
