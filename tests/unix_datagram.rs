#![cfg(all(feature = "os-poll", feature = "net"))]
#![cfg(unix)] // Unix domain sockets: Unix only in mio.
//! `mio::net::UnixDatagram`: binding to paths and abstract names, unbound senders, pairs,
//! connected and unconnected sends, events, shutdown, `try_io` and conversions.

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{self, SocketAddr};
use std::time::Instant;

use mio::net::UnixDatagram;
use mio::{Events, Interest, Poll, Token};

mod net_util;
use net_util::{
    abstract_name, assert_nonblocking_cloexec, assert_would_block, expect_events,
    expect_no_events_for, fd_flags, until_ready, Readiness, TempDir, TIMEOUT,
};

const RECEIVER: Token = Token(0);

fn setup() -> (Poll, Events) {
    (Poll::new().unwrap(), Events::with_capacity(64))
}

#[test]
fn bind_path_and_send_to_path() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let rx_path = dir.join("rx");
    let tx_path = dir.join("tx");
    let mut rx = UnixDatagram::bind(&rx_path).unwrap();
    let tx = UnixDatagram::bind(&tx_path).unwrap();
    assert_nonblocking_cloexec(&rx);
    assert_eq!(
        rx.local_addr().unwrap().as_pathname(),
        Some(rx_path.as_path())
    );
    poll.registry()
        .register(&mut rx, RECEIVER, Interest::READABLE)
        .unwrap();
    let mut buf = [0; 32];
    assert_would_block(rx.recv_from(&mut buf));

    assert_eq!(tx.send_to(b"to a path", &rx_path).unwrap(), 9);
    expect_events(
        &mut poll,
        &mut events,
        vec![(RECEIVER, Readiness::READABLE)],
    );
    let (n, from) = until_ready(&mut poll, &mut events, || rx.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"to a path");
    assert_eq!(from.as_pathname(), Some(tx_path.as_path()));
    assert_would_block(rx.recv_from(&mut buf));
}

#[test]
fn bind_errors() {
    let dir = TempDir::new();
    let path = dir.join("taken");
    let _first = UnixDatagram::bind(&path).unwrap();
    let err = UnixDatagram::bind(&path).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");
    let err = UnixDatagram::bind("/tmp/mio\0nul").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
    let err = UnixDatagram::bind(format!("/tmp/{}", "d".repeat(120))).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
}

/// Regression test for mio issue 1403: what an unbound socket sends arrives from an unnamed
/// address.
#[test]
fn issue_1403_unbound_sender_address_is_unnamed() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("rx");
    let mut rx = UnixDatagram::bind(&path).unwrap();
    poll.registry()
        .register(&mut rx, RECEIVER, Interest::READABLE)
        .unwrap();

    let tx = UnixDatagram::unbound().unwrap();
    assert_nonblocking_cloexec(&tx);
    assert!(tx.local_addr().unwrap().is_unnamed());
    tx.send_to(b"anonymous", &path).unwrap();
    let mut buf = [0; 32];
    let (n, from) = until_ready(&mut poll, &mut events, || rx.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"anonymous");
    assert!(from.is_unnamed());
    assert_eq!(from.as_pathname(), None);
}

#[test]
fn pair_send_recv() {
    let (mut poll, mut events) = setup();
    let (a, mut b) = UnixDatagram::pair().unwrap();
    assert_nonblocking_cloexec(&a);
    assert_nonblocking_cloexec(&b);
    poll.registry()
        .register(&mut b, RECEIVER, Interest::READABLE)
        .unwrap();
    let mut buf = [0; 32];
    assert_would_block(b.recv(&mut buf));

    assert_eq!(a.send(b"first").unwrap(), 5);
    assert_eq!(a.send(b"second!").unwrap(), 7);
    expect_events(
        &mut poll,
        &mut events,
        vec![(RECEIVER, Readiness::READABLE)],
    );
    // Datagram boundaries are kept.
    let n = until_ready(&mut poll, &mut events, || b.recv(&mut buf));
    assert_eq!(&buf[..n], b"first");
    let n = b.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"second!");
    assert_would_block(b.recv(&mut buf));

    // And the other way.
    b.send(b"back").unwrap();
    let n = a.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"back");
    assert!(a.peer_addr().unwrap().is_unnamed());
    assert!(a.local_addr().unwrap().is_unnamed());
}

#[test]
fn connect_path_then_send_recv() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let a_path = dir.join("a");
    let b_path = dir.join("b");
    let mut a = UnixDatagram::bind(&a_path).unwrap();
    let mut b = UnixDatagram::bind(&b_path).unwrap();
    assert_eq!(
        a.peer_addr().unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );
    a.connect(&b_path).unwrap();
    b.connect(&a_path).unwrap();
    assert_eq!(a.peer_addr().unwrap().as_pathname(), Some(b_path.as_path()));
    assert_eq!(b.peer_addr().unwrap().as_pathname(), Some(a_path.as_path()));

    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut b, Token(2), Interest::READABLE)
        .unwrap();
    a.send(b"a to b").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(2), Readiness::READABLE)],
    );
    let mut buf = [0; 16];
    let n = until_ready(&mut poll, &mut events, || b.recv(&mut buf));
    assert_eq!(&buf[..n], b"a to b");
    b.send(b"b to a").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(1), Readiness::READABLE)],
    );
    let (n, from) = until_ready(&mut poll, &mut events, || a.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"b to a");
    assert_eq!(from.as_pathname(), Some(b_path.as_path()));
}

#[test]
fn unbound_connect_then_send() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("rx");
    let mut rx = UnixDatagram::bind(&path).unwrap();
    poll.registry()
        .register(&mut rx, RECEIVER, Interest::READABLE)
        .unwrap();
    let tx = UnixDatagram::unbound().unwrap();
    tx.connect(&path).unwrap();
    tx.send(b"connected").unwrap();
    let mut buf = [0; 16];
    let (n, from) = until_ready(&mut poll, &mut events, || rx.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"connected");
    assert!(from.is_unnamed());
}

#[test]
fn send_on_unconnected_socket_is_an_error() {
    let socket = UnixDatagram::unbound().unwrap();
    let err = socket.send(b"nowhere").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err:?}");
    let dir = TempDir::new();
    let bound = UnixDatagram::bind(dir.join("s")).unwrap();
    let err = bound.send(b"nowhere").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err:?}");
    let mut buf = [0; 4];
    assert_would_block(socket.recv(&mut buf));
}

#[test]
fn send_to_missing_path_is_an_error() {
    let dir = TempDir::new();
    let tx = UnixDatagram::unbound().unwrap();
    let err = tx.send_to(b"x", dir.join("missing")).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
        ),
        "{err:?}"
    );
    let err = tx.send_to(b"x", "/tmp/mio\0nul").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
}

#[test]
fn bind_addr_abstract() {
    let (mut poll, mut events) = setup();
    let name = abstract_name("dgram");
    let addr = SocketAddr::from_abstract_name(&name).unwrap();
    let mut rx = UnixDatagram::bind_addr(&addr).unwrap();
    assert_nonblocking_cloexec(&rx);
    let local = rx.local_addr().unwrap();
    assert_eq!(local.as_abstract_name(), Some(&name[..]));
    assert_eq!(local.as_pathname(), None);
    let err = UnixDatagram::bind_addr(&addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");

    poll.registry()
        .register(&mut rx, RECEIVER, Interest::READABLE)
        .unwrap();
    // std can address abstract names directly.
    let tx_name = abstract_name("dgram-tx");
    let tx =
        net::UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&tx_name).unwrap()).unwrap();
    tx.send_to_addr(b"abstract", &addr).unwrap();
    let mut buf = [0; 16];
    let (n, from) = until_ready(&mut poll, &mut events, || rx.recv_from(&mut buf));
    assert_eq!(&buf[..n], b"abstract");
    assert_eq!(from.as_abstract_name(), Some(&tx_name[..]));
}

#[test]
fn bind_addr_pathname() {
    let dir = TempDir::new();
    let path = dir.join("p");
    let socket = UnixDatagram::bind_addr(&SocketAddr::from_pathname(&path).unwrap()).unwrap();
    assert_eq!(
        socket.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert!(path.exists());
}

#[test]
fn shutdown() {
    let (a, b) = UnixDatagram::pair().unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let err = a.send(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err:?}");

    // After shutdown(Read) with nothing queued, a non-blocking datagram receive reports
    // WouldBlock on Linux (end-of-file is only reported to a blocking receiver).
    b.shutdown(Shutdown::Read).unwrap();
    let mut buf = [0; 4];
    match b.recv(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("recv after shutdown(Read): {other:?}"),
    }

    let (c, _d) = UnixDatagram::pair().unwrap();
    c.shutdown(Shutdown::Both).unwrap();
    assert_eq!(c.send(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    match c.recv(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("recv after shutdown(Both): {other:?}"),
    }
}

#[test]
fn take_error_is_none() {
    let (a, _b) = UnixDatagram::pair().unwrap();
    assert!(a.take_error().unwrap().is_none());
    let unbound = UnixDatagram::unbound().unwrap();
    assert!(unbound.take_error().unwrap().is_none());
}

/// `recv(2)` through `try_io`; `EAGAIN` becomes `WouldBlock`.
fn raw_recv(socket: &UnixDatagram, buf: &mut [u8]) -> io::Result<usize> {
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

#[test]
fn try_io_with_raw_recv() {
    let (mut poll, mut events) = setup();
    let (a, mut b) = UnixDatagram::pair().unwrap();
    poll.registry()
        .register(&mut b, RECEIVER, Interest::READABLE)
        .unwrap();
    let mut buf = [0; 16];
    assert_would_block(raw_recv(&b, &mut buf));
    for msg in [&b"one"[..], &b"two"[..]] {
        a.send(msg).unwrap();
        expect_events(
            &mut poll,
            &mut events,
            vec![(RECEIVER, Readiness::READABLE)],
        );
        let n = until_ready(&mut poll, &mut events, || raw_recv(&b, &mut buf));
        assert_eq!(&buf[..n], msg);
        assert_would_block(raw_recv(&b, &mut buf));
    }
}

#[test]
fn readable_event_then_drain_to_would_block() {
    let (mut poll, mut events) = setup();
    let (a, mut b) = UnixDatagram::pair().unwrap();
    poll.registry()
        .register(&mut b, RECEIVER, Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(RECEIVER, Readiness::WRITABLE)],
    );
    for i in 0..5u8 {
        a.send(&[i; 3]).unwrap();
    }
    let mut got = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while got.len() < 5 {
        assert!(Instant::now() < deadline, "got {} of 5", got.len());
        expect_events(
            &mut poll,
            &mut events,
            vec![(RECEIVER, Readiness::READABLE)],
        );
        let mut buf = [0; 8];
        loop {
            match b.recv(&mut buf) {
                Ok(n) => got.push(buf[..n].to_vec()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e:?}"),
            }
        }
    }
    assert_eq!(got, (0..5u8).map(|i| vec![i; 3]).collect::<Vec<_>>());
    expect_no_events_for(&mut poll, &mut events, RECEIVER);
    a.send(b"again").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(RECEIVER, Readiness::READABLE)],
    );
}

#[test]
fn datagram_sent_before_peer_drop_is_still_received() {
    let (mut poll, mut events) = setup();
    let (a, mut b) = UnixDatagram::pair().unwrap();
    poll.registry()
        .register(&mut b, RECEIVER, Interest::READABLE)
        .unwrap();
    a.send(b"bye").unwrap();
    drop(a);
    expect_events(
        &mut poll,
        &mut events,
        vec![(RECEIVER, Readiness::READABLE)],
    );
    let mut buf = [0; 8];
    let n = until_ready(&mut poll, &mut events, || b.recv(&mut buf));
    assert_eq!(&buf[..n], b"bye");
}

#[test]
fn from_std_and_conversions() {
    let (mut poll, mut events) = setup();
    let (std_a, std_b) = net::UnixDatagram::pair().unwrap();
    std_b.set_nonblocking(true).unwrap();
    let mut b = UnixDatagram::from_std(std_b);
    assert!(!fd_flags(&std_a).0);
    let a = UnixDatagram::from_std(std_a);
    assert!(
        !fd_flags(&a).0,
        "from_std must leave the blocking mode alone"
    );
    poll.registry()
        .register(&mut b, RECEIVER, Interest::READABLE)
        .unwrap();
    a.send(b"std").unwrap();
    let mut buf = [0; 8];
    let n = until_ready(&mut poll, &mut events, || b.recv(&mut buf));
    assert_eq!(&buf[..n], b"std");
    poll.registry().deregister(&mut b).unwrap();

    let raw = b.as_raw_fd();
    assert_eq!(b.as_fd().as_raw_fd(), raw);
    let raw = b.into_raw_fd();
    // SAFETY: `raw` was just released by `into_raw_fd`; nothing else owns it.
    let b = unsafe { UnixDatagram::from_raw_fd(raw) };
    let owned = OwnedFd::from(b);
    assert_eq!(owned.as_raw_fd(), raw);
    let b = UnixDatagram::from(owned);
    let std_b = net::UnixDatagram::from(b);
    assert_eq!(std_b.as_raw_fd(), raw);
    assert_eq!(
        std_b.recv(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
fn debug_shows_type_and_path() {
    let dir = TempDir::new();
    let path = dir.join("dbg");
    let socket = UnixDatagram::bind(&path).unwrap();
    let debug = format!("{socket:?}");
    assert!(debug.contains("UnixDatagram"), "{debug}");
    assert!(debug.contains("dbg"), "{debug}");
}
