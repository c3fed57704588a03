#![cfg(all(feature = "os-poll", feature = "net"))]
#![cfg(unix)] // Unix domain sockets: Unix only in mio.
//! `mio::net::UnixListener`: binding to paths and abstract names, address errors, accepting
//! until `WouldBlock`, fd flags and conversions.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{self, SocketAddr};
use std::path::PathBuf;
use std::time::Instant;

use mio::net::{UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Token};

mod net_util;
use net_util::{
    abstract_name, assert_nonblocking_cloexec, assert_would_block, expect_events, expect_no_events,
    fd_flags, read_polling, until_ready, Readiness, TempDir, TIMEOUT,
};

const LISTENER: Token = Token(0);

fn setup() -> (Poll, Events) {
    (Poll::new().unwrap(), Events::with_capacity(64))
}

/// Accepts until `WouldBlock`; returns the accepted streams.
fn accept_all(listener: &UnixListener) -> Vec<(UnixStream, SocketAddr)> {
    let mut accepted = Vec::new();
    loop {
        match listener.accept() {
            Ok(pair) => accepted.push(pair),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return accepted,
            Err(e) => panic!("accept failed: {e:?}"),
        }
    }
}

#[test]
fn bind_connect_accept_path() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("sock");
    let mut listener = UnixListener::bind(&path).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    assert_would_block(listener.accept());

    let mut client = UnixStream::connect(&path).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    let mut accepted = accept_all(&listener);
    assert_eq!(accepted.len(), 1);
    let (mut stream, peer) = accepted.pop().unwrap();
    // The client never bound: its address is unnamed.
    assert!(peer.is_unnamed());
    assert_eq!(peer.as_pathname(), None);
    assert_eq!(
        stream.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert_eq!(
        client.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    // The two ends talk.
    let token = Token(1);
    poll.registry()
        .register(&mut stream, token, Interest::READABLE)
        .unwrap();
    client.write_all(b"hello").unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &stream, 5), b"hello");
    stream.write_all(b"back").unwrap();
    poll.registry()
        .register(&mut client, Token(2), Interest::READABLE)
        .unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &client, 4), b"back");
}

#[test]
fn bind_existing_path_is_addr_in_use() {
    let dir = TempDir::new();
    let path = dir.join("sock");
    let _first = UnixListener::bind(&path).unwrap();
    let err = UnixListener::bind(&path).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");

    // A plain file is not removed either.
    let file = dir.join("file");
    std::fs::write(&file, b"keep").unwrap();
    let err = UnixListener::bind(&file).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");
    assert_eq!(std::fs::read(&file).unwrap(), b"keep");
}

#[test]
fn bind_path_with_nul_is_invalid_input() {
    let err = UnixListener::bind("/tmp/mio\0nul").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
}

#[test]
fn bind_too_long_path_is_invalid_input() {
    let long = PathBuf::from(format!("/tmp/{}", "x".repeat(120)));
    assert!(long.as_os_str().as_bytes().len() > 108);
    let err = UnixListener::bind(&long).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
    // Exactly 108 bytes leaves no room for the NUL.
    let exact = PathBuf::from(format!("/tmp/{}", "y".repeat(103)));
    assert_eq!(exact.as_os_str().as_bytes().len(), 108);
    let err = UnixListener::bind(&exact).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
}

#[test]
fn bind_addr_and_connect_addr_abstract() {
    let (mut poll, mut events) = setup();
    let name = abstract_name("listener");
    let addr = SocketAddr::from_abstract_name(&name).unwrap();
    let mut listener = UnixListener::bind_addr(&addr).unwrap();
    let local = listener.local_addr().unwrap();
    assert_eq!(local.as_abstract_name(), Some(&name[..]));
    assert_eq!(local.as_pathname(), None);
    assert!(!local.is_unnamed());

    // The same abstract name cannot be bound twice.
    let err = UnixListener::bind_addr(&addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");

    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let client = UnixStream::connect_addr(&addr).unwrap();
    assert_eq!(
        client.peer_addr().unwrap().as_abstract_name(),
        Some(&name[..])
    );
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    let accepted = accept_all(&listener);
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].1.as_pathname(), None);
}

#[test]
fn bind_addr_pathname() {
    let dir = TempDir::new();
    let path = dir.join("sock");
    let addr = SocketAddr::from_pathname(&path).unwrap();
    let listener = UnixListener::bind_addr(&addr).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    let _client = UnixStream::connect_addr(&addr).unwrap();
    let _client2 = net::UnixStream::connect(&path).unwrap();
}

#[test]
fn accept_storm_until_would_block_then_rearm() {
    const CLIENTS: usize = 50;
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("storm");
    let mut listener = UnixListener::bind(&path).unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();

    let mut clients: Vec<net::UnixStream> = (0..CLIENTS)
        .map(|_| net::UnixStream::connect(&path).unwrap())
        .collect();

    let mut accepted = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while accepted.len() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "accepted {} of {CLIENTS}",
            accepted.len()
        );
        expect_events(
            &mut poll,
            &mut events,
            vec![(LISTENER, Readiness::READABLE)],
        );
        accepted.extend(accept_all(&listener));
    }
    assert_eq!(accepted.len(), CLIENTS);

    // Every accepted stream is connected to a distinct client: tag each client and check.
    for (i, client) in clients.iter_mut().enumerate() {
        client.write_all(&[i as u8]).unwrap();
    }
    let mut tags: Vec<u8> = accepted
        .iter()
        .map(|(stream, _)| {
            let mut tag = [0u8; 1];
            let mut reader = stream;
            // Unix stream data is there as soon as `write` returned.
            assert_eq!(reader.read(&mut tag).unwrap(), 1);
            tag[0]
        })
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, (0..CLIENTS as u8).collect::<Vec<_>>());

    // New edge for a new connection.
    let _late = UnixStream::connect(&path).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    assert_eq!(accept_all(&listener).len(), 1);
}

#[test]
fn listener_and_accepted_fds_are_nonblocking_and_cloexec() {
    let (mut poll, mut events) = setup();
    let name = abstract_name("flags");
    let mut listener =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
    assert_nonblocking_cloexec(&listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let client = UnixStream::connect_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
    assert_nonblocking_cloexec(&client);
    let (mut stream, _) = until_ready(&mut poll, &mut events, || listener.accept());
    assert_nonblocking_cloexec(&stream);
    let mut buf = [0; 4];
    assert_would_block(stream.read(&mut buf));
}

#[test]
fn from_std_nonblocking_listener() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("std");
    let std_listener = net::UnixListener::bind(&path).unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let mut listener = UnixListener::from_std(std_listener);
    assert_would_block(listener.accept());
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let _client = net::UnixStream::connect(&path).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    assert_eq!(accept_all(&listener).len(), 1);
}

#[test]
fn from_std_does_not_change_blocking_mode() {
    let name = abstract_name("blocking");
    let std_listener =
        net::UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
    let listener = UnixListener::from_std(std_listener);
    assert!(
        !fd_flags(&listener).0,
        "from_std must leave the blocking mode alone"
    );
}

#[test]
fn take_error_is_none() {
    let name = abstract_name("take-error");
    let listener =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
    assert!(listener.take_error().unwrap().is_none());
}

#[test]
fn conversions_round_trip() {
    let dir = TempDir::new();
    let path = dir.join("conv");
    let listener = UnixListener::bind(&path).unwrap();
    let raw = listener.as_raw_fd();
    assert_eq!(listener.as_fd().as_raw_fd(), raw);

    let raw = listener.into_raw_fd();
    // SAFETY: `raw` was just released by `into_raw_fd`; nothing else owns it.
    let listener = unsafe { UnixListener::from_raw_fd(raw) };
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    let owned = OwnedFd::from(listener);
    assert_eq!(owned.as_raw_fd(), raw);
    let listener = UnixListener::from(owned);
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    let std_listener = net::UnixListener::from(listener);
    assert_eq!(std_listener.as_raw_fd(), raw);
    assert!(fd_flags(&std_listener).0, "still non-blocking");
    let err = std_listener.accept().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn debug_shows_type_and_path() {
    let dir = TempDir::new();
    let path = dir.join("dbg");
    let listener = UnixListener::bind(&path).unwrap();
    let debug = format!("{listener:?}");
    assert!(debug.contains("UnixListener"), "{debug}");
    assert!(debug.contains("dbg"), "{debug}");
}

#[test]
fn deregister_then_no_events() {
    let (mut poll, mut events) = setup();
    let name = abstract_name("dereg");
    let addr = SocketAddr::from_abstract_name(&name).unwrap();
    let mut listener = UnixListener::bind_addr(&addr).unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut listener).unwrap();
    let _client = UnixStream::connect_addr(&addr).unwrap();
    expect_no_events(&mut poll, &mut events);
    assert_eq!(accept_all(&listener).len(), 1);
}

#[test]
fn no_events_after_drop() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("dropped");
    let mut listener = UnixListener::bind(&path).unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    drop(listener);
    // The socket file stays but nobody listens.
    let err = UnixStream::connect(&path).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
    expect_no_events(&mut poll, &mut events);
}
