use std::fmt;

use crate::{sys, Token};

/// A readiness event, as returned by [`Poll::poll`](crate::Poll::poll).
///
/// An event says that the source registered under [`token`](Event::token) is *probably* ready
/// for the operations its flags name. Events are hints: a readable event may be followed by a
/// read that returns [`WouldBlock`](std::io::ErrorKind::WouldBlock) (a *spurious* event), and a
/// single readiness change may be reported as one event with several flags or as several events.
/// Only [`is_readable`](Event::is_readable) and [`is_writable`](Event::is_writable) are portable;
/// the other flags are extra information that may be missing on some platforms but is never
/// reported when it is not true.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::{Events, Poll, Token, Waker};
///
/// let mut poll = Poll::new()?;
/// let waker = Waker::new(poll.registry(), Token(7))?;
/// waker.wake()?;
///
/// let mut events = Events::with_capacity(8);
/// poll.poll(&mut events, Some(Duration::from_secs(1)))?;
/// for event in &events {
///     assert_eq!(event.token(), Token(7));
///     assert!(event.is_readable());
/// }
/// # }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[repr(transparent)]
pub struct Event {
    inner: sys::Event,
}

impl Event {
    /// The token the source was registered with.
    #[inline]
    pub fn token(&self) -> Token {
        sys::event::token(&self.inner)
    }

    /// The source is readable: a read (or accept, or recv) will probably not return
    /// `WouldBlock`. On Linux, priority (out-of-band) readiness also counts as readable.
    #[inline]
    pub fn is_readable(&self) -> bool {
        sys::event::is_readable(&self.inner)
    }

    /// The source is writable: a write (or send) will probably not return `WouldBlock`.
    #[inline]
    pub fn is_writable(&self) -> bool {
        sys::event::is_writable(&self.inner)
    }

    /// The source has a pending error (`EPOLLERR`); fetch it with the type's `take_error`.
    ///
    /// Not every platform reports errors this way, so an error may also show up only as a
    /// failing read or write.
    #[inline]
    pub fn is_error(&self) -> bool {
        sys::event::is_error(&self.inner)
    }

    /// The read half is closed: the peer shut down writing, the connection hung up, or the
    /// write end of a pipe was closed. Reads will return what is left and then `Ok(0)`.
    ///
    /// This is a hint; the authoritative signal is a read returning `Ok(0)`.
    #[inline]
    pub fn is_read_closed(&self) -> bool {
        sys::event::is_read_closed(&self.inner)
    }

    /// The write half is closed: the connection hung up or failed, or the read end of a pipe
    /// was closed. Writes will fail (typically with `BrokenPipe`).
    ///
    /// This is a hint; the authoritative signal is a failing write.
    #[inline]
    pub fn is_write_closed(&self) -> bool {
        sys::event::is_write_closed(&self.inner)
    }

    /// Priority readiness (`EPOLLPRI`): urgent TCP data, or a state change of a special file.
    /// Only reported on Linux and Android, for sources registered with `Interest::PRIORITY`.
    #[inline]
    pub fn is_priority(&self) -> bool {
        sys::event::is_priority(&self.inner)
    }

    /// An asynchronous I/O completion (`EVFILT_AIO`), for `Interest::AIO` on FreeBSD,
    /// DragonFly and Apple's systems; always `false` elsewhere.
    #[inline]
    pub fn is_aio(&self) -> bool {
        completions::is_aio(&self.inner)
    }

    /// A list I/O completion (`EVFILT_LIO`), for `Interest::LIO` on FreeBSD; always `false`
    /// elsewhere.
    #[inline]
    pub fn is_lio(&self) -> bool {
        completions::is_lio(&self.inner)
    }

    /// Views a selector event as an [`Event`].
    #[inline]
    pub(crate) fn from_sys_event_ref(sys_event: &sys::Event) -> &Event {
        // SAFETY: `Event` is `#[repr(transparent)]` over `sys::Event`, so both have the same
        // layout and alignment, and the returned reference borrows from `sys_event` with the
        // same lifetime.
        unsafe { &*(sys_event as *const sys::Event as *const Event) }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alternate = f.alternate();
        let mut d = f.debug_struct("Event");
        d.field("token", &self.token())
            .field("readable", &self.is_readable())
            .field("writable", &self.is_writable())
            .field("error", &self.is_error())
            .field("read_closed", &self.is_read_closed())
            .field("write_closed", &self.is_write_closed())
            .field("priority", &self.is_priority())
            .field("aio", &self.is_aio())
            .field("lio", &self.is_lio());
        if alternate {
            d.field("details", &sys::event::Details(&self.inner));
        }
        d.finish()
    }
}

/// `EVFILT_AIO`/`EVFILT_LIO` events exist only with the kqueue backend.
#[cfg(all(
    feature = "os-poll",
    mio_kqueue_os,
    not(mio_unsupported_force_poll_poll)
))]
use crate::sys::event as completions;

#[cfg(not(all(
    feature = "os-poll",
    mio_kqueue_os,
    not(mio_unsupported_force_poll_poll)
)))]
mod completions {
    use crate::sys;

    #[inline]
    pub(super) fn is_aio(_: &sys::Event) -> bool {
        false
    }

    #[inline]
    pub(super) fn is_lio(_: &sys::Event) -> bool {
        false
    }
}
