//! The epoll(7) selector: Linux and Android.
//!
//! Every registration is edge-triggered (`EPOLLET`) and stores the full 64-bit token in
//! `epoll_event.data`. The kernel keeps all per-source state, so `IoSourceState` is empty and
//! `do_io` is a plain call: a release-build `TcpStream` is exactly one fd.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};

use super::stateless::borrow;
use crate::{Interest, Token};

/// `struct epoll_event`: 12 bytes, packed on x86_64, exactly what `epoll_wait(2)` writes.
#[derive(Clone)]
#[repr(transparent)]
pub(crate) struct Event(epoll::Event);

// SAFETY: an `epoll_event` is plain data (a `u32` of flags and a 64-bit word). rustix types
// the word as a union with a pointer variant, which is what makes it `!Send`/`!Sync`; this
// crate only ever stores and reads it as a `u64` token and never dereferences it.
unsafe impl Send for Event {}
// SAFETY: as above; `&Event` only allows reading two integers.
unsafe impl Sync for Event {}

/// The buffer `epoll_wait(2)` fills; its capacity is the `maxevents` argument.
pub(crate) type Events = Vec<Event>;

/// An epoll instance.
#[derive(Debug)]
pub(crate) struct Selector {
    ep: OwnedFd,
}

impl Selector {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    ///
    /// See [epoll_create1(2)](https://man7.org/linux/man-pages/man2/epoll_create1.2.html).
    pub(crate) fn new() -> io::Result<Selector> {
        let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        Ok(Selector { ep })
    }

    /// `fcntl(F_DUPFD_CLOEXEC)`: a second handle on the same epoll instance.
    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        let ep = rustix::io::fcntl_dupfd_cloexec(&self.ep, 0)?;
        Ok(Selector { ep })
    }

    /// `epoll_wait(2)` into the spare capacity of `events` (cleared first, even on error).
    ///
    /// `EINTR` is not retried: it surfaces as `ErrorKind::Interrupted`, as callers expect.
    /// A capacity of 0 makes the kernel answer `EINVAL` (`ErrorKind::InvalidInput`).
    ///
    /// See [epoll_wait(2)](https://man7.org/linux/man-pages/man2/epoll_wait.2.html).
    #[inline]
    pub(crate) fn select(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.clear();
        let timeout = super::timeout_timespec(timeout);
        let spare = events.spare_capacity_mut();
        // SAFETY: `Event` is `#[repr(transparent)]` over `epoll::Event`, so a slice of
        // `MaybeUninit<Event>` has the layout of a slice of `MaybeUninit<epoll::Event>` of the
        // same length; the new slice borrows `spare` exclusively for the call below.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(
                spare.as_mut_ptr().cast::<MaybeUninit<epoll::Event>>(),
                spare.len(),
            )
        };
        let (filled, _) = epoll::wait(&self.ep, spare, timeout.as_ref())?;
        let n = filled.len();
        // SAFETY: `epoll::wait` initialised the first `n` elements of the spare capacity (it
        // returned them as the initialised part), and `n <= capacity`.
        unsafe { events.set_len(n) };
        Ok(())
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)`, edge-triggered.
    pub(crate) fn register(&self, fd: RawFd, token: Token, interests: Interest) -> io::Result<()> {
        let fd = borrow(fd)?;
        epoll::add(&self.ep, fd, data(token), interests_to_epoll(interests))?;
        Ok(())
    }

    /// `epoll_ctl(EPOLL_CTL_MOD)`: replaces token and interests; re-arms the edge.
    #[cfg(any(feature = "net", feature = "os-ext"))]
    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let fd = borrow(fd)?;
        epoll::modify(&self.ep, fd, data(token), interests_to_epoll(interests))?;
        Ok(())
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`.
    #[cfg(any(feature = "net", feature = "os-ext"))]
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        let fd = borrow(fd)?;
        epoll::delete(&self.ep, fd)?;
        Ok(())
    }
}

impl AsRawFd for Selector {
    fn as_raw_fd(&self) -> RawFd {
        self.ep.as_raw_fd()
    }
}

impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.ep.as_fd()
    }
}

#[inline]
fn data(token: Token) -> EventData {
    EventData::new_u64(token.0 as u64)
}

#[inline]
fn interests_to_epoll(interests: Interest) -> EventFlags {
    let mut flags = EventFlags::ET;
    if interests.is_readable() {
        flags |= EventFlags::IN | EventFlags::RDHUP;
    }
    if interests.is_writable() {
        flags |= EventFlags::OUT;
    }
    if interests.is_priority() {
        flags |= EventFlags::PRI;
    }
    flags
}

/// A `Waker` on epoll: a wake-up fd (eventfd, or a pipe with
/// `--cfg mio_unsupported_force_waker_pipe`) registered readable under the caller's token.
#[derive(Debug)]
pub(crate) struct Waker {
    fd: super::WakerFd,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let fd = super::WakerFd::new()?;
        selector.register(fd.as_fd().as_raw_fd(), token, Interest::READABLE)?;
        Ok(Waker { fd })
    }

    #[inline]
    pub(crate) fn wake(&self) -> io::Result<()> {
        self.fd.wake()
    }
}

#[cfg(any(feature = "net", feature = "os-ext"))]
pub(crate) use super::stateless::IoSourceState;

/// Reading an `epoll_event`, as §3.4 of the spec maps the flags.
pub(crate) mod event {
    use std::fmt;

    use rustix::event::epoll::EventFlags;

    use super::Event;
    use crate::Token;

    #[inline]
    fn flags(event: &Event) -> EventFlags {
        // By value: a reference into the (possibly packed) struct would be unaligned.
        event.0.flags
    }

    #[inline]
    pub(crate) fn token(event: &Event) -> Token {
        let data = event.0.data;
        Token(data.u64() as usize)
    }

    #[inline]
    pub(crate) fn is_readable(event: &Event) -> bool {
        flags(event).intersects(EventFlags::IN | EventFlags::PRI)
    }

    #[inline]
    pub(crate) fn is_writable(event: &Event) -> bool {
        flags(event).contains(EventFlags::OUT)
    }

    #[inline]
    pub(crate) fn is_error(event: &Event) -> bool {
        flags(event).contains(EventFlags::ERR)
    }

    #[inline]
    pub(crate) fn is_read_closed(event: &Event) -> bool {
        let f = flags(event);
        // A hang-up closes both halves; `EPOLLRDHUP` is only trusted with `EPOLLIN` beside it.
        f.contains(EventFlags::HUP) || f.contains(EventFlags::IN | EventFlags::RDHUP)
    }

    #[inline]
    pub(crate) fn is_write_closed(event: &Event) -> bool {
        let f = flags(event);
        // `EPOLLOUT|EPOLLERR` is what a pipe's write end gets when the read end is closed; a bare
        // `EPOLLERR` is a failed socket.
        f.contains(EventFlags::HUP)
            || f.contains(EventFlags::OUT | EventFlags::ERR)
            || f == EventFlags::ERR
    }

    #[inline]
    pub(crate) fn is_priority(event: &Event) -> bool {
        flags(event).contains(EventFlags::PRI)
    }

    /// The `{:#?}` details of an event: the raw `epoll_event`. Not a stable format.
    pub(crate) struct Details<'a>(pub(crate) &'a Event);

    impl fmt::Debug for Details<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            const NAMES: &[(EventFlags, &str)] = &[
                (EventFlags::IN, "EPOLLIN"),
                (EventFlags::PRI, "EPOLLPRI"),
                (EventFlags::OUT, "EPOLLOUT"),
                (EventFlags::RDNORM, "EPOLLRDNORM"),
                (EventFlags::RDBAND, "EPOLLRDBAND"),
                (EventFlags::WRNORM, "EPOLLWRNORM"),
                (EventFlags::WRBAND, "EPOLLWRBAND"),
                (EventFlags::MSG, "EPOLLMSG"),
                (EventFlags::ERR, "EPOLLERR"),
                (EventFlags::HUP, "EPOLLHUP"),
                (EventFlags::RDHUP, "EPOLLRDHUP"),
                (EventFlags::EXCLUSIVE, "EPOLLEXCLUSIVE"),
                (EventFlags::WAKEUP, "EPOLLWAKEUP"),
                (EventFlags::ONESHOT, "EPOLLONESHOT"),
                (EventFlags::ET, "EPOLLET"),
            ];
            struct Flags(EventFlags);
            impl fmt::Debug for Flags {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    let mut first = true;
                    for &(flag, name) in NAMES {
                        if self.0.contains(flag) {
                            if !first {
                                f.write_str("|")?;
                            }
                            f.write_str(name)?;
                            first = false;
                        }
                    }
                    if first {
                        f.write_str("(empty)")?;
                    }
                    Ok(())
                }
            }
            f.debug_struct("epoll_event")
                .field("events", &Flags(flags(self.0)))
                .field("u64", &token(self.0).0)
                .finish()
        }
    }
}
