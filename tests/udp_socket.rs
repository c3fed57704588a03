#![cfg(all(feature = "os-poll", feature = "net"))]
//! `mio::net::UdpSocket`: binding, sending and receiving (connected or not), peeking, events,
//! socket options, multicast membership, `try_io` and conversions.

use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};
#[cfg(any(unix, target_os = "wasi"))]
use std::os::fd::AsRawFd;
#[cfg(windows)]
use std::os::windows::io::AsRawSocket;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

mod net_util;
#[cfg(unix)]
use net_util::assert_nonblocking_cloexec;
#[cfg(windows)]
use net_util::assert_not_inheritable;
#[cfg_attr(mio_unsupported_test_libkqueue, allow(unused_imports))] // running_under_wine
use net_util::{
    any_local_address, any_local_ipv6_address, assert_would_block, borrowed_raw_handle,
    expect_events, expect_no_events_for, from_raw_handle, into_raw_handle, is_nonblocking,
    raw_handle, running_under_wine, until_ready, OwnedHandle, Readiness, TIMEOUT,
};

const SOCKET: Token = Token(0);

fn setup() -> (Poll, Events) {
    (Poll::new().unwrap(), Events::with_capacity(64))
}

fn bind_pair(addr: SocketAddr) -> (UdpSocket, UdpSocket) {
    (
        UdpSocket::bind(addr).unwrap(),
        UdpSocket::bind(addr).unwrap(),
    )
}

#[test]
fn bind_ipv4() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    let addr = socket.local_addr().unwrap();
    assert!(addr.is_ipv4());
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_new_socket_flags(&socket);
}

#[test]
fn bind_ipv6() {
    let socket = UdpSocket::bind(any_local_ipv6_address()).unwrap();
    let addr = socket.local_addr().unwrap();
    assert!(addr.is_ipv6());
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_new_socket_flags(&socket);
}

/// Non-blocking and close-on-exec; on Windows: not inheritable, and non-blocking as a probe
/// shows (Winsock cannot read `FIONBIO` back). Nothing may be queued on `socket`.
#[track_caller]
fn assert_new_socket_flags(socket: &UdpSocket) {
    #[cfg(unix)]
    assert_nonblocking_cloexec(socket);
    #[cfg(windows)]
    {
        assert_not_inheritable(socket);
        assert!(is_nonblocking(socket), "not non-blocking");
    }
}

#[test]
fn bind_twice_is_addr_in_use() {
    let first = UdpSocket::bind(any_local_address()).unwrap();
    let err = UdpSocket::bind(first.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");
}

fn send_to_recv_from(addr: SocketAddr) {
    let (mut poll, mut events) = setup();
    let (sender, mut receiver) = bind_pair(addr);
    poll.registry()
        .register(&mut receiver, SOCKET, Interest::READABLE)
        .unwrap();
    let mut buf = [0; 64];
    assert_would_block(receiver.recv_from(&mut buf));

    let to = receiver.local_addr().unwrap();
    assert_eq!(sender.send_to(b"datagram", to).unwrap(), 8);
    expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::READABLE)]);
    let (n, from) = until_ready(&mut poll, &mut events, || receiver.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from, sender.local_addr().unwrap());
    assert_would_block(receiver.recv_from(&mut buf));
}

#[test]
fn send_to_and_recv_from_ipv4() {
    send_to_recv_from(any_local_address());
}

#[test]
fn send_to_and_recv_from_ipv6() {
    send_to_recv_from(any_local_ipv6_address());
}

#[test]
fn peek_from_then_recv_from_same_datagram() {
    let (mut poll, mut events) = setup();
    let (sender, mut receiver) = bind_pair(any_local_address());
    poll.registry()
        .register(&mut receiver, SOCKET, Interest::READABLE)
        .unwrap();
    let mut buf = [0; 64];
    assert_would_block(receiver.peek_from(&mut buf));

    sender
        .send_to(b"peeked", receiver.local_addr().unwrap())
        .unwrap();
    expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::READABLE)]);
    let (n, from) = until_ready(&mut poll, &mut events, || receiver.peek_from(&mut buf));
    assert_eq!(&buf[..n], b"peeked");
    assert_eq!(from, sender.local_addr().unwrap());
    // Still queued.
    let mut buf2 = [0; 64];
    let (n2, from2) = receiver.recv_from(&mut buf2).unwrap();
    assert_eq!(&buf2[..n2], b"peeked");
    assert_eq!(from2, from);
    assert_would_block(receiver.peek_from(&mut buf));
    assert_would_block(receiver.recv_from(&mut buf));
}

#[test]
fn datagram_is_truncated_to_buffer() {
    let (mut poll, mut events) = setup();
    let (sender, mut receiver) = bind_pair(any_local_address());
    poll.registry()
        .register(&mut receiver, SOCKET, Interest::READABLE)
        .unwrap();
    sender
        .send_to(b"0123456789", receiver.local_addr().unwrap())
        .unwrap();
    let mut small = [0xAAu8; 4];
    #[cfg(unix)]
    {
        let (n, _) = until_ready(&mut poll, &mut events, || receiver.recv_from(&mut small));
        assert_eq!(n, 4);
    }
    // Winsock fills the buffer and reports the truncation as WSAEMSGSIZE.
    #[cfg(windows)]
    {
        let err = until_ready_err(&mut poll, &mut events, || receiver.recv_from(&mut small));
        assert_eq!(
            err.raw_os_error(),
            Some(windows_sys::Win32::Networking::WinSock::WSAEMSGSIZE),
            "{err:?}"
        );
    }
    assert_eq!(&small, b"0123");
    // The rest of the datagram is discarded.
    assert_would_block(receiver.recv_from(&mut small));
}

fn connected_send_recv_peek(addr: SocketAddr) {
    let (mut poll, mut events) = setup();
    let (mut a, mut b) = bind_pair(addr);
    let a_addr = a.local_addr().unwrap();
    let b_addr = b.local_addr().unwrap();
    assert_eq!(
        a.peer_addr().unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );
    a.connect(b_addr).unwrap();
    b.connect(a_addr).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b_addr);
    assert_eq!(b.peer_addr().unwrap(), a_addr);

    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut b, Token(2), Interest::READABLE)
        .unwrap();

    assert_eq!(a.send(b"to b").unwrap(), 4);
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(2), Readiness::READABLE)],
    );
    let mut buf = [0; 16];
    let n = until_ready(&mut poll, &mut events, || b.peek(&mut buf));
    assert_eq!(&buf[..n], b"to b");
    let mut buf2 = [0; 16];
    let n2 = b.recv(&mut buf2).unwrap();
    assert_eq!(&buf2[..n2], b"to b");
    assert_would_block(b.recv(&mut buf));
    assert_would_block(b.peek(&mut buf));

    assert_eq!(b.send(b"to a").unwrap(), 4);
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(1), Readiness::READABLE)],
    );
    let n = until_ready(&mut poll, &mut events, || a.recv(&mut buf));
    assert_eq!(&buf[..n], b"to a");
}

#[test]
fn connect_then_send_recv_peek() {
    connected_send_recv_peek(any_local_address());
}

#[test]
fn connect_then_send_recv_peek_ipv6() {
    connected_send_recv_peek(any_local_ipv6_address());
}

#[test]
fn connected_socket_drops_datagrams_from_others() {
    let (mut poll, mut events) = setup();
    let (mut a, b) = bind_pair(any_local_address());
    let stranger = UdpSocket::bind(any_local_address()).unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut a, SOCKET, Interest::READABLE)
        .unwrap();
    stranger
        .send_to(b"stranger", a.local_addr().unwrap())
        .unwrap();
    b.send_to(b"peer", a.local_addr().unwrap()).unwrap();
    expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::READABLE)]);
    let mut buf = [0; 16];
    let n = until_ready(&mut poll, &mut events, || a.recv(&mut buf));
    assert_eq!(&buf[..n], b"peer");
    assert_would_block(a.recv(&mut buf));
}

#[test]
fn send_on_unconnected_socket_is_edestaddrreq() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    let err = socket.send(b"nowhere").unwrap_err();
    #[cfg(unix)]
    assert_eq!(err.raw_os_error(), Some(libc::EDESTADDRREQ), "{err:?}");
    // Windows answers WSAENOTCONN; Wine (8.0) answers WSAEINVAL.
    #[cfg(windows)]
    {
        use windows_sys::Win32::Networking::WinSock::{WSAEINVAL, WSAENOTCONN};
        let expected = if running_under_wine() {
            WSAEINVAL
        } else {
            WSAENOTCONN
        };
        assert_eq!(err.raw_os_error(), Some(expected), "{err:?}");
    }
}

#[test]
fn send_to_on_connected_socket_is_allowed() {
    let (mut poll, mut events) = setup();
    let (a, b) = bind_pair(any_local_address());
    let mut c = UdpSocket::bind(any_local_address()).unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut c, SOCKET, Interest::READABLE)
        .unwrap();
    assert_eq!(a.send_to(b"elsewhere", c.local_addr().unwrap()).unwrap(), 9);
    let mut buf = [0; 16];
    let (n, from) = until_ready(&mut poll, &mut events, || c.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"elsewhere");
    assert_eq!(from, a.local_addr().unwrap());
}

#[test]
fn readable_events_and_would_block_after_draining() {
    let (mut poll, mut events) = setup();
    let (sender, mut receiver) = bind_pair(any_local_address());
    poll.registry()
        .register(&mut receiver, SOCKET, Interest::READABLE)
        .unwrap();
    let to = receiver.local_addr().unwrap();
    for i in 0..3u8 {
        sender.send_to(&[i; 10], to).unwrap();
    }

    let mut got = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while got.len() < 3 {
        assert!(
            Instant::now() < deadline,
            "got {} of 3 datagrams",
            got.len()
        );
        expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::READABLE)]);
        let mut buf = [0; 32];
        loop {
            match receiver.recv_from(&mut buf) {
                Ok((n, _)) => got.push(buf[..n].to_vec()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e:?}"),
            }
        }
    }
    assert_eq!(got, vec![vec![0; 10], vec![1; 10], vec![2; 10]]);

    // Drained: no more events until a new datagram comes, which gives a new edge.
    expect_no_events_for(&mut poll, &mut events, SOCKET);
    sender.send_to(b"next", to).unwrap();
    expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::READABLE)]);
}

#[test]
fn writable_event_right_after_registration() {
    let (mut poll, mut events) = setup();
    let mut socket = UdpSocket::bind(any_local_address()).unwrap();
    poll.registry()
        .register(&mut socket, SOCKET, Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::WRITABLE)]);

    let mut socket6 = UdpSocket::bind(any_local_ipv6_address()).unwrap();
    poll.registry()
        .register(
            &mut socket6,
            Token(1),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(1), Readiness::WRITABLE)],
    );
}

#[test]
fn set_broadcast_and_broadcast() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    assert!(!socket.broadcast().unwrap());
    socket.set_broadcast(true).unwrap();
    assert!(socket.broadcast().unwrap());
    socket.set_broadcast(false).unwrap();
    assert!(!socket.broadcast().unwrap());
}

#[test]
fn multicast_loop_v4_and_ttl_v4() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    socket.set_multicast_loop_v4(false).unwrap();
    assert!(!socket.multicast_loop_v4().unwrap());
    socket.set_multicast_loop_v4(true).unwrap();
    assert!(socket.multicast_loop_v4().unwrap());

    socket.set_multicast_ttl_v4(42).unwrap();
    assert_eq!(socket.multicast_ttl_v4().unwrap(), 42);
    socket.set_multicast_ttl_v4(1).unwrap();
    assert_eq!(socket.multicast_ttl_v4().unwrap(), 1);
}

#[test]
fn multicast_loop_v6() {
    let socket = UdpSocket::bind(any_local_ipv6_address()).unwrap();
    socket.set_multicast_loop_v6(false).unwrap();
    assert!(!socket.multicast_loop_v6().unwrap());
    socket.set_multicast_loop_v6(true).unwrap();
    assert!(socket.multicast_loop_v6().unwrap());
}

#[test]
fn set_ttl_and_ttl() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    socket.set_ttl(33).unwrap();
    assert_eq!(socket.ttl().unwrap(), 33);
    socket.set_ttl(255).unwrap();
    assert_eq!(socket.ttl().unwrap(), 255);
}

/// Errors a multicast join may legitimately give on a machine without multicast routes.
#[cfg(any(unix, target_os = "wasi"))]
fn is_no_multicast_route(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::ENODEV)
            | Some(libc::EADDRNOTAVAIL)
            | Some(libc::ENETUNREACH)
            | Some(libc::EINVAL)
    )
}

/// Errors a multicast join may legitimately give on a machine without multicast routes.
#[cfg(windows)]
fn is_no_multicast_route(err: &io::Error) -> bool {
    use windows_sys::Win32::Networking::WinSock::{
        WSAEADDRNOTAVAIL, WSAEINVAL, WSAENETUNREACH, WSAENOBUFS,
    };
    matches!(
        err.raw_os_error(),
        Some(WSAEADDRNOTAVAIL) | Some(WSAENETUNREACH) | Some(WSAEINVAL) | Some(WSAENOBUFS)
    )
}

#[test]
fn join_and_leave_multicast_v4() {
    let socket = UdpSocket::bind("0.0.0.0:0".parse().unwrap()).unwrap();
    let group = Ipv4Addr::new(224, 0, 0, 123);
    let interface = Ipv4Addr::LOCALHOST;
    match socket.join_multicast_v4(&group, &interface) {
        Ok(()) => {
            socket.leave_multicast_v4(&group, &interface).unwrap();
            // Left: leaving again is an error.
            assert!(socket.leave_multicast_v4(&group, &interface).is_err());
        }
        Err(err) => assert!(is_no_multicast_route(&err), "join_multicast_v4: {err:?}"),
    }
    // Leaving a group never joined fails.
    let other = Ipv4Addr::new(224, 0, 0, 124);
    assert!(socket.leave_multicast_v4(&other, &interface).is_err());
}

#[test]
fn join_and_leave_multicast_v6() {
    let socket = UdpSocket::bind("[::]:0".parse().unwrap()).unwrap();
    let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x123);
    // Interface index 1 is the loopback interface on Linux (and on Windows).
    match socket.join_multicast_v6(&group, 1) {
        Ok(()) => socket.leave_multicast_v6(&group, 1).unwrap(),
        Err(err) => assert!(is_no_multicast_route(&err), "join_multicast_v6: {err:?}"),
    }
    let other = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x124);
    assert!(socket.leave_multicast_v6(&other, 1).is_err());
}

/// `getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)` straight from libc.
#[cfg(any(unix, target_os = "wasi"))]
fn raw_v6only(socket: &UdpSocket) -> bool {
    let mut value: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid fd, and `value`/`len` describe a live `c_int`.
    let res = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(res, 0, "getsockopt: {}", io::Error::last_os_error());
    value != 0
}

/// `getsockopt(IPPROTO_IPV6, IPV6_V6ONLY)` straight from Winsock.
#[cfg(windows)]
fn raw_v6only(socket: &UdpSocket) -> bool {
    use windows_sys::Win32::Networking::WinSock::{getsockopt, IPPROTO_IPV6, IPV6_V6ONLY, SOCKET};
    let mut value: u32 = u32::MAX;
    let mut len = std::mem::size_of::<u32>() as i32;
    // SAFETY: a valid socket, and `value`/`len` describe a live `DWORD`.
    let res = unsafe {
        getsockopt(
            socket.as_raw_socket() as SOCKET,
            IPPROTO_IPV6,
            IPV6_V6ONLY,
            (&mut value as *mut u32).cast(),
            &mut len,
        )
    };
    assert_eq!(res, 0, "getsockopt: {}", io::Error::last_os_error());
    value != 0
}

#[test]
fn only_v6() {
    // Linux sets IPV6_V6ONLY when a socket binds a specific (not v4-mapped) IPv6 address;
    // Windows sets it on every IPv6 socket by default.
    let loopback = UdpSocket::bind(any_local_ipv6_address()).unwrap();
    assert!(loopback.only_v6().unwrap());
    assert!(raw_v6only(&loopback));

    // On the wildcard address it is the system default (`net.ipv6.bindv6only`; on).
    let any = UdpSocket::bind("[::]:0".parse().unwrap()).unwrap();
    assert_eq!(any.only_v6().unwrap(), raw_v6only(&any));

    let v4 = UdpSocket::bind(any_local_address()).unwrap();
    assert!(v4.only_v6().is_err(), "IPV6_V6ONLY on an IPv4 socket");
}

#[test]
fn take_error_none_then_connection_refused() {
    let (mut poll, mut events) = setup();
    let mut socket = UdpSocket::bind(any_local_address()).unwrap();
    assert!(socket.take_error().unwrap().is_none());

    // A connected socket learns of the closed port from the ICMP answer.
    let closed = {
        let s = net::UdpSocket::bind(any_local_address()).unwrap();
        s.local_addr().unwrap()
    };
    socket.connect(closed).unwrap();
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)
        .unwrap();
    socket.send(b"anyone?").unwrap();

    // Windows does not keep the ICMP answer in SO_ERROR: the next receive fails with
    // WSAECONNRESET ("a previous send operation resulted in an ICMP Port Unreachable
    // message", recv's documentation). Wine (8.0) follows the Linux model instead (below).
    #[cfg(windows)]
    if !running_under_wine() {
        let mut buf = [0; 16];
        let err = until_ready_err(&mut poll, &mut events, || socket.recv(&mut buf));
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
        return;
    }

    expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::ERROR)]);
    // Over libkqueue the error is gone by now: building the event it read `SO_ERROR` with
    // getsockopt(2) (`evfilt_read_copyout` in its src/linux/read.c), which on Linux clears it.
    // The BSDs only copy `so_error` into `fflags` (kqueue(2), EVFILT_READ: "returns the socket
    // error (if any) in fflags"), leaving it pending for `take_error`.
    #[cfg(mio_unsupported_test_libkqueue)]
    assert!(socket.take_error().unwrap().is_none());
    #[cfg(not(mio_unsupported_test_libkqueue))]
    {
        let err = socket.take_error().unwrap().expect("a pending error");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
        // Reading SO_ERROR clears it; Wine (8.0) keeps it set.
        if !running_under_wine() {
            assert!(socket.take_error().unwrap().is_none());
        }
    }
}

/// Retries `op` while it returns `WouldBlock`, polling (bounded) in between, and returns the
/// error it ends with.
#[cfg(windows)]
#[track_caller]
fn until_ready_err<T: std::fmt::Debug>(
    poll: &mut Poll,
    events: &mut Events,
    mut op: impl FnMut() -> io::Result<T>,
) -> io::Error {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "still WouldBlock after {TIMEOUT:?}"
                );
                let _ = net_util::poll_once(poll, events, TIMEOUT / 50);
            }
            Err(e) => return e,
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }
}

/// `recv(2)` on `socket`'s fd through `try_io`; `EAGAIN` becomes `WouldBlock`.
#[cfg(any(unix, target_os = "wasi"))]
fn raw_recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    socket.try_io(|| {
        // SAFETY: a valid fd and a buffer of the given length.
        let n = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    })
}

/// Winsock's `recv` on `socket` through `try_io`; `WSAEWOULDBLOCK` becomes `WouldBlock`.
#[cfg(windows)]
fn raw_recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    use windows_sys::Win32::Networking::WinSock::{recv, SOCKET, SOCKET_ERROR};
    socket.try_io(|| {
        let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        // SAFETY: a valid socket and a buffer of at least `len` bytes.
        let n = unsafe { recv(socket.as_raw_socket() as SOCKET, buf.as_mut_ptr(), len, 0) };
        if n == SOCKET_ERROR {
            // Winsock's last error is the thread's last error.
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    })
}

#[test]
fn try_io_with_raw_recv() {
    let (mut poll, mut events) = setup();
    let (sender, mut receiver) = bind_pair(any_local_address());
    poll.registry()
        .register(&mut receiver, SOCKET, Interest::READABLE)
        .unwrap();
    let mut buf = [0; 16];
    assert_would_block(raw_recv(&receiver, &mut buf));

    for msg in [&b"first"[..], &b"second"[..]] {
        sender.send_to(msg, receiver.local_addr().unwrap()).unwrap();
        expect_events(&mut poll, &mut events, vec![(SOCKET, Readiness::READABLE)]);
        let n = until_ready(&mut poll, &mut events, || raw_recv(&receiver, &mut buf));
        assert_eq!(&buf[..n], msg);
        assert_would_block(raw_recv(&receiver, &mut buf));
    }
}

#[test]
fn from_std_and_back() {
    let (mut poll, mut events) = setup();
    let std_socket = net::UdpSocket::bind(any_local_address()).unwrap();
    std_socket.set_nonblocking(true).unwrap();
    let addr = std_socket.local_addr().unwrap();
    let mut socket = UdpSocket::from_std(std_socket);
    assert_eq!(socket.local_addr().unwrap(), addr);
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)
        .unwrap();
    let sender = UdpSocket::bind(any_local_address()).unwrap();
    sender.send_to(b"x", addr).unwrap();
    let mut buf = [0; 4];
    let (n, _) = until_ready(&mut poll, &mut events, || socket.recv_from(&mut buf));
    assert_eq!(n, 1);

    poll.registry().deregister(&mut socket).unwrap();
    let std_socket = net::UdpSocket::from(socket);
    assert_eq!(std_socket.local_addr().unwrap(), addr);
    assert!(is_nonblocking(&std_socket), "still non-blocking");
    assert_would_block(std_socket.recv_from(&mut buf));
}

#[test]
fn from_std_does_not_change_blocking_mode() {
    let std_socket = net::UdpSocket::bind(any_local_address()).unwrap();
    let socket = UdpSocket::from_std(std_socket);
    assert!(
        !is_nonblocking(&socket),
        "from_std must leave the blocking mode alone"
    );
}

#[test]
fn raw_and_owned_fd_round_trips() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    let addr = socket.local_addr().unwrap();
    let raw = raw_handle(&socket);
    assert_eq!(borrowed_raw_handle(&socket), raw);
    let raw = into_raw_handle(socket);
    // SAFETY: `raw` was just released by `into_raw_handle`; nothing else owns it.
    let socket: UdpSocket = unsafe { from_raw_handle(raw) };
    assert_eq!(socket.local_addr().unwrap(), addr);
    let owned = OwnedHandle::from(socket);
    assert_eq!(raw_handle(&owned), raw);
    let socket = UdpSocket::from(owned);
    assert_eq!(socket.local_addr().unwrap(), addr);
    let mut buf = [0; 4];
    assert_would_block(socket.recv_from(&mut buf));
}

#[test]
fn debug_shows_type_and_address() {
    let socket = UdpSocket::bind(any_local_address()).unwrap();
    let debug = format!("{socket:?}");
    assert!(debug.contains("UdpSocket"), "{debug}");
    assert!(
        debug.contains(&socket.local_addr().unwrap().to_string()),
        "{debug}"
    );
}
