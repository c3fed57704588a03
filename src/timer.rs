//! Timers as event sources: an extra of this crate, not in upstream mio (feature `timer`).
//!
//! A [`Timer`] is registered with a [`Poll`](crate::Poll) under a [`Token`](crate::Token)
//! like a socket, and becomes readable when it expires. It replaces the usual way of keeping
//! timers with mio (a timer wheel beside the loop, its earliest deadline passed as `poll`'s
//! timeout) when the deadlines are few, must be precise (the kernel wakes the loop, to the
//! nanosecond where the OS allows), or are set from other threads.
//!
//! # Platforms
//!
//! | Target | Mechanism |
//! |---|---|
//! | Linux, Android | timerfd on `CLOCK_MONOTONIC`, with every selector (epoll, and poll(2) under `--cfg mio_unsupported_force_poll_poll`) |
//! | illumos | timerfd (same interface; compile-checked, not run by this crate's CI) |
//! | macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD, DragonFly | an `EVFILT_TIMER` knote on the `Poll`'s own kqueue (no fd of its own), in nanoseconds on Apple's systems and FreeBSD, in milliseconds (rounded up) on NetBSD, OpenBSD and DragonFly; the expirations are counted on the monotonic clock the knote runs on. Compile-checked for the real kernels, run in CI on Linux over libkqueue (`--cfg mio_unsupported_test_libkqueue`) |
//! | Windows | a manual-reset waitable timer (high-resolution where the system has it: Windows 10 1803 and later), its expiration posted to the `Poll`'s completion port by a thread-pool wait; tested under Wine |
//! | Solaris, Haiku, the other Unixes of the poll(2) selector, the kqueue family under `--cfg mio_unsupported_force_poll_poll`, Hermit, WASI | deadlines kept by the poll(2) selector itself (no fd: the earliest deadline bounds its wait, and each expiration is reported as a readable event), at poll(2)'s precision (nanoseconds with ppoll(2), else milliseconds rounded up). Compile-checked for those targets, run in CI on Linux's poll(2) selector (`--cfg mio_unsupported_force_poll_poll --cfg mio_unsupported_test_timer_deadline`). Each `poll` looks at every registered timer: meant for a loop's few precise deadlines, not thousands |
//!
//! On the kqueue family the timer has no fd (no `AsRawFd`), and a periodic timer's knote is
//! kernel-periodic only when armed at one of its expirations: after
//! [`set_interval_after`](Timer::set_interval_after) with a first expiration other than the
//! period, or a (re)registration between expirations, the next expiration is reported by a
//! one-shot knote, and the [`read`](Timer::read) that follows it arms the periodic one (so
//! the periodic events resume with that read; the counts are exact either way).
//!
//! Enabling the feature on a target without a timer compiles, without this module.

use std::io;
use std::time::{Duration, Instant};

#[cfg(mio_timer_timerfd)]
use crate::io_source::IoSource;
use crate::sys;

/// A one-shot or periodic timer that is readable when it expired.
///
/// Created disarmed. [`set_timeout`](Timer::set_timeout) and
/// [`set_deadline`](Timer::set_deadline) arm it to expire once,
/// [`set_interval`](Timer::set_interval) to expire periodically, [`cancel`](Timer::cancel)
/// disarms it; each replaces the previous setting and discards the expirations not yet read,
/// and each works while the timer is registered (from any thread: every method takes `&self`).
///
/// Registered with [`Interest::READABLE`](crate::Interest::READABLE) (other interests never
/// fire), it reports a readable event when it expires. The event is edge-triggered, and one
/// successful [`read`](Timer::read) drains the timer (it returns how many expirations
/// happened since the last read or setting: more than one when a periodic timer's periods
/// passed unread), so the next expiration is a new event; reading again until `WouldBlock` is
/// not needed (a `read` after a spurious event returns `WouldBlock`).
///
/// Dropping the timer (registered or not) deregisters and closes it.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::time::{Duration, Instant};
/// use mio::timer::Timer;
/// use mio::{Events, Interest, Poll, Token};
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// let mut timer = Timer::new()?;
/// poll.registry().register(&mut timer, Token(7), Interest::READABLE)?;
///
/// let start = Instant::now();
/// timer.set_timeout(Duration::from_millis(10))?;
/// let expirations = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     if events.iter().any(|e| e.token() == Token(7)) {
///         match timer.read() {
///             Ok(n) => break n,
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///             Err(e) => return Err(e),
///         }
///     }
/// };
/// assert_eq!(expirations, 1);
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Timer {
    #[cfg(mio_timer_timerfd)]
    inner: IoSource<sys::Timer>,
    // Elsewhere no `IoSource`: an `EVFILT_TIMER` knote (src/sys/unix/timer_kqueue.rs), a
    // waitable timer whose waits are posted to the port (src/sys/windows/timer.rs), deadlines
    // the poll(2) selector keeps (src/sys/timer_deadline.rs); each is its own `event::Source`.
    #[cfg(not(mio_timer_timerfd))]
    inner: sys::Timer,
}

impl Timer {
    /// Creates a disarmed timer.
    ///
    /// # Errors
    ///
    /// Whatever the OS answers, e.g. out of file descriptors.
    pub fn new() -> io::Result<Timer> {
        #[cfg(mio_timer_timerfd)]
        return sys::Timer::new().map(|timer| Timer {
            inner: IoSource::new(timer),
        });
        #[cfg(not(mio_timer_timerfd))]
        return sys::Timer::new().map(|inner| Timer { inner });
    }

    /// Arms the timer to expire once, `after` from now. Zero expires at once (as soon as the
    /// kernel gets to it).
    pub fn set_timeout(&self, after: Duration) -> io::Result<()> {
        self.set(after, None)
    }

    /// Arms the timer to expire once, at `deadline` (at once if it has passed). Measured on the
    /// monotonic clock, as `Instant` is.
    pub fn set_deadline(&self, deadline: Instant) -> io::Result<()> {
        self.set(deadline.saturating_duration_since(Instant::now()), None)
    }

    /// Arms the timer to expire every `period`, the first time `period` from now.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `period` is zero.
    pub fn set_interval(&self, period: Duration) -> io::Result<()> {
        self.set_interval_after(period, period)
    }

    /// Arms the timer to expire `first` from now (at once if zero), then every `period`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `period` is zero.
    pub fn set_interval_after(&self, first: Duration, period: Duration) -> io::Result<()> {
        if period.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a periodic timer needs a period greater than zero",
            ));
        }
        self.set(first, Some(period))
    }

    /// Disarms the timer and discards the expirations not yet read: no event comes until it is
    /// set again. Cancelling a disarmed timer does nothing.
    pub fn cancel(&self) -> io::Result<()> {
        self.inner.cancel()
    }

    /// The number of expirations since the last read or setting (at least 1), or an error of
    /// kind `WouldBlock` if there was none. Drains the timer either way.
    pub fn read(&self) -> io::Result<u64> {
        #[cfg(mio_timer_timerfd)]
        {
            let expirations = self.inner.do_read(|timer| timer.read())?;
            // One read returns every expiration and zeroes the count (timerfd_create(2)): the
            // timer is drained as after a `WouldBlock`, so the next expiration must be reported.
            self.inner.rearm_read();
            Ok(expirations)
        }
        // The count is computed from the setting (src/sys/unix/timer_kqueue.rs,
        // src/sys/windows/timer.rs, src/sys/timer_deadline.rs); a periodic timer's next period
        // is armed there.
        #[cfg(not(mio_timer_timerfd))]
        self.inner.read()
    }

    fn set(&self, first: Duration, period: Option<Duration>) -> io::Result<()> {
        // A zero first expiration means "disarm" to the OS: the shortest wait instead.
        let first = first.max(Duration::from_nanos(1));
        self.inner.set(first, period)?;
        // The expirations not yet read are gone: on a selector that emulates edge triggering,
        // a reported-but-unread expiration must not keep the next one from being reported.
        #[cfg(mio_timer_timerfd)]
        self.inner.rearm_read();
        Ok(())
    }
}

// `event::Source` through the `IoSource` (or the kqueue timer's own), and with a timerfd
// `AsRawFd`/`AsFd` (inspect or pass it, but reading or setting it directly bypasses the poll(2)
// selector's bookkeeping).
#[cfg(unix)]
impl_io_source_traits!(@source Timer);
#[cfg(mio_timer_timerfd)]
impl_io_source_traits!(@borrow Timer);

#[cfg(windows)]
impl_io_source_traits!(@wait Timer);

#[cfg(windows)]
impl_io_source_traits!(@handle
    /// The waitable timer's handle: inspect or pass it, but setting it directly bypasses the
    /// setting this type keeps (the expiration count).
    Timer
);
