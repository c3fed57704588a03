use std::io;
use std::os::fd::RawFd;

use crate::{event, Interest, Registry, Token};

/// Registers any raw file descriptor: an adapter between a `&RawFd` and [`event::Source`].
///
/// `SourceFd` borrows the fd; it never owns, closes or deregisters it. Deregister before closing
/// the fd (a closed fd leaves the epoll set by itself unless it was duplicated, and
/// deregistering it afterwards fails with `EBADF`).
///
/// It passes every call straight to the selector, so it skips the debug-build check that ties
/// a mio I/O type to one `Poll`: the kernel's own answers (`EEXIST`, `ENOENT`, `EPERM`,
/// `EBADF`) come back as they are.
///
/// # Examples
///
/// Watching a standard library listener:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::os::fd::AsRawFd;
/// use std::time::Duration;
/// use mio::unix::SourceFd;
/// use mio::{Events, Interest, Poll, Token};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// listener.set_nonblocking(true)?;
/// let fd = listener.as_raw_fd();
///
/// let mut poll = Poll::new()?;
/// poll.registry().register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;
///
/// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let mut events = Events::with_capacity(8);
/// while events.is_empty() {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
/// }
/// assert_eq!(events.iter().next().unwrap().token(), Token(0));
/// poll.registry().deregister(&mut SourceFd(&fd))?;
/// # Ok(())
/// # }
/// ```
///
/// Implementing [`event::Source`] for a type that owns an fd:
///
/// ```
/// use std::io;
/// use std::os::fd::{AsRawFd, OwnedFd};
/// use mio::unix::SourceFd;
/// use mio::{event, Interest, Registry, Token};
///
/// struct MyIo {
///     fd: OwnedFd,
/// }
///
/// impl event::Source for MyIo {
///     fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         SourceFd(&self.fd.as_raw_fd()).register(registry, token, interests)
///     }
///
///     fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         SourceFd(&self.fd.as_raw_fd()).reregister(registry, token, interests)
///     }
///
///     fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
///         SourceFd(&self.fd.as_raw_fd()).deregister(registry)
///     }
/// }
/// ```
#[derive(Debug)]
pub struct SourceFd<'a>(pub &'a RawFd);

impl<'a> event::Source for SourceFd<'a> {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        registry.selector().register(*self.0, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        registry.selector().reregister(*self.0, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.selector().deregister(*self.0)
    }
}
