//! TCP and UDP on Hermit and WASI: std's sockets, made non-blocking, and a non-blocking
//! connect over libc (std's connect blocks).
//!
//! Neither system has `fork`/`exec`, so there is no close-on-exec to set, and neither raises
//! `SIGPIPE`, so sends need no flag. WASI preview 1 has no `bind`, `connect` or UDP (the host
//! hands sockets over, already bound): those are compiled out there, as upstream.

use std::io::{self, IoSlice, Write};
use std::net::{self, SocketAddr};
use std::os::fd::OwnedFd;

/// A bound, listening, non-blocking TCP socket (std's `bind` also sets `SO_REUSEADDR` where
/// the system has it).
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn tcp_listener(addr: SocketAddr) -> io::Result<OwnedFd> {
    crate::sys::os_required();
    let listener = net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener.into())
}

/// `socket` + non-blocking + `connect`: returns at once, the connection in progress
/// (`EINPROGRESS`); the stream reports writable when it is established, or an error. The
/// non-blocking mode is set by std's own `set_nonblocking` (`ioctl(FIONBIO)` on both).
///
/// See [socket(2)](https://pubs.opengroup.org/onlinepubs/9799919799/functions/socket.html) and
/// [connect(2)](https://pubs.opengroup.org/onlinepubs/9799919799/functions/connect.html).
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};

    use super::cvt;

    crate::sys::os_required();
    let (raw, len) = sockaddr(&addr);
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket takes no pointer; it returns a new fd or an error.
    let fd = cvt(unsafe { libc::socket(domain, libc::SOCK_STREAM, 0) } as isize)?;
    // SAFETY: `fd` was just created and is owned by nobody else; the stream closes it on error.
    let stream = net::TcpStream::from(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    stream.set_nonblocking(true)?;
    // SAFETY: `raw` is a valid socket address of `len` bytes for the duration of the call.
    let ret = unsafe { libc::connect(stream.as_raw_fd(), raw.as_ptr(), len) };
    match cvt(ret as isize) {
        Err(err) if err.raw_os_error() != Some(libc::EINPROGRESS) => Err(err),
        _ => Ok(stream.into()),
    }
}

/// A `sockaddr_in`/`sockaddr_in6` for `addr`, as raw bytes with their length.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
fn sockaddr(addr: &SocketAddr) -> (SockAddr, libc::socklen_t) {
    // SAFETY: both are plain data, for which all zeroes is a valid value (and the unspecified
    // fields, `sin_zero` and the like, must be zero).
    let mut storage: SockAddr = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            // SAFETY: as above.
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as _;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            #[cfg(target_os = "hermit")]
            {
                sin.sin_len = std::mem::size_of::<libc::sockaddr_in>() as u8;
            }
            storage.v4 = sin;
            (storage, std::mem::size_of::<libc::sockaddr_in>() as _)
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as _;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            #[cfg(target_os = "hermit")]
            {
                sin6.sin6_len = std::mem::size_of::<libc::sockaddr_in6>() as u8;
            }
            storage.v6 = sin6;
            (storage, std::mem::size_of::<libc::sockaddr_in6>() as _)
        }
    }
}

/// Room for either address kind.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
#[repr(C)]
union SockAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
impl SockAddr {
    fn as_ptr(&self) -> *const libc::sockaddr {
        (self as *const SockAddr).cast()
    }
}

/// Accepts one connection, made non-blocking (std's accept gives a blocking one).
pub(crate) fn tcp_accept(listener: &net::TcpListener) -> io::Result<(OwnedFd, SocketAddr)> {
    let (stream, addr) = listener.accept()?;
    stream.set_nonblocking(true)?;
    Ok((stream.into(), addr))
}

/// The sockets `recv`/`send` take: one call each, without blocking.
pub(crate) trait Socket {
    fn recv(&self, buf: &mut [u8], peek: bool) -> io::Result<usize>;
    fn send(&self, buf: &[u8]) -> io::Result<usize>;
}

impl Socket for net::TcpStream {
    fn recv(&self, buf: &mut [u8], peek: bool) -> io::Result<usize> {
        if peek {
            self.peek(buf)
        } else {
            super::io::read(self, buf)
        }
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let mut stream = self;
        stream.write(buf)
    }
}

#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
impl Socket for net::UdpSocket {
    fn recv(&self, buf: &mut [u8], peek: bool) -> io::Result<usize> {
        if peek {
            self.peek(buf)
        } else {
            net::UdpSocket::recv(self, buf)
        }
    }

    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        net::UdpSocket::send(self, buf)
    }
}

/// `recv(2)`, or with `peek` `recv(MSG_PEEK)`.
#[inline]
pub(crate) fn recv(socket: &impl Socket, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    socket.recv(buf, peek)
}

/// `send(2)`.
#[inline]
pub(crate) fn send(socket: &impl Socket, buf: &[u8]) -> io::Result<usize> {
    socket.send(buf)
}

/// A vectored write on a stream, as std does it. On WASI only the first buffer goes
/// (wasi-libc writes a socket's first `iovec` only, even through `writev`): a short write,
/// which `Write::write_vectored` allows.
#[inline]
pub(crate) fn send_vectored(stream: &net::TcpStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut stream = stream;
    stream.write_vectored(bufs)
}

/// A bound, non-blocking UDP socket.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn udp_bind(addr: SocketAddr) -> io::Result<OwnedFd> {
    crate::sys::os_required();
    let socket = net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// `recvfrom(2)`, or with `peek` `recvfrom(MSG_PEEK)`.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn recv_from(
    socket: &net::UdpSocket,
    buf: &mut [u8],
    peek: bool,
) -> io::Result<(usize, SocketAddr)> {
    if peek {
        socket.peek_from(buf)
    } else {
        socket.recv_from(buf)
    }
}

/// `recvfrom(2)` for the batch loop (`sys::udp_loop`): truncation is not seen here (std's
/// `recv_from` has no `MSG_TRUNC` flag to report), so it is always `false`.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn recv_from_truncated(
    socket: &net::UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, bool)> {
    let (n, addr) = socket.recv_from(buf)?;
    Ok((n, addr, false))
}

/// `sendto(2)`.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn send_to(socket: &net::UdpSocket, buf: &[u8], addr: SocketAddr) -> io::Result<usize> {
    socket.send_to(buf, addr)
}

/// `getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)`.
///
/// See [getsockopt(2)](https://pubs.opengroup.org/onlinepubs/9799919799/functions/getsockopt.html).
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) fn only_v6(socket: &net::UdpSocket) -> io::Result<bool> {
    use std::os::fd::AsRawFd;

    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are valid and writable for the duration of the call, and
    // `len` is `value`'s size.
    let ret = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    super::cvt(ret as isize)?;
    Ok(value != 0)
}
