use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

use crate::io_source::IoSource;
use crate::net::UnixStream;
use crate::sys;

/// A non-blocking Unix-domain stream listener.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::net::{UnixListener, UnixStream};
/// use mio::{Events, Interest, Poll, Token};
///
/// let dir = std::env::temp_dir().join(format!("mio-doc-listener-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("socket");
/// let _ = std::fs::remove_file(&path);
///
/// let mut listener = UnixListener::bind(&path)?;
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// poll.registry().register(&mut listener, Token(0), Interest::READABLE)?;
///
/// let _client = UnixStream::connect(&path)?;
/// let (_conn, peer) = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     match listener.accept() {
///         Ok(accepted) => break accepted,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///         Err(e) => return Err(e),
///     }
/// };
/// assert!(peer.is_unnamed()); // the client never bound an address
/// std::fs::remove_dir_all(&dir)?;
/// # }
/// # Ok(())
/// # }
/// ```
pub struct UnixListener {
    inner: IoSource<net::UnixListener>,
}

impl UnixListener {
    /// Creates a listener bound to the filesystem `path`.
    ///
    /// An existing file at `path` is not removed: binding then fails with
    /// [`AddrInUse`](io::ErrorKind::AddrInUse).
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) when the path holds a NUL byte or is too
    /// long for `sun_path` (108 bytes on Linux, the NUL included).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Creates a listener bound to `address`: a pathname, or on Linux an abstract name built
    /// with `std::os::linux::net::SocketAddrExt::from_abstract_name`. Listens with the largest
    /// backlog the system allows (`somaxconn`) on Linux, Android, FreeBSD, OpenBSD and Apple's
    /// systems, and with 128 (`SOMAXCONN`) elsewhere.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(all(feature = "os-poll", target_os = "linux"))] {
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use mio::net::UnixListener;
    ///
    /// let name = format!("mio-doc-abstract-{}", std::process::id());
    /// let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    /// let listener = UnixListener::bind_addr(&addr)?;
    /// assert_eq!(listener.local_addr()?.as_abstract_name(), Some(name.as_bytes()));
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind_addr(address: &SocketAddr) -> io::Result<UnixListener> {
        sys::net::unix_listener(address).map(UnixListener::from)
    }

    /// Wraps a std listener. It must already be non-blocking; this does not change it.
    pub fn from_std(listener: net::UnixListener) -> UnixListener {
        UnixListener {
            inner: IoSource::new(listener),
        }
    }

    /// Accepts a pending connection (`accept4`, non-blocking and close-on-exec). Call it until
    /// it returns `WouldBlock` after each readable event.
    ///
    /// The peer's address is usually unnamed: clients rarely bind. A peer bound to a path or
    /// (on Linux) an abstract name is reported with it; upstream mio 1.2.5 reports an abstract
    /// peer as unnamed.
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        self.inner
            .do_read(|listener| sys::net::unix_accept(listener))
            .map(|(fd, addr)| (UnixStream::from(fd), addr))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl_io_source_traits!(UnixListener, net::UnixListener);
impl_std_conversions!(UnixListener, net::UnixListener);
