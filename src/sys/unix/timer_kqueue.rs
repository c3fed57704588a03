//! The `timer` extra on the kqueue family (macOS, iOS, tvOS, visionOS, watchOS, FreeBSD,
//! NetBSD, OpenBSD, DragonFly), with the kqueue selector: an `EVFILT_TIMER` knote on the
//! `Poll`'s own queue. All references are to kqueue(2) (FreeBSD's unless named otherwise).
//!
//! # Model
//!
//! EVFILT_TIMER "establishes an arbitrary timer identified by ident. When adding a timer,
//! data specifies the moment to fire the timer ... The timer will be periodic unless
//! EV_ONESHOT is specified. On return, data contains the number of times the timeout has
//! expired since the last call to kevent()". The knote is added to the queue of the `Poll`
//! the timer is registered with (not to a private queue registered with it: a queue's fd is
//! one more fd per timer, and libkqueue's never polls readable, see `libkqueue.rs`), with the
//! token in `udata` as every registration of the selector. Idents are a namespace of the
//! filter, per queue; each timer takes a process-wide unique one (`kqueue::next_timer_ident`).
//!
//! The selector's events carry the token, not the kernel's count, so the timer keeps its
//! setting in user space (the first expiration as an `Instant`, the period, the expirations
//! already read) and [`Timer::read`] counts the expirations on the monotonic clock, which is
//! the clock the knote runs on: `Instant` is `CLOCK_UPTIME_RAW` (mach absolute time) on
//! Apple's systems, whose EVFILT_TIMER counts mach absolute time unless `NOTE_MACH_CONTINUOUS_TIME`
//! (Apple's kqueue(2)); `CLOCK_MONOTONIC` on the BSDs, whose timer callouts run on the
//! uptime clock (`sbinuptime`, FreeBSD's `filt_timerattach` in sys/kern/kern_event.c);
//! `CLOCK_MONOTONIC` on Linux, the clock of libkqueue's timerfd (`evfilt_timer_knote_create`
//! in src/linux/timer.c). The `Instant` of a setting is read *before* the `kevent` call that
//! arms the knote, and a timer never fires before its time, so when the event arrives the
//! clock is past the expiration and `read` counts it.
//!
//! # Knotes
//!
//! - A one-shot setting, or the next expiration of a periodic one that is not where a kernel
//!   period would put it: an `EV_ONESHOT` knote for the time left. When the setting is
//!   periodic, the `read` that finds that knote's time passed re-arms the knote (see
//!   [`plan`]); so does a `read` that finds it fired early (a time longer than the kernel's
//!   `data` holds is armed at the largest it holds).
//! - A periodic setting armed at one of its expirations (set, or re-armed by the `read` just
//!   after one): a periodic knote (`EV_CLEAR`, the kernel's default), whose period is the
//!   setting's (rounded up to the kernel's unit). Its events may lag the user-space
//!   expirations by the time the re-arm took (at most [`slack`]), never come before them, and
//!   each one has at least one expiration to read.
//!
//! Every arm is one `kevent` call: `EV_DELETE` (an `ENOENT` is only "no knote yet") then
//! `EV_ADD`, so the new knote's flags and time are its own (re-adding an existing knote
//! "will modify the parameters of the original event", which on some kernels keeps the
//! original `EV_ONESHOT`) and no pending event of the old setting survives. `cancel` and
//! `deregister` delete it.
//!
//! # Units
//!
//! "If fflags is not set, the default is milliseconds"; FreeBSD 11+ and Apple's systems have
//! `NOTE_NSECONDS`, `NOTE_USECONDS` and `NOTE_SECONDS` (see `kqueue::timer_fflags`), so the
//! finest unit whose count fits the knote's `data` (an `intptr_t`) is used there: nanoseconds
//! on 64-bit targets. NetBSD, OpenBSD and DragonFly use milliseconds, rounded up (a timer
//! never expires early): sub-millisecond timers expire after a millisecond there.

use std::time::{Duration, Instant};

use crate::sys::timer_count;

/// A unit of an `EVFILT_TIMER` knote's `data`.
// Only milliseconds are submitted on NetBSD, OpenBSD and DragonFly (`kqueue::TIMER_UNITS`).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Nanos,
    Micros,
    Millis,
    Seconds,
}

impl Unit {
    fn nanos(self) -> u128 {
        match self {
            Unit::Nanos => 1,
            Unit::Micros => 1_000,
            Unit::Millis => 1_000_000,
            Unit::Seconds => 1_000_000_000,
        }
    }
}

/// A knote's time: `data` in `unit`, and the duration it stands for (`d` rounded up to the
/// unit, or, if no unit of `units` (finest first) holds `d` in `max`, the largest time the
/// coarsest does: the knote then fires early, which `read` notices and re-arms).
pub(crate) fn kernel_time(d: Duration, units: &[Unit], max: i64) -> (Unit, i64, Duration) {
    let nanos = d.as_nanos();
    let max = max.max(1) as u128;
    for &unit in units {
        let count = nanos.saturating_add(unit.nanos() - 1) / unit.nanos();
        let count = count.max(1);
        if count <= max {
            return (unit, count as i64, from_nanos(count * unit.nanos()));
        }
    }
    let unit = *units.last().expect("at least one unit");
    (unit, max as i64, from_nanos(max * unit.nanos()))
}

fn from_nanos(nanos: u128) -> Duration {
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

/// A setting: the first expiration, the period if periodic, and how many expirations `read`
/// already returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) first: Instant,
    pub(crate) period: Option<Duration>,
    pub(crate) counted: u64,
}

impl Setting {
    /// How many expirations happened up to `now` (counting the read ones).
    pub(crate) fn expirations(&self, now: Instant) -> u64 {
        timer_count::expirations(self.first, self.period, now)
    }

    /// The expirations since the last read (0: none), counted as read.
    pub(crate) fn read(&mut self, now: Instant) -> u64 {
        let total = self.expirations(now);
        let new = total.saturating_sub(self.counted);
        self.counted = self.counted.max(total);
        new
    }

    /// When the first expiration not read yet happens (or happened); `None` if there will be
    /// none (a one-shot setting read already).
    pub(crate) fn next(&self) -> Option<Instant> {
        match self.period {
            None if self.counted > 0 => None,
            None => Some(self.first),
            Some(period) => timer_count::nth(self.first, period, self.counted),
        }
    }
}

/// How much later than the user-space expirations a periodic knote's events may come: a
/// quarter of the period, at most a millisecond. A re-arm later than that after an
/// expiration arms the next one as a one-shot knote instead.
pub(crate) fn slack(period: Duration) -> Duration {
    (period / 4).min(Duration::from_millis(1))
}

/// The knote to arm at `start` (read just before the `kevent` call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// No expiration to come: no knote.
    Nothing,
    /// An `EV_ONESHOT` knote firing after this (never zero: "at once" is the shortest time).
    Once(Duration),
    /// A periodic knote of this period, which fires first at `start + period`.
    Periodic(Duration),
}

/// The knote for `setting` at `start`: periodic when the next expiration is one period
/// after `start` (within [`slack`], never later: the kernel's first event must not come
/// before it) and the period fits the kernel's `data` (`period_fits`); a one-shot knote for
/// the next expiration otherwise.
pub(crate) fn plan(setting: Option<&Setting>, start: Instant, period_fits: bool) -> Plan {
    let Some(next) = setting.and_then(Setting::next) else {
        return Plan::Nothing;
    };
    if let Some(period) = setting.and_then(|s| s.period) {
        if let Some(kernel_first) = start.checked_add(period) {
            if period_fits
                && next <= kernel_first
                && kernel_first.duration_since(next) <= slack(period)
            {
                return Plan::Periodic(period);
            }
        }
    }
    let left = next.saturating_duration_since(start);
    Plan::Once(left.max(Duration::from_nanos(1)))
}

#[cfg(all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)))]
pub(crate) use self::os::Timer;

#[cfg(all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)))]
mod os {
    use std::io;
    use std::sync::{Mutex, MutexGuard};
    use std::time::{Duration, Instant};

    use super::super::kqueue::translate::{
        Filter, EV_ADD, EV_CLEAR, EV_DELETE, EV_ONESHOT, EV_RECEIPT,
    };
    use super::super::kqueue::{next_timer_ident, timer_fflags, Kev, TIMER_UNITS};
    use super::super::Selector;
    use super::{kernel_time, plan, Plan, Setting};
    use crate::{event, Interest, Registry, Token};

    /// The largest `data` (an `intptr_t`).
    const MAX_DATA: i64 = isize::MAX as i64;

    #[derive(Debug)]
    pub(crate) struct Timer {
        ident: usize,
        state: Mutex<State>,
    }

    #[derive(Debug, Default)]
    struct State {
        setting: Option<Setting>,
        registration: Option<Registration>,
    }

    #[derive(Debug)]
    struct Registration {
        /// The registry's queue, shared (`Selector::share`): it stays open while the timer is
        /// registered, even after the `Poll` is dropped.
        selector: Selector,
        token: Token,
        /// Only readable interest arms a knote; other interests never fire.
        readable: bool,
        knote: Knote,
    }

    /// The knote on the queue, as last armed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Knote {
        None,
        /// `EV_ONESHOT`, firing at this time (or a little later).
        Once(Instant),
        Periodic,
    }

    impl Timer {
        pub(crate) fn new() -> io::Result<Timer> {
            Ok(Timer {
                ident: next_timer_ident(),
                state: Mutex::new(State::default()),
            })
        }

        fn lock(&self) -> MutexGuard<'_, State> {
            // A panic while locked cannot leave the state torn (plain values): go on.
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// Replaces the setting (the expirations not read are gone) and arms the knote.
        pub(crate) fn set(&self, first: Duration, period: Option<Duration>) -> io::Result<()> {
            let mut state = self.lock();
            let now = Instant::now();
            let first = now.checked_add(first).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the timer's first expiration is too far away for the monotonic clock",
                )
            })?;
            state.setting = Some(Setting {
                first,
                period,
                counted: 0,
            });
            let State {
                setting,
                registration,
            } = &mut *state;
            match registration {
                Some(registration) => self.arm(registration, setting.as_ref()),
                None => Ok(()),
            }
        }

        pub(crate) fn cancel(&self) -> io::Result<()> {
            let mut state = self.lock();
            state.setting = None;
            match &mut state.registration {
                Some(registration) => self.arm(registration, None),
                None => Ok(()),
            }
        }

        /// The expirations since the last read or setting, `WouldBlock` if none. A one-shot
        /// knote whose time passed is re-armed for the next expiration of a periodic setting
        /// (or of one it fired early for).
        pub(crate) fn read(&self) -> io::Result<u64> {
            let mut state = self.lock();
            let now = Instant::now();
            let State {
                setting,
                registration,
            } = &mut *state;
            let new = setting.as_mut().map_or(0, |s| s.read(now));
            if let Some(registration) = registration {
                match registration.knote {
                    Knote::Once(fires) if now >= fires => {
                        if setting.as_ref().and_then(Setting::next).is_some() {
                            // A failed re-arm is reported when there is nothing to return.
                            if let Err(err) = self.arm(registration, setting.as_ref()) {
                                if new == 0 {
                                    return Err(err);
                                }
                            }
                        } else {
                            // EV_ONESHOT: it was deleted when delivered (or soon will be).
                            registration.knote = Knote::None;
                        }
                    }
                    _ => {}
                }
            }
            if new == 0 {
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(new)
            }
        }

        /// Makes the knote match `setting` (see the module docs).
        fn arm(
            &self,
            registration: &mut Registration,
            setting: Option<&Setting>,
        ) -> io::Result<()> {
            let start = Instant::now();
            let planned = if registration.readable {
                let period_fits = setting
                    .and_then(|s| s.period)
                    .is_some_and(|p| kernel_time(p, TIMER_UNITS, MAX_DATA).2 >= p);
                plan(setting, start, period_fits)
            } else {
                Plan::Nothing
            };
            let (flags, time) = match planned {
                Plan::Nothing => return self.delete(registration),
                Plan::Once(left) => (EV_ADD | EV_ONESHOT | EV_RECEIPT, left),
                Plan::Periodic(period) => (EV_ADD | EV_CLEAR | EV_RECEIPT, period),
            };
            let (unit, data, kernel) = kernel_time(time, TIMER_UNITS, MAX_DATA);
            let delete = self.kev(EV_DELETE | EV_RECEIPT, 0, 0, registration.token);
            let add = self.kev(flags, timer_fflags(unit), data, registration.token);
            registration.knote = Knote::None;
            let [_, errno] = registration.selector.submit_kevents([delete, add])?;
            if errno != 0 {
                return Err(io::Error::from_raw_os_error(errno));
            }
            registration.knote = match planned {
                Plan::Periodic(_) => Knote::Periodic,
                _ => Knote::Once(start.checked_add(kernel).unwrap_or(start)),
            };
            Ok(())
        }

        /// Deletes the knote, if any (`ENOENT`: there was none, or a one-shot one delivered).
        fn delete(&self, registration: &mut Registration) -> io::Result<()> {
            if registration.knote == Knote::None {
                return Ok(());
            }
            registration.knote = Knote::None;
            let delete = self.kev(EV_DELETE | EV_RECEIPT, 0, 0, registration.token);
            match registration.selector.submit_kevents([delete])? {
                [0] => Ok(()),
                [errno] if errno == libc::ENOENT => Ok(()),
                [errno] => Err(io::Error::from_raw_os_error(errno)),
            }
        }

        fn kev(&self, flags: u16, fflags: u32, data: i64, token: Token) -> Kev {
            Kev {
                ident: self.ident,
                filter: Filter::Timer,
                flags,
                fflags,
                data,
                udata: token.0,
            }
        }

        fn registration(
            &self,
            registry: &Registry,
            token: Token,
            interests: Interest,
        ) -> Registration {
            Registration {
                selector: registry.selector().share(),
                token,
                readable: interests.is_readable(),
                knote: Knote::None,
            }
        }
    }

    impl event::Source for Timer {
        fn register(
            &mut self,
            registry: &Registry,
            token: Token,
            interests: Interest,
        ) -> io::Result<()> {
            let mut state = self.lock();
            if state.registration.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "the timer is already registered with a `Registry`",
                ));
            }
            let mut registration = self.registration(registry, token, interests);
            self.arm(&mut registration, state.setting.as_ref())?;
            state.registration = Some(registration);
            Ok(())
        }

        /// The knote moves to `registry`'s queue (the same one, or another `Poll`'s), under
        /// the new token, armed for what is left of the setting.
        fn reregister(
            &mut self,
            registry: &Registry,
            token: Token,
            interests: Interest,
        ) -> io::Result<()> {
            let mut state = self.lock();
            let Some(mut old) = state.registration.take() else {
                return Err(not_registered());
            };
            let _ = self.delete(&mut old);
            let mut registration = self.registration(registry, token, interests);
            let res = self.arm(&mut registration, state.setting.as_ref());
            state.registration = Some(registration);
            res
        }

        fn deregister(&mut self, _: &Registry) -> io::Result<()> {
            let mut state = self.lock();
            let Some(mut registration) = state.registration.take() else {
                return Err(not_registered());
            };
            self.delete(&mut registration)
        }
    }

    impl Drop for Timer {
        fn drop(&mut self) {
            if let Some(mut registration) = self.lock().registration.take() {
                // Nothing to do on failure: the queue goes with its last holder anyway.
                let _ = self.delete(&mut registration);
            }
        }
    }

    fn not_registered() -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            "the timer is not registered with a `Registry`",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const ALL: &[Unit] = &[Unit::Nanos, Unit::Micros, Unit::Millis, Unit::Seconds];

    fn setting(first: Instant, period: Option<Duration>) -> Setting {
        Setting {
            first,
            period,
            counted: 0,
        }
    }

    #[test]
    fn one_shot_expires_once_at_its_time() {
        let t0 = Instant::now();
        let mut s = setting(t0 + 10 * MS, None);
        assert_eq!(s.next(), Some(t0 + 10 * MS));
        assert_eq!(s.read(t0 + 9 * MS), 0, "not before its time");
        assert_eq!(s.read(t0 + 10 * MS), 1, "at its time");
        assert_eq!(s.read(t0 + 1000 * MS), 0, "once");
        assert_eq!(s.next(), None);
    }

    #[test]
    fn periodic_counts_every_period_once() {
        let t0 = Instant::now();
        let mut s = setting(t0 + 5 * MS, Some(2 * MS));
        assert_eq!(s.read(t0 + 4 * MS), 0);
        assert_eq!(s.read(t0 + 5 * MS), 1);
        assert_eq!(s.next(), Some(t0 + 7 * MS));
        assert_eq!(s.read(t0 + 6 * MS), 0, "the next period has not ended");
        // 7, 9, 11, 13 ms: four unread periods.
        assert_eq!(s.read(t0 + 14 * MS), 4);
        assert_eq!(s.counted, 5);
        assert_eq!(s.next(), Some(t0 + 15 * MS));
        // A clock reading earlier than the last one (another thread's) counts nothing.
        assert_eq!(s.read(t0 + 10 * MS), 0);
        assert_eq!(s.counted, 5);
    }

    #[test]
    fn huge_periods_and_counts_saturate() {
        let t0 = Instant::now();
        let s = setting(t0, Some(Duration::from_nanos(1)));
        assert_eq!(s.expirations(t0 + Duration::from_secs(10)), 10_000_000_001);
        let s = Setting {
            period: Some(Duration::MAX),
            counted: 2,
            ..s
        };
        assert_eq!(s.next(), None, "past Duration::MAX");
    }

    #[test]
    fn kernel_time_takes_the_finest_unit_that_fits_and_rounds_up() {
        let d = Duration::new(3, 5);
        assert_eq!(
            kernel_time(d, ALL, i64::MAX),
            (Unit::Nanos, 3_000_000_005, d)
        );
        // 32-bit data: nanoseconds hold 2.1 s only.
        assert_eq!(
            kernel_time(d, ALL, i32::MAX as i64),
            (Unit::Micros, 3_000_001, Duration::from_micros(3_000_001))
        );
        // Milliseconds only (NetBSD, OpenBSD, DragonFly): rounded up, never early.
        let ms = &[Unit::Millis];
        assert_eq!(
            kernel_time(Duration::from_micros(1500), ms, i64::MAX),
            (Unit::Millis, 2, 2 * MS)
        );
        // Never zero: "at once" is the shortest time the unit has.
        assert_eq!(
            kernel_time(Duration::ZERO, ms, i64::MAX),
            (Unit::Millis, 1, MS)
        );
        assert_eq!(
            kernel_time(Duration::ZERO, ALL, i64::MAX),
            (Unit::Nanos, 1, Duration::from_nanos(1))
        );
        // Too long for every unit: the longest the coarsest holds (it fires early).
        let (unit, data, kernel) = kernel_time(Duration::MAX, ms, i32::MAX as i64);
        assert_eq!((unit, data), (Unit::Millis, i32::MAX as i64));
        assert!(kernel < Duration::MAX);
    }

    #[test]
    fn plan_is_periodic_only_at_an_expiration() {
        let t0 = Instant::now();
        let p = 10 * MS;
        // set_interval(p) at t0, armed just after: the kernel's first event at start + p.
        let s = setting(t0 + p, Some(p));
        let start = t0 + Duration::from_micros(20);
        assert_eq!(plan(Some(&s), start, true), Plan::Periodic(p));
        // The period does not fit the kernel's data: one expiration at a time.
        assert_eq!(
            plan(Some(&s), start, false),
            Plan::Once(p - Duration::from_micros(20))
        );
        // set_interval_after(3 ms, p): the first expiration is not a period away.
        let s = setting(t0 + 3 * MS, Some(p));
        assert_eq!(plan(Some(&s), t0, true), Plan::Once(3 * MS));
        // Re-armed by the read 50 us after it: periodic from there.
        let s = Setting { counted: 1, ..s };
        let start = t0 + 3 * MS + Duration::from_micros(50);
        assert_eq!(plan(Some(&s), start, true), Plan::Periodic(p));
        // Re-armed 5 ms after it (more than the slack): the next one alone, at its time.
        let start = t0 + 8 * MS;
        assert_eq!(plan(Some(&s), start, true), Plan::Once(5 * MS));
        // An expiration not read yet and past: at once.
        let s = Setting { counted: 0, ..s };
        assert_eq!(
            plan(Some(&s), t0 + 4 * MS, true),
            Plan::Once(Duration::from_nanos(1))
        );
        // A one-shot setting read already, or none: no knote.
        let s = Setting {
            period: None,
            counted: 1,
            ..s
        };
        assert_eq!(plan(Some(&s), t0, true), Plan::Nothing);
        assert_eq!(plan(None, t0, true), Plan::Nothing);
    }

    #[test]
    fn slack_is_a_quarter_period_at_most_a_millisecond() {
        assert_eq!(slack(Duration::from_micros(100)), Duration::from_micros(25));
        assert_eq!(slack(Duration::from_secs(1)), MS);
    }
}
