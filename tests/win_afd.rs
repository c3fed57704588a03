//! Windows-only: the AFD poll requests' lifetimes and the handles they use.
//!
//! Each registered socket has at most one `IOCTL_AFD_POLL` request in flight, owning a
//! reference to the socket's state until its completion is dequeued. These tests drive the
//! lifetimes around that: deregistering or dropping a socket with a request in flight, dropping
//! the `Poll` with hundreds in flight, more sockets than one AFD handle carries, thousands of
//! register/deregister and create/register/drop cycles (handle counts exact, in a child
//! process of their own: `util::run_isolated`), the `Waker` hammered from several threads, a
//! re-arm from another thread while the `Poll` is blocked, the edge semantics (no second
//! event before `WouldBlock`; reregister re-arms) and the timeouts.
//!
//! Handle counts: `GetProcessHandleCount` on Windows; under Wine, which answers 0 there, the
//! system handle table (`util::fd_count`).
#![cfg(all(windows, feature = "os-poll", feature = "net"))]

mod util;

use util::handle_count;

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};

use util::run_isolated;

#[derive(Clone, Copy, Debug)]
struct Seen {
    token: Token,
    readable: bool,
    writable: bool,
    read_closed: bool,
}

/// Polls until an event matching `f` arrives (events of earlier polls that did not match are
/// kept in `seen` and matched too), for at most 5 s.
fn poll_until<F: FnMut(&Seen) -> bool>(
    poll: &mut Poll,
    events: &mut Events,
    seen: &mut Vec<Seen>,
    mut f: F,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(i) = seen.iter().position(&mut f) {
            seen.remove(i);
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        match poll.poll(events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        seen.extend(events.iter().map(|e| Seen {
            token: e.token(),
            readable: e.is_readable(),
            writable: e.is_writable(),
            read_closed: e.is_read_closed(),
        }));
    }
}

#[test]
fn smoke_tcp_echo() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let mut seen = Vec::new();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(
            &mut client,
            Token(1),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(0)
        && e.readable));
    let (mut server, _) = listener.accept().unwrap();
    poll.registry()
        .register(&mut server, Token(2), Interest::READABLE)
        .unwrap();
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(1)
        && e.writable));
    client.write_all(b"hello").unwrap();
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(2)
        && e.readable));
    let mut buf = [0; 16];
    assert_eq!(server.read(&mut buf).unwrap(), 5);
    assert_eq!(
        server.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    drop(client);
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(2)
        && e.read_closed));
    assert_eq!(server.read(&mut buf).unwrap(), 0);
}

#[test]
fn smoke_waker() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let mut seen = Vec::new();
    let waker = std::sync::Arc::new(Waker::new(poll.registry(), Token(9)).unwrap());
    let w = waker.clone();
    let t = std::thread::spawn(move || w.wake().unwrap());
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(9)
        && e.readable));
    t.join().unwrap();
}

/// How long any wait for an expected event may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);
/// How long to keep polling to show that an event does not come.
const QUIET: Duration = Duration::from_millis(300);

/// A connected pair of non-blocking mio TCP streams over loopback (set up with blocking std
/// calls, so no polling is needed).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (b, _) = listener.accept().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (TcpStream::from_std(a), TcpStream::from_std(b))
}

/// One poll, the events copied out (`Interrupted` retried).
fn poll_once(poll: &mut Poll, events: &mut Events, timeout: Option<Duration>) -> Vec<Seen> {
    loop {
        match poll.poll(events, timeout) {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
    }
    events
        .iter()
        .map(|e| Seen {
            token: e.token(),
            readable: e.is_readable(),
            writable: e.is_writable(),
            read_closed: e.is_read_closed(),
        })
        .collect()
}

/// Polls for `QUIET` and returns everything that came.
fn poll_quiet(poll: &mut Poll, events: &mut Events) -> Vec<Seen> {
    let mut seen = Vec::new();
    let end = Instant::now() + QUIET;
    while Instant::now() < end {
        seen.extend(poll_once(poll, events, Some(Duration::from_millis(50))));
    }
    seen
}

/// Reads until `WouldBlock` (which re-arms the read side); returns the bytes read.
fn drain(mut s: &TcpStream) -> usize {
    let mut buf = [0u8; 4096];
    let mut n = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return n,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return n,
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// Polls (bounded) until an event for `token` with `f` true; panics otherwise.
#[track_caller]
fn expect(poll: &mut Poll, events: &mut Events, token: Token, f: impl Fn(&Seen) -> bool) -> Seen {
    let deadline = Instant::now() + DEADLINE;
    let mut other = Vec::new();
    while Instant::now() < deadline {
        for e in poll_once(poll, events, Some(Duration::from_millis(100))) {
            if e.token == token && f(&e) {
                return e;
            }
            other.push(e);
        }
    }
    panic!("no matching event for {token:?} within {DEADLINE:?}; seen {other:?}");
}

#[test]
fn deregister_with_request_in_flight() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, mut b) = tcp_pair();
    // Registered for reading with nothing to read: a request waits in the driver.
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    assert!(poll_once(&mut poll, &mut events, Some(Duration::ZERO)).is_empty());
    poll.registry().deregister(&mut a).unwrap();
    // The cancelled request completes; data arriving now is nobody's event.
    b.write_all(b"after deregister").unwrap();
    let seen = poll_quiet(&mut poll, &mut events);
    assert!(seen.is_empty(), "events after deregister: {seen:?}");
    // Deregistered twice: not found. Registered again (new token): the data is reported.
    let err = poll.registry().deregister(&mut a).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    poll.registry()
        .register(&mut a, Token(2), Interest::READABLE)
        .unwrap();
    expect(&mut poll, &mut events, Token(2), |e| e.readable);
    assert_eq!(drain(&a), 16);
    let seen = poll_quiet(&mut poll, &mut events);
    assert!(seen.iter().all(|e| e.token != Token(1)), "{seen:?}");
}

#[test]
fn deregister_then_drop_poll_later() {
    // The deregistered socket's cancelled completion is still queued when the `Poll` goes.
    let mut poll = Poll::new().unwrap();
    let (mut a, _b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    poll_once(&mut poll, &mut events, Some(Duration::ZERO));
    poll.registry().deregister(&mut a).unwrap();
    let start = Instant::now();
    drop(poll);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // The socket works on without a `Poll`.
    (&a).write_all(b"x").unwrap();
}

#[test]
fn drop_registered_socket_with_request_in_flight() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, mut b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut b, Token(2), Interest::READABLE)
        .unwrap();
    assert!(poll_once(&mut poll, &mut events, Some(Duration::ZERO)).is_empty());
    drop(a);
    // No event for the dropped socket; its peer sees the connection closed.
    let e = expect(&mut poll, &mut events, Token(2), |e| e.read_closed);
    assert!(e.readable);
    assert_eq!(drain(&b), 0);
    let seen = poll_quiet(&mut poll, &mut events);
    assert!(seen.iter().all(|e| e.token != Token(1)), "{seen:?}");
}

#[test]
fn drop_poll_then_sockets_with_200_requests_in_flight() {
    run_isolated("drop_poll_then_sockets_with_200_requests_in_flight", || {
        // Warm-up: Winsock's start-up, the first port and AFD handle.
        {
            let poll = Poll::new().unwrap();
            let (mut a, _b) = tcp_pair();
            poll.registry()
                .register(&mut a, Token(0), Interest::READABLE)
                .unwrap();
        }
        let base = handle_count();
        let mut pairs: Vec<(TcpStream, TcpStream)> = (0..100).map(|_| tcp_pair()).collect();
        let sockets = handle_count();
        let mut poll = Poll::new().unwrap();
        for (i, (a, b)) in pairs.iter_mut().enumerate() {
            poll.registry()
                .register(a, Token(2 * i), Interest::READABLE)
                .unwrap();
            poll.registry()
                .register(b, Token(2 * i + 1), Interest::READABLE)
                .unwrap();
        }
        let registered = handle_count();
        // 200 sockets: the port plus ceil(200 / 32) = 7 AFD handles, nothing per socket.
        eprintln!(
            "handles: base {base}, +200 sockets {sockets}, +poll and 200 registrations {registered}"
        );
        assert_eq!(registered - sockets, 1 + 200usize.div_ceil_compat(32));
        // Nothing readable: all 200 requests are in flight.
        let mut events = Events::with_capacity(256);
        assert!(poll_once(&mut poll, &mut events, Some(Duration::ZERO)).is_empty());
        let start = Instant::now();
        drop(poll);
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "dropping the Poll took {took:?}"
        );
        // The sockets outlive the `Poll`: still usable, then dropped.
        let (a, b) = &pairs[0];
        (&*a).write_all(b"still here").unwrap();
        let deadline = Instant::now() + DEADLINE;
        let mut buf = [0u8; 16];
        let n = loop {
            match (&*b).read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "data never arrived");
                    std::thread::yield_now();
                }
                Err(e) => panic!("read: {e}"),
            }
        };
        assert_eq!(&buf[..n], &b"still here"[..n]);
        drop(pairs);
        let after = handle_count();
        eprintln!("handles after dropping the poll and the sockets: {after}");
        assert_eq!(after, base);
    });
}

/// `usize::div_ceil` is newer than the crate's MSRV.
trait DivCeil {
    fn div_ceil_compat(self, d: usize) -> usize;
}

impl DivCeil for usize {
    fn div_ceil_compat(self, d: usize) -> usize {
        (self + d - 1) / d
    }
}

#[test]
fn many_sockets_share_afd_handles_and_all_get_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(32); // fewer than the events: several polls
    const N: usize = 100;
    let mut pairs: Vec<(TcpStream, TcpStream)> = (0..N).map(|_| tcp_pair()).collect();
    for (i, (a, _)) in pairs.iter_mut().enumerate() {
        poll.registry()
            .register(a, Token(i), Interest::READABLE)
            .unwrap();
    }
    for (_, b) in &pairs {
        (&*b).write_all(b"!").unwrap();
    }
    let mut got = vec![0usize; N];
    let deadline = Instant::now() + DEADLINE;
    while got.contains(&0) {
        assert!(
            Instant::now() < deadline,
            "no event for {:?}",
            got.iter()
                .enumerate()
                .filter(|(_, &n)| n == 0)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        );
        for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(100))) {
            assert!(e.readable, "{e:?}");
            got[e.token.0] += 1;
        }
    }
    // Exactly one event each (edge-triggered: nothing was read).
    let seen = poll_quiet(&mut poll, &mut events);
    for e in seen {
        got[e.token.0] += 1;
    }
    assert!(got.iter().all(|&n| n == 1), "events per socket: {got:?}");
    for (a, _) in &pairs {
        assert_eq!(drain(a), 1);
    }
}

/// Polls with a zero timeout until the handle count stops changing; returns it.
fn settle(poll: &mut Poll, events: &mut Events) -> usize {
    let deadline = Instant::now() + DEADLINE;
    let mut last = handle_count();
    loop {
        poll_once(poll, events, Some(Duration::from_millis(10)));
        let n = handle_count();
        if n == last || Instant::now() > deadline {
            return n;
        }
        last = n;
    }
}

fn cycles() -> usize {
    5000
}

#[test]
fn register_deregister_cycles_leak_nothing() {
    run_isolated("register_deregister_cycles_leak_nothing", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(64);
        let (mut a, mut b) = tcp_pair();
        let cycle = |poll: &mut Poll, events: &mut Events, a: &mut TcpStream, i: usize| {
            poll.registry()
                .register(a, Token(i), Interest::READABLE | Interest::WRITABLE)
                .unwrap();
            if i % 2 == 0 {
                // Half the cycles see their first event (the write side is ready at once).
                poll_once(poll, events, Some(Duration::ZERO));
            }
            poll.registry().deregister(a).unwrap();
        };
        for i in 0..100 {
            cycle(&mut poll, &mut events, &mut a, i);
        }
        let before = settle(&mut poll, &mut events);
        for i in 0..cycles() {
            cycle(&mut poll, &mut events, &mut a, i);
        }
        let after = settle(&mut poll, &mut events);
        eprintln!(
            "{} register/deregister cycles: handles before {before}, after {after}",
            cycles()
        );
        assert_eq!(after, before);
        // Still fully working afterwards.
        poll.registry()
            .register(&mut a, Token(1), Interest::READABLE)
            .unwrap();
        b.write_all(b"ok").unwrap();
        expect(&mut poll, &mut events, Token(1), |e| e.readable);
        assert_eq!(drain(&a), 2);
        let _ = &mut b;
    });
}

#[test]
fn create_register_drop_cycles_leak_nothing() {
    run_isolated("create_register_drop_cycles_leak_nothing", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(64);
        let listener_addr = "127.0.0.1:0".parse().unwrap();
        let cycle = |poll: &mut Poll, events: &mut Events, i: usize| {
            let mut udp = UdpSocket::bind(listener_addr).unwrap();
            poll.registry()
                .register(&mut udp, Token(i), Interest::READABLE)
                .unwrap();
            if i % 3 == 0 {
                poll_once(poll, events, Some(Duration::ZERO));
            }
            if i % 50 == 0 {
                // Now and then a TCP listener and a connection too.
                let mut l = TcpListener::bind(listener_addr).unwrap();
                poll.registry()
                    .register(&mut l, Token(i + 1), Interest::READABLE)
                    .unwrap();
                let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
                poll.registry()
                    .register(
                        &mut c,
                        Token(i + 2),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .unwrap();
                poll_once(poll, events, Some(Duration::ZERO));
            }
        };
        for i in 0..200 {
            cycle(&mut poll, &mut events, i);
        }
        let before = settle(&mut poll, &mut events);
        for i in 0..cycles() {
            cycle(&mut poll, &mut events, i);
        }
        let after = settle(&mut poll, &mut events);
        eprintln!(
            "{} create/register/drop cycles: handles before {before}, after {after}",
            cycles()
        );
        assert_eq!(after, before);
        // And once the `Poll` goes, everything it had goes with it.
        drop(poll);
        let gone = handle_count();
        eprintln!("after dropping the Poll: {gone}");
        assert!(gone < before, "{gone} >= {before}");
    });
}

#[test]
fn waker_bursts_from_8_threads_coalesce() {
    const THREADS: usize = 8;
    const BURSTS: usize = 1000;
    const WAKER: Token = Token(77);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).unwrap());
    // Two barriers per burst: the burst starts together and ends before the `Poll` looks.
    let start = Arc::new(Barrier::new(THREADS + 1));
    let end = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (waker, start, end) = (waker.clone(), start.clone(), end.clone());
            std::thread::spawn(move || {
                for _ in 0..BURSTS {
                    start.wait();
                    waker.wake().unwrap();
                    end.wait();
                }
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for burst in 0..BURSTS {
        start.wait();
        end.wait();
        // Eight wakes, no poll in between: exactly one event, at once.
        let t = Instant::now();
        let seen = poll_once(&mut poll, &mut events, Some(DEADLINE));
        slowest = slowest.max(t.elapsed());
        assert_eq!(seen.len(), 1, "burst {burst}: {seen:?}");
        assert_eq!(seen[0].token, WAKER);
        assert!(seen[0].readable);
        let again = poll_once(&mut poll, &mut events, Some(Duration::ZERO));
        assert!(again.is_empty(), "burst {burst}: a second event {again:?}");
    }
    for t in threads {
        t.join().unwrap();
    }
    assert!(slowest < Duration::from_secs(1), "slowest poll {slowest:?}");
}

#[test]
fn waker_free_running_from_8_threads() {
    const THREADS: usize = 8;
    const WAKES: usize = 1000;
    const WAKER: Token = Token(78);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let waker = Arc::new(Waker::new(poll.registry(), WAKER).unwrap());
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (waker, done) = (waker.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..WAKES {
                    waker.wake().unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let mut received = 0;
    let deadline = Instant::now() + DEADLINE;
    while done.load(Ordering::SeqCst) < THREADS {
        assert!(Instant::now() < deadline, "wakers did not finish");
        for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(100))) {
            assert_eq!(e.token, WAKER);
            received += 1;
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    // A wake that came after the last dequeue is still pending: collect it.
    received += poll_once(&mut poll, &mut events, Some(Duration::ZERO)).len();
    eprintln!(
        "{} wakes from {THREADS} threads: {received} events",
        THREADS * WAKES
    );
    assert!((1..=THREADS * WAKES).contains(&received), "{received}");
    // Nothing is left queued; the next wake is one event.
    assert!(poll_once(&mut poll, &mut events, Some(Duration::ZERO)).is_empty());
    waker.wake().unwrap();
    let seen = poll_once(&mut poll, &mut events, Some(DEADLINE));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].token, WAKER);
}

#[test]
fn rearm_from_another_thread_while_poll_blocks() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    (&b).write_all(b"1").unwrap();
    expect(&mut poll, &mut events, Token(1), |e| e.readable);
    // Read it without reaching `WouldBlock`: the read side stays disarmed.
    assert_eq!((&a).read(&mut [0u8; 1]).unwrap(), 1);
    let a = Arc::new(a);
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let polled = Arc::new(AtomicBool::new(false));
    let helper = {
        let (a, polled) = (a.clone(), polled.clone());
        std::thread::spawn(move || {
            // Told when the main thread is about to block in `poll`.
            ready_rx.recv().unwrap();
            // `WouldBlock` here re-arms from this thread: the blocked `poll` must see it.
            let err = (&*a).read(&mut [0u8; 8]).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            (&b).write_all(b"2").unwrap();
            // The main thread's poll returns with the event; keep `b` open until then.
            let deadline = Instant::now() + DEADLINE;
            while !polled.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::yield_now();
            }
            drop(b);
        })
    };
    ready_tx.send(()).unwrap();
    let start = Instant::now();
    let seen = poll_once(&mut poll, &mut events, Some(DEADLINE));
    polled.store(true, Ordering::SeqCst);
    let took = start.elapsed();
    helper.join().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, Token(1));
    assert!(seen[0].readable);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let mut buf = [0u8; 8];
    assert_eq!((&*a).read(&mut buf).unwrap(), 1);
    assert_eq!(buf[0], b'2');
}

#[test]
fn edge_no_second_readable_event_before_would_block() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    (&b).write_all(b"first").unwrap();
    expect(&mut poll, &mut events, Token(1), |e| e.readable);
    // More data, nothing read: no new event.
    (&b).write_all(b"second").unwrap();
    let seen = poll_quiet(&mut poll, &mut events);
    assert!(seen.is_empty(), "{seen:?}");
    // A partial read (no `WouldBlock`) does not re-arm either.
    assert_eq!((&a).read(&mut [0u8; 2]).unwrap(), 2);
    (&b).write_all(b"third").unwrap();
    let seen = poll_quiet(&mut poll, &mut events);
    assert!(seen.is_empty(), "{seen:?}");
    // Read to `WouldBlock`: armed again; the next data is an event.
    assert_eq!(drain(&a), 14);
    assert!(poll_quiet(&mut poll, &mut events).is_empty());
    (&b).write_all(b"fourth").unwrap();
    expect(&mut poll, &mut events, Token(1), |e| e.readable);
    assert_eq!(drain(&a), 6);
}

#[test]
fn edge_writable_again_only_after_would_block() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::WRITABLE)
        .unwrap();
    expect(&mut poll, &mut events, Token(1), |e| e.writable);
    // A write that does not fill the buffer: no new writable event.
    (&a).write_all(b"x").unwrap();
    assert!(poll_quiet(&mut poll, &mut events).is_empty());
    // Fill the send side until `WouldBlock`, then let the peer drain it.
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 1;
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < deadline, "never WouldBlock");
        match (&a).write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    let mut drained = 0;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + DEADLINE;
    let mut writable = false;
    while !writable {
        assert!(
            Instant::now() < deadline,
            "no writable event ({drained}/{written} drained)"
        );
        loop {
            match (&b).read(&mut buf) {
                Ok(0) => panic!("eof"),
                Ok(n) => drained += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        writable = poll_once(&mut poll, &mut events, Some(Duration::from_millis(50)))
            .iter()
            .any(|e| e.token == Token(1) && e.writable);
    }
}

#[test]
fn reregister_rearms() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut a, b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    (&b).write_all(b"data").unwrap();
    expect(&mut poll, &mut events, Token(1), |e| e.readable);
    assert!(poll_quiet(&mut poll, &mut events).is_empty());
    // Nothing read, but reregistering arms again: the data still there is a new event.
    poll.registry()
        .reregister(&mut a, Token(2), Interest::READABLE)
        .unwrap();
    expect(&mut poll, &mut events, Token(2), |e| e.readable);
    assert!(poll_quiet(&mut poll, &mut events).is_empty());
    // Adding writable interest reports writable under the token given.
    poll.registry()
        .reregister(&mut a, Token(3), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    let e = expect(&mut poll, &mut events, Token(3), |e| e.writable);
    assert_eq!(e.token, Token(3));
    let seen = poll_quiet(&mut poll, &mut events);
    assert!(
        seen.iter().all(|e| e.token == Token(3)),
        "stale tokens: {seen:?}"
    );
    assert_eq!(drain(&a), 4);
}

#[test]
fn timeout_none_returns_for_a_waker() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let waker = Arc::new(Waker::new(poll.registry(), Token(5)).unwrap());
    let (tx, rx) = mpsc::channel::<()>();
    let w = waker.clone();
    let t = std::thread::spawn(move || {
        rx.recv().unwrap();
        w.wake().unwrap();
    });
    tx.send(()).unwrap();
    let start = Instant::now();
    let seen = poll_once(&mut poll, &mut events, None);
    t.join().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].token, Token(5));
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A zero timeout returns at once with nothing ready. Asserted without a clock (a timed
/// bound failed under Wine on a loaded machine): a watchdog wakes the `Poll` if the polls have
/// not all returned within a minute, so a zero timeout that blocked would return the watchdog's
/// event and fail the emptiness check instead of hanging. That zero is not rounded up to a
/// millisecond is the unit test `timeouts_round_up_and_clamp` (src/sys/windows/iocp.rs).
#[test]
fn timeout_zero_never_blocks() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let (mut a, _b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), Token(2)).unwrap());
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = {
        let waker = Arc::clone(&waker);
        std::thread::spawn(move || {
            if finished.recv_timeout(Duration::from_secs(60)).is_err() {
                waker.wake().unwrap();
            }
        })
    };
    for i in 0..1000 {
        let seen = poll_once(&mut poll, &mut events, Some(Duration::ZERO));
        assert!(seen.is_empty(), "zero-timeout poll {i} returned {seen:?}");
    }
    done.send(()).unwrap();
    watchdog.join().unwrap();
}

#[test]
fn timeout_one_nanosecond_is_not_a_busy_spin() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let start = Instant::now();
    let mut polls = 0u32;
    while start.elapsed() < Duration::from_millis(50) {
        assert!(poll_once(&mut poll, &mut events, Some(Duration::from_nanos(1))).is_empty());
        polls += 1;
    }
    // Each poll waits at least a millisecond (rounded up, never down to zero): at most ~50
    // polls in 50 ms (fewer with a coarse timer); a spin would make thousands.
    eprintln!("1 ns timeout: {polls} polls in 50 ms");
    assert!(polls <= 60, "{polls} polls in 50 ms");
}

#[test]
fn timeout_huge_clamps_without_error() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let waker = Arc::new(Waker::new(poll.registry(), Token(6)).unwrap());
    for timeout in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_millis(u64::from(u32::MAX)),
        Duration::from_millis(u64::from(u32::MAX) - 1),
    ] {
        // Woken before: returns at once.
        waker.wake().unwrap();
        let seen = poll_once(&mut poll, &mut events, Some(timeout));
        assert_eq!(seen.len(), 1, "{timeout:?}");
        // Woken while blocked.
        let (tx, rx) = mpsc::channel::<()>();
        let w = waker.clone();
        let t = std::thread::spawn(move || {
            rx.recv().unwrap();
            w.wake().unwrap();
        });
        tx.send(()).unwrap();
        let seen = poll_once(&mut poll, &mut events, Some(timeout));
        t.join().unwrap();
        assert_eq!(seen.len(), 1, "{timeout:?}");
    }
}

#[test]
fn poll_with_zero_capacity_events_is_invalid_input() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(0);
    let err = poll.poll(&mut events, Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn huge_timeout_with_only_internal_packets_first() {
    // A cancelled request's completion (from the deregistration) is queued before the poll
    // starts: the poll dequeues it, makes no event of it and waits on with what is left of
    // `Duration::MAX` (no overflow), until the waker ends it.
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let (mut a, _b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut a).unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), Token(2)).unwrap());
    let (tx, rx) = mpsc::channel::<()>();
    let w = waker.clone();
    let t = std::thread::spawn(move || {
        rx.recv().unwrap();
        w.wake().unwrap();
    });
    tx.send(()).unwrap();
    let seen = poll_once(&mut poll, &mut events, Some(Duration::MAX));
    t.join().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, Token(2));
}

#[test]
fn timeout_is_not_extended_by_internal_packets() {
    // A deregistration from another thread 700 ms into a 1 s poll queues a packet that
    // makes no event; the poll still returns after about 1 s, not 1 s after that packet.
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let registry = poll.registry().try_clone().unwrap();
    let (mut a, b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    let (tx, rx) = mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        rx.recv().unwrap();
        // Not synchronisation: this places the deregistration late in the poll, where a
        // wait that restarted its timeout would overshoot by 700 ms (if this thread runs
        // late, after the poll ended, the poll simply timed out).
        std::thread::sleep(Duration::from_millis(700));
        registry.deregister(&mut a).unwrap();
        a
    });
    tx.send(()).unwrap();
    let start = Instant::now();
    let seen = poll_once(&mut poll, &mut events, Some(Duration::from_secs(1)));
    let took = start.elapsed();
    let _a = t.join().unwrap();
    drop(b);
    assert!(seen.is_empty(), "{seen:?}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    // A wait restarted by the packet would last at least 1.7 s; 500 ms of slack for a
    // loaded machine.
    assert!(
        took < Duration::from_millis(1500),
        "a 1 s poll took {took:?}"
    );
}

#[test]
fn deregister_and_drop_from_another_thread_while_polling() {
    run_isolated(
        "deregister_and_drop_from_another_thread_while_polling",
        || {
            const CYCLES: usize = 2000;
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(64);
            let registry = poll.registry().try_clone().unwrap();
            // Warm-up outside the count: the first AFD handle, Winsock.
            {
                let (mut a, _b) = tcp_pair();
                registry
                    .register(&mut a, Token(0), Interest::READABLE)
                    .unwrap();
            }
            settle(&mut poll, &mut events);
            let before = handle_count();
            let stop = Arc::new(AtomicBool::new(false));
            let worker = {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    for i in 0..CYCLES {
                        let (mut a, b) = tcp_pair();
                        registry
                            .register(
                                &mut a,
                                Token(i + 1),
                                Interest::READABLE | Interest::WRITABLE,
                            )
                            .unwrap();
                        // Data on the way while the `Poll` thread may be completing the request.
                        (&b).write_all(b"x").unwrap();
                        match i % 3 {
                            0 => registry.deregister(&mut a).unwrap(),
                            1 => {
                                let _ = drain(&a); // a re-arm from this thread
                                registry.deregister(&mut a).unwrap();
                            }
                            _ => {} // dropped registered
                        }
                        drop(a);
                        drop(b);
                    }
                    stop.store(true, Ordering::SeqCst);
                })
            };
            let mut polls = 0usize;
            while !stop.load(Ordering::SeqCst) {
                poll_once(&mut poll, &mut events, Some(Duration::from_millis(10)));
                polls += 1;
            }
            worker.join().unwrap();
            let after = settle(&mut poll, &mut events);
            eprintln!(
            "{CYCLES} cycles on another thread during {polls} polls: handles before {before}, after {after}"
        );
            assert_eq!(after, before);
        },
    );
}

#[test]
fn drop_poll_while_other_threads_rearm() {
    run_isolated("drop_poll_while_other_threads_rearm", || {
        const THREADS: usize = 4;
        const PER_THREAD: usize = 10;
        {
            let poll = Poll::new().unwrap();
            let (mut a, _b) = tcp_pair();
            poll.registry()
                .register(&mut a, Token(0), Interest::READABLE)
                .unwrap();
        }
        let base = handle_count();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(64);
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for t in 0..THREADS {
            let mut pairs: Vec<(TcpStream, TcpStream)> =
                (0..PER_THREAD).map(|_| tcp_pair()).collect();
            for (i, (a, _)) in pairs.iter_mut().enumerate() {
                poll.registry()
                    .register(a, Token(t * PER_THREAD + i), Interest::READABLE)
                    .unwrap();
            }
            let (stop, rounds) = (stop.clone(), rounds.clone());
            workers.push(std::thread::spawn(move || {
                // Write a byte to each, read each to `WouldBlock` (re-arming from this
                // thread), over and over, across the `Poll`'s shutdown.
                while !stop.load(Ordering::SeqCst) {
                    for (a, b) in &pairs {
                        (&*b).write_all(b"y").unwrap();
                        let _ = drain(a);
                    }
                    rounds.fetch_add(1, Ordering::SeqCst);
                }
                pairs
            }));
        }
        // Let every worker get going while the `Poll` delivers events.
        let deadline = Instant::now() + DEADLINE;
        while rounds.load(Ordering::SeqCst) < 4 * THREADS {
            assert!(Instant::now() < deadline, "workers stuck");
            poll_once(&mut poll, &mut events, Some(Duration::from_millis(10)));
        }
        let start = Instant::now();
        drop(poll);
        let took = start.elapsed();
        // The workers go on re-arming against the dead `Poll` for a few more rounds.
        let after_drop = rounds.load(Ordering::SeqCst);
        let deadline = Instant::now() + DEADLINE;
        while rounds.load(Ordering::SeqCst) < after_drop + 2 * THREADS {
            assert!(Instant::now() < deadline, "workers stuck after the drop");
            std::thread::yield_now();
        }
        stop.store(true, Ordering::SeqCst);
        let pairs: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        assert!(
            took < Duration::from_secs(2),
            "dropping the Poll took {took:?}"
        );
        drop(pairs);
        let after = handle_count();
        eprintln!("handles: base {base}, after the Poll and 80 sockets are gone {after}");
        assert_eq!(after, base);
    });
}

#[test]
fn reregister_from_another_thread_while_poll_blocks() {
    // Registered for reading only, nothing to read: the request in flight asks for the
    // wrong events once another thread adds WRITABLE; it is cancelled and replaced while the
    // `Poll` is blocked, which then reports the writable socket.
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let registry = poll.registry().try_clone().unwrap();
    let (mut a, _b) = tcp_pair();
    poll.registry()
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    assert!(poll_once(&mut poll, &mut events, Some(Duration::ZERO)).is_empty());
    let (tx, rx) = mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        rx.recv().unwrap();
        registry
            .reregister(&mut a, Token(2), Interest::READABLE | Interest::WRITABLE)
            .unwrap();
        a
    });
    tx.send(()).unwrap();
    let start = Instant::now();
    let seen = poll_once(&mut poll, &mut events, Some(DEADLINE));
    let _a = t.join().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, Token(2));
    assert!(seen[0].writable);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn waker_after_poll_dropped_is_harmless() {
    let poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), Token(1)).unwrap();
    waker.wake().unwrap();
    drop(poll);
    // The queued wake went with the port's drain; later wakes reach nobody.
    for _ in 0..10 {
        let _ = waker.wake();
    }
}

#[test]
fn registry_clone_outlives_poll() {
    // The port lives until its last handle (`Poll` or `Registry` clone) goes; only then is
    // everything in flight cancelled and drained.
    let poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let (mut a, _b) = tcp_pair();
    registry
        .register(&mut a, Token(1), Interest::READABLE)
        .unwrap();
    drop(poll);
    let (mut c, _d) = tcp_pair();
    registry
        .register(&mut c, Token(2), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    registry
        .reregister(&mut a, Token(3), Interest::WRITABLE)
        .unwrap();
    let start = Instant::now();
    drop(registry);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    drop((a, c));
}

/// Issue 16, defect 4: a `WouldBlock` after the `Poll` is gone re-arms the socket; that must
/// not queue it for a poller that will never come (the queue would keep the port, an AFD
/// handle and the socket's state alive for ever: +2 handles a time). 50 rounds, the handle
/// count back to where it was.
#[test]
fn rearm_after_poll_dropped_leaks_nothing() {
    run_isolated("rearm_after_poll_dropped_leaks_nothing", || {
        let round = || {
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(16);
            let (mut a, mut b) = tcp_pair();
            poll.registry()
                .register(&mut a, Token(1), Interest::READABLE)
                .unwrap();
            b.write_all(b"data").unwrap();
            expect(&mut poll, &mut events, Token(1), |e| e.readable);
            // The next poll submits the socket's next request (for what is still armed), so it
            // is no longer queued when the `Poll` goes.
            poll_once(&mut poll, &mut events, Some(Duration::ZERO));
            drop(poll);
            assert_eq!(drain(&a), 4);
            drop(a);
            drop(b);
        };
        round();
        let before = handle_count();
        for _ in 0..50 {
            round();
        }
        let after = handle_count();
        eprintln!("50 rounds: handles before {before}, after {after}");
        assert_eq!(after, before, "leaked {}", after as isize - before as isize);
    });
}
