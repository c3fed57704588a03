#![cfg(all(feature = "os-poll", feature = "net"))]
//! Regression: a peer's shutdown must be reported (`is_read_closed`) even when the last
//! readable event was followed by reads that did not reach `WouldBlock`.
//!
//! Found by tokio 1.54.1's `tcp_stream::try_read_write`, `tcp_stream::try_read_buf`,
//! `uds_stream::try_read_write` and `uds_stream::try_read_buf`, which hang with
//! `--cfg mio_unsupported_force_poll_poll`: they read exactly the bytes they expect (never
//! seeing `WouldBlock`), drop the peer, then wait for `Ready::is_read_closed`. On epoll the
//! FIN is a new edge (`EPOLLIN | EPOLLRDHUP`); the poll(2) backend must report it too, as
//! upstream's does (it disarms only the `revents` bits it reported, so `POLLRDHUP` stays
//! watched after a `POLLIN`).
//!
//! Run it on both backends:
//!   cargo test --all-features --test regression_read_closed_after_read
//!   RUSTFLAGS='--cfg mio_unsupported_force_poll_poll' \
//!     cargo test --all-features --test regression_read_closed_after_read

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

#[cfg(unix)]
use mio::net::UnixStream;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const STREAM: Token = Token(1);
const LISTENER: Token = Token(2);
/// How long to wait for an expected event before failing.
const DEADLINE: Duration = Duration::from_secs(5);

/// Polls until an event for `token` satisfies `pred`; panics after `DEADLINE`.
fn wait_for(
    poll: &mut Poll,
    events: &mut Events,
    token: Token,
    what: &str,
    pred: fn(&mio::event::Event) -> bool,
) {
    let end = Instant::now() + DEADLINE;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {what} event for {token:?} within {DEADLINE:?}"
        );
        match poll.poll(events, Some(left)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        if events.iter().any(|e| e.token() == token && pred(e)) {
            return;
        }
    }
}

/// Reads exactly `buf.len()` bytes, one readable event at a time, and stops there: no read
/// after the last byte, so the source never returns `WouldBlock` once the data is in.
fn read_exactly<S: Read>(poll: &mut Poll, events: &mut Events, stream: &mut S, buf: &mut [u8]) {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => panic!("end of file after {got} bytes"),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_for(poll, events, STREAM, "readable", |e| e.is_readable())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// The scenario: readable event, read exactly the data, peer shuts down, expect read-closed.
/// `close_peer` closes or half-closes the peer; what it returns is kept open until the end.
fn read_closed_after_exact_read<S, P>(
    stream: &mut S,
    mut peer: P,
    close_peer: impl FnOnce(P) -> Option<P>,
) where
    S: Read + mio::event::Source,
    P: Write,
{
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    poll.registry()
        .register(stream, STREAM, Interest::READABLE)
        .unwrap();

    peer.write_all(b"hello").unwrap();
    wait_for(&mut poll, &mut events, STREAM, "readable", |e| {
        e.is_readable()
    });
    let mut buf = [0; 5];
    read_exactly(&mut poll, &mut events, stream, &mut buf);
    assert_eq!(&buf, b"hello");

    // No read since the last byte: the source has not been seen to block.
    let _keep_open = close_peer(peer);
    wait_for(&mut poll, &mut events, STREAM, "read-closed", |e| {
        e.is_read_closed()
    });

    // And the close is real: the next read is end-of-file.
    assert_eq!(stream.read(&mut buf).unwrap(), 0);
}

#[test]
fn tcp_peer_close_reported_after_exact_read() {
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut stream: TcpStream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_for(&mut poll, &mut events, LISTENER, "readable", |e| {
                    e.is_readable()
                })
            }
            Err(e) => panic!("accept: {e}"),
        }
    };

    read_closed_after_exact_read(&mut stream, peer, |peer| {
        drop(peer);
        None
    });
}

#[test]
fn tcp_peer_shutdown_write_reported_after_exact_read() {
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .unwrap();
    let mut stream: TcpStream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_for(&mut poll, &mut events, LISTENER, "readable", |e| {
                    e.is_readable()
                })
            }
            Err(e) => panic!("accept: {e}"),
        }
    };

    // A half-close: the peer stays open for reading, so this is POLLRDHUP without POLLHUP.
    read_closed_after_exact_read(&mut stream, peer, |peer| {
        peer.shutdown(Shutdown::Write).unwrap();
        Some(peer)
    });
}

#[test]
#[cfg(unix)] // Unix-domain sockets
fn unix_peer_close_reported_after_exact_read() {
    let (mut stream, peer) = UnixStream::pair().unwrap();
    read_closed_after_exact_read(&mut stream, peer, |peer| {
        drop(peer);
        None
    });
}
