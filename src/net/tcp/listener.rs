use std::io;
use std::net::{self, SocketAddr};

use crate::io_source::IoSource;
use crate::net::TcpStream;
use crate::sys;

/// A non-blocking TCP listening socket.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::net::TcpListener;
/// use mio::{Events, Interest, Poll, Token};
///
/// let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(128);
/// poll.registry().register(&mut listener, Token(0), Interest::READABLE)?;
///
/// let _client = std::net::TcpStream::connect(listener.local_addr()?)?;
///
/// let mut accepted = 0;
/// while accepted == 0 {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     // Accept until WouldBlock: one event may stand for many connections.
///     loop {
///         match listener.accept() {
///             Ok((_stream, _addr)) => accepted += 1,
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
///             Err(e) => return Err(e),
///         }
///     }
/// }
/// # }
/// # Ok(())
/// # }
/// ```
pub struct TcpListener {
    inner: IoSource<net::TcpListener>,
}

impl TcpListener {
    /// Creates a listener bound to `addr`, as std does: `socket` (non-blocking, close-on-exec),
    /// `SO_REUSEADDR`, `bind`, `listen` with a backlog of 128. Port 0 picks a free port; read
    /// it back with [`local_addr`](TcpListener::local_addr).
    ///
    /// # Errors
    ///
    /// - [`AddrInUse`](io::ErrorKind::AddrInUse): another socket listens on `addr`.
    /// - [`AddrNotAvailable`](io::ErrorKind::AddrNotAvailable): `addr` is not local.
    /// - [`PermissionDenied`](io::ErrorKind::PermissionDenied): a privileged port.
    // Not on WASI preview 1, which has no bind(2): its host hands listeners over, bound.
    #[cfg(not(all(target_os = "wasi", target_env = "p1")))]
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        sys::net::tcp_listener(addr).map(TcpListener::from)
    }

    /// Wraps a std listener. It must already be non-blocking
    /// (`listener.set_nonblocking(true)`); this does not change it.
    pub fn from_std(listener: net::TcpListener) -> TcpListener {
        TcpListener {
            inner: IoSource::new(listener),
        }
    }

    /// Accepts a pending connection: `accept4` with the new socket non-blocking and
    /// close-on-exec. Call it until it returns `WouldBlock` after each readable event.
    ///
    /// # Errors
    ///
    /// - [`WouldBlock`](io::ErrorKind::WouldBlock): no connection is pending.
    /// - `EMFILE`/`ENFILE` (out of file descriptors): the connection stays queued, so the
    ///   listener stays readable. Back off (stop accepting until an fd is freed) rather than
    ///   retrying at once, or the loop spins; the `tcp_server` example shows how.
    /// - `ECONNABORTED`: a connection was reset while queued; just accept again.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        self.inner
            .do_read(|listener| sys::net::tcp_accept(listener))
            .map(|(fd, addr)| (TcpStream::from(fd), addr))
    }

    /// The local address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Sets `IP_TTL`, the time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl_io_source_traits!(TcpListener, net::TcpListener);
impl_std_conversions!(TcpListener, net::TcpListener);
