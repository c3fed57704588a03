//! Unix signals as an event source: an extra of this crate, not in upstream mio (feature
//! `signal`).
//!
//! A [`Signals`] is registered with a [`Poll`](crate::Poll) under a [`Token`](crate::Token)
//! and becomes readable when one of its signals arrives; [`Signals::receive`] says which.
//! It replaces `signal-hook-mio` (a self-pipe registered by hand).
//!
//! The handler is the process's shared one, kept by
//! [signal-hook-registry](https://docs.rs/signal-hook-registry), the registry tokio's
//! `signal`, signal-hook and ctrlc use: all of them and any number of `Signals`, on one or
//! several `Poll`s, see every signal. No `signalfd`, no signal mask: nothing is taken from the
//! rest of the process.
//!
//! # Platforms
//!
//! Every Unix (Linux, Android, macOS, iOS, the BSDs, illumos, Solaris, Haiku...). On Windows
//! the equivalent: console control events (the Windows-only constants `CTRL_C`,
//! `CTRL_BREAK`, `CTRL_CLOSE`, `CTRL_LOGOFF`, `CTRL_SHUTDOWN`) through one
//! `SetConsoleCtrlHandler` routine for the process, which reports an event to every `Signals`
//! watching it and lets the next handler (in the end the default one) run when none does.
//! Absent on Hermit and WASI (no signals).
//!
//! # Caveat: the default action
//!
//! Once a signal has a handler, its default action (terminating the process for `SIGINT`,
//! `SIGTERM`, ...) no longer happens, even after every `Signals` watching it is dropped: the
//! registry keeps its handler installed. This is the same with tokio and signal-hook. (On
//! Windows the default action comes back when no `Signals` watches the event any more.)

use std::fmt;
use std::io;
use std::os::raw::c_int;

#[cfg(unix)]
use crate::io_source::IoSource;
use crate::sys;

/// Windows: Ctrl-C (`CTRL_C_EVENT`), or `GenerateConsoleCtrlEvent`.
#[cfg(windows)]
pub const CTRL_C: c_int = sys::signal::CTRL_C;
/// Windows: Ctrl-Break (`CTRL_BREAK_EVENT`), or `GenerateConsoleCtrlEvent`.
#[cfg(windows)]
pub const CTRL_BREAK: c_int = sys::signal::CTRL_BREAK;
/// Windows: the console is being closed (`CTRL_CLOSE_EVENT`); the process ends soon after.
#[cfg(windows)]
pub const CTRL_CLOSE: c_int = sys::signal::CTRL_CLOSE;
/// Windows: a user is logging off (`CTRL_LOGOFF_EVENT`, services only).
#[cfg(windows)]
pub const CTRL_LOGOFF: c_int = sys::signal::CTRL_LOGOFF;
/// Windows: the system is shutting down (`CTRL_SHUTDOWN_EVENT`, services only).
#[cfg(windows)]
pub const CTRL_SHUTDOWN: c_int = sys::signal::CTRL_SHUTDOWN;

/// A set of Unix signals that is readable when one of them arrives.
///
/// Registered with [`Interest::READABLE`](crate::Interest::READABLE), it reports a readable
/// event when one of its signals arrives. The event is edge-triggered, and one successful
/// [`receive`](Signals::receive) drains the `Signals` (it takes every signal that arrived), so
/// the next signal is a new event; receiving again until `WouldBlock` is not needed. Signals
/// are coalesced: ten `SIGUSR1` before a `receive` are one `SIGUSR1` in the set (as the
/// kernel merges a standard signal that is already pending; real-time signals, which it
/// queues, are merged here too).
///
/// Each `Signals` has its own wake-up fd (an eventfd on Linux and Android, a pipe elsewhere;
/// on Windows an event object). Dropping it (registered or not) removes its actions from the
/// handler and closes the fd.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(unix)] {
/// use std::time::Duration;
/// use mio::signal::Signals;
/// use mio::{Events, Interest, Poll, Token};
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// let mut signals = Signals::new(&[libc::SIGUSR2])?;
/// poll.registry().register(&mut signals, Token(0), Interest::READABLE)?;
///
/// // SAFETY: raise(3) sends SIGUSR2 to this thread; `signals` has a handler for it.
/// unsafe { libc::raise(libc::SIGUSR2) };
/// let received = loop {
///     match poll.poll(&mut events, Some(Duration::from_secs(5))) {
///         Ok(()) => {}
///         Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
///         Err(e) => return Err(e),
///     }
///     if events.iter().any(|e| e.token() == Token(0)) {
///         match signals.receive() {
///             Ok(set) => break set,
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///             Err(e) => return Err(e),
///         }
///     }
/// };
/// assert!(received.contains(libc::SIGUSR2));
/// # }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    inner: IoSource<sys::Signals>,
    // Windows: not an `IoSource` (no socket): its event object's waits are its own.
    #[cfg(windows)]
    inner: sys::Signals,
}

impl Signals {
    /// Watches `signals` (`libc::SIGINT`, ...; duplicates are fine, an empty list watches
    /// nothing until [`add`](Signals::add)).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a number that is not a signal of this system, and for `SIGKILL`,
    /// `SIGSTOP` (they cannot be caught), `SIGILL`, `SIGFPE` and `SIGSEGV` (faults of the
    /// thread that raised them, which an event loop cannot handle). Otherwise what the OS
    /// answers (out of file descriptors). On Windows `InvalidInput` for anything but the
    /// `CTRL_*` constants of this module.
    pub fn new(signals: &[c_int]) -> io::Result<Signals> {
        let mut inner = sys::Signals::new()?;
        for &signal in signals {
            // On error `inner` is dropped, removing the actions added so far.
            inner.add(signal)?;
        }
        Ok(Signals {
            #[cfg(unix)]
            inner: IoSource::new(inner),
            #[cfg(windows)]
            inner,
        })
    }

    /// Watches one more signal (nothing if it is already watched). Errors as [`new`](Signals::new).
    pub fn add(&mut self, signal: c_int) -> io::Result<()> {
        self.inner.add(signal)
    }

    /// The signals that arrived since the last call (each once, however often it arrived), or
    /// an error of kind `WouldBlock` if none did. Drains the `Signals` either way.
    pub fn receive(&self) -> io::Result<SignalSet> {
        self.receive_os()
    }

    #[cfg(unix)]
    fn receive_os(&self) -> io::Result<SignalSet> {
        let bits = self.inner.do_read(|signals| signals.take())?;
        // `take` emptied the wake-up fd: drained as after a `WouldBlock`, so the next signal
        // must be reported.
        self.inner.rearm_read();
        Ok(SignalSet { bits })
    }

    /// Windows: `take` resets the event object and arms the wait for the next event.
    #[cfg(windows)]
    fn receive_os(&self) -> io::Result<SignalSet> {
        self.inner.take().map(|bits| SignalSet { bits })
    }
}

#[cfg(unix)]
impl_io_source_traits!(@source Signals);
#[cfg(unix)]
impl_io_source_traits!(@borrow Signals);

#[cfg(windows)]
impl_io_source_traits!(@wait Signals);

/// Which signals arrived: what [`Signals::receive`] returns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalSet {
    bits: sys::SignalBits,
}

impl SignalSet {
    /// Whether `signal` is in the set.
    pub fn contains(&self, signal: c_int) -> bool {
        self.bits.contains(signal)
    }

    /// Whether the set is empty (never, for a set `receive` returned).
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The signals in the set, lowest number first.
    pub fn iter(&self) -> SignalSetIter {
        SignalSetIter {
            bits: self.bits,
            // Before the lowest: no Unix signal is 0; Windows' `CTRL_C` is.
            last: if cfg!(windows) { -1 } else { 0 },
        }
    }
}

impl fmt::Debug for SignalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl IntoIterator for SignalSet {
    type Item = c_int;
    type IntoIter = SignalSetIter;

    fn into_iter(self) -> SignalSetIter {
        self.iter()
    }
}

/// The signals of a [`SignalSet`], lowest number first.
#[derive(Clone, Debug)]
pub struct SignalSetIter {
    bits: sys::SignalBits,
    last: c_int,
}

impl Iterator for SignalSetIter {
    type Item = c_int;

    fn next(&mut self) -> Option<c_int> {
        let next = self.bits.next_after(self.last)?;
        self.last = next;
        Some(next)
    }
}
