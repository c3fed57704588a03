use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::io_source::IoSource;
use crate::sys;

/// A non-blocking UDP socket.
///
/// Every receive returns `WouldBlock` when no datagram is queued; every send returns
/// `WouldBlock` when the send buffer is full. Datagrams are never split: a buffer smaller than
/// the datagram gets its beginning, and the rest is discarded.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::net::UdpSocket;
/// use mio::{Events, Interest, Poll, Token};
///
/// let mut echoer = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// poll.registry().register(&mut echoer, Token(0), Interest::READABLE)?;
///
/// sender.send_to(b"ping", echoer.local_addr()?)?;
///
/// let mut buf = [0; 64];
/// let (n, from) = loop {
///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
///     match echoer.recv_from(&mut buf) {
///         Ok(got) => break got,
///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
///         Err(e) => return Err(e),
///     }
/// };
/// assert_eq!(&buf[..n], b"ping");
/// assert_eq!(from, sender.local_addr()?);
/// # }
/// # Ok(())
/// # }
/// ```
pub struct UdpSocket {
    pub(super) inner: IoSource<net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a UDP socket bound to `addr` (non-blocking, close-on-exec, no `SO_REUSEADDR`).
    ///
    /// # Errors
    ///
    /// [`AddrInUse`](io::ErrorKind::AddrInUse) when the port is taken,
    /// [`AddrNotAvailable`](io::ErrorKind::AddrNotAvailable) when `addr` is not local.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        sys::net::udp_bind(addr).map(UdpSocket::from)
    }

    /// Wraps a std socket. It must already be non-blocking (`socket.set_nonblocking(true)`);
    /// this does not change it.
    pub fn from_std(socket: net::UdpSocket) -> UdpSocket {
        UdpSocket {
            inner: IoSource::new(socket),
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The address this socket is connected to; `NotConnected` if none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Sends one datagram to `target`. Allowed on a connected socket too (Linux).
    pub fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.inner
            .do_write(|socket| sys::net::send_to(socket, buf, target))
    }

    /// Receives one datagram and the address it came from.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner
            .do_read(|socket| sys::net::recv_from(socket, buf, false))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but leaves the datagram queued.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner
            .do_read(|socket| sys::net::recv_from(socket, buf, true))
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// On a socket that is not connected: `EDESTADDRREQ` ("Destination address required").
    /// After the peer's port closed, a later call may fail with `ConnectionRefused`.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.do_write(|socket| sys::net::send(socket, buf))
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .do_read(|socket| sys::net::recv(socket, buf, false))
    }

    /// Like [`recv`](UdpSocket::recv), but leaves the datagram queued.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .do_read(|socket| sys::net::recv(socket, buf, true))
    }

    /// Connects to `addr`: `send`/`recv` then talk to it only (synchronous; UDP has no
    /// handshake).
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.connect(addr)
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.set_broadcast(on)
    }

    /// Reads `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.broadcast()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.inner.set_multicast_loop_v4(on)
    }

    /// Reads `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.inner.multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_multicast_ttl_v4(ttl)
    }

    /// Reads `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.inner.multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.inner.set_multicast_loop_v6(on)
    }

    /// Reads `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.inner.multicast_loop_v6()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// Reads `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Joins an IPv4 multicast group (`IP_ADD_MEMBERSHIP`) on the interface with address
    /// `interface` (`0.0.0.0`: the kernel picks).
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.inner.join_multicast_v4(multiaddr, interface)
    }

    /// Joins an IPv6 multicast group (`IPV6_ADD_MEMBERSHIP`) on interface index `interface`
    /// (0: the kernel picks).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.inner.leave_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.inner.leave_multicast_v6(multiaddr, interface)
    }

    /// Reads `IPV6_V6ONLY`: whether an IPv6 socket refuses IPv4-mapped traffic. Fails on an
    /// IPv4 socket.
    pub fn only_v6(&self) -> io::Result<bool> {
        sys::net::only_v6(&*self.inner)
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    try_io_method!();
}

impl_io_source_traits!(UdpSocket, net::UdpSocket);
impl_std_conversions!(UdpSocket, net::UdpSocket);
