//! The `timer` extra where the selector is poll(2) and the OS has no timer handle to poll
//! (Solaris, Haiku and the other Unixes of the poll(2) fallback, the kqueue family under
//! `--cfg mio_unsupported_force_poll_poll`, Hermit, WASI): deadlines kept by the selector.
//!
//! A timer is not an fd here. Registering it puts its shared state on the selector's list
//! ([`TimerList`], in `sys::poll`'s `Shared`); each `select` bounds its wait by the earliest
//! deadline on the list that is still to be reported, and after the wait reports every timer
//! whose next expiration has passed, as a readable event with the timer's token.
//!
//! The semantics are those of a timerfd registered edge-triggered with epoll (timerfd_create(2)):
//! every expiration is a new event while the timer is registered for readability, whether or
//! not the previous one was read; [`Timer::read`] returns the expirations since the last read
//! or setting, counted on the monotonic clock (`Instant`) from the setting: the first at
//! `first`, then one per `period`. The deadline is taken from an `Instant` read before the
//! setting is published, so when the selector (reading the same clock) reports an expiration,
//! a `read` after it counts at least one.
//!
//! Costs: a `select` with no timer registered reads one atomic; with timers, it takes the
//! list's lock once before and once after the wait, and each timer's lock, O(registered
//! timers): meant for the few precise deadlines a loop has, not for a timer wheel's thousands.
//! Precision is poll(2)'s: the selector's wait is in whole milliseconds where the OS's poll(2)
//! is (rounded up, so never early), in nanoseconds where it has ppoll(2).

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::poll::{Event, SelectorRef};
use super::timer_count;
use crate::{event, Interest, Registry, Token};

/// The timers registered with one selector.
pub(crate) struct TimerList {
    /// How many are on the list: a `select` with none takes no lock.
    len: AtomicUsize,
    list: Mutex<Vec<Arc<State>>>,
}

impl TimerList {
    pub(crate) fn new() -> TimerList {
        TimerList {
            len: AtomicUsize::new(0),
            list: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Arc<State>>> {
        // Nothing panics while holding it; recover rather than propagate a poison.
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, state: &Arc<State>) {
        let mut list = self.lock();
        list.push(Arc::clone(state));
        self.len.store(list.len(), Ordering::Release);
    }

    fn remove(&self, state: &Arc<State>) {
        let mut list = self.lock();
        if let Some(at) = list.iter().position(|s| Arc::ptr_eq(s, state)) {
            list.swap_remove(at);
        }
        self.len.store(list.len(), Ordering::Release);
    }

    /// The earliest moment a registered timer has an expiration to report, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.lock()
            .iter()
            .filter_map(|state| state.lock().next_due())
            .min()
    }

    /// Reports (as readable events, while `events` has room) every timer with an expiration
    /// passed and not yet reported. One not reported for want of room is reported next time.
    pub(crate) fn collect(&self, events: &mut Vec<Event>) {
        if self.len.load(Ordering::Acquire) == 0 {
            return;
        }
        let now = Instant::now();
        for state in self.lock().iter() {
            if events.len() == events.capacity() {
                return;
            }
            let mut inner = state.lock();
            if let Some(token) = inner.report(now) {
                events.push(Event::timer(token));
            }
        }
    }
}

impl fmt::Debug for TimerList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerList")
            .field("len", &self.len.load(Ordering::Relaxed))
            .finish()
    }
}

/// A timer's state, shared by the `Timer` and the selector's list.
struct State {
    inner: Mutex<Inner>,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug)]
struct Inner {
    /// The first expiration (`None`: disarmed) and the period of a periodic timer.
    first: Option<Instant>,
    period: Option<Duration>,
    /// Expirations returned by `read` since the setting.
    read: u64,
    /// Expirations reported as events since the setting (or the last registration, which
    /// reports afresh what was not read, as epoll's `EPOLL_CTL_MOD` does).
    reported: u64,
    /// The token, and whether readability was asked for, while registered.
    token: Token,
    readable: bool,
}

impl Inner {
    /// Expirations by `now` since the setting.
    fn expirations(&self, now: Instant) -> u64 {
        self.first
            .map_or(0, |first| timer_count::expirations(first, self.period, now))
    }

    /// When the first expiration not yet reported comes (expiration k, from 1, is at
    /// `first + (k - 1) * period`).
    fn next_due(&self) -> Option<Instant> {
        if !self.readable {
            return None;
        }
        let first = self.first?;
        match self.period {
            None if self.reported == 0 => Some(first),
            None => None,
            Some(period) => timer_count::nth(first, period, self.reported),
        }
    }

    /// The token to report now, if an expiration passed that was not reported.
    fn report(&mut self, now: Instant) -> Option<Token> {
        if !self.readable {
            return None;
        }
        let due = self.expirations(now);
        if due > self.reported {
            self.reported = due;
            Some(self.token)
        } else {
            None
        }
    }
}

/// A timer whose deadlines the selector keeps.
pub(crate) struct Timer {
    state: Arc<State>,
    /// The selector it is registered with: at most one.
    registration: Mutex<Option<SelectorRef>>,
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        Ok(Timer {
            state: Arc::new(State {
                inner: Mutex::new(Inner {
                    first: None,
                    period: None,
                    read: 0,
                    reported: 0,
                    token: Token(0),
                    readable: false,
                }),
            }),
            registration: Mutex::new(None),
        })
    }

    fn registration(&self) -> MutexGuard<'_, Option<SelectorRef>> {
        self.registration.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms it: the first expiration `first` from now (never zero: `Timer::set` makes sure),
    /// then every `period`. Expirations not yet read are discarded.
    pub(crate) fn set(&self, first: Duration, period: Option<Duration>) -> io::Result<()> {
        // Before the setting is published: the deadline the selector sees is never earlier
        // than the one `read` counts from.
        let now = Instant::now();
        let first = now.checked_add(first).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the timer's first expiration is too far in the future",
            )
        })?;
        {
            let mut inner = self.state.lock();
            inner.first = Some(first);
            inner.period = period;
            inner.read = 0;
            inner.reported = 0;
        }
        // A poll blocked on another thread must take the new deadline into account.
        if let Some(selector) = &*self.registration() {
            selector.timer_changed()?;
        }
        Ok(())
    }

    /// Disarms it. Nothing to tell the selector: it waking up for the old deadline finds
    /// nothing to report.
    pub(crate) fn cancel(&self) -> io::Result<()> {
        let mut inner = self.state.lock();
        inner.first = None;
        inner.period = None;
        inner.read = 0;
        inner.reported = 0;
        Ok(())
    }

    /// The expirations since the last read or setting, `WouldBlock` when none.
    pub(crate) fn read(&self) -> io::Result<u64> {
        let mut inner = self.state.lock();
        let total = inner.expirations(Instant::now());
        let new = total - inner.read;
        if new == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        inner.read = total;
        Ok(new)
    }

    /// Puts the registration (`token`, `interests`) on the state. What was not read is
    /// reported again, as epoll's `EPOLL_CTL_MOD` reports a timerfd that is still readable.
    fn set_registration(&self, token: Token, interests: Interest) {
        let mut inner = self.state.lock();
        inner.token = token;
        inner.readable = interests.is_readable();
        inner.reported = inner.read;
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("state", &*self.state.lock())
            .finish_non_exhaustive()
    }
}

fn check_interests(interests: Interest) -> io::Result<()> {
    // The triggers of a socket's registration mean nothing for a timer but edge; refuse the
    // others rather than ignore them.
    if interests.trigger_checked()? != crate::Trigger::Edge {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a timer registration is edge-triggered: level, oneshot and exclusive triggers are not supported on this OS's timers",
        ));
    }
    Ok(())
}

impl event::Source for Timer {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        check_interests(interests)?;
        let mut registration = self.registration();
        if registration.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the timer is already registered",
            ));
        }
        let selector = registry.selector().selector_ref();
        self.set_registration(token, interests);
        selector.with_timers(|timers| timers.add(&self.state));
        // A poll blocked on another thread must see a timer that is already due.
        let res = selector.timer_changed();
        *registration = Some(selector);
        res
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        check_interests(interests)?;
        let registration = self.registration();
        match &*registration {
            None => Err(not_registered()),
            Some(selector) if !selector.is(registry.selector()) => Err(elsewhere()),
            Some(selector) => {
                self.set_registration(token, interests);
                selector.timer_changed()
            }
        }
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        let mut registration = self.registration();
        match &*registration {
            None => Err(not_registered()),
            Some(selector) if !selector.is(registry.selector()) => Err(elsewhere()),
            Some(selector) => {
                selector.with_timers(|timers| timers.remove(&self.state));
                self.state.lock().readable = false;
                *registration = None;
                Ok(())
            }
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(selector) = self.registration().take() {
            selector.with_timers(|timers| timers.remove(&self.state));
        }
    }
}

fn not_registered() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "the timer is not registered")
}

fn elsewhere() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "the timer is registered with a different `Registry`",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(first: Instant, period: Option<Duration>) -> Inner {
        Inner {
            first: Some(first),
            period,
            read: 0,
            reported: 0,
            token: Token(1),
            readable: true,
        }
    }

    #[test]
    fn each_expiration_is_reported_once_and_the_next_is_due_after_it() {
        let t0 = Instant::now();
        let ms = Duration::from_millis(1);
        let mut every = inner(t0 + 10 * ms, Some(4 * ms));
        assert_eq!(every.next_due(), Some(t0 + 10 * ms));
        assert_eq!(every.report(t0 + 9 * ms), None);
        assert_eq!(every.report(t0 + 11 * ms), Some(Token(1)));
        assert_eq!(every.report(t0 + 12 * ms), None);
        assert_eq!(every.next_due(), Some(t0 + 14 * ms));
        // Three periods passed unreported: one event for them.
        assert_eq!(every.report(t0 + 23 * ms), Some(Token(1)));
        assert_eq!(every.next_due(), Some(t0 + 26 * ms));
        let mut once = inner(t0 + 10 * ms, None);
        assert_eq!(once.report(t0 + 10 * ms), Some(Token(1)));
        assert_eq!(once.next_due(), None);
        assert_eq!(once.report(t0 + 100 * ms), None);
        // Not registered for readability: nothing due, nothing reported.
        once.readable = false;
        once.reported = 0;
        assert_eq!(once.next_due(), None);
        assert_eq!(once.report(t0 + 100 * ms), None);
    }
}
