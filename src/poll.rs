use std::fmt;
use std::io;
cfg_selector_fd! {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
}
#[cfg(debug_assertions)]
use std::sync::atomic::AtomicBool;
#[cfg(debug_assertions)]
use std::sync::Arc;
use std::time::Duration;

use crate::{event, sys, Events, Interest, Token};

/// Polls for readiness events on the sources registered with its [`Registry`].
///
/// `Poll` is the event loop's heart: register sources (sockets, pipes, any fd through
/// [`SourceFd`]) with [`Poll::registry`], then call [`Poll::poll`] to wait until at least one of
/// them is ready, and handle the [`Events`] it fills.
///
/// [`SourceFd`]: crate::unix::SourceFd
///
/// # Examples
///
/// A server that accepts one connection (the quick start of the README is a longer version):
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(all(feature = "os-poll", feature = "net"))] {
/// use std::time::Duration;
/// use mio::net::{TcpListener, TcpStream};
/// use mio::{Events, Interest, Poll, Token};
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(128);
///
/// let mut server = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
/// poll.registry().register(&mut server, Token(0), Interest::READABLE)?;
///
/// let _client = TcpStream::connect(server.local_addr()?)?;
///
/// 'wait: loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     for event in events.iter() {
///         if event.token() == Token(0) {
///             // Accept until WouldBlock: the event is edge-triggered.
///             let (_conn, addr) = server.accept()?;
///             println!("accepted {}", addr);
///             break 'wait;
///         }
///     }
/// }
/// # }
/// # Ok(())
/// # }
/// ```
///
/// # Edge-triggered readiness
///
/// Every registration is **edge-triggered**: an event is delivered when a source *becomes*
/// ready, not while it *is* ready. After an event, keep reading (or writing, or accepting) until
/// the operation returns [`io::ErrorKind::WouldBlock`]; only then is another event guaranteed
/// when the source becomes ready again. Stopping early (say, after one `read` of a full buffer)
/// can leave data waiting with no event to announce it.
///
/// # Spurious events
///
/// An event is a hint. A source may be reported ready and still answer `WouldBlock`; a
/// single state change may be reported as one event with readable and writable set or as two
/// events. Code must treat `WouldBlock` after an event as normal.
///
/// # Draining and batching
///
/// One call returns at most [`Events::capacity`] events; the rest stay queued in the kernel
/// and are returned by the next call, so a small buffer is never a lost event.
///
/// # Dropping sources
///
/// Dropping a registered mio I/O type closes its fd, and the kernel removes a closed fd from
/// epoll, so no event for it is delivered afterwards. A `dup`'d fd keeps the registration
/// alive, though: deregister explicitly when a source may have been duplicated (for example by
/// `try_clone` on a std type, or across `fork`). Dropping the `Poll` itself closes the epoll
/// instance; sources stay open but are no longer watched.
///
/// # Threads
///
/// `poll` takes `&mut self`, so one thread polls at a time. The [`Registry`] can be used from
/// any thread, even while another is blocked in `poll`: registrations take effect at once. Use
/// [`Registry::try_clone`] or an `Arc` to share it, and a [`Waker`](crate::Waker) to interrupt a
/// blocked `poll` from another thread.
///
/// # Implementation
///
/// | Platform | Selector | Waker |
/// |---|---|---|
/// | Linux, Android | epoll, every registration `EPOLLET` | eventfd |
/// | illumos | epoll, every registration `EPOLLET` | a self-pipe |
/// | macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD, DragonFly | kqueue, every filter `EV_CLEAR` | `EVFILT_USER` |
/// | other Unix systems (Solaris, Haiku, ...) | poll(2), edge triggering emulated | folded into the selector |
/// | `--cfg mio_unsupported_force_poll_poll` | poll(2), edge triggering emulated | folded into the selector |
/// | `--cfg mio_unsupported_force_waker_pipe` | unchanged | a self-pipe |
/// | Windows | an I/O completion port; socket readiness from AFD poll requests, edge triggering kept with a per-socket armed mask | a posted completion packet |
///
/// On Windows a socket's registration lives in the mio type (not in the kernel as with
/// epoll), so a socket can be registered with one `Poll` at a time, in release builds too, and
/// `AsRawFd`-style access to the selector does not exist. Timeouts are rounded up to whole
/// milliseconds there as well.
///
/// This describes the current implementation, not a promise.
pub struct Poll {
    registry: Registry,
}

/// Registers event sources with a [`Poll`] instance.
///
/// Obtained from [`Poll::registry`]; [`Registry::try_clone`] gives an owned handle that can be
/// sent to other threads. All methods take `&self` and are safe to call concurrently, including
/// while the `Poll` is blocked waiting.
pub struct Registry {
    selector: sys::Selector,
    /// The debug-build identity of the selector, shared by clones: a source registered through
    /// one registry is refused by another (§3.2 of the spec).
    #[cfg(debug_assertions)]
    id: usize,
    /// Debug builds allow one `Waker` per `Poll`; the flag is shared by clones, never reset.
    #[cfg(debug_assertions)]
    has_waker: Arc<AtomicBool>,
}

impl Poll {
    cfg_os_poll! {
        /// Creates a new `Poll`: on Linux, an epoll instance with close-on-exec set.
        ///
        /// # Errors
        ///
        /// Fails when the process is out of file descriptors (`EMFILE`) or of memory.
        ///
        /// ```
        /// # fn main() -> std::io::Result<()> {
        /// use std::time::Duration;
        /// use mio::{Events, Poll};
        ///
        /// let mut poll = Poll::new()?;
        /// let mut events = Events::with_capacity(16);
        /// poll.poll(&mut events, Some(Duration::ZERO))?;
        /// assert!(events.is_empty());
        /// # Ok(())
        /// # }
        /// ```
        pub fn new() -> io::Result<Poll> {
            let selector = sys::Selector::new()?;
            Ok(Poll {
                registry: Registry {
                    selector,
                    #[cfg(debug_assertions)]
                    id: next_selector_id(),
                    #[cfg(debug_assertions)]
                    has_waker: Arc::new(AtomicBool::new(false)),
                },
            })
        }
    }

    /// The registry of this `Poll`, to register sources with.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Waits for readiness events, filling `events`.
    ///
    /// `events` is cleared first (even when the call fails), then receives at most
    /// `events.capacity()` events; more ready sources are reported by the next call.
    ///
    /// `timeout`:
    /// - `None` waits until an event arrives (forever if nothing is registered);
    /// - `Some(Duration::ZERO)` checks without waiting;
    /// - any other value waits at most that long, capped at `i32::MAX` ms (about 24.8 days;
    ///   on Windows just under `u32::MAX` ms). On timeout the call returns `Ok(())` with no
    ///   event.
    ///
    /// **Precision** (this crate's extension; upstream always rounds up to whole
    /// milliseconds): the wait is as precise as the OS allows, so `Some(100µs)` waits about
    /// 100 µs (plus the kernel's timer slack, 50 µs by default on Linux), not a millisecond:
    ///
    /// | Backend | Sub-millisecond timeouts |
    /// |---|---|
    /// | epoll, Linux 5.11+ | exact (`epoll_pwait2`) |
    /// | epoll, older Linux, Android, illumos | rounded up to whole ms (`ENOSYS` from `epoll_pwait2` is remembered: asked once) |
    /// | poll(2) fallback on Linux | exact (`ppoll`) |
    /// | kqueue | exact (`kevent`'s `timespec`) |
    /// | poll(2) elsewhere, Windows | rounded up to whole ms |
    ///
    /// Rounding is always **up**, so a short timeout never turns into a busy loop: `1ns`
    /// waits at least a few microseconds of timer slack, or one millisecond where rounded.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Interrupted`](io::ErrorKind::Interrupted) when a signal arrives during the
    ///   wait. It is not retried, even with `SA_RESTART`: call `poll` again.
    /// - [`ErrorKind::InvalidInput`](io::ErrorKind::InvalidInput) when `events` has capacity 0.
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
    /// let waker = Waker::new(poll.registry(), Token(1))?;
    /// let mut events = Events::with_capacity(4);
    ///
    /// waker.wake()?;
    /// loop {
    ///     match poll.poll(&mut events, Some(Duration::from_secs(1))) {
    ///         Ok(()) => break,
    ///         Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// assert_eq!(events.iter().next().map(|e| e.token()), Some(Token(1)));
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn poll(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        self.registry.selector.select(events.sys(), timeout)
    }
}

impl fmt::Debug for Poll {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt.write_str("Poll")
    }
}

cfg_selector_fd! {
    impl AsRawFd for Poll {
        /// The epoll or kqueue fd. Not available with the poll(2) selector.
        fn as_raw_fd(&self) -> RawFd {
            self.registry.as_raw_fd()
        }
    }
}

impl Registry {
    /// Registers `source` to deliver events for `interests` under `token`.
    ///
    /// The registration is edge-triggered (see [`Poll`]). If the source is already ready (data
    /// waiting, a connection pending), the first `poll` reports it.
    ///
    /// # Errors
    ///
    /// - [`AlreadyExists`](io::ErrorKind::AlreadyExists): the source is already registered with
    ///   this `Poll`; in debug builds also when a mio I/O type is registered with a second
    ///   `Poll` (message `I/O source already registered with a \`Registry\``).
    /// - [`PermissionDenied`](io::ErrorKind::PermissionDenied) (`EPERM`): the fd does not
    ///   support readiness, e.g. a regular file or a directory.
    /// - `EBADF`: the fd is not open.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(all(feature = "os-poll", feature = "net"))] {
    /// use mio::net::UdpSocket;
    /// use mio::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// poll.registry().register(&mut socket, Token(0), Interest::READABLE | Interest::WRITABLE)?;
    ///
    /// let err = poll.registry().register(&mut socket, Token(1), Interest::READABLE).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn register<S>(&self, source: &mut S, token: Token, interests: Interest) -> io::Result<()>
    where
        S: event::Source + ?Sized,
    {
        trace!(
            "registering event source with poller: token={:?}, interests={:?}",
            token,
            interests
        );
        source.register(self, token, interests)
    }

    /// Replaces the token and interests of a registered `source`.
    ///
    /// This also re-arms the edge: if the source is ready for the new interests, the next
    /// `poll` reports it, even if that readiness was reported before.
    ///
    /// # Errors
    ///
    /// - [`NotFound`](io::ErrorKind::NotFound): the source is not registered with this `Poll`
    ///   (debug message `I/O source not registered with \`Registry\``).
    /// - [`AlreadyExists`](io::ErrorKind::AlreadyExists), debug builds only: a mio I/O type
    ///   registered with a different `Poll`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(all(feature = "os-poll", feature = "net"))] {
    /// use mio::net::UdpSocket;
    /// use mio::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// poll.registry().register(&mut socket, Token(0), Interest::READABLE)?;
    /// poll.registry().reregister(&mut socket, Token(2), Interest::WRITABLE)?;
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn reregister<S>(&self, source: &mut S, token: Token, interests: Interest) -> io::Result<()>
    where
        S: event::Source + ?Sized,
    {
        trace!(
            "reregistering event source with poller: token={:?}, interests={:?}",
            token,
            interests
        );
        source.reregister(self, token, interests)
    }

    /// Removes `source` from this `Poll`: no event carrying its token is delivered by a `poll`
    /// that starts after this returns.
    ///
    /// # Errors
    ///
    /// - [`NotFound`](io::ErrorKind::NotFound): the source is not registered (debug message
    ///   `I/O source not registered with \`Registry\``).
    /// - `EBADF`: the fd was already closed. The error is reported, not swallowed, so callers
    ///   can keep any state that an in-flight event might still point to.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(all(feature = "os-poll", feature = "net"))] {
    /// use mio::net::UdpSocket;
    /// use mio::{Interest, Poll, Token};
    ///
    /// let poll = Poll::new()?;
    /// let mut socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// poll.registry().register(&mut socket, Token(0), Interest::READABLE)?;
    /// poll.registry().deregister(&mut socket)?;
    /// let err = poll.registry().deregister(&mut socket).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn deregister<S>(&self, source: &mut S) -> io::Result<()>
    where
        S: event::Source + ?Sized,
    {
        trace!("deregistering event source from poller");
        source.deregister(self)
    }

    /// Creates a new handle to the same selector (on Linux, a `dup` of the epoll fd with
    /// close-on-exec). Sources registered through it are reported by the original [`Poll`].
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(feature = "os-poll")] {
    /// use std::thread;
    /// use mio::{Poll, Token, Waker};
    ///
    /// let poll = Poll::new()?;
    /// let registry = poll.registry().try_clone()?;
    /// let waker = thread::spawn(move || Waker::new(&registry, Token(0))).join().unwrap()?;
    /// waker.wake()?;
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_clone(&self) -> io::Result<Registry> {
        Ok(Registry {
            selector: self.selector.try_clone()?,
            #[cfg(debug_assertions)]
            id: self.id,
            #[cfg(debug_assertions)]
            has_waker: Arc::clone(&self.has_waker),
        })
    }

    /// The selector, for sources (and the `Waker`) to register with.
    // On WASI, with no `Waker`, only the sources use it; a build may have none.
    #[cfg_attr(target_os = "wasi", allow(dead_code))]
    pub(crate) fn selector(&self) -> &sys::Selector {
        &self.selector
    }

    /// The debug-build identity of the selector behind this registry.
    #[cfg(debug_assertions)]
    #[cfg_attr(
        not(any(feature = "net", all(unix, feature = "os-ext"), mio_extras)),
        allow(dead_code)
    )]
    pub(crate) fn selector_id(&self) -> usize {
        self.id
    }

    /// Debug builds: marks that a `Waker` exists for this `Poll`, panicking if one already did.
    #[cfg(all(debug_assertions, not(target_os = "wasi")))]
    pub(crate) fn register_waker(&self) {
        assert!(
            !self
                .has_waker
                .swap(true, std::sync::atomic::Ordering::AcqRel),
            "Only a single `Waker` can be active per `Poll` instance"
        );
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, fmt: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt.write_str("Registry")
    }
}

cfg_selector_fd! {
    impl AsRawFd for Registry {
        /// The epoll or kqueue fd. Not available with the poll(2) selector.
        fn as_raw_fd(&self) -> RawFd {
            self.selector.as_raw_fd()
        }
    }

    impl AsFd for Registry {
        /// The epoll or kqueue fd (tokio's FreeBSD AIO names the queue with it). Not available
        /// with the poll(2) selector.
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.selector.as_fd()
        }
    }
}

/// Debug builds: a process-wide counter that gives every `Poll` its own id (0 is never used,
/// so an unregistered source can hold 0).
#[cfg(all(debug_assertions, feature = "os-poll"))]
fn next_selector_id() -> usize {
    use std::sync::atomic::AtomicUsize;
    static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
