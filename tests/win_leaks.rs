//! Windows-only: a `Poll` dropped with every kind of request this crate gives the kernel in
//! flight at once, and the process's handle count before and after (issue 16).
//!
//! In flight when the `Poll` goes: an AFD poll request (a registered TCP socket after a poll
//! submitted its request), a cancelled AFD request whose completion is not dequeued yet (a
//! socket deregistered after its request was submitted), a registration whose first request
//! is still queued (registered after the last poll), a named-pipe `ConnectNamedPipe` (a
//! server waiting for a client), named-pipe reads on both ends of a connected pair with
//! nothing to read, a named-pipe write far larger than the pipe's buffer, and a `Waker`
//! packet posted and never dequeued. Dropping the `Poll` must cancel all of it and collect every
//! completion promptly (not the drain's 10 s bound), and once the `Waker` and the sources are
//! dropped too, not one handle may be left: every request's reference to the shared state
//! (which holds the completion port and the `\Device\Afd` handles) was taken back.
//!
//! Handles are counted with `GetProcessHandleCount`, under Wine from the system handle table
//! (`util::handle_count`); the test runs in a child process of its own (`util::run_isolated`)
//! so that other tests' handles do not disturb the count.
#![cfg(all(windows, feature = "os-poll", feature = "os-ext", feature = "net"))]

mod util;

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::{TcpStream, UdpSocket};
use mio::windows::NamedPipe;
use mio::{Events, Interest, Poll, Token, Waker};

use util::{handle_count, open_client, run_isolated};

const RW: Interest = Interest::READABLE.add(Interest::WRITABLE);

fn pipe_name() -> String {
    util::pipe_name("win-leaks")
}

fn tcp_pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (b, _) = listener.accept().unwrap();
    a.set_nonblocking(true).unwrap();
    (TcpStream::from_std(a), b)
}

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

fn poll_once(poll: &mut Poll, events: &mut Events, timeout: Duration) {
    loop {
        match poll.poll(events, Some(timeout)) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
    }
}

/// A connected pipe pair, both ends registered, each end writable (its connection done).
fn pipe_pair(poll: &mut Poll, events: &mut Events, first: usize) -> (NamedPipe, NamedPipe) {
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    poll.registry()
        .register(&mut server, Token(first), RW)
        .unwrap();
    let mut client = open_client(&name);
    poll.registry()
        .register(&mut client, Token(first + 1), RW)
        .unwrap();
    server
        .connect()
        .expect("connect with a client already there");
    // Both ends writable before anything is started on them (bounded).
    let mut writable = [false; 2];
    let deadline = Instant::now() + util::EXPECT_TIMEOUT;
    while writable != [true; 2] {
        assert!(
            Instant::now() < deadline,
            "the pipe pair never became writable"
        );
        poll_once(poll, events, Duration::from_millis(50));
        for e in events.iter() {
            if e.is_writable() && (e.token().0 == first || e.token().0 == first + 1) {
                writable[e.token().0 - first] = true;
            }
        }
    }
    (server, client)
}

/// What is left alive after the `Poll` is dropped: the sources and the `Waker`.
struct Survivors {
    _waker: Waker,
    _tcp: (TcpStream, std::net::TcpStream),
    _deregistered: (TcpStream, std::net::TcpStream),
    _udp: UdpSocket,
    _waiting: NamedPipe,
    _reading: (NamedPipe, NamedPipe),
    _writing: (NamedPipe, NamedPipe),
}

/// Builds a `Poll` with every kind of request in flight, drops it (timed), and returns what
/// outlives it, with the handle count while everything was alive.
fn drop_poll_with_everything_in_flight() -> (Survivors, usize, Duration) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let waker = Waker::new(poll.registry(), Token(100)).unwrap();

    // Named pipes first (their set-up polls), then the sockets (whose requests must not be
    // answered by a later poll).
    let reading = pipe_pair(&mut poll, &mut events, 10);
    // Nothing written either way: each end's read is in flight.
    assert!(would_block((&reading.0).read(&mut [0; 16])));
    assert!(would_block((&reading.1).read(&mut [0; 16])));
    let writing = pipe_pair(&mut poll, &mut events, 20);
    // 1 MiB, far more than the pipe's buffer: the write stays in flight (nobody reads).
    let big = vec![0x5a_u8; 1 << 20];
    assert_eq!((&writing.0).write(&big).unwrap(), big.len());
    assert!(
        would_block((&writing.0).write(b"more")),
        "the write completed"
    );
    let mut waiting = NamedPipe::new(pipe_name()).unwrap();
    poll.registry()
        .register(&mut waiting, Token(30), RW)
        .unwrap();
    // No client: the connect is in flight.
    assert!(would_block(waiting.connect()));

    let mut tcp = tcp_pair();
    poll.registry()
        .register(&mut tcp.0, Token(40), Interest::READABLE)
        .unwrap();
    let mut deregistered = tcp_pair();
    poll.registry()
        .register(&mut deregistered.0, Token(41), Interest::READABLE)
        .unwrap();
    // This poll submits both sockets' AFD requests (nothing is readable: they stay in flight).
    poll_once(&mut poll, &mut events, Duration::ZERO);
    assert!(
        events
            .iter()
            .all(|e| e.token() != Token(40) && e.token() != Token(41)),
        "a socket was reported with nothing to report: {events:?}"
    );
    // Cancelled; its completion is not dequeued by any poll.
    poll.registry().deregister(&mut deregistered.0).unwrap();
    // Registered after the last poll: its first request is still queued.
    let mut udp = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    poll.registry().register(&mut udp, Token(42), RW).unwrap();
    // A packet posted and never dequeued.
    waker.wake().unwrap();

    let with_everything = handle_count();
    let start = Instant::now();
    drop(poll);
    let took = start.elapsed();
    (
        Survivors {
            _waker: waker,
            _tcp: tcp,
            _deregistered: deregistered,
            _udp: udp,
            _waiting: waiting,
            _reading: reading,
            _writing: writing,
        },
        with_everything,
        took,
    )
}

#[test]
fn poll_dropped_with_every_kind_of_request_in_flight_leaks_no_handle() {
    run_isolated(
        "poll_dropped_with_every_kind_of_request_in_flight_leaks_no_handle",
        || {
            // Once to warm up (Winsock's and std's lazily opened handles are not leaks).
            drop(drop_poll_with_everything_in_flight());
            let before = handle_count();
            let (survivors, with_everything, took) = drop_poll_with_everything_in_flight();
            // Collected promptly: a request never collected would keep the drain to its 10 s
            // bound (and leak the shared state, with the port, below).
            assert!(
                took < Duration::from_secs(2),
                "dropping the Poll took {took:?}"
            );
            drop(survivors);
            let after = handle_count();
            eprintln!(
                "handles: before {before}, with everything in flight {with_everything}, \
                 Poll dropped in {took:?}, after the Waker and the sources {after}"
            );
            assert_eq!(
                after,
                before,
                "handles before {before}, after {after}: leaked {}",
                after as isize - before as isize
            );
        },
    );
}
