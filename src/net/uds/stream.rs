use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

use crate::io_source::IoSource;
use crate::sys;

/// A non-blocking Unix-domain stream socket.
///
/// Writes use `send(2)` with `MSG_NOSIGNAL`: writing to a closed peer fails with
/// [`BrokenPipe`](io::ErrorKind::BrokenPipe) and never raises `SIGPIPE`. `(&UnixStream).write`
/// takes no lock, allocates nothing and logs nothing, so it may be called from a signal
/// handler (tokio's signal driver does).
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::io::{Read, Write};
/// use std::time::Duration;
/// use mio::net::UnixStream;
/// use mio::{Events, Interest, Poll, Token};
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// poll.registry().register(&mut b, Token(1), Interest::READABLE)?;
///
/// a.write_all(b"hi")?;
/// let mut buf = [0; 8];
/// let n = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     match b.read(&mut buf) {
///         Ok(n) => break n,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///         Err(e) => return Err(e),
///     }
/// };
/// assert_eq!(&buf[..n], b"hi");
/// # }
/// # Ok(())
/// # }
/// ```
pub struct UnixStream {
    inner: IoSource<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at the filesystem `path`.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) for a path with a NUL byte or too long
    /// for `sun_path`; `NotFound` when nothing is at `path`; `ConnectionRefused` when nobody
    /// listens there; [`WouldBlock`](io::ErrorKind::WouldBlock) when the listener's backlog
    /// is full (retry later).
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Connects to `address` (a pathname, or on Linux an abstract name). Errors as
    /// [`connect`](UnixStream::connect).
    pub fn connect_addr(address: &SocketAddr) -> io::Result<UnixStream> {
        sys::net::unix_connect(address).map(UnixStream::from)
    }

    /// Wraps a std stream. It must already be non-blocking; this does not change it.
    pub fn from_std(stream: net::UnixStream) -> UnixStream {
        UnixStream {
            inner: IoSource::new(stream),
        }
    }

    /// A connected pair of sockets (`socketpair`), both non-blocking and close-on-exec.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sys::net::unix_stream_pair()?;
        Ok((UnixStream::from(a), UnixStream::from(b)))
    }

    /// The local address (usually unnamed).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Shuts down the read half, the write half, or both. After `Shutdown::Write`, writes
    /// fail with [`BrokenPipe`](io::ErrorKind::BrokenPipe) and the peer reads end-of-file.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    try_io_method!();
}

impl_read!(UnixStream);
impl_write!(UnixStream, sys::net::send, sys::net::send_vectored);
impl_io_source_traits!(UnixStream, net::UnixStream);
impl_std_conversions!(UnixStream, net::UnixStream);
