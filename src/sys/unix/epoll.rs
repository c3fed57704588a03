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
use crate::{Interest, Token, Trigger};

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
        #[cfg(target_os = "linux")]
        if let Some(to) = timeout.filter(|to| to.subsec_nanos() % 1_000_000 != 0) {
            if let Some(res) = pwait2::wait(&self.ep, events, to) {
                return res;
            }
        }
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

    /// `epoll_ctl(EPOLL_CTL_ADD)`, edge-triggered unless the interest carries another
    /// [`Trigger`].
    pub(crate) fn register(&self, fd: RawFd, token: Token, interests: Interest) -> io::Result<()> {
        let flags = interests_to_epoll(interests)?;
        let fd = borrow(fd)?;
        epoll::add(&self.ep, fd, data(token), flags)?;
        Ok(())
    }

    /// `epoll_ctl(EPOLL_CTL_MOD)`: replaces token and interests; re-arms the edge.
    #[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let flags = interests_to_epoll(interests)?;
        if flags.contains(EventFlags::EXCLUSIVE) {
            return Err(exclusive_is_final());
        }
        let fd = borrow(fd)?;
        match epoll::modify(&self.ep, fd, data(token), flags) {
            Ok(()) => Ok(()),
            // epoll_ctl(2): "EINVAL: op was EPOLL_CTL_MOD and the EPOLLEXCLUSIVE flag has
            // previously been applied to this epfd, fd pair" (any other EINVAL here would need
            // an fd that is the epoll instance itself, refused at ADD already).
            Err(rustix::io::Errno::INVAL) => Err(exclusive_is_final()),
            Err(err) => Err(err.into()),
        }
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`.
    #[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
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

/// What `reregister` answers for an `EPOLLEXCLUSIVE` registration, which epoll never modifies.
#[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
fn exclusive_is_final() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "an exclusive registration (EPOLLEXCLUSIVE) cannot be modified (epoll_ctl(2)): \
         deregister it and register it again",
    )
}

/// The epoll flags of an interest and its trigger: `EPOLLET` (edge), `EPOLLONESHOT` (one event
/// until `EPOLL_CTL_MOD`), none (level), `EPOLLET | EPOLLEXCLUSIVE` (Linux 4.5+; Linux and
/// Android only, `Unsupported` elsewhere).
#[inline]
fn interests_to_epoll(interests: Interest) -> io::Result<EventFlags> {
    let mut flags = match interests.trigger_checked()? {
        Trigger::Edge => EventFlags::ET,
        Trigger::Oneshot => EventFlags::ONESHOT,
        Trigger::Level => EventFlags::empty(),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Trigger::Exclusive => EventFlags::ET | EventFlags::EXCLUSIVE,
        #[allow(unreachable_patterns)]
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this trigger is not supported by epoll on this OS",
            ))
        }
    };
    if interests.is_readable() {
        flags |= EventFlags::IN | EventFlags::RDHUP;
    }
    if interests.is_writable() {
        flags |= EventFlags::OUT;
    }
    if interests.is_priority() {
        flags |= EventFlags::PRI;
    }
    if flags.contains(EventFlags::EXCLUSIVE) {
        // epoll_ctl(2), EINVAL: with EPOLLEXCLUSIVE only EPOLLIN, EPOLLOUT, EPOLLWAKEUP and
        // EPOLLET may be given. A peer's half-close then shows as readable (a read returns 0)
        // rather than read-closed; urgent data cannot be asked for.
        if interests.is_priority() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an exclusive registration cannot ask for PRIORITY (epoll_ctl(2))",
            ));
        }
        flags.remove(EventFlags::RDHUP);
    }
    Ok(flags)
}

/// `epoll_pwait2(2)` (Linux 5.11+): a `timespec` timeout, for waits that are not whole
/// milliseconds. rustix rounds those up to milliseconds (it only calls `epoll_pwait2` with its
/// `linux_5_11` feature, which would then fail outright on older kernels), so the call is
/// made here through `libc::syscall`. Kernels without it answer `ENOSYS` once; that is
/// remembered and every later wait rounds up to milliseconds as before.
///
/// See [epoll_wait(2)](https://man7.org/linux/man-pages/man2/epoll_wait.2.html).
#[cfg(target_os = "linux")]
mod pwait2 {
    use std::io;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::Events;

    /// Set once the kernel answered `ENOSYS`.
    static MISSING: AtomicBool = AtomicBool::new(false);

    /// `struct __kernel_timespec`: 64-bit fields on every architecture, 32-bit ones included.
    #[repr(C)]
    struct KernelTimespec {
        tv_sec: i64,
        tv_nsec: i64,
    }

    /// The wait, or `None` when the kernel lacks the call (then the caller waits as before).
    #[cold]
    pub(super) fn wait(
        ep: &OwnedFd,
        events: &mut Events,
        timeout: Duration,
    ) -> Option<io::Result<()>> {
        if MISSING.load(Ordering::Relaxed) {
            return None;
        }
        let ts = KernelTimespec {
            // Beyond i64 seconds (292 billion years) is forever anyway.
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        let max = events.capacity().min(i32::MAX as usize);
        // SAFETY: the buffer has room for `max` `epoll_event`s (`Event` is a transparent
        // wrapper of rustix's, which has the kernel's layout); `ts` outlives the call; no
        // signal mask (NULL, size 0). Every argument is widened to `c_long`, as the variadic
        // `syscall` reads them.
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                ep.as_raw_fd() as libc::c_long,
                events.as_mut_ptr() as libc::c_long,
                max as libc::c_long,
                &ts as *const KernelTimespec as libc::c_long,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ENOSYS) {
                MISSING.store(true, Ordering::Relaxed);
                return None;
            }
            return Some(Err(err));
        }
        // SAFETY: the kernel initialised the first `n` (<= `max`) events.
        unsafe { events.set_len(n as usize) };
        Some(Ok(()))
    }
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

#[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
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
            let set = flags(self.0);
            let names = NAMES
                .iter()
                .filter(move |&&(flag, _)| set.contains(flag))
                .map(|&(_, name)| name);
            f.debug_struct("epoll_event")
                .field("events", &crate::sys::FlagNames(names))
                .field("u64", &token(self.0).0)
                .finish()
        }
    }
}
