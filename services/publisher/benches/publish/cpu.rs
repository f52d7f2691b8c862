//! CPU time per process over a benchmark phase, from `/proc/<pid>/stat`: where a burst's time
//! goes (the publisher, PostgreSQL, RabbitMQ, and this process, which runs platform-sim).
//! PostgreSQL and RabbitMQ are shared with whatever else runs on the machine, so their share is
//! an upper bound on a loaded machine.

use std::fmt;

/// Clock ticks per second of `/proc/<pid>/stat` (`_SC_CLK_TCK`, 100 on Linux).
const TICKS: f64 = 100.0;

/// CPU ticks (user + system, and reaped children for PostgreSQL's exited backends).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    publisher: u64,
    postgres: u64,
    rabbitmq: u64,
    bench: u64,
}

/// utime + stime (+ cutime + cstime with `children`) of `pid`.
fn ticks(pid: &str, children: bool) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name may hold spaces; the fields after it are space-separated.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0;
    };
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // After ")": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let own = fields.get(11).unwrap_or(&0) + fields.get(12).unwrap_or(&0);
    if children {
        own + fields.get(13).unwrap_or(&0) + fields.get(14).unwrap_or(&0)
    } else {
        own
    }
}

/// Ticks summed over the processes named `name` (`/proc/<pid>/comm`).
fn named(name: &str, children: bool) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == name)
        })
        .map(|pid| ticks(&pid, children))
        .sum()
}

impl Usage {
    /// The counters now; `publisher` is the publisher's pid.
    pub fn now(publisher: u32) -> Self {
        Self {
            publisher: ticks(&publisher.to_string(), false),
            postgres: named("postgres", true),
            rabbitmq: named("beam.smp", false),
            bench: ticks("self", false),
        }
    }

    /// What was used since `before`.
    pub fn since(&self, before: &Self) -> Self {
        Self {
            publisher: self.publisher.saturating_sub(before.publisher),
            postgres: self.postgres.saturating_sub(before.postgres),
            rabbitmq: self.rabbitmq.saturating_sub(before.rabbitmq),
            bench: self.bench.saturating_sub(before.bench),
        }
    }

    /// Per `n` units of work, in milliseconds, for printing.
    pub fn per(&self, n: usize) -> PerUnit {
        PerUnit(*self, n.max(1))
    }
}

/// [`Usage`] in CPU milliseconds per unit of work.
pub struct PerUnit(Usage, usize);

impl fmt::Display for PerUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |ticks: u64| ticks as f64 * 1000.0 / TICKS / self.1 as f64;
        let u = &self.0;
        write!(
            f,
            "publisher={:.3} postgres={:.3} rabbitmq={:.3} platform_sim+bench={:.3} total={:.3}",
            ms(u.publisher),
            ms(u.postgres),
            ms(u.rabbitmq),
            ms(u.bench),
            ms(u.publisher + u.postgres + u.rabbitmq + u.bench)
        )
    }
}
