//! Registrations changing under a polling thread: 8 threads register / reregister /
//! deregister / close / reopen their own sources (Unix stream pairs and pipes, with data
//! written and drained so readiness keeps changing) through clones of one `Registry`, while
//! one thread polls and another wakes the `Waker`. Checked:
//! - every event carries the `Waker`'s token or a token that was registered, and never the
//!   token of a registration that was gone (deregistered, replaced by `reregister`, or closed)
//!   before that `poll` call began;
//! - every call returns exactly what the registration's state says: `Ok`, `AlreadyExists`
//!   (register twice) or `NotFound` (reregister / deregister unregistered); `poll` returns `Ok`
//!   or `Interrupted` only; `wake` always `Ok`;
//! - a wake made after every worker finished is delivered.
//!
//! All loops are bounded by counts; `MIO_RACE_OPS` (default 20 000; 5 000 on Windows) sets
//! the operations per worker; workers pace themselves on the poller (every 32 operations they wait, bounded, for
//! one more poll) so that changes and polls interleave even on 2 cores.
//! `reliability/helgrind.sh` runs this under helgrind.
//!
//! Windows: the sources are loopback TCP connections and connected UDP socket pairs (mio has no
//! Unix sockets or anonymous pipes there); socket handle values are reused as fd numbers are.
//!
//! Over libkqueue (`--cfg mio_unsupported_test_libkqueue`), which cannot see a close (see the
//! end of `util`), a registered source is deregistered before it is closed; elsewhere closing
//! it must end the registration, as checked here.
#![cfg(all(feature = "os-poll", feature = "os-ext", feature = "net"))]

mod util;

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use mio::event::Source;
#[cfg(unix)]
use mio::net::UnixStream;
#[cfg(unix)]
use mio::unix::pipe;
use mio::{Events, Interest, Poll, Registry, Token, Waker};

const WORKERS: usize = 8;
const SLOTS: usize = 6;
const WAKE: Token = Token(1);

fn ops_per_worker() -> usize {
    // Windows: each reopen is a TCP connection or two UDP sockets, and under Wine every socket
    // call goes through the wineserver: 20 000 takes ~40 s there, so the default is a quarter.
    let default = if cfg!(windows) { 5_000 } else { 20_000 };
    std::env::var("MIO_RACE_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The life of every token: registered (live) or gone at a point of the global sequence.
#[derive(Default)]
struct Book {
    /// Bumped after each registration ends; the poller reads it before each poll.
    seq: AtomicU64,
    /// Polls completed by the poller, so the others can pace themselves on it.
    polls: AtomicU64,
    /// The poller stopped.
    poller_done: AtomicBool,
    /// token -> None while live, Some(seq) once gone.
    tokens: Mutex<HashMap<usize, Option<u64>>>,
}

impl Book {
    /// Waits (yielding, bounded) until the poller has completed one more poll, so that
    /// registration changes and polls interleave even when the threads outnumber the cores.
    fn wait_for_a_poll(&self) {
        let target = self.polls.load(Ordering::SeqCst) + 1;
        for _ in 0..1_000_000 {
            if self.polls.load(Ordering::SeqCst) >= target
                || self.poller_done.load(Ordering::SeqCst)
            {
                return;
            }
            thread::yield_now();
        }
    }

    /// Before `register`/`reregister` with `token`: it may be reported from now on.
    fn live(&self, token: Token) {
        self.tokens.lock().unwrap().insert(token.0, None);
    }

    /// After the registration with `token` ended (the call returned).
    fn gone(&self, token: Token) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        self.tokens.lock().unwrap().insert(token.0, Some(seq));
    }

    /// Checks an event of a poll that began when `seq` read `start`.
    fn check(&self, token: Token, start: u64) -> Result<(), String> {
        match self.tokens.lock().unwrap().get(&token.0) {
            None => Err(format!("{token:?} was never registered")),
            Some(Some(gone)) if *gone < start => Err(format!(
                "{token:?} reported by a poll that began after its registration ended"
            )),
            Some(_) => Ok(()),
        }
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// A registrable end and its peer (written to, to make the end readable).
enum Pair {
    #[cfg(unix)]
    Stream(UnixStream, UnixStream),
    #[cfg(unix)]
    Pipe(pipe::Receiver, pipe::Sender),
    #[cfg(windows)]
    Stream(mio::net::TcpStream, std::net::TcpStream),
    /// Windows: duplex like a stream, and no connection to set up or tear down.
    #[cfg(windows)]
    Pipe(mio::net::UdpSocket, std::net::UdpSocket),
}

impl Pair {
    /// A stream pair or the other kind (a pipe; Windows: a connected UDP pair).
    #[cfg(unix)]
    fn open(stream: bool) -> Pair {
        if stream {
            let (a, b) = UnixStream::pair().expect("socketpair");
            Pair::Stream(a, b)
        } else {
            let (sender, receiver) = pipe::new().expect("pipe");
            Pair::Pipe(receiver, sender)
        }
    }

    #[cfg(windows)]
    fn open(stream: bool) -> Pair {
        if stream {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let peer =
                std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
            let (end, _) = listener.accept().expect("accept");
            end.set_nonblocking(true).unwrap();
            peer.set_nonblocking(true).unwrap();
            Pair::Stream(mio::net::TcpStream::from_std(end), peer)
        } else {
            let end = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            let peer = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            end.connect(peer.local_addr().unwrap()).unwrap();
            peer.connect(end.local_addr().unwrap()).unwrap();
            end.set_nonblocking(true).unwrap();
            peer.set_nonblocking(true).unwrap();
            Pair::Pipe(mio::net::UdpSocket::from_std(end), peer)
        }
    }

    fn source(&mut self) -> &mut dyn Source {
        match self {
            Pair::Stream(end, _) => end,
            Pair::Pipe(end, _) => end,
        }
    }

    fn write_peer(&mut self) -> io::Result<usize> {
        match self {
            Pair::Stream(_, peer) => peer.write(b"data"),
            #[cfg(unix)]
            Pair::Pipe(_, peer) => peer.write(b"data"),
            #[cfg(windows)]
            Pair::Pipe(_, peer) => peer.send(b"data"),
        }
    }

    /// Reads until `WouldBlock` (bounded: the peer writes 4 bytes at a time).
    fn drain(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        for _ in 0..1000 {
            let read = match self {
                Pair::Stream(end, _) => end.read(&mut buf),
                #[cfg(unix)]
                Pair::Pipe(end, _) => end.read(&mut buf),
                #[cfg(windows)]
                Pair::Pipe(end, _) => end.recv(&mut buf),
            };
            match read {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn interests(&self, rng: &mut Rng) -> Interest {
        match self {
            Pair::Stream(..) => match rng.below(3) {
                0 => Interest::READABLE,
                1 => Interest::WRITABLE,
                _ => Interest::READABLE | Interest::WRITABLE,
            },
            // A pipe's read end (Windows: a UDP socket, which is duplex too but kept to
            // reading, as the pipe it stands in for).
            Pair::Pipe(..) => Interest::READABLE,
        }
    }
}

struct Slot {
    pair: Option<Pair>,
    token: Option<Token>,
}

/// One worker: random operations on its own slots; panics on any unexpected result.
fn worker(id: usize, registry: Registry, book: Arc<Book>, ops: usize) -> [u64; 7] {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((id as u64 + 1) * 0x1234_5678_9abc_def1));
    let mut slots: Vec<Slot> = (0..SLOTS)
        .map(|_| Slot {
            pair: None,
            token: None,
        })
        .collect();
    let mut next = 0usize;
    let mut new_token = || {
        next += 1;
        // The worker in the high half, a counter in the low one (16 bits on 32-bit targets).
        assert!(
            next < 1 << (usize::BITS / 2),
            "too many tokens for one worker"
        );
        Token(((id + 1) << (usize::BITS / 2)) | next)
    };
    let mut counts = [0u64; 7];
    for i in 0..ops {
        if i % 32 == 0 {
            book.wait_for_a_poll();
        }
        let slot = &mut slots[rng.below(SLOTS as u64) as usize];
        let Some(pair) = slot.pair.as_mut() else {
            // Reopen: new fds, very likely with numbers just freed by another slot or thread.
            slot.pair = Some(Pair::open(rng.below(2) == 0));
            counts[0] += 1;
            continue;
        };
        let op = rng.below(6);
        counts[op as usize + 1] += 1;
        match (op, slot.token) {
            (0, None) => {
                let token = new_token();
                let interests = pair.interests(&mut rng);
                book.live(token);
                registry
                    .register(pair.source(), token, interests)
                    .expect("register");
                slot.token = Some(token);
            }
            (0, Some(token)) => {
                let err = registry
                    .register(pair.source(), token, Interest::READABLE)
                    .expect_err("register twice");
                assert_eq!(
                    err.kind(),
                    ErrorKind::AlreadyExists,
                    "register twice: {err}"
                );
            }
            (1, Some(old)) => {
                let token = new_token();
                let interests = pair.interests(&mut rng);
                book.live(token);
                registry
                    .reregister(pair.source(), token, interests)
                    .expect("reregister");
                book.gone(old);
                slot.token = Some(token);
            }
            (1, None) => {
                let err = registry
                    .reregister(pair.source(), Token(0), Interest::READABLE)
                    .expect_err("reregister unregistered");
                assert_eq!(err.kind(), ErrorKind::NotFound, "reregister: {err}");
            }
            (2, Some(token)) => {
                registry.deregister(pair.source()).expect("deregister");
                book.gone(token);
                slot.token = None;
            }
            (2, None) => {
                let err = registry
                    .deregister(pair.source())
                    .expect_err("deregister unregistered");
                assert_eq!(err.kind(), ErrorKind::NotFound, "deregister: {err}");
            }
            (3, token) => {
                // Close while (maybe) registered: dropping must end the registration (over
                // libkqueue, deregistered first: `util::libkqueue_deregister_before_close`).
                if token.is_some() {
                    util::libkqueue_deregister_before_close(&registry, pair.source())
                        .expect("deregister before close (libkqueue)");
                }
                slot.pair = None;
                if let Some(token) = token {
                    book.gone(token);
                }
                slot.token = None;
            }
            (4, _) => match pair.write_peer() {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            },
            (_, _) => pair.drain().expect("drain"),
        }
    }
    for slot in &mut slots {
        // Other workers may still be opening fds with these numbers: over libkqueue, which
        // cannot see a close, a registered source is deregistered first (as above).
        if let (Some(pair), Some(_)) = (slot.pair.as_mut(), slot.token) {
            util::libkqueue_deregister_before_close(&registry, pair.source())
                .expect("deregister before close (libkqueue)");
        }
        slot.pair = None;
        if let Some(token) = slot.token.take() {
            book.gone(token);
        }
    }
    counts
}

#[test]
fn registrations_race_with_poll_and_wake() {
    let mut poll = Poll::new().unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let book = Arc::new(Book::default());
    let workers_done = Arc::new(AtomicBool::new(false));
    let ops = ops_per_worker();
    // One registry handle per worker, cloned before the poller takes the `Poll`.
    let registries: Vec<Registry> = (0..WORKERS)
        .map(|_| poll.registry().try_clone().expect("Registry::try_clone"))
        .collect();

    let poller = {
        let book = Arc::clone(&book);
        let workers_done = Arc::clone(&workers_done);
        thread::spawn(move || {
            let mut events = Events::with_capacity(64);
            let (mut polls, mut seen, mut wakes, mut interrupted) = (0u64, 0u64, 0u64, 0u64);
            let mut violations = Vec::new();
            // Bounded: until the workers are done (a few seconds), at most 200 000 polls.
            for _ in 0..200_000 {
                if workers_done.load(Ordering::SeqCst) {
                    break;
                }
                let start = book.seq.load(Ordering::SeqCst);
                polls += 1;
                let result = poll.poll(&mut events, Some(Duration::from_millis(50)));
                book.polls.fetch_add(1, Ordering::SeqCst);
                match result {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::Interrupted => {
                        interrupted += 1;
                        continue;
                    }
                    Err(e) => panic!("poll: unexpected error {e:?}"),
                }
                for event in events.iter() {
                    seen += 1;
                    if event.token() == WAKE {
                        wakes += 1;
                    } else if let Err(v) = book.check(event.token(), start) {
                        violations.push(v);
                    }
                }
            }
            book.poller_done.store(true, Ordering::SeqCst);
            (poll, events, [polls, seen, wakes, interrupted], violations)
        })
    };

    let waking = Arc::new(AtomicBool::new(true));
    let waker_thread = {
        let waker = Arc::clone(&waker);
        let waking = Arc::clone(&waking);
        let book = Arc::clone(&book);
        thread::spawn(move || {
            let mut n = 0u64;
            // Bounded: until the workers are done, at most 100 000 wakes; a few per poll.
            while waking.load(Ordering::SeqCst) && n < 100_000 {
                waker.wake().expect("wake");
                n += 1;
                if n % 4 == 0 {
                    book.wait_for_a_poll();
                }
            }
            n
        })
    };

    let workers: Vec<_> = registries
        .into_iter()
        .enumerate()
        .map(|(id, registry)| {
            let book = Arc::clone(&book);
            thread::spawn(move || worker(id, registry, book, ops))
        })
        .collect();
    let mut totals = [0u64; 7];
    let mut failures = Vec::new();
    for (id, worker) in workers.into_iter().enumerate() {
        match worker.join() {
            Ok(counts) => {
                for (t, c) in totals.iter_mut().zip(counts) {
                    *t += c;
                }
            }
            Err(panic) => failures.push(format!("worker {id}: {:?}", panic_message(&panic))),
        }
    }
    waking.store(false, Ordering::SeqCst);
    let wakes_sent = waker_thread.join().expect("waker thread panicked");
    workers_done.store(true, Ordering::SeqCst);
    let (mut poll, mut events, [polls, seen, wakes, interrupted], violations) =
        poller.join().expect("poller panicked");
    // Everything is quiet now: one more wake must come through.
    waker.wake().expect("last wake");
    let mut last_wake_seen = false;
    for _ in 0..100 {
        match poll.poll(&mut events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: unexpected error {e:?}"),
        }
        if events.iter().any(|e| e.token() == WAKE) {
            last_wake_seen = true;
            break;
        }
    }
    println!(
        "ops {totals:?} (reopen, register, reregister, deregister, close, write, drain); \
         polls {polls}, events {seen}, wakes sent {wakes_sent} seen {wakes}, \
         interrupted {interrupted}"
    );
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        violations.is_empty(),
        "{} stale or unknown tokens: {:?}",
        violations.len(),
        &violations[..violations.len().min(10)]
    );
    assert!(last_wake_seen, "the last wake was not delivered");
    assert!(seen > wakes, "no source event at all");
    assert!(
        polls as usize >= ops / 32,
        "only {polls} polls: the threads did not interleave"
    );
    assert!(totals[1] > 0 && totals[2] > 0 && totals[3] > 0 && totals[4] > 0);
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else {
        "?".to_string()
    }
}
