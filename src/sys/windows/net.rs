//! Winsock: creating, connecting and accepting sockets, and the socket calls of the data path.
//!
//! Every socket is created overlapped-capable, non-inheritable (`WSASocketW` with
//! `WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT`) and switched to non-blocking mode
//! (`FIONBIO`) before it is returned. Results are std's `OwnedSocket`s; `mio::net` wraps them
//! in the matching std types. Winsock is initialised once per process ([`init`]).

use std::io::{self, IoSlice, IoSliceMut};
use std::mem::{size_of, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::windows::io::{AsRawSocket, AsSocket, FromRawSocket, OwnedSocket, RawSocket};
use std::sync::Once;

use windows_sys::Win32::Networking::WinSock as ws;

use windows_sys::Win32::Foundation::{SetHandleInformation, HANDLE, HANDLE_FLAG_INHERIT};
use windows_sys::Win32::Networking::WinSock::{
    accept, bind, connect, getsockopt, ioctlsocket, listen, recvfrom, sendto, WSAGetLastError,
    WSAIoctl, WSARecv, WSASend, WSASocketW, WSAStartup, AF_INET, AF_INET6, FIONBIO, IN6_ADDR,
    IN6_ADDR_0, INVALID_SOCKET, IN_ADDR, IN_ADDR_0, IPPROTO_IPV6, IPV6_V6ONLY, MSG_PEEK,
    SIO_BASE_HANDLE, SIO_BSP_HANDLE, SIO_BSP_HANDLE_POLL, SIO_BSP_HANDLE_SELECT, SOCKADDR,
    SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_IN6_0, SOCKADDR_STORAGE, SOCKET, SOCKET_ERROR, SOCK_DGRAM,
    SOCK_STREAM, WSABUF, WSADATA, WSAESHUTDOWN, WSA_FLAG_NO_HANDLE_INHERIT, WSA_FLAG_OVERLAPPED,
};

/// The backlog `TcpListener::bind` listens with, as std.
const TCP_BACKLOG: i32 = 128;

/// `WSAStartup(2.2)`, once per process. Winsock counts start-ups; this one is never undone
/// (as std's own), so sockets stay usable until exit.
///
/// See [WSAStartup](https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-wsastartup).
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let mut data = MaybeUninit::<WSADATA>::uninit();
        // SAFETY: `data` is a valid out-pointer; version 2.2 exists on every supported Windows.
        let res = unsafe { WSAStartup(0x202, data.as_mut_ptr()) };
        // Only fails on systems without a Winsock 2.2 stack; every later call then reports
        // WSANOTINITIALISED itself.
        debug_assert_eq!(res, 0, "WSAStartup failed");
    });
}

/// The last Winsock error.
pub(super) fn last_error() -> io::Error {
    // SAFETY: reads the calling thread's Winsock error; no arguments.
    io::Error::from_raw_os_error(unsafe { WSAGetLastError() })
}

/// Maps Winsock's `SOCKET_ERROR` return to the last error.
pub(super) fn check(res: i32) -> io::Result<i32> {
    if res == SOCKET_ERROR {
        Err(last_error())
    } else {
        Ok(res)
    }
}

/// `WSASocketW(family, ty, 0, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)`, then
/// non-blocking.
///
/// See [WSASocketW](https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsasocketw).
fn socket(addr: &SocketAddr, ty: i32) -> io::Result<OwnedSocket> {
    crate::sys::os_required();
    init();
    let family = match addr {
        SocketAddr::V4(_) => AF_INET,
        SocketAddr::V6(_) => AF_INET6,
    };
    // SAFETY: no protocol info pointer; plain integer arguments.
    let raw = unsafe {
        WSASocketW(
            i32::from(family),
            ty,
            0,
            std::ptr::null(),
            0,
            WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT,
        )
    };
    if raw == INVALID_SOCKET {
        return Err(last_error());
    }
    // SAFETY: `raw` is a new socket that nothing else owns.
    let socket = unsafe { OwnedSocket::from_raw_socket(raw as RawSocket) };
    set_nonblocking(raw)?;
    Ok(socket)
}

/// `ioctlsocket(FIONBIO, 1)`.
fn set_nonblocking(socket: SOCKET) -> io::Result<()> {
    let mut on = 1u32;
    // SAFETY: `on` is a valid in/out pointer for FIONBIO's `u_long`.
    check(unsafe { ioctlsocket(socket, FIONBIO, &mut on) })?;
    Ok(())
}

/// A socket address in Winsock's form, with its length.
#[repr(C)]
pub(super) union RawAddr {
    v4: SOCKADDR_IN,
    v6: SOCKADDR_IN6,
}

pub(super) fn raw_addr(addr: &SocketAddr) -> (RawAddr, i32) {
    match addr {
        SocketAddr::V4(a) => (
            RawAddr {
                v4: SOCKADDR_IN {
                    sin_family: AF_INET,
                    sin_port: a.port().to_be(),
                    sin_addr: IN_ADDR {
                        S_un: IN_ADDR_0 {
                            S_addr: u32::from_ne_bytes(a.ip().octets()),
                        },
                    },
                    sin_zero: [0; 8],
                },
            },
            size_of::<SOCKADDR_IN>() as i32,
        ),
        SocketAddr::V6(a) => (
            RawAddr {
                v6: SOCKADDR_IN6 {
                    sin6_family: AF_INET6,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: IN6_ADDR {
                        u: IN6_ADDR_0 {
                            Byte: a.ip().octets(),
                        },
                    },
                    Anonymous: SOCKADDR_IN6_0 {
                        sin6_scope_id: a.scope_id(),
                    },
                },
            },
            size_of::<SOCKADDR_IN6>() as i32,
        ),
    }
}

/// The std form of an address Winsock filled in.
pub(super) fn std_addr(storage: &SOCKADDR_STORAGE, len: i32) -> io::Result<SocketAddr> {
    match storage.ss_family {
        AF_INET if len as usize >= size_of::<SOCKADDR_IN>() => {
            // SAFETY: the family says the storage holds a `SOCKADDR_IN`, and it is large and
            // aligned enough for one.
            let a = unsafe { &*(storage as *const SOCKADDR_STORAGE).cast::<SOCKADDR_IN>() };
            // SAFETY: every variant of the address union is four plain bytes.
            let ip = Ipv4Addr::from(unsafe { a.sin_addr.S_un.S_addr }.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        AF_INET6 if len as usize >= size_of::<SOCKADDR_IN6>() => {
            // SAFETY: as above, for `SOCKADDR_IN6`.
            let a = unsafe { &*(storage as *const SOCKADDR_STORAGE).cast::<SOCKADDR_IN6>() };
            // SAFETY: every variant of these unions is plain bytes of the same size.
            let (ip, scope) = unsafe { (a.sin6_addr.u.Byte, a.Anonymous.sin6_scope_id) };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                scope,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Winsock returned an address that is not IPv4 or IPv6",
        )),
    }
}

fn bind_to(socket: &OwnedSocket, addr: &SocketAddr) -> io::Result<()> {
    let (raw, len) = raw_addr(addr);
    // SAFETY: `raw` is a valid socket address of `len` bytes for the call.
    check(unsafe {
        bind(
            socket.as_socket().as_raw_socket() as SOCKET,
            (&raw as *const RawAddr).cast::<SOCKADDR>(),
            len,
        )
    })?;
    Ok(())
}

/// A TCP listener: `socket`, `bind`, `listen(128)`. No `SO_REUSEADDR`: on Windows it would
/// let another socket steal the port.
pub(crate) fn tcp_listener(addr: SocketAddr) -> io::Result<OwnedSocket> {
    let socket = socket(&addr, SOCK_STREAM)?;
    bind_to(&socket, &addr)?;
    // SAFETY: plain integer arguments.
    check(unsafe { listen(socket.as_socket().as_raw_socket() as SOCKET, TCP_BACKLOG) })?;
    Ok(socket)
}

/// A TCP stream with a non-blocking `connect` under way: `WSAEWOULDBLOCK` is success; the
/// outcome is known when the socket turns writable (`SO_ERROR`, `getpeername`).
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<OwnedSocket> {
    let socket = socket(&addr, SOCK_STREAM)?;
    let (raw, len) = raw_addr(&addr);
    // SAFETY: `raw` is a valid socket address of `len` bytes for the call.
    let res = unsafe {
        connect(
            socket.as_socket().as_raw_socket() as SOCKET,
            (&raw as *const RawAddr).cast::<SOCKADDR>(),
            len,
        )
    };
    match check(res) {
        Ok(_) => Ok(socket),
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(socket),
        Err(err) => Err(err),
    }
}

/// `accept` on a non-blocking listener; the new socket is made non-blocking and
/// non-inheritable explicitly rather than trusting what it inherits from the listener.
pub(crate) fn tcp_accept(listener: impl AsSocket) -> io::Result<(OwnedSocket, SocketAddr)> {
    let mut storage = MaybeUninit::<SOCKADDR_STORAGE>::zeroed();
    let mut len = size_of::<SOCKADDR_STORAGE>() as i32;
    // SAFETY: `storage` has room for `len` bytes of any address; `len` is a valid in/out.
    let raw = unsafe {
        accept(
            listener.as_socket().as_raw_socket() as SOCKET,
            storage.as_mut_ptr().cast::<SOCKADDR>(),
            &mut len,
        )
    };
    if raw == INVALID_SOCKET {
        return Err(last_error());
    }
    // SAFETY: `raw` is a new socket that nothing else owns.
    let socket = unsafe { OwnedSocket::from_raw_socket(raw as RawSocket) };
    set_nonblocking(raw)?;
    // Not inherited by child processes. A socket of a non-IFS layered provider need not be a
    // kernel handle, and then this fails: the connection is kept all the same (dropping it
    // would lose a client the kernel already accepted), as such a socket cannot be inherited
    // anyway.
    // SAFETY: `raw` is a socket value we own; the call only reads it as a handle and changes
    // that handle's inheritance flag, or fails.
    let inherit_off = unsafe { SetHandleInformation(raw as HANDLE, HANDLE_FLAG_INHERIT, 0) } != 0;
    #[cfg(test)]
    let inherit_off = inherit_off && super::fault::check().is_ok();
    if !inherit_off {
        trace!(
            "accepted socket kept inheritable: {}",
            io::Error::last_os_error()
        );
    }
    // SAFETY: `accept` wrote an address of `len` bytes (zeroed storage otherwise).
    let addr = std_addr(unsafe { storage.assume_init_ref() }, len)?;
    Ok((socket, addr))
}

/// A bound UDP socket: `socket(SOCK_DGRAM)`, `bind`.
pub(crate) fn udp_bind(addr: SocketAddr) -> io::Result<OwnedSocket> {
    let socket = socket(&addr, SOCK_DGRAM)?;
    bind_to(&socket, &addr)?;
    Ok(socket)
}

/// `getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)`.
pub(crate) fn only_v6(socket: impl AsSocket) -> io::Result<bool> {
    let mut value = 0u32;
    let mut len = size_of::<u32>() as i32;
    // SAFETY: `value` has room for the option's DWORD; `len` is a valid in/out.
    check(unsafe {
        getsockopt(
            socket.as_socket().as_raw_socket() as SOCKET,
            IPPROTO_IPV6,
            IPV6_V6ONLY,
            (&mut value as *mut u32).cast(),
            &mut len,
        )
    })?;
    Ok(value != 0)
}

/// The base service provider's handle of `socket` (`SIO_BASE_HANDLE`): the handle AFD knows.
/// Layered providers that answer it wrongly are asked for the handle they would give
/// `select` or `WSAPoll` instead (`SIO_BSP_HANDLE_SELECT`, `SIO_BSP_HANDLE_POLL`).
///
/// See [Winsock IOCTLs](https://learn.microsoft.com/en-us/windows/win32/winsock/winsock-ioctls).
pub(crate) fn base_socket(socket: RawSocket) -> io::Result<RawSocket> {
    init();
    choose_base_socket(socket as SOCKET, |ioctl| {
        let mut base: SOCKET = INVALID_SOCKET;
        let mut bytes = 0u32;
        // SAFETY: no input; `base` is a valid output buffer of the size given; synchronous.
        let res = unsafe {
            WSAIoctl(
                socket as SOCKET,
                ioctl,
                std::ptr::null(),
                0,
                (&mut base as *mut SOCKET).cast(),
                size_of::<SOCKET>() as u32,
                &mut bytes,
                std::ptr::null_mut(),
                None,
            )
        };
        if res == SOCKET_ERROR {
            Err(last_error())
        } else if base == INVALID_SOCKET {
            Err(io::Error::from(io::ErrorKind::InvalidInput))
        } else {
            Ok(base)
        }
    })
    .map(|base| base as RawSocket)
}

/// The order of [`base_socket`]'s questions, as wepoll's write-up explains it: the base
/// handle (`SIO_BASE_HANDLE`) if the provider answers; else the handle a layered provider
/// would give `select`, then `WSAPoll` (`SIO_BSP_HANDLE_SELECT`, `_POLL`), but not an answer
/// that is the socket itself (a provider that handles `select` on its own socket says so,
/// and AFD does not know that socket); else the base provider's handle (`SIO_BSP_HANDLE`).
/// The error is the first one's.
fn choose_base_socket(
    socket: SOCKET,
    mut ask: impl FnMut(u32) -> io::Result<SOCKET>,
) -> io::Result<SOCKET> {
    let first_err = match ask(SIO_BASE_HANDLE) {
        Ok(base) => return Ok(base),
        Err(err) => err,
    };
    for ioctl in [SIO_BSP_HANDLE_SELECT, SIO_BSP_HANDLE_POLL] {
        match ask(ioctl) {
            Ok(base) if base != socket => return Ok(base),
            _ => {}
        }
    }
    ask(SIO_BSP_HANDLE).map_err(|_| first_err)
}

/// `len` as Winsock's `int` length: longer buffers are used up to `i32::MAX` bytes (a short
/// read or write, as the call allows).
pub(super) fn clamp_len(len: usize) -> i32 {
    len.min(i32::MAX as usize) as i32
}

/// `recv`, with `MSG_PEEK` when `peek`. Only writes into `buf`. A socket whose receiving side
/// was shut down reads end-of-file, as on Unix (Winsock answers `WSAESHUTDOWN`).
#[inline]
pub(crate) fn recv(socket: impl AsSocket, buf: &mut [u8], peek: bool) -> io::Result<usize> {
    let flags = if peek { MSG_PEEK } else { 0 };
    // SAFETY: `buf` is writable for the length given.
    let res = unsafe {
        ws::recv(
            socket.as_socket().as_raw_socket() as SOCKET,
            buf.as_mut_ptr(),
            clamp_len(buf.len()),
            flags,
        )
    };
    match check(res) {
        Ok(n) => Ok(n as usize),
        Err(err) if err.raw_os_error() == Some(WSAESHUTDOWN) => Ok(0),
        Err(err) => Err(err),
    }
}

/// `WSARecv` into several buffers (`IoSliceMut` is laid out as a `WSABUF` on Windows).
#[inline]
pub(crate) fn recv_vectored(
    socket: impl AsSocket,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<usize> {
    let mut received = 0u32;
    let mut flags = 0u32;
    let count = bufs.len().min(u32::MAX as usize) as u32;
    // SAFETY: std documents `IoSliceMut` as ABI-compatible with `WSABUF`; each buffer is
    // writable for its length; synchronous call (no overlapped).
    let res = unsafe {
        WSARecv(
            socket.as_socket().as_raw_socket() as SOCKET,
            bufs.as_mut_ptr().cast::<WSABUF>(),
            count,
            &mut received,
            &mut flags,
            std::ptr::null_mut(),
            None,
        )
    };
    match check(res) {
        Ok(_) => Ok(received as usize),
        Err(err) if err.raw_os_error() == Some(WSAESHUTDOWN) => Ok(0),
        Err(err) => Err(err),
    }
}

/// `recvfrom`, with `MSG_PEEK` when `peek`.
#[inline]
pub(crate) fn recv_from(
    socket: impl AsSocket,
    buf: &mut [u8],
    peek: bool,
) -> io::Result<(usize, SocketAddr)> {
    let flags = if peek { MSG_PEEK } else { 0 };
    let (res, storage, len) = recv_from_raw(socket, buf, flags);
    let n = res?;
    let addr = std_addr(&storage, len)?;
    Ok((n, addr))
}

/// `recvfrom` for the batch loop (`sys::udp_loop`): a datagram longer than `buf` is not an
/// error but `(buf.len(), from, true)`. recvfrom (Winsock): "If the datagram or message is
/// larger than the buffer specified, the buffer is filled with the first part of the datagram,
/// and recvfrom generates the error WSAEMSGSIZE. For unreliable protocols (for example, UDP)
/// the excess data is lost".
pub(crate) fn recv_from_truncated(
    socket: impl AsSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, bool)> {
    let cap = buf.len();
    let (res, storage, len) = recv_from_raw(socket, buf, 0);
    let (n, truncated) = match res {
        Ok(n) => (n, false),
        Err(err) if err.raw_os_error() == Some(ws::WSAEMSGSIZE) => (cap, true),
        Err(err) => return Err(err),
    };
    Ok((n, std_addr(&storage, len)?, truncated))
}

/// One `recvfrom`: its result, and the source address storage and length it filled.
fn recv_from_raw(
    socket: impl AsSocket,
    buf: &mut [u8],
    flags: i32,
) -> (io::Result<usize>, SOCKADDR_STORAGE, i32) {
    let mut storage = MaybeUninit::<SOCKADDR_STORAGE>::zeroed();
    let mut len = size_of::<SOCKADDR_STORAGE>() as i32;
    // SAFETY: `buf` is writable for the length given; `storage` has room for `len` bytes.
    let res = check(unsafe {
        recvfrom(
            socket.as_socket().as_raw_socket() as SOCKET,
            buf.as_mut_ptr(),
            clamp_len(buf.len()),
            flags,
            storage.as_mut_ptr().cast::<SOCKADDR>(),
            &mut len,
        )
    });
    // SAFETY: zeroed storage is a valid `SOCKADDR_STORAGE`; `recvfrom` only wrote an address
    // into it.
    let storage = unsafe { storage.assume_init() };
    (res.map(|n| n as usize), storage, len)
}

/// `send`.
#[inline]
pub(crate) fn send(socket: impl AsSocket, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is readable for the length given.
    let n = check(unsafe {
        ws::send(
            socket.as_socket().as_raw_socket() as SOCKET,
            buf.as_ptr(),
            clamp_len(buf.len()),
            0,
        )
    })?;
    Ok(n as usize)
}

/// `WSASend` of several buffers (`IoSlice` is laid out as a `WSABUF` on Windows).
#[inline]
pub(crate) fn send_vectored(socket: impl AsSocket, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut sent = 0u32;
    let count = bufs.len().min(u32::MAX as usize) as u32;
    // SAFETY: std documents `IoSlice` as ABI-compatible with `WSABUF`; Winsock only reads the
    // buffers despite the `*mut` in the signature; synchronous call.
    check(unsafe {
        WSASend(
            socket.as_socket().as_raw_socket() as SOCKET,
            bufs.as_ptr() as *mut WSABUF,
            count,
            &mut sent,
            0,
            std::ptr::null_mut(),
            None,
        )
    })?;
    Ok(sent as usize)
}

/// `sendto`.
#[inline]
pub(crate) fn send_to(socket: impl AsSocket, buf: &[u8], addr: SocketAddr) -> io::Result<usize> {
    let (raw, len) = raw_addr(&addr);
    // SAFETY: `buf` is readable for its length; `raw` is a valid address of `len` bytes.
    let n = check(unsafe {
        sendto(
            socket.as_socket().as_raw_socket() as SOCKET,
            buf.as_ptr(),
            clamp_len(buf.len()),
            0,
            (&raw as *const RawAddr).cast::<SOCKADDR>(),
            len,
        )
    })?;
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16, defect 6: the base-socket questions in wepoll's order.
    #[test]
    fn base_socket_order() {
        let answer = |answers: &'static [(u32, Option<SOCKET>)]| {
            move |ioctl: u32| {
                answers
                    .iter()
                    .find(|(i, _)| *i == ioctl)
                    .and_then(|(_, a)| *a)
                    .ok_or_else(|| io::Error::from_raw_os_error(10045))
            }
        };
        // The base handle when the provider answers.
        assert_eq!(
            choose_base_socket(7, answer(&[(SIO_BASE_HANDLE, Some(3))])).unwrap(),
            3
        );
        // A select answer that is the socket itself is skipped; poll's is taken.
        let got = choose_base_socket(
            7,
            answer(&[
                (SIO_BSP_HANDLE_SELECT, Some(7)),
                (SIO_BSP_HANDLE_POLL, Some(4)),
            ]),
        );
        assert_eq!(got.unwrap(), 4);
        // Both the socket itself: the base provider's handle.
        let got = choose_base_socket(
            7,
            answer(&[
                (SIO_BSP_HANDLE_SELECT, Some(7)),
                (SIO_BSP_HANDLE_POLL, Some(7)),
                (SIO_BSP_HANDLE, Some(5)),
            ]),
        );
        assert_eq!(got.unwrap(), 5);
        // Nothing answers: the first error.
        let err = choose_base_socket(7, answer(&[])).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(10045));
    }

    /// Issue 16, defect 6: an accepted connection is kept when its handle's inheritance
    /// cannot be changed (a non-IFS provider's socket; here a failure injected).
    #[test]
    fn accept_keeps_the_connection_when_inheritance_cannot_be_changed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let res = crate::sys::windows::fault::failing(|| tcp_accept(listener.as_socket()));
        let (_socket, addr) = res.expect("the accepted connection is kept");
        assert!(addr.ip().is_loopback());
    }
}
