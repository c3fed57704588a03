//! The `timer` extra on Linux, Android and illumos: a timerfd on `CLOCK_MONOTONIC`, registered
//! for readability like any fd (so it works with every selector: epoll, poll(2), and the
//! kqueue selector over libkqueue in the tests).
//!
//! See [timerfd_create(2)](https://man7.org/linux/man-pages/man2/timerfd_create.2.html); on
//! illumos [timerfd_create(3C)](https://illumos.org/man/3C/timerfd_create), the same interface.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::io::Errno;
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
};

use super::duration_timespec;

#[derive(Debug)]
pub(crate) struct Timer {
    fd: OwnedFd,
}

impl Timer {
    /// `timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)`: a disarmed timer.
    pub(crate) fn new() -> io::Result<Timer> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        Ok(Timer { fd })
    }

    /// `timerfd_settime` with a relative first expiration (`first`, never zero: a zero
    /// `it_value` disarms, timerfd_create(2)) and, for a periodic timer, the period. Replaces
    /// the previous setting; expirations not yet read are discarded (read(2) counts them
    /// "since its settings were last modified").
    pub(crate) fn set(&self, first: Duration, period: Option<Duration>) -> io::Result<()> {
        debug_assert!(!first.is_zero());
        let spec = Itimerspec {
            it_value: duration_timespec(first),
            it_interval: duration_timespec(period.unwrap_or(Duration::ZERO)),
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }

    /// A zero `it_value` disarms the timer (timerfd_create(2)).
    pub(crate) fn cancel(&self) -> io::Result<()> {
        let zero = duration_timespec(Duration::ZERO);
        let spec = Itimerspec {
            it_value: zero,
            it_interval: zero,
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        Ok(())
    }

    /// read(2) of the 8-byte expiration count, which resets it; `EAGAIN` (none since the last
    /// read or setting) is `WouldBlock`.
    pub(crate) fn read(&self) -> io::Result<u64> {
        let mut buf = [0u8; 8];
        loop {
            match rustix::io::read(&self.fd, &mut buf) {
                Ok(8) => return Ok(u64::from_ne_bytes(buf)),
                // timerfd_create(2): "read(2) fails with the error EINVAL if the size of the
                // supplied buffer is less than 8 bytes"; it never returns fewer.
                Ok(n) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("timerfd read returned {n} bytes, not 8"),
                    ))
                }
                Err(Errno::INTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }
}

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Timer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
