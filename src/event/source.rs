use std::io;

use crate::{Interest, Registry, Token};

/// Something that can be registered with a [`Registry`] and produce readiness events.
///
/// mio's own I/O types (`mio::net`, `mio::unix::pipe`) implement it, [`SourceFd`] adapts any
/// raw file descriptor, and a type that wraps one of those implements it by delegating, as in
/// the example below.
///
/// Call [`Registry::register`], [`Registry::reregister`] and [`Registry::deregister`] rather
/// than these methods: the registry methods are the public entry points (they log, and they
/// accept `?Sized` sources such as `&mut dyn Source`).
///
/// A source should be deregistered before it is dropped. Dropping a source that owns its fd
/// closes the fd, which removes it from the selector as long as no duplicate of the fd is
/// still open (see [`Poll`](crate::Poll#dropping-sources)).
///
/// [`SourceFd`]: crate::unix::SourceFd
///
/// # Examples
///
/// A wrapper that delegates to the socket it owns:
///
/// ```
/// # #[cfg(all(feature = "os-poll", feature = "net"))] {
/// use std::io;
/// use mio::{event, Interest, Registry, Token};
/// use mio::net::TcpStream;
///
/// struct Connection {
///     socket: TcpStream,
///     bytes_seen: u64,
/// }
///
/// impl event::Source for Connection {
///     fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         self.socket.register(registry, token, interests)
///     }
///
///     fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
///         self.socket.reregister(registry, token, interests)
///     }
///
///     fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
///         self.socket.deregister(registry)
///     }
/// }
/// # }
/// ```
pub trait Source {
    /// Registers `self` with `registry` under `token`, for `interests`.
    /// Use [`Registry::register`] instead of calling this directly.
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()>;

    /// Replaces the token and interests of an existing registration.
    /// Use [`Registry::reregister`] instead of calling this directly.
    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()>;

    /// Removes `self` from `registry`.
    /// Use [`Registry::deregister`] instead of calling this directly.
    fn deregister(&mut self, registry: &Registry) -> io::Result<()>;
}

impl<T> Source for Box<T>
where
    T: Source + ?Sized,
{
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        (**self).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        (**self).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        (**self).deregister(registry)
    }
}
