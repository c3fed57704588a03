//! This crate's triggers (`Trigger`, `Interest::{oneshot, level, exclusive}`): an extension of
//! upstream mio. Each test uses mio's own TCP types (so they run on every backend: epoll,
//! poll(2), Windows), except the exclusive one, which needs several `Poll`s on one fd.
#![cfg(all(feature = "os-poll", feature = "net"))]

mod util;

use std::io::{self, Read, Write};
use std::time::Duration;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Trigger};
use util::{expect_event, expect_no_event_for, poll_once};

/// A connected pair: `mio` end registered by the test, `std` peer driven directly.
fn pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (local, _) = listener.accept().unwrap();
    local.set_nonblocking(true).unwrap();
    local.set_nodelay(true).unwrap();
    peer.set_nodelay(true).unwrap();
    (TcpStream::from_std(local), peer)
}

const A: Token = Token(1);
const B: Token = Token(2);

#[test]
fn interest_carries_the_trigger() {
    assert_eq!(Interest::READABLE.trigger(), Some(Trigger::Edge));
    assert_eq!(
        Interest::READABLE.oneshot().trigger(),
        Some(Trigger::Oneshot)
    );
    assert_eq!(Interest::WRITABLE.level().trigger(), Some(Trigger::Level));
    assert_eq!(
        Interest::READABLE.exclusive().trigger(),
        Some(Trigger::Exclusive)
    );
    let both = (Interest::READABLE | Interest::WRITABLE).oneshot();
    assert!(both.is_readable() && both.is_writable());
    assert_eq!(format!("{both:?}"), "READABLE | WRITABLE | ONESHOT");
    // A trigger alone is not an interest.
    assert_eq!(
        Interest::READABLE.oneshot().remove(Interest::READABLE),
        None
    );
    assert_eq!(
        both.remove(Interest::WRITABLE),
        Some(Interest::READABLE.oneshot())
    );
    // Back to plain edge: equal to upstream's constants.
    assert_eq!(
        both.with_trigger(Trigger::Edge),
        Interest::READABLE | Interest::WRITABLE
    );
    // Two different triggers combined: no trigger.
    assert_eq!(
        (Interest::READABLE.oneshot() | Interest::WRITABLE.level()).trigger(),
        None
    );
}

#[test]
fn two_triggers_are_invalid_input() {
    let poll = Poll::new().unwrap();
    let (mut local, _peer) = pair();
    let err = poll
        .registry()
        .register(
            &mut local,
            A,
            Interest::READABLE.oneshot() | Interest::WRITABLE.level(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    // Nothing was registered: a valid registration works afterwards.
    poll.registry()
        .register(&mut local, A, Interest::READABLE)
        .unwrap();
}

#[test]
fn oneshot_delivers_once_until_reregister() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut local, mut peer) = pair();
    poll.registry()
        .register(&mut local, A, Interest::READABLE.oneshot())
        .unwrap();
    peer.write_all(b"one").unwrap();
    assert!(expect_event(&mut poll, &mut events, A).readable);
    // Drained to WouldBlock (which re-arms an edge registration): still silent.
    let mut buf = [0; 16];
    assert_eq!((&local).read(&mut buf).unwrap(), 3);
    assert_eq!(
        (&local).read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    peer.write_all(b"two").unwrap();
    expect_no_event_for(&mut poll, &mut events, A);
    // More data, and even the peer's close: nothing until re-armed.
    peer.shutdown(std::net::Shutdown::Write).unwrap();
    expect_no_event_for(&mut poll, &mut events, A);
    poll.registry()
        .reregister(&mut local, A, Interest::READABLE.oneshot())
        .unwrap();
    assert!(expect_event(&mut poll, &mut events, A).readable);
    expect_no_event_for(&mut poll, &mut events, A);
}

#[test]
fn level_repeats_until_drained() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut local, mut peer) = pair();
    poll.registry()
        .register(&mut local, A, Interest::READABLE.level())
        .unwrap();
    peer.write_all(b"data").unwrap();
    assert!(expect_event(&mut poll, &mut events, A).readable);
    // Not read: reported by every poll.
    for _ in 0..3 {
        assert!(expect_event(&mut poll, &mut events, A).readable);
    }
    // Drained: silent.
    let mut buf = [0; 16];
    assert_eq!((&local).read(&mut buf).unwrap(), 4);
    // Level backends may still hand out the readiness observed before the read (at most once:
    // it was true when observed); after that, nothing.
    let _ = poll_once(&mut poll, &mut events, Some(Duration::from_millis(50)));
    expect_no_event_for(&mut poll, &mut events, A);
}

#[test]
fn modes_mix_on_one_poll_and_change_by_reregister() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, mut peer_a) = pair();
    let (mut b, mut peer_b) = pair();
    poll.registry()
        .register(&mut a, A, Interest::READABLE.level())
        .unwrap();
    poll.registry()
        .register(&mut b, B, Interest::READABLE)
        .unwrap();
    peer_a.write_all(b"a").unwrap();
    peer_b.write_all(b"b").unwrap();
    // Both reported; then only the level one keeps coming.
    let mut seen_a = false;
    let mut seen_b = false;
    for _ in 0..50 {
        for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(100))) {
            seen_a |= e.token == A;
            seen_b |= e.token == B;
        }
        if seen_a && seen_b {
            break;
        }
    }
    assert!(seen_a && seen_b);
    assert!(expect_event(&mut poll, &mut events, A).readable);
    expect_no_event_for(&mut poll, &mut events, B);
    // `a` becomes edge-triggered: one more event (the re-registration's edge), then quiet.
    poll.registry()
        .reregister(&mut a, A, Interest::READABLE)
        .unwrap();
    assert!(expect_event(&mut poll, &mut events, A).readable);
    expect_no_event_for(&mut poll, &mut events, A);
    // `b` becomes level-triggered: reported again and again.
    poll.registry()
        .reregister(&mut b, B, Interest::READABLE.level())
        .unwrap();
    assert!(expect_event(&mut poll, &mut events, B).readable);
    assert!(expect_event(&mut poll, &mut events, B).readable);
}

#[test]
fn exclusive_where_unsupported_is_refused() {
    let poll = Poll::new().unwrap();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let res = poll
        .registry()
        .register(&mut listener, A, Interest::READABLE.exclusive());
    // Under `mio_unsupported_test_libkqueue` Linux runs the kqueue selector: refused as on the BSDs.
    if cfg!(all(
        any(target_os = "linux", target_os = "android"),
        not(mio_unsupported_force_poll_poll),
        not(mio_unsupported_test_libkqueue)
    )) {
        res.unwrap();
        // epoll never modifies an exclusive registration: a clear refusal.
        let err = poll
            .registry()
            .reregister(&mut listener, A, Interest::READABLE.exclusive())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("exclusive"), "{err}");
        let err = poll
            .registry()
            .reregister(&mut listener, A, Interest::READABLE)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // Deregister and register again is the way.
        poll.registry().deregister(&mut listener).unwrap();
        poll.registry()
            .register(&mut listener, A, Interest::READABLE)
            .unwrap();
    } else {
        assert_eq!(res.unwrap_err().kind(), io::ErrorKind::Unsupported);
    }
}

/// Several `Poll`s (one per thread) on one listener: with an edge registration every one is
/// woken by each connection; with an exclusive one, fewer (one when all are waiting). Needs
/// one fd in several epoll sets: `SourceFd` (mio's own types refuse a second `Poll` in debug).
// EPOLLEXCLUSIVE: epoll only (not the kqueue selector that `mio_unsupported_test_libkqueue`
// runs on Linux, which refuses exclusive registrations as on the BSDs).
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_force_poll_poll),
    not(mio_unsupported_test_libkqueue),
    feature = "os-ext"
))]
mod exclusive {
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    use mio::unix::SourceFd;
    use mio::{Events, Interest, Poll, Token};

    const THREADS: usize = 4;
    const CONNECTIONS: usize = 20;

    /// Total wake-ups of the `THREADS` polls over `CONNECTIONS` connections.
    fn wakeups(interest: Interest) -> usize {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let fd = listener.as_raw_fd();
        let woken = Arc::new(AtomicUsize::new(0));
        let waiting = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let mut poll = Poll::new().unwrap();
                poll.registry()
                    .register(&mut SourceFd(&fd), Token(0), interest)
                    .unwrap();
                let (woken, waiting, stop) = (woken.clone(), waiting.clone(), stop.clone());
                thread::spawn(move || {
                    let mut events = Events::with_capacity(4);
                    while !stop.load(Ordering::SeqCst) {
                        waiting.fetch_add(1, Ordering::SeqCst);
                        let res = poll.poll(&mut events, Some(Duration::from_millis(20)));
                        waiting.fetch_sub(1, Ordering::SeqCst);
                        if res.is_ok() && !events.is_empty() {
                            woken.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        for i in 0..CONNECTIONS {
            // Let every poller get back into its wait (bounded; a busy machine only adds
            // wake-ups, which the assertions allow for).
            while waiting.load(Ordering::SeqCst) < THREADS && Instant::now() < deadline {
                thread::yield_now();
            }
            let before = woken.load(Ordering::SeqCst);
            let _client = std::net::TcpStream::connect(addr).unwrap();
            // At least one poller must hear of it: no lost event.
            while woken.load(Ordering::SeqCst) == before {
                assert!(Instant::now() < deadline, "connection {i} woke no poller");
                thread::yield_now();
            }
            if interest.trigger() == Some(mio::Trigger::Edge) {
                // Every registration gets its own edge: wait for all of them.
                while woken.load(Ordering::SeqCst) < (i + 1) * THREADS {
                    assert!(Instant::now() < deadline, "edge: not every poller woke");
                    thread::yield_now();
                }
            }
            // Accept it, so the listener is drained before the next one.
            while listener.accept().is_err() {
                assert!(Instant::now() < deadline, "the connection never arrived");
                thread::yield_now();
            }
        }
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            t.join().unwrap();
        }
        woken.load(Ordering::SeqCst)
    }

    #[test]
    fn exclusive_wakes_fewer_polls_than_edge() {
        let edge = wakeups(Interest::READABLE);
        let exclusive = wakeups(Interest::READABLE.exclusive());
        assert!(edge >= CONNECTIONS * THREADS, "edge woke {edge}");
        assert!(exclusive >= CONNECTIONS, "exclusive woke {exclusive}");
        assert!(
            exclusive < edge,
            "exclusive woke {exclusive} polls for {CONNECTIONS} connections, edge {edge}"
        );
    }
}

#[test]
fn sub_millisecond_timeout_returns_without_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let (mut local, _peer) = pair();
    poll.registry()
        .register(&mut local, A, Interest::READABLE)
        .unwrap();
    for us in [1, 50, 100, 999, 1001] {
        poll.poll(&mut events, Some(Duration::from_micros(us)))
            .unwrap();
        assert!(events.is_empty());
    }
}

/// The triggers pass through every source type: a pipe and a raw fd (`SourceFd`) on Unix.
#[cfg(all(unix, feature = "os-ext"))]
mod unix_sources {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    use mio::unix::{pipe, SourceFd};
    use mio::{Events, Interest, Poll};

    use super::util::{expect_event, expect_no_event_for};
    use super::A;

    #[test]
    fn pipe_oneshot_and_level() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let (mut tx, mut rx) = pipe::new().unwrap();
        poll.registry()
            .register(&mut rx, A, Interest::READABLE.oneshot())
            .unwrap();
        tx.write_all(b"x").unwrap();
        assert!(expect_event(&mut poll, &mut events, A).readable);
        tx.write_all(b"y").unwrap();
        expect_no_event_for(&mut poll, &mut events, A);
        poll.registry()
            .reregister(&mut rx, A, Interest::READABLE.level())
            .unwrap();
        assert!(expect_event(&mut poll, &mut events, A).readable);
        assert!(expect_event(&mut poll, &mut events, A).readable);
        let mut buf = [0; 8];
        assert_eq!(rx.read(&mut buf).unwrap(), 2);
        let _ = super::poll_once(
            &mut poll,
            &mut events,
            Some(std::time::Duration::from_millis(50)),
        );
        expect_no_event_for(&mut poll, &mut events, A);
    }

    #[test]
    fn source_fd_level() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let fd = a.as_raw_fd();
        poll.registry()
            .register(&mut SourceFd(&fd), A, Interest::READABLE.level())
            .unwrap();
        b.write_all(b"z").unwrap();
        for _ in 0..3 {
            assert!(expect_event(&mut poll, &mut events, A).readable);
        }
        poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
        expect_no_event_for(&mut poll, &mut events, A);
    }
}

/// The triggers on Windows named pipes, whose readiness is made from completions.
#[cfg(all(windows, feature = "os-ext"))]
mod named_pipe {
    use std::fs::OpenOptions;
    use std::io::{self, Read, Write};
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::{FromRawHandle, IntoRawHandle};
    use std::time::{Duration, Instant};

    use mio::windows::NamedPipe;
    use mio::{Events, Interest, Poll, Token};

    use super::util::{expect_event, expect_no_event_for};
    use super::A;

    /// `FILE_FLAG_OVERLAPPED`.
    const OVERLAPPED: u32 = 0x4000_0000;

    fn pair(poll: &Poll, server_interest: Interest) -> (NamedPipe, NamedPipe) {
        let name = format!(
            r"\\.\pipe\mio-test-trigger-{}-{:?}",
            std::process::id(),
            server_interest
        );
        let mut server = NamedPipe::new(&name).unwrap();
        poll.registry()
            .register(&mut server, A, server_interest)
            .unwrap();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(OVERLAPPED)
            .open(&name)
            .unwrap();
        // SAFETY: a pipe client end opened for overlapped I/O, owned, not yet associated.
        let mut client = unsafe { NamedPipe::from_raw_handle(file.into_raw_handle()) };
        poll.registry()
            .register(&mut client, Token(99), Interest::WRITABLE)
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match server.connect() {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("connect: {e}"),
            }
            assert!(Instant::now() < deadline, "the client never connected");
            std::thread::yield_now();
        }
        (server, client)
    }

    /// Writes all of `data` through the client (its writes may answer `WouldBlock` while one
    /// is in flight).
    fn send(poll: &mut Poll, events: &mut Events, client: &mut NamedPipe, data: &[u8]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match client.write(data) {
                Ok(n) => {
                    assert_eq!(n, data.len());
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let _ = super::poll_once(poll, events, Some(Duration::from_millis(20)));
                }
                Err(e) => panic!("write: {e}"),
            }
            assert!(Instant::now() < deadline, "the client could not write");
        }
    }

    #[test]
    fn oneshot() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let (mut server, mut client) = pair(&poll, Interest::READABLE.oneshot());
        send(&mut poll, &mut events, &mut client, b"one");
        assert!(expect_event(&mut poll, &mut events, A).readable);
        let mut buf = [0; 8];
        assert_eq!(server.read(&mut buf).unwrap(), 3);
        send(&mut poll, &mut events, &mut client, b"two");
        expect_no_event_for(&mut poll, &mut events, A);
        poll.registry()
            .reregister(&mut server, A, Interest::READABLE.oneshot())
            .unwrap();
        assert!(expect_event(&mut poll, &mut events, A).readable);
    }

    #[test]
    fn level() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let (mut server, mut client) = pair(&poll, Interest::READABLE.level());
        send(&mut poll, &mut events, &mut client, b"abc");
        for _ in 0..3 {
            assert!(expect_event(&mut poll, &mut events, A).readable);
        }
        let mut buf = [0; 8];
        assert_eq!(server.read(&mut buf).unwrap(), 3);
        let _ = super::poll_once(&mut poll, &mut events, Some(Duration::from_millis(50)));
        expect_no_event_for(&mut poll, &mut events, A);
    }

    #[test]
    fn exclusive_is_unsupported() {
        let poll = Poll::new().unwrap();
        let mut server = NamedPipe::new(format!(
            r"\\.\pipe\mio-test-trigger-x-{}",
            std::process::id()
        ))
        .unwrap();
        let err = poll
            .registry()
            .register(&mut server, A, Interest::READABLE.exclusive())
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    }
}
