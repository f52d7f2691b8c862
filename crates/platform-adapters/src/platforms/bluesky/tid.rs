//! Record keys of Bluesky posts: TIDs (<https://atproto.com/specs/tid>, record-key type `tid` of
//! <https://atproto.com/specs/record-key>) made from the target rather than from the clock.
//!
//! A TID is a 64-bit integer written as 13 base32-sortable characters: the top bit 0, then 53
//! bits of microseconds since the Unix epoch, then a 10-bit clock id. Clients make them from the
//! current time, so a repository's keys sort in creation order, which is the order
//! `com.atproto.repo.listRecords` answers in and the time tools read out of a key.
//!
//! Ours are made from the *target* (one post on one account): the time is when the target was
//! created, the clock id a hash of its id. Every attempt of a target therefore writes the same
//! key, and the PDS refuses a second record there: that is what makes a retried publish
//! idempotent (see `publish_post` in the adapter). The keys still sort like the posts were made.
//! A key that another post already holds is not ours: the target then moves to the next key of
//! a fixed sequence ([`record_keys`]), the same on every attempt.
//!
//! Two targets get one key only if they belong to one account (one repository), were created in
//! the same microsecond, and their ids hash to the same of 1,024 clock ids. Targets are created
//! one post per transaction with `now()`, the transaction's start, so two posts of one account
//! share a microsecond only when two transactions start in it at once. A clock-based client (the
//! Bluesky app, the PDS) makes keys of the moment it posts, and a target is created before it is
//! published, so theirs and ours meet only if a post of theirs lands in the microsecond our
//! target was created and draws our clock id.

use chrono::{DateTime, Utc};

/// The base32-sortable alphabet of TIDs: digits `2`–`7`, then `a`–`z`, in ascending order so
/// that string order is numeric order.
const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID's length in characters.
const LEN: usize = 13;

/// Bits of the clock id, below the timestamp.
const CLOCK_ID_BITS: u32 = 10;

/// The largest timestamp a TID holds: 53 bits of microseconds (the year 2255).
const MAX_MICROS: i64 = (1 << 53) - 1;

/// How many keys [`record_keys`] offers a target: its own and the next three. A target needs the
/// second only when another post holds the first (1 in 1,024 for two targets of one account
/// created in the same microsecond); running out takes four other posts of that microsecond on
/// exactly those four clock ids, so it is refused rather than searched further.
pub const PROBES: u16 = 4;

/// The record key of the target created at `created_at` whose id is `idempotency_key`: the
/// TID of that microsecond with the clock id [`clock_id`] of the id. It is the first of
/// [`record_keys`], the only one a target uses unless another post holds it.
///
/// Changing this function changes the key of posts still being retried, which could post them
/// twice: a contract test pins its output.
pub fn record_key(created_at: DateTime<Utc>, idempotency_key: &str) -> String {
    tid(created_at, clock_id(idempotency_key))
}

/// The keys a target may be written at, in the order they are tried: [`record_key`], then the
/// same microsecond with the clock id plus 1, 2, … ([`PROBES`] in all; the clock id wraps
/// within 0..1024, so every key still dates from the target's creation). The sequence depends
/// on the target alone, so every attempt of a publish, and every lookup, walks the same keys:
/// a post moved off a taken key is found again at the key it moved to.
///
/// Changing the sequence changes where collided posts still being retried land: a contract
/// test pins it.
pub fn record_keys(
    created_at: DateTime<Utc>,
    idempotency_key: &str,
) -> impl Iterator<Item = String> {
    let first = clock_id(idempotency_key);
    (0..PROBES).map(move |step| tid(created_at, (first + step) % (1 << CLOCK_ID_BITS)))
}

/// The TID of `created_at` (clamped to the 53 bits) with clock id `clock`.
fn tid(created_at: DateTime<Utc>, clock: u16) -> String {
    let micros = created_at.timestamp_micros().clamp(0, MAX_MICROS);
    // `micros` is within 0..2^53 after the clamp, so the cast keeps it and the top bit stays 0.
    let micros = micros as u64;
    encode((micros << CLOCK_ID_BITS) | u64::from(clock))
}

/// The 10-bit clock id of a target: its id, trimmed and lowercased (a UUID prints either way),
/// hashed with 64-bit FNV-1a and the SplitMix64 finalizer, low 10 bits. Both are written out
/// here because the standard library's hasher may change between Rust releases, and a hash that
/// changed between two attempts of one post would post it twice.
pub fn clock_id(idempotency_key: &str) -> u16 {
    let canonical = idempotency_key.trim().to_ascii_lowercase();
    let hash = splitmix64_finalize(fnv1a64(canonical.as_bytes()));
    (hash & ((1 << CLOCK_ID_BITS) - 1)) as u16
}

/// Whether `candidate` is a syntactically valid TID: 13 characters of the base32-sortable
/// alphabet, the first one from `2`–`7` or `a`–`j` (the spec's syntax).
pub fn is_valid_tid(candidate: &str) -> bool {
    let bytes = candidate.as_bytes();
    bytes.len() == LEN
        && bytes.iter().all(|b| ALPHABET.contains(b))
        && ALPHABET[..16].contains(&bytes[0])
}

/// The time and clock id a TID carries, if it is one.
pub fn decode(tid: &str) -> Option<(DateTime<Utc>, u16)> {
    if !is_valid_tid(tid) {
        return None;
    }
    let value = tid.bytes().try_fold(0u64, |acc, b| {
        let digit = ALPHABET.iter().position(|a| *a == b)?;
        Some((acc << 5) | digit as u64)
    })?;
    let micros = i64::try_from(value >> CLOCK_ID_BITS).ok()?;
    let clock = (value & ((1 << CLOCK_ID_BITS) - 1)) as u16;
    Some((DateTime::from_timestamp_micros(micros)?, clock))
}

fn encode(value: u64) -> String {
    // 13 characters of 5 bits each cover 65 bits; the first character holds the top 4.
    (0..LEN)
        .rev()
        .map(|i| char::from(ALPHABET[((value >> (i * 5)) & 0x1f) as usize]))
        .collect()
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Spreads every input bit over the whole output, so the low bits kept as the clock id depend
/// on the whole id.
fn splitmix64_finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    const KEY: &str = "0b7c6a3e-5f1d-4c2b-9a8e-7d6f5e4c3b2a";

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }

    #[test]
    fn a_key_decodes_to_its_creation_microsecond_and_clock_id() {
        let created = at(1_764_750_896_123_456);
        let rkey = record_key(created, KEY);
        assert!(is_valid_tid(&rkey), "{rkey}");
        assert_eq!(decode(&rkey), Some((created, clock_id(KEY))));
    }

    #[test]
    fn the_spec_example_decodes_to_its_time() {
        // atproto.com/specs/tid lists 3jzfcijpj2z2a as a valid TID; it dates from 2023.
        let (time, _) = decode("3jzfcijpj2z2a").unwrap_or_default();
        assert_eq!(time.format("%Y").to_string(), "2023");
    }

    #[test]
    fn the_clock_id_ignores_case_and_surrounding_space_of_the_id() {
        assert_eq!(
            clock_id(KEY),
            clock_id(&format!(" {} ", KEY.to_uppercase()))
        );
        assert!(clock_id(KEY) < 1024);
    }

    #[test]
    fn keys_sort_like_creation_times_whatever_the_ids() {
        let base = at(1_764_750_896_000_000);
        let keys: Vec<String> = (0..500)
            .map(|i| {
                record_key(
                    base + Duration::microseconds(i),
                    &format!("00000000-0000-4000-8000-{:012x}", 499 - i),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
    }

    #[test]
    fn clock_ids_spread_over_all_1024_values() {
        let mut seen = vec![false; 1024];
        for i in 0..20_000 {
            seen[usize::from(clock_id(&format!("00000000-0000-4000-8000-{i:012x}")))] = true;
        }
        assert!(seen.iter().all(|s| *s), "every clock id is drawn");
    }

    #[test]
    fn times_outside_the_53_bits_are_clamped_to_valid_tids() {
        for time in [
            at(-1),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            at(MAX_MICROS),
        ] {
            let rkey = record_key(time, KEY);
            assert!(is_valid_tid(&rkey), "{time} gave {rkey}");
        }
        assert_eq!(decode(&record_key(at(-5), KEY)).map(|d| d.0), Some(at(0)));
    }

    #[test]
    fn the_probed_keys_start_at_the_record_key_and_step_the_clock_id_in_the_same_microsecond() {
        let created = at(1_764_750_896_123_456);
        let keys: Vec<String> = record_keys(created, KEY).collect();
        assert_eq!(keys.len(), usize::from(PROBES));
        assert_eq!(keys[0], record_key(created, KEY));
        for (step, key) in (0u16..).zip(&keys) {
            assert_eq!(
                decode(key),
                Some((created, (clock_id(KEY) + step) % 1024)),
                "{key}"
            );
        }
    }

    #[test]
    fn the_probed_clock_ids_wrap_within_the_microsecond() {
        let created = at(1_764_750_896_123_456);
        let key = (0..20_000)
            .map(|i| format!("00000000-0000-4000-8000-{i:012x}"))
            .find(|id| clock_id(id) == 1023)
            .unwrap_or_default();
        let clocks: Vec<Option<(DateTime<Utc>, u16)>> =
            record_keys(created, &key).map(|k| decode(&k)).collect();
        assert_eq!(clocks[0], Some((created, 1023)));
        assert_eq!(clocks[1], Some((created, 0)));
    }

    #[test]
    fn only_13_base32_sortable_characters_with_a_low_first_one_are_tids() {
        assert!(is_valid_tid("3jzfcijpj2z2a"));
        assert!(!is_valid_tid("kjzfcijpj2z2a"));
        assert!(!is_valid_tid("3jzfcijpj2z2"));
        assert!(!is_valid_tid("3jzfcijpj2z21"));
        assert_eq!(decode("3jzfcijpj2z21"), None);
    }
}
