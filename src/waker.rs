use std::io;

use crate::{sys, Registry, Token};

/// Wakes a [`Poll`](crate::Poll) that is blocked waiting, from any thread.
///
/// A `Waker` is registered with a `Poll` under a token; [`wake`](Waker::wake) makes the `Poll`
/// return a readable event with that token. Wakes that happen before the `Poll` gets to them
/// are merged: ten wakes between two calls to `poll` give one event. After that event, no more
/// events arrive until the next `wake`.
///
/// Only one `Waker` may exist per `Poll`. Debug builds check this and panic on a second
/// `Waker::new` for the same `Poll` (or a clone of its registry), even after the first one was
/// dropped. Share the one `Waker` instead, for example behind an `Arc`: it is `Send + Sync`.
///
/// Events are delivered only while the `Waker` is alive; dropping it removes its registration.
///
/// On Linux the waker is an eventfd; on macOS, iOS and the BSDs an `EVFILT_USER` event on the
/// `Poll`'s kqueue; with the poll(2) selector it is folded into the selector
/// (`--cfg mio_unsupported_force_waker_pipe` makes it a self-pipe instead, everywhere).
///
/// # Examples
///
/// Waking a thread blocked in `poll` from another thread:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::sync::Arc;
/// use std::thread;
/// use mio::{Events, Poll, Token, Waker};
///
/// const WAKE: Token = Token(10);
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(2);
/// let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
///
/// let waker2 = Arc::clone(&waker);
/// let handle = thread::spawn(move || waker2.wake().expect("wake failed"));
///
/// // Blocks until the other thread wakes us (retrying if a signal interrupts the wait).
/// loop {
///     match poll.poll(&mut events, None) {
///         Ok(()) if !events.is_empty() => break,
///         Ok(()) => continue,
///         Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
///         Err(e) => return Err(e),
///     }
/// }
/// let event = events.iter().next().unwrap();
/// assert_eq!(event.token(), WAKE);
/// assert!(event.is_readable());
/// handle.join().unwrap();
/// # }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Waker {
    inner: sys::Waker,
}

impl Waker {
    /// Creates a `Waker` for the `Poll` behind `registry`, reporting under `token`.
    ///
    /// # Panics
    ///
    /// In debug builds, if a `Waker` was already created for this `Poll`, with the message
    /// ``Only a single `Waker` can be active per `Poll` instance``.
    ///
    /// # Errors
    ///
    /// Fails if the eventfd (or pipe) cannot be created, e.g. when out of file descriptors.
    pub fn new(registry: &Registry, token: Token) -> io::Result<Waker> {
        #[cfg(debug_assertions)]
        registry.register_waker();
        sys::Waker::new(registry.selector(), token).map(|inner| Waker { inner })
    }

    /// Wakes the `Poll`: its current or next call returns a readable event with the token.
    ///
    /// Never blocks. Safe to call from any thread, as often as wanted.
    pub fn wake(&self) -> io::Result<()> {
        self.inner.wake()
    }
}
