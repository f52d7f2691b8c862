//! When a published target's engagement is read: a decaying schedule of offsets from its
//! publication (by default 1 h, 6 h, 24 h, 3 d, 7 d, 30 d), then never again unless asked.
//!
//! The schedule's position is derived from the clock, not counted: after any read the next
//! one is the first offset still ahead. So a fetcher that was down for two days reads a
//! target once, not once per missed round, and an on-demand read before a scheduled one
//! leaves that scheduled one in place.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Duration, Utc};

/// The offsets from publication at which engagement is read, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    offsets: Vec<Duration>,
}

/// Where a read leaves a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Next {
    /// The next read, or `None`: the schedule is over.
    pub due_at: Option<DateTime<Utc>>,
    /// Scheduled reads behind it (the index of the next offset).
    pub round: i32,
}

impl Schedule {
    /// The default: 1 h, 6 h, 24 h, 3 d, 7 d, 30 d.
    pub const DEFAULT: &'static str = "1h,6h,24h,3d,7d,30d";

    /// The first read after publishing (`None`: the schedule is empty, reads on demand only).
    pub fn first(&self) -> Option<Duration> {
        self.offsets.first().copied()
    }

    /// Where a read at `now` leaves a target published at `published_at`: the next offset
    /// still ahead of `now`.
    pub fn after_read(&self, published_at: DateTime<Utc>, now: DateTime<Utc>) -> Next {
        let ahead = self
            .offsets
            .iter()
            .position(|offset| published_at + *offset > now);
        match ahead {
            Some(i) => Next {
                due_at: Some(published_at + self.offsets[i]),
                round: i as i32,
            },
            None => Next {
                due_at: None,
                round: self.offsets.len() as i32,
            },
        }
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Self::DEFAULT.parse().unwrap_or(Self {
            offsets: Vec::new(),
        })
    }
}

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metrics schedule `{0}`: expected ascending durations like `1h,6h,24h,3d` (s, m, h, d)")]
pub struct BadSchedule(String);

impl FromStr for Schedule {
    type Err = BadSchedule;

    /// `"1h,6h,24h,3d,7d,30d"`; `""` is the empty schedule (on demand only).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || BadSchedule(raw.to_owned());
        let offsets = raw
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| duration(part).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        if offsets.windows(2).any(|w| w[0] >= w[1])
            || offsets.iter().any(|d| *d <= Duration::zero())
        {
            return Err(bad());
        }
        Ok(Self { offsets })
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .offsets
            .iter()
            .map(|d| format!("{}s", d.num_seconds()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// `90s`, `15m`, `6h`, `3d`.
fn duration(part: &str) -> Option<Duration> {
    let (number, unit) = part.split_at(part.len().checked_sub(1)?);
    let n: i64 = number.parse().ok()?;
    match unit {
        "s" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(published: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        published + Duration::seconds(secs)
    }

    #[test]
    fn the_default_reads_at_1h_6h_24h_3d_7d_30d_then_stops() {
        let schedule = Schedule::default();
        let p = Utc::now();
        assert_eq!(schedule.first(), Some(Duration::hours(1)));
        let mut now = p;
        let mut reads = Vec::new();
        while let Some(due) = schedule.after_read(p, now).due_at {
            reads.push(due - p);
            now = due;
        }
        assert_eq!(
            reads,
            [
                Duration::hours(1),
                Duration::hours(6),
                Duration::hours(24),
                Duration::days(3),
                Duration::days(7),
                Duration::days(30)
            ]
        );
        assert_eq!(
            schedule.after_read(p, now),
            Next {
                due_at: None,
                round: 6
            }
        );
    }

    #[test]
    fn a_late_read_skips_the_missed_rounds_instead_of_catching_up() {
        let schedule = Schedule::default();
        let p = Utc::now();
        // The fetcher was down for two days: one read, and the next is the 3-day one.
        let next = schedule.after_read(p, at(p, 2 * 86_400));
        assert_eq!(next.due_at, Some(p + Duration::days(3)));
        assert_eq!(next.round, 3);
    }

    #[test]
    fn an_on_demand_read_before_a_scheduled_one_keeps_it() {
        let schedule = Schedule::default();
        let p = Utc::now();
        let next = schedule.after_read(p, at(p, 600));
        assert_eq!(next.due_at, Some(p + Duration::hours(1)));
        assert_eq!(next.round, 0);
    }

    #[test]
    fn a_read_on_the_due_second_moves_to_the_next_round() {
        let schedule: Schedule = "2s,5s".parse().unwrap();
        let p = Utc::now();
        assert_eq!(schedule.after_read(p, at(p, 2)).due_at, Some(at(p, 5)));
        assert_eq!(schedule.after_read(p, at(p, 5)).due_at, None);
    }

    #[test]
    fn schedules_parse_units_and_refuse_nonsense() {
        let s: Schedule = " 90s, 15m ,6h,3d".parse().unwrap();
        assert_eq!(s.to_string(), "90s,900s,21600s,259200s");
        let empty: Schedule = "".parse().unwrap();
        assert_eq!(empty.first(), None);
        for bad in ["1h,1h", "6h,1h", "1w", "h", "-1h", "0s", "1.5h"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad} is refused");
        }
    }
}
