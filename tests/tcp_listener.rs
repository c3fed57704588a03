#![cfg(all(feature = "os-poll", feature = "net"))]
//! `mio::net::TcpListener`: binding, accepting until `WouldBlock`, fd flags, options,
//! conversions and what happens to its registration on drop, deregister and reregister.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{self, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

mod net_util;
use net_util::{
    any_local_address, any_local_ipv6_address, assert_would_block, borrowed_raw_handle,
    expect_events, expect_no_events, expect_no_events_for, from_raw_handle, into_raw_handle,
    poll_once, raw_handle, read_polling, until_ready, OwnedHandle, Readiness, TIMEOUT,
};
#[cfg(unix)]
use net_util::{assert_nonblocking_cloexec, fd_flags};
#[cfg(windows)]
use net_util::{assert_not_inheritable, is_nonblocking};

const LISTENER: Token = Token(0);

fn setup() -> (Poll, Events) {
    (Poll::new().unwrap(), Events::with_capacity(64))
}

/// Accepts until `WouldBlock`; returns the peer addresses.
fn accept_all(listener: &TcpListener) -> Vec<SocketAddr> {
    let mut peers = Vec::new();
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                assert_eq!(stream.peer_addr().unwrap(), peer);
                peers.push(peer);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return peers,
            Err(e) => panic!("accept failed: {e:?}"),
        }
    }
}

#[test]
fn bind_ipv4() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.is_ipv4());
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
}

#[test]
fn bind_ipv6() {
    let listener = TcpListener::bind(any_local_ipv6_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.is_ipv6());
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
}

#[test]
fn bind_twice_same_addr_is_addr_in_use() {
    let first = TcpListener::bind(any_local_address()).unwrap();
    let addr = first.local_addr().unwrap();
    let err = TcpListener::bind(addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");
    // The first listener is unharmed.
    assert_eq!(first.local_addr().unwrap(), addr);
}

#[test]
fn bind_twice_same_addr_is_addr_in_use_ipv6() {
    let first = TcpListener::bind(any_local_ipv6_address()).unwrap();
    let err = TcpListener::bind(first.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err:?}");
}

#[test]
fn accept_without_connection_would_block() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    assert_would_block(listener.accept());
}

fn accept_storm(addr: SocketAddr) {
    const CLIENTS: usize = 50;
    let (mut poll, mut events) = setup();
    let mut listener = TcpListener::bind(addr).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();

    let clients: Vec<net::TcpStream> = (0..CLIENTS)
        .map(|_| net::TcpStream::connect(addr).unwrap())
        .collect();
    let expected: HashSet<SocketAddr> = clients.iter().map(|c| c.local_addr().unwrap()).collect();

    // Each readable event may stand for many connections: accept until WouldBlock each time.
    let mut accepted = HashSet::new();
    let deadline = Instant::now() + TIMEOUT;
    while accepted.len() < CLIENTS {
        assert!(
            Instant::now() < deadline,
            "accepted {} of {CLIENTS} connections",
            accepted.len()
        );
        expect_events(
            &mut poll,
            &mut events,
            vec![(LISTENER, Readiness::READABLE)],
        );
        accepted.extend(accept_all(&listener));
    }
    assert_eq!(accepted, expected);

    // The edge was consumed; a new connection produces a new event.
    let late = net::TcpStream::connect(addr).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    let peers = accept_all(&listener);
    assert_eq!(peers, vec![late.local_addr().unwrap()]);
}

#[test]
fn accept_storm_until_would_block_then_rearm() {
    accept_storm(any_local_address());
}

#[test]
fn accept_storm_until_would_block_then_rearm_ipv6() {
    accept_storm(any_local_ipv6_address());
}

#[test]
fn listener_fd_is_nonblocking_and_cloexec() {
    for addr in [any_local_address(), any_local_ipv6_address()] {
        let listener = TcpListener::bind(addr).unwrap();
        assert_new_listener_flags(&listener);
    }
}

/// Non-blocking and close-on-exec. Windows: not inheritable, and non-blocking as `accept`
/// shows (Winsock cannot read `FIONBIO` back); nothing may be queued on `listener`.
#[track_caller]
fn assert_new_listener_flags(listener: &TcpListener) {
    #[cfg(unix)]
    assert_nonblocking_cloexec(listener);
    #[cfg(windows)]
    {
        assert_not_inheritable(listener);
        assert_would_block(listener.accept());
    }
}

#[test]
fn accepted_stream_is_nonblocking_and_cloexec() {
    let (mut poll, mut events) = setup();
    let mut listener = TcpListener::bind(any_local_address()).unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let client = net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    let (mut stream, peer) = until_ready(&mut poll, &mut events, || listener.accept());
    assert_eq!(peer, client.local_addr().unwrap());
    #[cfg(unix)]
    assert_nonblocking_cloexec(&stream);
    #[cfg(windows)]
    {
        assert_not_inheritable(&stream);
        assert!(is_nonblocking(&stream));
    }
    // Non-blocking in practice too: nothing to read yet.
    let mut buf = [0; 8];
    assert_would_block(stream.read(&mut buf));
}

#[test]
fn accepted_stream_works() {
    let (mut poll, mut events) = setup();
    let mut listener = TcpListener::bind(any_local_address()).unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut client = net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let (mut stream, _) = until_ready(&mut poll, &mut events, || listener.accept());

    assert_eq!(stream.local_addr().unwrap(), listener.local_addr().unwrap());
    client.write_all(b"hello").unwrap();
    let token = Token(1);
    poll.registry()
        .register(&mut stream, token, Interest::READABLE)
        .unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &stream, 5), b"hello");
    stream.write_all(b"world").unwrap();
    let mut buf = [0; 5];
    client.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"world");
}

#[test]
fn local_addr_matches_bound_port() {
    let std_listener = net::TcpListener::bind(any_local_address()).unwrap();
    let addr = std_listener.local_addr().unwrap();
    drop(std_listener);
    // Binding a specific (just freed) port: SO_REUSEADDR makes this reliable (Windows has no
    // SO_REUSEADDR step, and needs none: nothing connected, so no TIME_WAIT holds the port).
    let listener = TcpListener::bind(addr).unwrap();
    assert_eq!(listener.local_addr().unwrap(), addr);
}

#[test]
fn set_ttl_and_ttl() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    listener.set_ttl(42).unwrap();
    assert_eq!(listener.ttl().unwrap(), 42);
    listener.set_ttl(1).unwrap();
    assert_eq!(listener.ttl().unwrap(), 1);
    // 0 is not a valid TTL.
    assert!(listener.set_ttl(0).is_err());
}

#[test]
fn take_error_is_none() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    assert!(listener.take_error().unwrap().is_none());
}

#[test]
fn from_std_nonblocking_listener() {
    let (mut poll, mut events) = setup();
    let std_listener = net::TcpListener::bind(any_local_address()).unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let mut listener = TcpListener::from_std(std_listener);
    assert_eq!(listener.local_addr().unwrap(), addr);
    assert_would_block(listener.accept());

    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let client = net::TcpStream::connect(addr).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    assert_eq!(accept_all(&listener), vec![client.local_addr().unwrap()]);
}

#[test]
// Windows: Winsock cannot read `FIONBIO` back and `accept` has no timeout to probe it with
// (tcp_stream.rs and udp_socket.rs check `from_std` there).
#[cfg(unix)]
fn from_std_does_not_change_blocking_mode() {
    let std_listener = net::TcpListener::bind(any_local_address()).unwrap();
    let (nonblocking, _) = fd_flags(&std_listener);
    assert!(!nonblocking);
    let listener = TcpListener::from_std(std_listener);
    let (nonblocking, _) = fd_flags(&listener);
    assert!(!nonblocking, "from_std must leave the blocking mode alone");
}

#[test]
fn into_std_keeps_socket_and_mode() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = raw_handle(&listener);
    let std_listener = net::TcpListener::from(listener);
    assert_eq!(raw_handle(&std_listener), fd);
    assert_eq!(std_listener.local_addr().unwrap(), addr);
    // Still non-blocking.
    assert_would_block(std_listener.accept());
    let client = net::TcpStream::connect(addr).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let (_, peer) = loop {
        match std_listener.accept() {
            Ok(accepted) => break accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "connection never arrived");
                std::thread::yield_now();
            }
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(peer, client.local_addr().unwrap());
}

#[test]
fn raw_fd_round_trip() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    assert_eq!(raw_handle(&listener), borrowed_raw_handle(&listener));
    let raw = into_raw_handle(listener);
    // SAFETY: `raw` was just released by `into_raw_handle`; nothing else owns it.
    let mut listener: TcpListener = unsafe { from_raw_handle(raw) };
    assert_eq!(raw_handle(&listener), raw);
    assert_eq!(listener.local_addr().unwrap(), addr);
    assert_new_listener_flags(&listener);

    // The round-tripped listener still registers and accepts.
    let (mut poll, mut events) = setup();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let client = net::TcpStream::connect(addr).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    assert_eq!(accept_all(&listener), vec![client.local_addr().unwrap()]);
}

#[test]
fn owned_fd_round_trip() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    let raw = raw_handle(&listener);
    let owned = OwnedHandle::from(listener);
    assert_eq!(raw_handle(&owned), raw);
    let listener = TcpListener::from(owned);
    assert_eq!(raw_handle(&listener), raw);
    assert_eq!(listener.local_addr().unwrap(), addr);
    assert_would_block(listener.accept());
}

#[test]
fn debug_shows_type_and_address() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    let debug = format!("{listener:?}");
    assert!(debug.contains("TcpListener"), "{debug}");
    assert!(debug.contains(&addr.to_string()), "{debug}");
    assert!(
        debug.contains(&raw_handle(&listener).to_string()),
        "{debug}"
    );
}

#[test]
fn no_events_after_drop() {
    let (mut poll, mut events) = setup();
    let mut old = TcpListener::bind(any_local_address()).unwrap();
    let old_addr = old.local_addr().unwrap();
    poll.registry()
        .register(&mut old, LISTENER, Interest::READABLE)
        .unwrap();
    // Over libkqueue closing an fd leaves its kevents (kqueue(2): "Calling close() on a file
    // descriptor will remove any kevents that reference the descriptor"; libkqueue keys them
    // by number, `knote_lookup` in its src/common/kevent.c, and cannot see a close), so the
    // new listener, likely on the same fd number, would be refused with `AlreadyExists`:
    // deregistered first there. What is checked still holds: no event for the old token.
    #[cfg(mio_unsupported_test_libkqueue)]
    poll.registry().deregister(&mut old).unwrap();
    drop(old);

    let new_token = Token(1);
    let mut new = TcpListener::bind(any_local_address()).unwrap();
    poll.registry()
        .register(&mut new, new_token, Interest::READABLE)
        .unwrap();
    // The old port is closed now.
    assert!(net::TcpStream::connect(old_addr).is_err());
    let _client = net::TcpStream::connect(new.local_addr().unwrap()).unwrap();

    let seen = expect_events(
        &mut poll,
        &mut events,
        vec![(new_token, Readiness::READABLE)],
    );
    assert!(
        !seen.contains_key(&LISTENER),
        "event for a dropped listener: {seen:?}"
    );
    expect_no_events_for(&mut poll, &mut events, LISTENER);
}

#[test]
fn deregister_then_no_events() {
    let (mut poll, mut events) = setup();
    let mut listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut listener).unwrap();

    let client = net::TcpStream::connect(addr).unwrap();
    expect_no_events(&mut poll, &mut events);
    // The connection is queued all the same.
    let deadline = Instant::now() + TIMEOUT;
    let peers = loop {
        let peers = accept_all(&listener);
        if !peers.is_empty() || Instant::now() > deadline {
            break peers;
        }
        let _ = poll_once(&mut poll, &mut events, Duration::from_millis(10));
    };
    assert_eq!(peers, vec![client.local_addr().unwrap()]);

    // And it can be registered again.
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let _client2 = net::TcpStream::connect(addr).unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
}

#[test]
fn reregister_changes_token() {
    let (mut poll, mut events) = setup();
    let mut listener = TcpListener::bind(any_local_address()).unwrap();
    let new_token = Token(7);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    poll.registry()
        .reregister(&mut listener, new_token, Interest::READABLE)
        .unwrap();

    let _client = net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let seen = expect_events(
        &mut poll,
        &mut events,
        vec![(new_token, Readiness::READABLE)],
    );
    assert!(
        !seen.contains_key(&LISTENER),
        "event with the old token: {seen:?}"
    );
    assert_eq!(accept_all(&listener).len(), 1);
}

#[test]
fn readable_event_for_connection_queued_before_register() {
    let (mut poll, mut events) = setup();
    let mut listener = TcpListener::bind(any_local_address()).unwrap();
    let client = net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(LISTENER, Readiness::READABLE)],
    );
    assert_eq!(accept_all(&listener), vec![client.local_addr().unwrap()]);
}
