//! The `signal` extra on Windows: console control events (Ctrl-C, Ctrl-Break, close, logoff,
//! shutdown), Windows' counterpart of the Unix signals a console program handles.
//!
//! One handler routine for the process, added once with [SetConsoleCtrlHandler] (and never
//! removed: it passes on what nobody watches). The system runs it "in a new thread" of the
//! process for each event ([HandlerRoutine]), so it may lock: it sets the event's bit in every
//! `Signals` that watches it and signals that `Signals`' own manual-reset event object
//! (`SetEvent`), whose signalled state a thread-pool wait posts to the `Poll`'s port
//! ([`Wait`], as for the timer and process extras). It returns `TRUE` (handled: "the function
//! handles the control signal") when some `Signals` watched the event, `FALSE` otherwise, so
//! the next handler runs, and in the end the default one (`ExitProcess` for Ctrl-C): dropping
//! the last `Signals` that watched an event brings its default action back, unlike Unix.
//! Other users of `SetConsoleCtrlHandler` in the process (tokio's `signal::windows`, ctrlc)
//! coexist: handlers are called last-registered first, until one returns `TRUE`.
//!
//! For `CTRL_CLOSE_EVENT`, `CTRL_LOGOFF_EVENT` and `CTRL_SHUTDOWN_EVENT` the system ends the
//! process once the handlers return (after a timeout of its own): the event loop has that
//! long to react, as with any handler.
//!
//! [SetConsoleCtrlHandler]: https://learn.microsoft.com/en-us/windows/console/setconsolectrlhandler
//! [HandlerRoutine]: https://learn.microsoft.com/en-us/windows/console/handlerroutine

use std::io;
use std::os::raw::c_int;
use std::os::windows::io::{FromRawHandle, OwnedHandle, RawHandle};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::Win32::System::Threading::{CreateEventW, ResetEvent, SetEvent};

use super::selector::Selector;
use super::wait::Wait;
use crate::{Interest, Token};

/// The console control events (`CTRL_*_EVENT`, wincon.h), the "signal" numbers on Windows.
pub(crate) const CTRL_C: c_int = 0;
pub(crate) const CTRL_BREAK: c_int = 1;
pub(crate) const CTRL_CLOSE: c_int = 2;
pub(crate) const CTRL_LOGOFF: c_int = 5;
pub(crate) const CTRL_SHUTDOWN: c_int = 6;

const EVENTS: [c_int; 5] = [CTRL_C, CTRL_BREAK, CTRL_CLOSE, CTRL_LOGOFF, CTRL_SHUTDOWN];

/// A set of console control events: bit `n` for event `n` (0 to 6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct SignalBits(u32);

impl SignalBits {
    pub(crate) fn contains(&self, signal: c_int) -> bool {
        EVENTS.contains(&signal) && self.0 & (1 << signal) != 0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The lowest event in the set after `after` (-1: the lowest of all, `CTRL_C` being 0).
    pub(crate) fn next_after(&self, after: c_int) -> Option<c_int> {
        EVENTS
            .iter()
            .copied()
            .find(|&s| s > after && self.contains(s))
    }
}

/// What the handler routine shares with one `Signals`.
#[derive(Debug)]
struct Listener {
    /// The events watched.
    mask: AtomicU32,
    /// The events that arrived and were not taken yet.
    pending: AtomicU32,
    /// The `Signals`' event object (owned by its `Wait`; the listener leaves `LISTENERS`
    /// before it is closed, and the handler only uses it under that lock).
    event: HANDLE,
}

// SAFETY: `event` is a handle value, usable from any thread; the rest is atomics.
unsafe impl Send for Listener {}
// SAFETY: as above.
unsafe impl Sync for Listener {}

/// Every live `Signals`' listener; `None` until the handler routine is added.
static LISTENERS: Mutex<Option<Vec<Arc<Listener>>>> = Mutex::new(None);

fn listeners() -> MutexGuard<'static, Option<Vec<Arc<Listener>>>> {
    // The critical sections only push, remove or read: consistent after a panic.
    LISTENERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The handler routine: runs on a thread the system creates for the event.
unsafe extern "system" fn handler(ctrl_type: u32) -> i32 {
    let Ok(signal) = c_int::try_from(ctrl_type) else {
        return 0;
    };
    if !EVENTS.contains(&signal) {
        return 0;
    }
    let bit = 1u32 << signal;
    let mut handled = false;
    if let Some(all) = &*listeners() {
        for listener in all {
            if listener.mask.load(Ordering::Acquire) & bit != 0 {
                handled = true;
                listener.pending.fetch_or(bit, Ordering::AcqRel);
                // SAFETY: the event is open: its `Signals` removes this listener (under the
                // lock held here) before closing it.
                unsafe { SetEvent(listener.event) };
            }
        }
    }
    i32::from(handled)
}

#[derive(Debug)]
pub(crate) struct Signals {
    listener: Arc<Listener>,
    /// Declared last: its event closes after `Drop` removed the listener.
    wait: Wait,
}

impl Signals {
    pub(crate) fn new() -> io::Result<Signals> {
        // SAFETY: null attributes and name: an unnamed, non-inheritable event; manual reset,
        // initially non-signalled.
        let event = unsafe { CreateEventW(std::ptr::null(), 1, 0, std::ptr::null()) };
        if event.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new handle nothing else owns.
        let owned = unsafe { OwnedHandle::from_raw_handle(event as RawHandle) };
        let listener = Arc::new(Listener {
            mask: AtomicU32::new(0),
            pending: AtomicU32::new(0),
            event,
        });
        let mut all = listeners();
        if all.is_none() {
            // SAFETY: `handler` is a valid routine for the life of the process.
            if unsafe { SetConsoleCtrlHandler(Some(handler), 1) } == 0 {
                return Err(io::Error::last_os_error());
            }
            *all = Some(Vec::new());
        }
        if let Some(all) = &mut *all {
            all.push(Arc::clone(&listener));
        }
        drop(all);
        Ok(Signals {
            listener,
            wait: Wait::new(owned),
        })
    }

    pub(crate) fn add(&mut self, signal: c_int) -> io::Result<()> {
        if !EVENTS.contains(&signal) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{signal} is not a console control event (CTRL_C 0, CTRL_BREAK 1, \
                     CTRL_CLOSE 2, CTRL_LOGOFF 5, CTRL_SHUTDOWN 6)"
                ),
            ));
        }
        self.listener.mask.fetch_or(1 << signal, Ordering::AcqRel);
        Ok(())
    }

    /// The events that arrived, and a new wait for the next: the event object is reset
    /// before the set is taken, so an event after the reset signals it again.
    pub(crate) fn take(&self) -> io::Result<SignalBits> {
        let event = self.listener.event;
        self.wait.update(true, || {
            // SAFETY: the event object is this `Signals`' own, open.
            if unsafe { ResetEvent(event) } == 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        })?;
        let bits = self.listener.pending.swap(0, Ordering::AcqRel);
        if bits == 0 {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(SignalBits(bits))
        }
    }

    pub(crate) fn register(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.wait.register(selector, token, interests, true)
    }

    pub(crate) fn reregister(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.wait.reregister(selector, token, interests, true)
    }

    pub(crate) fn deregister(&self, selector: &Selector) -> io::Result<()> {
        self.wait.deregister(selector)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // Before the event closes (`wait` drops after this): the handler no longer sees it.
        if let Some(all) = &mut *listeners() {
            all.retain(|l| !Arc::ptr_eq(l, &self.listener));
        }
    }
}

#[cfg(test)]
mod tests {
    //! The delivery path from the handler routine to the `Poll`, with the routine called
    //! here as the system would call it (Wine's headless console cannot generate control
    //! events: see tests/win_console_ctrl.rs, which generates them on Windows).
    use std::time::{Duration, Instant};

    use super::*;
    use crate::signal::Signals as PublicSignals;
    use crate::{Events, Poll};

    fn wait_receive(poll: &mut Poll, events: &mut Events, signals: &PublicSignals) -> Vec<c_int> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            poll.poll(events, Some(Duration::from_millis(250))).unwrap();
            if events
                .iter()
                .any(|e| e.token() == Token(1) && e.is_readable())
            {
                match signals.receive() {
                    Ok(set) => return set.iter().collect(),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("receive: {e}"),
                }
            }
        }
        panic!("no event");
    }

    #[test]
    fn the_handler_routine_reaches_every_watching_signals() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut a = PublicSignals::new(&[CTRL_C, CTRL_BREAK]).unwrap();
        let mut b = PublicSignals::new(&[CTRL_SHUTDOWN]).unwrap();
        poll.registry()
            .register(&mut a, Token(1), Interest::READABLE)
            .unwrap();
        poll.registry()
            .register(&mut b, Token(2), Interest::READABLE)
            .unwrap();
        // SAFETY: the routine only reads its argument; called as the system calls it.
        assert_eq!(unsafe { handler(CTRL_BREAK as u32) }, 1, "watched: handled");
        // SAFETY: as above.
        assert_eq!(unsafe { handler(CTRL_C as u32) }, 1);
        // SAFETY: as above. Nobody watches CTRL_CLOSE: passed on to the next handler.
        assert_eq!(unsafe { handler(CTRL_CLOSE as u32) }, 0);
        // SAFETY: as above. Not an event at all.
        assert_eq!(unsafe { handler(3) }, 0);
        assert_eq!(
            wait_receive(&mut poll, &mut events, &a),
            [CTRL_C, CTRL_BREAK]
        );
        assert_eq!(
            b.receive().unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "b watches neither"
        );
        // Coalesced, and the next one after a receive is a new event.
        for _ in 0..3 {
            // SAFETY: as above.
            unsafe { handler(CTRL_BREAK as u32) };
        }
        assert_eq!(wait_receive(&mut poll, &mut events, &a), [CTRL_BREAK]);
        // Dropped: no longer reached (CTRL_SHUTDOWN then has no watcher).
        drop(b);
        // SAFETY: as above.
        assert_eq!(unsafe { handler(CTRL_SHUTDOWN as u32) }, 0);
    }
}
