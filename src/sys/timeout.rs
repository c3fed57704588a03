//! The `Option<Duration>` → kernel timeout conversion shared by the selectors.

use std::time::Duration;

use rustix::event::Timespec;

/// Converts a `poll` timeout to what the kernel is given: `None` blocks forever; `Some(d)` is
/// rounded **up** to whole milliseconds (so 1 ns waits 1 ms rather than spinning) and clamped to
/// `c_int::MAX` ms (about 24.8 days), the largest value `epoll_wait(2)`/`poll(2)` accept.
#[inline]
pub(crate) fn timeout_timespec(timeout: Option<Duration>) -> Option<Timespec> {
    timeout.map(|to| {
        let ms = to
            .checked_add(Duration::from_nanos(999_999))
            .unwrap_or(to)
            .as_millis()
            .min(i32::MAX as u128) as i64;
        Timespec {
            tv_sec: ms / 1000,
            tv_nsec: (ms % 1000) * 1_000_000,
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
        assert_eq!(ms(Some(Duration::MAX)), Some(i32::MAX as i64));
        assert_eq!(
            ms(Some(Duration::from_millis(i32::MAX as u64 + 5))),
            Some(i32::MAX as i64)
        );
    }
}
