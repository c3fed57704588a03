//! The `Option<Duration>` → kernel timeout conversion shared by the selectors, and a timer's
//! duration → `timespec` (the `timer` extra).

use std::time::Duration;

use rustix::event::Timespec;

/// Converts a `poll` timeout to what the kernel is given: `None` blocks forever; `Some(d)` is
/// rounded **up** to whole milliseconds (so 1 ns waits 1 ms rather than spinning) and clamped to
/// `c_int::MAX` ms (about 24.8 days), the largest value `epoll_wait(2)`/`poll(2)` accept.
///
/// Plain integer arithmetic (no `u128`): this runs on every `poll`.
#[inline]
#[cfg_attr(mio_kqueue_os, allow(dead_code))] // kqueue: always precise
pub(crate) fn timeout_timespec(timeout: Option<Duration>) -> Option<Timespec> {
    /// `c_int::MAX` milliseconds.
    const MAX_SECS: u64 = i32::MAX as u64 / 1000;
    const MAX_MS_REMAINDER: u32 = i32::MAX as u32 % 1000;
    timeout.map(|to| {
        let mut secs = to.as_secs();
        // Below 2^32: `subsec_nanos` is under 10^9.
        let mut ms = (to.subsec_nanos() + 999_999) / 1_000_000;
        if ms == 1000 {
            secs = secs.saturating_add(1);
            ms = 0;
        }
        if secs > MAX_SECS || (secs == MAX_SECS && ms > MAX_MS_REMAINDER) {
            secs = MAX_SECS;
            ms = MAX_MS_REMAINDER;
        }
        Timespec {
            tv_sec: secs as i64,
            tv_nsec: i64::from(ms) * 1_000_000,
        }
    })
}

/// Converts a `poll` timeout at the precision asked (nanoseconds), for the calls that take a
/// `timespec` (ppoll(2), kevent(2)): `None` blocks forever; values from `c_int::MAX` ms up are
/// clamped there as [`timeout_timespec`] does, so every backend caps at the same 24.8 days.
#[inline]
#[cfg_attr(
    all(mio_epoll_os, not(mio_unsupported_force_poll_poll)),
    allow(dead_code)
)] // epoll: own path
pub(crate) fn timeout_timespec_precise(timeout: Option<Duration>) -> Option<Timespec> {
    const MAX_SECS: u64 = i32::MAX as u64 / 1000;
    timeout.map(|to| {
        if to.as_secs() >= MAX_SECS {
            return timeout_timespec(Some(to)).unwrap_or(Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
        }
        Timespec {
            tv_sec: to.as_secs() as i64,
            tv_nsec: i64::from(to.subsec_nanos()),
        }
    })
}

/// A timer's duration as a `timespec` at full precision, saturating at `i64::MAX` seconds
/// (some 292 billion years: such a timer never fires).
#[cfg(mio_timer_timerfd)]
#[inline]
pub(crate) fn duration_timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(timeout: Option<Duration>) -> Option<i64> {
        timeout_timespec(timeout).map(|t| t.tv_sec * 1000 + t.tv_nsec / 1_000_000)
    }

    #[test]
    fn precise_keeps_nanoseconds_and_clamps() {
        let ns = |t: Option<Duration>| {
            timeout_timespec_precise(t)
                .map(|t| t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128)
        };
        assert_eq!(ns(None), None);
        assert_eq!(ns(Some(Duration::ZERO)), Some(0));
        assert_eq!(ns(Some(Duration::from_nanos(1))), Some(1));
        assert_eq!(ns(Some(Duration::from_micros(100))), Some(100_000));
        assert_eq!(ns(Some(Duration::new(3, 7))), Some(3_000_000_007));
        assert_eq!(ns(Some(Duration::MAX)), Some(i32::MAX as i128 * 1_000_000));
    }

    #[test]
    fn rounds_up_and_clamps() {
        assert_eq!(ms(None), None);
        assert_eq!(ms(Some(Duration::ZERO)), Some(0));
        assert_eq!(ms(Some(Duration::from_nanos(1))), Some(1));
        assert_eq!(ms(Some(Duration::from_micros(1500))), Some(2));
        assert_eq!(ms(Some(Duration::from_millis(7))), Some(7));
        assert_eq!(ms(Some(Duration::from_secs(3))), Some(3000));
        assert_eq!(ms(Some(Duration::new(1, 999_999_999))), Some(2000));
        assert_eq!(ms(Some(Duration::new(0, 1_000_001))), Some(2));
        assert_eq!(ms(Some(Duration::MAX)), Some(i32::MAX as i64));
        assert_eq!(
            ms(Some(Duration::from_millis(i32::MAX as u64 + 5))),
            Some(i32::MAX as i64)
        );
    }
}
