use std::io;
use std::net::{self, Shutdown, SocketAddr};

use crate::io_source::IoSource;
use crate::sys;

/// A non-blocking TCP stream.
///
/// # Examples
///
/// Connecting, then waiting for the connection to complete:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::net::TcpStream;
/// use mio::{Events, Interest, Poll, Token};
///
/// let server = std::net::TcpListener::bind("127.0.0.1:0")?;
///
/// let mut stream = TcpStream::connect(server.local_addr()?)?;
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// poll.registry().register(&mut stream, Token(0), Interest::WRITABLE)?;
///
/// loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     if events.iter().any(|e| e.token() == Token(0) && e.is_writable()) {
///         if let Some(err) = stream.take_error()? {
///             return Err(err); // e.g. ConnectionRefused
///         }
///         match stream.peer_addr() {
///             Ok(_) => break, // connected
///             Err(e) if e.kind() == std::io::ErrorKind::NotConnected => continue,
///             Err(e) => return Err(e),
///         }
///     }
/// }
/// # }
/// # Ok(())
/// # }
/// ```
pub struct TcpStream {
    inner: IoSource<net::TcpStream>,
}

impl TcpStream {
    /// Starts connecting to `addr` and returns at once, with the connection **in progress**.
    ///
    /// Register the stream for [`WRITABLE`](crate::Interest::WRITABLE) and wait for the
    /// event; then [`take_error`](TcpStream::take_error) reports a failure (for example
    /// `ConnectionRefused`), and [`peer_addr`](TcpStream::peer_addr) succeeds once connected
    /// (`NotConnected` means: not yet, wait for another event).
    ///
    /// # Errors
    ///
    /// Errors known at once: `NetworkUnreachable`, `AddrNotAvailable` (no local port left),
    /// `WouldBlock` (rare: no routing-cache entry). Refusals arrive later, as above.
    // Not on WASI preview 1, which has no connect(2).
    #[cfg(not(all(target_os = "wasi", target_env = "p1")))]
    pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        sys::net::tcp_connect(addr).map(TcpStream::from)
    }

    /// Wraps a std stream. It must already be non-blocking (`stream.set_nonblocking(true)`);
    /// this does not change it.
    pub fn from_std(stream: net::TcpStream) -> TcpStream {
        TcpStream {
            inner: IoSource::new(stream),
        }
    }

    /// The remote address. `NotConnected` while a [`connect`](TcpStream::connect) is still
    /// in progress (or after it failed).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// After `Shutdown::Write`, writes fail with [`BrokenPipe`](io::ErrorKind::BrokenPipe)
    /// (never `SIGPIPE`) and the peer reads end-of-file.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// Reads `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`), e.g. the outcome of a
    /// non-blocking connect.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Reads without removing the data from the socket's queue (`MSG_PEEK`).
    ///
    /// A following `read` returns the same bytes. If `peek` (or a read after it) returns
    /// `WouldBlock`, the next readable event is still delivered.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .do_read(|stream| sys::net::recv(stream, buf, true))
    }

    try_io_method!();
}

impl_read!(TcpStream);
impl_write!(TcpStream, sys::net::send, sys::net::send_vectored);
impl_io_source_traits!(TcpStream, net::TcpStream);
impl_std_conversions!(TcpStream, net::TcpStream);
