//! The `Option<Duration>` → kernel timeout conversion shared by the selectors.

use std::time::Duration;

use rustix::event::Timespec;

/// Converts a `poll` timeout to what the kernel is given: `None` blocks forever; `Some(d)` is
/// rounded **up** to whole milliseconds (so 1 ns waits 1 ms rather than spinning) and clamped to
/// `c_int::MAX` ms (about 24.8 days), the largest value `epoll_wait(2)`/`poll(2)` accept.
///
/// Plain integer arithmetic (no `u128`): this runs on every `poll`.
#[inline]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(timeout: Option<Duration>) -> Option<i64> {
        timeout_timespec(timeout).map(|t| t.tv_sec * 1000 + t.tv_nsec / 1_000_000)
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
