//! [`Trigger`]: how a registration reports readiness. An extension of this crate: upstream mio
//! has edge triggering only.

/// How a registration reports readiness: carried by the [`Interest`](crate::Interest) it is
/// registered with ([`Interest::oneshot`](crate::Interest::oneshot),
/// [`Interest::level`](crate::Interest::level), [`Interest::exclusive`](crate::Interest::exclusive)).
///
/// **This is an extension of this crate, not part of upstream mio's API**: code that uses it
/// builds only against this crate. A plain `Interest` is [`Edge`](Trigger::Edge), exactly as
/// in upstream mio.
///
/// | Trigger | Reports | epoll | poll(2) fallback | kqueue | Windows |
/// |---|---|---|---|---|---|
/// | `Edge` | when the source *becomes* ready; again after an operation returned `WouldBlock` | `EPOLLET` | emulated | `EV_CLEAR` | AFD, armed mask |
/// | `Oneshot` | one event, then nothing until [`reregister`](crate::Registry::reregister) | `EPOLLONESHOT` | emulated | `EV_ONESHOT`, per filter | AFD, disarmed until `reregister` |
/// | `Level` | on every `poll` while the source is ready | no `EPOLLET` | native | no `EV_CLEAR` | AFD, re-submitted at once |
/// | `Exclusive` | as `Edge`, but of several `Poll`s watching the same fd at most one is woken per readiness change | `EPOLLEXCLUSIVE` (Linux 4.5+) | `Unsupported` | `Unsupported` | `Unsupported` |
///
/// Named pipes on Windows (whose readiness is made from completions) follow the same rules:
/// oneshot reports the first event only, level reports again at every `poll` while ready.
///
/// A trigger a backend cannot give is refused with
/// [`ErrorKind::Unsupported`](std::io::ErrorKind::Unsupported) at `register`, never silently
/// downgraded. An `Interest` that carries two different triggers (combined with `|`) is
/// refused with [`ErrorKind::InvalidInput`](std::io::ErrorKind::InvalidInput).
///
/// - **Oneshot** hands one readiness to exactly one consumer (a thread pool): the source stays
///   registered but silent until `reregister`, which re-arms it (and reports at once if it is
///   still ready). It also lets blocking fds be polled. On kqueue each direction (read and
///   write filter) is one-shot on its own.
/// - **Level** reports on every `poll` for as long as the source is ready, as select(2) and
///   poll(2) do: what ports of C event loops expect. Drain or deregister a ready source, or
///   every `poll` returns at once.
/// - **Exclusive** stops the thundering herd when one `Poll` per thread watches the same
///   listener: the kernel wakes one of them per new connection instead of all. epoll does not
///   let an exclusive registration be modified: `reregister` answers `InvalidInput` (deregister
///   and register again).
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(all(feature = "os-poll", feature = "net"))] {
/// use std::time::Duration;
/// use mio::net::{TcpListener, TcpStream};
/// use mio::{Events, Interest, Poll, Token, Trigger};
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
/// let interest = Interest::READABLE.oneshot();
/// assert_eq!(interest.trigger(), Some(Trigger::Oneshot));
/// poll.registry().register(&mut listener, Token(0), interest)?;
///
/// let _a = TcpStream::connect(listener.local_addr()?)?;
/// let _b = TcpStream::connect(listener.local_addr()?)?;
/// // One event, even though nothing was accepted...
/// while events.is_empty() {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
/// }
/// // ...and then silence until the registration is re-armed.
/// poll.poll(&mut events, Some(Duration::from_millis(50)))?;
/// assert!(events.is_empty());
/// poll.registry().reregister(&mut listener, Token(0), interest)?;
/// poll.poll(&mut events, Some(Duration::from_secs(5)))?;
/// assert!(!events.is_empty());
/// # }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trigger {
    /// Edge-triggered: the default, and the only trigger of upstream mio.
    Edge,
    /// One event, then silent until `reregister`.
    Oneshot,
    /// Reported on every `poll` while ready.
    Level,
    /// Edge-triggered, at most one of several `Poll`s woken (`EPOLLEXCLUSIVE`).
    Exclusive,
}
