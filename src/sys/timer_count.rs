//! The expiration arithmetic of the timers whose kernel object gives no count (the kqueue
//! knote, whose count goes to the selector's events; Windows' waitable timer; the poll(2)
//! selector's deadlines): a setting is its first expiration and, when periodic, its period;
//! expiration `k` (from 1) is at `first + (k - 1) * period`, counted on the monotonic clock.

use std::time::{Duration, Instant};

/// How many expirations of the setting (`first`, `period`) happened by `now`.
pub(crate) fn expirations(first: Instant, period: Option<Duration>, now: Instant) -> u64 {
    let Some(since) = now.checked_duration_since(first) else {
        return 0;
    };
    match period {
        None => 1,
        Some(period) => {
            let periods = since.as_nanos() / period.as_nanos();
            u64::try_from(periods).unwrap_or(u64::MAX - 1) + 1
        }
    }
}

/// `period * n`, or `None` past `Duration::MAX`.
pub(crate) fn times(period: Duration, n: u64) -> Option<Duration> {
    let nanos = period.as_nanos().checked_mul(u128::from(n))?;
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// Expiration `n + 1` of a periodic setting: `first + n * period`, `None` past what an
/// `Instant` holds.
pub(crate) fn nth(first: Instant, period: Duration, n: u64) -> Option<Instant> {
    first.checked_add(times(period, n)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn counts_on_the_clock() {
        let t0 = Instant::now();
        assert_eq!(expirations(t0 + 10 * MS, None, t0), 0);
        assert_eq!(expirations(t0 + 10 * MS, None, t0 + 10 * MS), 1);
        assert_eq!(expirations(t0 + 10 * MS, None, t0 + 1000 * MS), 1);
        let every = Some(4 * MS);
        assert_eq!(expirations(t0 + 10 * MS, every, t0 + 9 * MS), 0);
        assert_eq!(expirations(t0 + 10 * MS, every, t0 + 10 * MS), 1);
        assert_eq!(expirations(t0 + 10 * MS, every, t0 + 13 * MS), 1);
        assert_eq!(expirations(t0 + 10 * MS, every, t0 + 14 * MS), 2);
        assert_eq!(expirations(t0 + 10 * MS, every, t0 + 50 * MS), 11);
        let ns = Some(Duration::from_nanos(1));
        assert_eq!(
            expirations(t0, ns, t0 + Duration::from_secs(10)),
            10_000_000_001
        );
    }

    #[test]
    fn nth_expiration_and_overflow() {
        let t0 = Instant::now();
        assert_eq!(times(3 * MS, 4), Some(12 * MS));
        assert_eq!(times(Duration::MAX, 2), None);
        assert_eq!(nth(t0, 3 * MS, 4), Some(t0 + 12 * MS));
        // Past 2^32 expirations (a 1 µs period after 72 minutes) still counts.
        let us = Duration::from_micros(1);
        assert_eq!(
            nth(t0, us, 1 << 33),
            Some(t0 + Duration::from_micros(1 << 33))
        );
        assert_eq!(nth(t0, Duration::MAX, 2), None);
    }
}
