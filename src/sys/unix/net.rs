//! Creating, connecting and accepting sockets, and the socket syscalls std lacks.
//!
//! Every socket is created non-blocking and close-on-exec: in the same syscall where the OS
//! has the flags (`SOCK_NONBLOCK | SOCK_CLOEXEC` on `socket`, `socketpair` and `accept4`),
//! with `fcntl`/`ioctl` right after on Apple's systems and Haiku, which have none (see
//! [`set_cloexec_nonblocking`](super::set_cloexec_nonblocking) for the race this leaves).
//!
//! A write to a socket whose peer is gone must fail with `EPIPE`, never raise `SIGPIPE`:
//! `MSG_NOSIGNAL` on every send where the OS has it (send(2)), and `SO_NOSIGPIPE` set once on
//! every socket this crate creates or accepts on Apple's systems, which have no
//! `MSG_NOSIGNAL`. A socket handed in by the caller (`from_std`, `FromRawFd`) keeps whatever
//! it had there; Rust programs ignore `SIGPIPE` by default, so a write then still fails with
//! `BrokenPipe`.
//!
//! The results are plain `OwnedFd`s; `mio::net` wraps them in the matching std types.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::SocketAddr as UnixSocketAddr;

use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvFlags, SendAncillaryBuffer, SendFlags, SocketAddrAny, SocketAddrUnix,
    SocketType,
};

/// The backlog `TcpListener::bind` listens with, as std and upstream mio.
const TCP_BACKLOG: i32 = 128;
/// Unix listeners ask for the largest backlog. -1 only where the kernel turns a negative
/// backlog into its maximum: Linux and Android (`somaxconn`), FreeBSD, OpenBSD and Apple's
/// (`solisten_proto`: "backlog < 0 || backlog > somaxconn" becomes somaxconn). NetBSD turns a
/// negative backlog into 0 (a second concurrent connect is refused) and the others do not
/// document it: they get 128, which is `SOMAXCONN` on NetBSD, DragonFly, illumos and Solaris.
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "openbsd",
    mio_apple
))]
const UNIX_BACKLOG: i32 = -1;
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "openbsd",
    mio_apple
)))]
const UNIX_BACKLOG: i32 = 128;

/// `MSG_NOSIGNAL`: a closed peer is `EPIPE`, never `SIGPIPE`.
#[cfg(not(mio_apple))]
pub(super) const SEND_FLAGS: SendFlags = SendFlags::NOSIGNAL;

/// No `MSG_NOSIGNAL` on Apple's systems: the sockets carry `SO_NOSIGPIPE` instead (`fixup`).
#[cfg(mio_apple)]
pub(super) const SEND_FLAGS: SendFlags = SendFlags::empty();

/// Where the flags exist (`mio_fcntl_flags` unset): set by the creating syscall itself.
#[cfg(not(mio_fcntl_flags))]
mod create {
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};

    use rustix::net::{AddressFamily, SocketAddrAny, SocketFlags, SocketType};

    const FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

    /// `socket(domain, ty | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)`.
    ///
    /// See [socket(2)](https://man7.org/linux/man-pages/man2/socket.2.html).
    pub(super) fn socket(domain: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
        Ok(rustix::net::socket_with(domain, ty, FLAGS, None)?)
    }

    /// `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`.
    pub(super) fn accept(listener: impl AsFd) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
        Ok(rustix::net::acceptfrom_with(listener, FLAGS)?)
    }

    /// `socketpair(AF_UNIX, ty | SOCK_NONBLOCK | SOCK_CLOEXEC)`.
    pub(super) fn pair(ty: SocketType) -> io::Result<(OwnedFd, OwnedFd)> {
        Ok(rustix::net::socketpair(
            AddressFamily::UNIX,
            ty,
            FLAGS,
            None,
        )?)
    }
}

/// Apple's systems and Haiku (`mio_fcntl_flags`): the plain syscall, then `fixup`.
#[cfg(mio_fcntl_flags)]
mod create {
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};

    use rustix::net::{AddressFamily, SocketAddrAny, SocketFlags, SocketType};

    /// What the flags of `socket`/`accept4` do elsewhere (see
    /// [`set_cloexec_nonblocking`](crate::sys::set_cloexec_nonblocking) for the race), plus
    /// `SO_NOSIGPIPE` on Apple's systems (setsockopt(2): "do not generate SIGPIPE, instead
    /// return EPIPE"), which have no `MSG_NOSIGNAL`.
    fn fixup(fd: OwnedFd) -> io::Result<OwnedFd> {
        crate::sys::set_cloexec_nonblocking(&fd)?;
        #[cfg(mio_apple)]
        rustix::net::sockopt::set_socket_nosigpipe(&fd, true)?;
        Ok(fd)
    }

    /// `socket(domain, ty, 0)`, then `fixup`.
    pub(super) fn socket(domain: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
        fixup(rustix::net::socket(domain, ty, None)?)
    }

    /// `accept(2)`, then `fixup` (`FD_CLOEXEC` is never inherited from the listener, and
    /// `O_NONBLOCK` is not on every system).
    pub(super) fn accept(listener: impl AsFd) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
        let (fd, addr) = rustix::net::acceptfrom(listener)?;
        Ok((fixup(fd)?, addr))
    }

    /// `socketpair(AF_UNIX, ty)`, then `fixup` on both ends.
    pub(super) fn pair(ty: SocketType) -> io::Result<(OwnedFd, OwnedFd)> {
        let (a, b) = rustix::net::socketpair(AddressFamily::UNIX, ty, SocketFlags::empty(), None)?;
        Ok((fixup(a)?, fixup(b)?))
    }
}

/// A new socket, non-blocking and close-on-exec.
fn socket(domain: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
    crate::sys::os_required();
    create::socket(domain, ty)
}

/// Accepts a connection, non-blocking and close-on-exec.
fn accept(listener: impl AsFd) -> io::Result<(OwnedFd, Option<SocketAddrAny>)> {
    create::accept(listener)
}

/// A connected pair of Unix sockets, non-blocking and close-on-exec.
fn unix_pair(ty: SocketType) -> io::Result<(OwnedFd, OwnedFd)> {
    crate::sys::os_required();
    create::pair(ty)
}

fn family(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    }
}

/// A TCP listener: `socket`, `SO_REUSEADDR`, `bind`, `listen(128)`.
pub(crate) fn tcp_listener(addr: SocketAddr) -> io::Result<OwnedFd> {
    let fd = socket(family(&addr), SocketType::STREAM)?;
    // Lets a restarted server bind while old connections sit in TIME_WAIT; it does not let
    // two live listeners share a port (that is SO_REUSEPORT).
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, TCP_BACKLOG)?;
    Ok(fd)
}

/// A TCP stream with a non-blocking `connect` under way: `EINPROGRESS` is success; the
/// outcome is known when the socket turns writable (`SO_ERROR`, `getpeername`).
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<OwnedFd> {
    let fd = socket(family(&addr), SocketType::STREAM)?;
    connect_in_progress(&fd, &addr)?;
    Ok(fd)
}

/// `connect(2)` on a non-blocking socket, treating `EINPROGRESS` as started.
fn connect_in_progress(
    fd: &OwnedFd,
    addr: &impl rustix::net::addr::SocketAddrArg,
) -> io::Result<()> {
    match rustix::net::connect(fd, addr) {
        Ok(()) | Err(Errno::INPROGRESS) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Accepts a connection on a TCP listener, non-blocking and close-on-exec.
pub(crate) fn tcp_accept(listener: impl AsFd) -> io::Result<(OwnedFd, SocketAddr)> {
    let (fd, addr) = accept(listener)?;
    Ok((fd, inet_addr(addr)?))
}

/// The std form of an address the kernel gave back for an IPv4/IPv6 socket.
fn inet_addr(addr: Option<SocketAddrAny>) -> io::Result<SocketAddr> {
    addr.and_then(|addr| SocketAddr::try_from(addr).ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the kernel returned an address that is not IPv4 or IPv6",
            )
        })
}

fn recv_flags(peek: bool) -> RecvFlags {
    if peek {
        RecvFlags::PEEK
    } else {
        RecvFlags::empty()
    }
}

/// `recv(2)`, with `MSG_PEEK` when `peek`. Only writes into `buf`.
#[inline]
pub(crate) fn recv(fd: impl AsFd, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    let (n, _) = rustix::net::recv(fd, buf, recv_flags(peek))?;
    Ok(n)
}

/// `recvfrom(2)` on an IPv4/IPv6 socket, with `MSG_PEEK` when `peek`.
#[inline]
pub(crate) fn recv_from(
    fd: impl AsFd,
    buf: &mut [u8],
    peek: bool,
) -> io::Result<(usize, SocketAddr)> {
    let (n, _, addr) = rustix::net::recvfrom(fd, buf, recv_flags(peek))?;
    Ok((n, inet_addr(addr)?))
}

/// `sendto(2)` with `MSG_NOSIGNAL` (where the OS has it).
#[inline]
pub(crate) fn send_to(fd: impl AsFd, buf: &[u8], addr: SocketAddr) -> io::Result<usize> {
    Ok(rustix::net::sendto(fd, buf, SEND_FLAGS, &addr)?)
}

/// A bound UDP socket: `socket(SOCK_DGRAM)`, `bind`.
pub(crate) fn udp_bind(addr: SocketAddr) -> io::Result<OwnedFd> {
    let fd = socket(family(&addr), SocketType::DGRAM)?;
    rustix::net::bind(&fd, &addr)?;
    Ok(fd)
}

/// `getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)`.
pub(crate) fn only_v6(fd: impl AsFd) -> io::Result<bool> {
    Ok(rustix::net::sockopt::ipv6_v6only(fd)?)
}

/// `send(2)` with `MSG_NOSIGNAL` (or `SO_NOSIGPIPE`): a closed peer is `EPIPE`, never
/// `SIGPIPE`.
#[inline]
pub(crate) fn send(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(fd, buf, SEND_FLAGS)?)
}

/// `sendmsg(2)` with `MSG_NOSIGNAL` (where the OS has it), no ancillary data.
#[inline]
pub(crate) fn send_vectored(fd: impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut control = SendAncillaryBuffer::default();
    Ok(rustix::net::sendmsg(fd, bufs, &mut control, SEND_FLAGS)?)
}

/// The kernel form of a std Unix socket address (pathname, abstract or unnamed).
fn unix_addr(addr: &UnixSocketAddr) -> io::Result<SocketAddrUnix> {
    if let Some(path) = addr.as_pathname() {
        return Ok(SocketAddrUnix::new(path)?);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            return Ok(SocketAddrUnix::new_abstract_name(name)?);
        }
    }
    unnamed_addr()
}

/// An unnamed address: Linux binds it to a fresh abstract name ("autobind", unix(7)).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed_addr() -> io::Result<SocketAddrUnix> {
    Ok(SocketAddrUnix::new_unnamed())
}

/// An unnamed address means nothing to bind(2) or connect(2) outside Linux (there is no
/// autobind): refused here with a clear error rather than an errno from the kernel.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn unnamed_addr() -> io::Result<SocketAddrUnix> {
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "an unnamed Unix socket address can only be bound or connected to on Linux",
    ))
}

/// The std form of a Unix socket address the kernel gave back.
fn std_unix_addr(addr: Option<SocketAddrAny>) -> io::Result<UnixSocketAddr> {
    let addr = addr
        .filter(|addr| !is_unnamed(addr))
        .and_then(|addr| SocketAddrUnix::try_from(addr).ok());
    if let Some(addr) = &addr {
        if let Some(path) = addr.path_bytes() {
            use std::os::unix::ffi::OsStrExt;
            return UnixSocketAddr::from_pathname(std::ffi::OsStr::from_bytes(path));
        }
        // An empty abstract name is how some kernels' answers for an unnamed peer read back
        // (the address length covers a lone NUL); it is not an address anyone can bind.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(name) = addr.abstract_name().filter(|name| !name.is_empty()) {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            return UnixSocketAddr::from_abstract_name(name);
        }
    }
    // An empty pathname is how std spells "unnamed".
    UnixSocketAddr::from_pathname("")
}

/// Whether an `AF_UNIX` address from accept(2) or getpeername(2) names no path. OpenBSD and
/// DragonFly answer an unbound client with a full-size address whose `sun_path` is all zeros,
/// which rustix's conversion debug-asserts on (a panic in debug builds), so the first byte of
/// `sun_path` is checked first: offset 2 on every Unix (`sun_len` and `sun_family` on the
/// BSDs and Apple's, a 16-bit `sun_family` on Linux). On Linux and Android a leading NUL is
/// an abstract name instead, read by the conversion.
fn is_unnamed(addr: &SocketAddrAny) -> bool {
    let len = addr.addr_len() as usize;
    if len <= 2 {
        return true;
    }
    // SAFETY: `as_ptr` points to the address's storage, whose first `addr_len()` bytes are
    // initialised; byte 2 is within them (`len > 2`).
    let first = unsafe { *addr.as_ptr().cast::<u8>().add(2) };
    unnamed_path(first)
}

/// See [`is_unnamed`]: a leading NUL in `sun_path`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn unnamed_path(first: u8) -> bool {
    first == 0
}
#[cfg(any(target_os = "linux", target_os = "android"))]
fn unnamed_path(_: u8) -> bool {
    false
}

/// A listening Unix stream socket: `socket`, `bind`, `listen(-1)`. An existing file at the
/// path is not removed (binding fails with `AddrInUse`).
pub(crate) fn unix_listener(addr: &UnixSocketAddr) -> io::Result<OwnedFd> {
    let addr = unix_addr(addr)?;
    let fd = socket(AddressFamily::UNIX, SocketType::STREAM)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, UNIX_BACKLOG)?;
    Ok(fd)
}

/// A Unix stream socket connecting to `addr`. `EINPROGRESS` is success; a full backlog
/// (`EAGAIN`) is a `WouldBlock` error.
pub(crate) fn unix_connect(addr: &UnixSocketAddr) -> io::Result<OwnedFd> {
    let addr = unix_addr(addr)?;
    let fd = socket(AddressFamily::UNIX, SocketType::STREAM)?;
    connect_in_progress(&fd, &addr)?;
    Ok(fd)
}

/// Accepts a connection on a Unix listener, non-blocking and close-on-exec.
pub(crate) fn unix_accept(listener: impl AsFd) -> io::Result<(OwnedFd, UnixSocketAddr)> {
    let (fd, addr) = accept(listener)?;
    Ok((fd, std_unix_addr(addr)?))
}

/// A connected pair of Unix stream sockets.
pub(crate) fn unix_stream_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    unix_pair(SocketType::STREAM)
}

/// A connected pair of Unix datagram sockets.
pub(crate) fn unix_datagram_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    unix_pair(SocketType::DGRAM)
}

/// An unbound Unix datagram socket.
pub(crate) fn unix_datagram() -> io::Result<OwnedFd> {
    socket(AddressFamily::UNIX, SocketType::DGRAM)
}

/// A Unix datagram socket bound to `addr`.
pub(crate) fn unix_datagram_bind(addr: &UnixSocketAddr) -> io::Result<OwnedFd> {
    let addr = unix_addr(addr)?;
    let fd = unix_datagram()?;
    rustix::net::bind(&fd, &addr)?;
    Ok(fd)
}
