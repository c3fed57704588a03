use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

use crate::io_source::IoSource;
use crate::sys;

/// A non-blocking Unix-domain datagram socket.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::net::UnixDatagram;
/// use mio::{Events, Interest, Poll, Token};
///
/// let (a, mut b) = UnixDatagram::pair()?;
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// poll.registry().register(&mut b, Token(0), Interest::READABLE)?;
///
/// a.send(b"datagram")?;
/// let mut buf = [0; 32];
/// let n = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     match b.recv(&mut buf) {
///         Ok(n) => break n,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///         Err(e) => return Err(e),
///     }
/// };
/// assert_eq!(&buf[..n], b"datagram");
/// # }
/// # Ok(())
/// # }
/// ```
pub struct UnixDatagram {
    inner: IoSource<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to the filesystem `path`.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a path with a NUL byte or too long
    /// for `sun_path`; [`AddrInUse`](io::ErrorKind::AddrInUse) when a file exists at `path`.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Creates a socket bound to `address` (a pathname, or on Linux an abstract name).
    pub fn bind_addr(address: &SocketAddr) -> io::Result<UnixDatagram> {
        sys::net::unix_datagram_bind(address).map(UnixDatagram::from)
    }

    /// Wraps a std socket. It must already be non-blocking; this does not change it.
    pub fn from_std(socket: net::UnixDatagram) -> UnixDatagram {
        UnixDatagram {
            inner: IoSource::new(socket),
        }
    }

    /// Connects to the socket at `path`: `send`/`recv` then talk to it only.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.inner.connect(path)
    }

    /// Creates a socket that is not bound to any address. What it sends arrives from an
    /// unnamed address, so it cannot be answered.
    pub fn unbound() -> io::Result<UnixDatagram> {
        sys::net::unix_datagram().map(UnixDatagram::from)
    }

    /// A connected pair of sockets (`socketpair`), both non-blocking and close-on-exec.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = sys::net::unix_datagram_pair()?;
        Ok((UnixDatagram::from(a), UnixDatagram::from(b)))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected peer's address; `NotConnected` if none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Receives one datagram and the address it came from (unnamed for an unbound sender).
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.do_read(|socket| socket.recv_from(buf))
    }

    /// Receives one datagram.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.do_read(|socket| socket.recv(buf))
    }

    /// Sends one datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// `NotFound`/`ConnectionRefused` when nothing is bound at `path`;
    /// [`WouldBlock`](io::ErrorKind::WouldBlock) when the receiver's queue is full.
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send_to(buf, path))
    }

    /// Sends one datagram to the connected peer. On an unconnected socket this fails with
    /// `ENOTCONN` ([`NotConnected`](io::ErrorKind::NotConnected)).
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.do_write(|socket| socket.send(buf))
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Shuts down the read half, the write half, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    try_io_method!();
}

impl_io_source_traits!(UnixDatagram, net::UnixDatagram);
impl_std_conversions!(UnixDatagram, net::UnixDatagram);
