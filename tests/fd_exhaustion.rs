//! Running out of file descriptors (`EMFILE`), in a child process with a low soft
//! `RLIMIT_NOFILE` (`util::run_isolated` re-runs the test binary for the one test):
//! - `accept` on a readable listener returns the error as an `io::Error` with
//!   `raw_os_error() == Some(EMFILE)`, and the readiness loop does not spin on it;
//! - the accept strategy of `examples/tcp_server.rs` (an fd held in reserve, given up to
//!   accept-and-close; without one, the listener paused until an fd is freed) refuses or
//!   defers the pending connections in a bounded number of calls and recovers once fds free
//!   up: the deferred connections are then accepted and work;
//! - every constructor fails cleanly with `EMFILE`, also with only one fd left for the types
//!   that need two;
//! - nothing leaks: the fd count is back to where it was at the end.
//!
//! Loops are bounded by counts (accept calls, polls), not by time.
//!
//! Over libkqueue (`--cfg mio_unsupported_test_libkqueue`, see the end of `util`) a `Poll` is
//! several fds, freed by libkqueue's monitoring thread after the `Poll` is dropped, and the
//! first one opens fds kept for the whole process: the start count is taken after a warm-up
//! and the final one waits (bounded) for the dropped `Poll`'s fds.
#![cfg(all(feature = "os-poll", feature = "os-ext", feature = "net"))]
#![cfg(unix)] // RLIMIT_NOFILE and EMFILE: Unix only (Windows has no handle limit to lower).

mod util;

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use mio::unix::pipe;
use mio::{Events, Interest, Poll, Registry, Token, Waker};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

use util::{fd_count, run_isolated};

const LISTENER: Token = Token(0);
/// The soft limit the child runs with (fd numbers 0..LIMIT).
const LIMIT: u64 = 64;
/// Clients queued on the listener in each phase.
const CLIENTS: usize = 6;

/// Lowers the soft `RLIMIT_NOFILE` to `LIMIT`; returns the limit to restore.
fn lower_limit() -> Rlimit {
    let old = getrlimit(Resource::Nofile);
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(LIMIT),
            maximum: old.maximum,
        },
    )
    .expect("setrlimit(RLIMIT_NOFILE)");
    old
}

fn is_emfile(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EMFILE)
}

/// Opens `/dev/null` until `EMFILE`: the process then has no fd left. Bounded by `LIMIT`.
fn exhaust(ballast: &mut Vec<File>) {
    for _ in 0..=LIMIT {
        match File::open("/dev/null") {
            Ok(file) => ballast.push(file),
            Err(err) if is_emfile(&err) => return,
            Err(err) => panic!("open /dev/null: {err}"),
        }
    }
    panic!("no EMFILE after {LIMIT} opens: the limit was not lowered");
}

/// Polls (at most `max` times, 100 ms each) until `LISTENER` is reported; returns the number
/// of polls it took.
fn wait_for_listener(poll: &mut Poll, events: &mut Events, max: usize) -> usize {
    for n in 1..=max {
        match poll.poll(events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        if events.iter().any(|e| e.token() == LISTENER) {
            return n;
        }
    }
    panic!("no listener event in {max} polls");
}

/// Polls `n` times (short timeouts) and returns how many events came: a loop that spins on an
/// exhausted listener would see one each time.
fn count_events(poll: &mut Poll, events: &mut Events, n: usize) -> usize {
    let mut seen = 0;
    for _ in 0..n {
        match poll.poll(events, Some(Duration::from_millis(20))) {
            Ok(()) => seen += events.iter().count(),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("poll: {e}"),
        }
    }
    seen
}

/// The accept loop of `examples/tcp_server.rs`, with counters; `fixed` adds the one thing the
/// example lacks (see `tcp_server_example_strategy_stops_when_the_queue_is_empty`).
struct Acceptor {
    listener: TcpListener,
    listening: bool,
    reserve: Option<File>,
    accepted: Vec<TcpStream>,
    refused: usize,
    pauses: usize,
    accept_calls: usize,
}

/// Turns of `accept_all` allowed: each turn accepts, refuses or stops, and at most `CLIENTS`
/// connections are queued.
const MAX_TURNS: usize = 4 * CLIENTS + 4;

impl Acceptor {
    fn new(listener: TcpListener) -> Acceptor {
        Acceptor {
            listener,
            listening: true,
            reserve: Some(File::open("/dev/null").unwrap()),
            accepted: Vec::new(),
            refused: 0,
            pauses: 0,
            accept_calls: 0,
        }
    }

    fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        self.accept_calls += 1;
        self.listener.accept()
    }

    /// Returns false if it was still going after `MAX_TURNS` turns (it spins).
    #[must_use]
    fn accept_all(&mut self, registry: &Registry) -> bool {
        for _ in 0..MAX_TURNS {
            match self.accept() {
                Ok((stream, _)) => self.accepted.push(stream),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionAborted => continue,
                Err(e) if is_emfile(&e) => {
                    if let Some(reserve) = self.reserve.take() {
                        // As the example: free one fd, accept-and-close the pending connection.
                        drop(reserve);
                        let queue_empty = match self.accept() {
                            Ok((stream, _)) => {
                                self.refused += 1;
                                drop(stream);
                                false
                            }
                            Err(e) => e.kind() == ErrorKind::WouldBlock,
                        };
                        self.reserve = File::open("/dev/null").ok();
                        if self.reserve.is_some() {
                            // `accept(2)` allocates the fd before it looks at the queue, so
                            // with no fd free it answers EMFILE even when nothing is queued:
                            // only the accept made with the reserve's fd can tell.
                            if queue_empty {
                                return true;
                            }
                            continue;
                        }
                    }
                    registry.deregister(&mut self.listener).unwrap();
                    self.listening = false;
                    self.pauses += 1;
                    return true;
                }
                Err(e) => panic!("accept: unexpected error {e:?}"),
            }
        }
        false
    }

    /// A connection closed, an fd is free again: resume accepting if paused.
    fn fd_freed(&mut self, registry: &Registry) {
        if !self.listening {
            registry
                .register(&mut self.listener, LISTENER, Interest::READABLE)
                .unwrap();
            self.listening = true;
            assert!(self.accept_all(registry), "the accept loop spins");
        }
    }
}

fn connect(addr: SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(util::EXPECT_TIMEOUT)).unwrap();
    stream
}

#[test]
fn accept_emfile_is_reported_and_recovered_from() {
    run_isolated("accept_emfile_is_reported_and_recovered_from", || {
        util::libkqueue_warm_up();
        let start_fds = fd_count();
        assert!(
            start_fds < LIMIT as usize / 2,
            "{start_fds} fds open already"
        );
        let old_limit = lower_limit();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(16);
        let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .unwrap();
        let mut acceptor = Acceptor::new(listener);

        // Phase 1: with a reserve fd. Queue clients, then use up every fd.
        let refused_clients: Vec<_> = (0..CLIENTS).map(|_| connect(addr)).collect();
        let mut ballast = Vec::new();
        exhaust(&mut ballast);
        wait_for_listener(&mut poll, &mut events, 50);
        // The crate reports EMFILE as it is.
        let err = acceptor.accept().unwrap_err();
        assert!(is_emfile(&err), "expected EMFILE, got {err:?}");
        assert_eq!(err.raw_os_error(), Some(24));
        // The strategy refuses every queued client, one reserve swap each, then stops. A
        // connection may reach the queue after the loop found it empty (slow machine,
        // valgrind): its own event brings the loop back. Bounded by rounds.
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(
                acceptor.accept_all(poll.registry()),
                "the accept loop spins"
            );
            if acceptor.refused == CLIENTS || rounds == 20 {
                break;
            }
            wait_for_listener(&mut poll, &mut events, 50);
        }
        assert_eq!(acceptor.refused, CLIENTS);
        assert_eq!(acceptor.pauses, 0);
        assert!(acceptor.accepted.is_empty());
        // Per round: one EMFILE and the reserve swap that finds the queue empty; per client:
        // one EMFILE and the swap that refuses it.
        assert!(
            acceptor.accept_calls <= 1 + 2 * CLIENTS + 2 * rounds,
            "{} accept calls for {CLIENTS} clients in {rounds} rounds",
            acceptor.accept_calls
        );
        assert!(
            acceptor.reserve.is_some(),
            "the reserve fd was not taken back"
        );
        // No spinning: nothing new is queued, so no event comes.
        assert_eq!(count_events(&mut poll, &mut events, 5), 0);
        // Refused clients learn it: end-of-file (or a reset), not a hang.
        for mut client in refused_clients {
            let mut buf = [0u8; 1];
            match client.read(&mut buf) {
                Ok(0) => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
                other => panic!("a refused client read {other:?}"),
            }
        }

        // Phase 2: no reserve. The listener must be paused, not spun on.
        drop(acceptor.reserve.take());
        exhaust(&mut ballast);
        let mut deferred = Vec::new();
        for _ in 0..CLIENTS {
            drop(ballast.pop()); // one fd for the client socket
            deferred.push(connect(addr));
        }
        let calls_before = acceptor.accept_calls;
        wait_for_listener(&mut poll, &mut events, 50);
        assert!(
            acceptor.accept_all(poll.registry()),
            "the accept loop spins"
        );
        assert_eq!(acceptor.pauses, 1);
        assert!(!acceptor.listening);
        assert_eq!(
            acceptor.accept_calls - calls_before,
            1,
            "one EMFILE, then paused"
        );
        assert_eq!(
            count_events(&mut poll, &mut events, 5),
            0,
            "spinning while paused"
        );

        // Fds free up (connections closing): accepting resumes and every deferred client
        // is served (those queued late come with their own event; bounded by rounds).
        for _ in 0..CLIENTS + 2 {
            drop(ballast.pop());
        }
        acceptor.fd_freed(poll.registry());
        assert!(acceptor.listening);
        let mut rounds = 1;
        while acceptor.accepted.len() < CLIENTS && rounds < 20 {
            rounds += 1;
            wait_for_listener(&mut poll, &mut events, 50);
            assert!(
                acceptor.accept_all(poll.registry()),
                "the accept loop spins"
            );
        }
        assert_eq!(
            acceptor.accepted.len(),
            CLIENTS,
            "deferred clients not accepted"
        );
        assert!(acceptor.accept_calls - calls_before <= 1 + CLIENTS + rounds);
        for (server, client) in acceptor.accepted.iter_mut().zip(&mut deferred) {
            server.write_all(b"ok").unwrap();
            let mut buf = [0u8; 2];
            client.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ok");
        }

        // Nothing leaked.
        drop(deferred);
        drop(acceptor);
        drop(ballast);
        drop(poll);
        setrlimit(Resource::Nofile, old_limit).unwrap();
        assert_eq!(util::fd_count_settled(start_fds), start_fds, "fds leaked");
    });
}

/// Regression (examples/tcp_server.rs, `Server::accept_all`): once the queued connections had
/// all been refused, the reserve swap's `accept` returned `WouldBlock`, the reserve was reopened
/// and the loop went on; the next `accept` failed with EMFILE again (the fd is allocated before
/// the queue is looked at), and so on forever: the event loop never got back to `poll` and
/// burnt a core (seen with the example binary under `prlimit --nofile=16`). The example (and
/// `Acceptor::accept_all`, its copy here) now stops when that `accept` answers `WouldBlock`.
#[test]
fn tcp_server_example_strategy_stops_when_the_queue_is_empty() {
    run_isolated(
        "tcp_server_example_strategy_stops_when_the_queue_is_empty",
        || {
            let old_limit = lower_limit();
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(16);
            let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = listener.local_addr().unwrap();
            poll.registry()
                .register(&mut listener, LISTENER, Interest::READABLE)
                .unwrap();
            let mut acceptor = Acceptor::new(listener);
            let clients: Vec<_> = (0..CLIENTS).map(|_| connect(addr)).collect();
            let mut ballast = Vec::new();
            exhaust(&mut ballast);
            wait_for_listener(&mut poll, &mut events, 50);
            let returned = acceptor.accept_all(poll.registry());
            let (refused, calls) = (acceptor.refused, acceptor.accept_calls);
            drop((clients, ballast, acceptor, poll));
            setrlimit(Resource::Nofile, old_limit).unwrap();
            assert!(
                returned,
                "examples/tcp_server.rs's accept loop spins on EMFILE once the queue is empty: \
             still looping after {MAX_TURNS} turns ({calls} accept calls, {refused} of \
             {CLIENTS} queued clients refused)"
            );
        },
    );
}

/// Every constructor fails with `EMFILE` and leaves no fd behind: with no fd left, and with
/// exactly one left for those that need two (pipes, socket pairs).
#[test]
fn constructors_fail_cleanly_with_emfile() {
    run_isolated("constructors_fail_cleanly_with_emfile", || {
        util::libkqueue_warm_up();
        let start_fds = fd_count();
        let dir = std::env::temp_dir().join(format!("mio-emfile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let old_limit = lower_limit();
        let poll = Poll::new().unwrap();
        let mut unix_listener = UnixListener::bind(dir.join("l")).unwrap();
        poll.registry()
            .register(&mut unix_listener, LISTENER, Interest::READABLE)
            .unwrap();
        let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let tcp = TcpListener::bind(local).unwrap();
        let tcp_addr = tcp.local_addr().unwrap();
        let _queued = UnixStream::connect(dir.join("l")).unwrap();

        let mut ballast = Vec::new();
        exhaust(&mut ballast);
        #[track_caller]
        fn emfile<T: std::fmt::Debug>(what: &str, result: io::Result<T>) {
            match result {
                Err(err) if is_emfile(&err) => {}
                other => panic!("{what}: expected EMFILE, got {other:?}"),
            }
        }
        // No fd free: everything that needs one fails.
        emfile("Poll::new", Poll::new());
        emfile("TcpListener::bind", TcpListener::bind(local));
        emfile("TcpStream::connect", TcpStream::connect(tcp_addr));
        emfile("UdpSocket::bind", UdpSocket::bind(local));
        emfile("UnixListener::bind", UnixListener::bind(dir.join("x")));
        emfile("UnixStream::connect", UnixStream::connect(dir.join("l")));
        emfile("UnixDatagram::unbound", UnixDatagram::unbound());
        emfile("UnixListener::accept", unix_listener.accept());
        emfile("pipe::new", pipe::new());
        emfile("UnixStream::pair", UnixStream::pair());
        emfile("UnixDatagram::pair", UnixDatagram::pair());
        // epoll dups its fd and the eventfd Waker needs one; the poll(2) selector shares its
        // state and folds the Waker in, so needs none. Over libkqueue the clone shares the one
        // queue fd (libkqueue knows a queue only by the number `kqueue()` returned: its
        // `kqueue_lookup`, src/common/kevent.c:485), so needs none; its EVFILT_USER Waker
        // needs an eventfd (src/linux/user.c:140).
        match poll.registry().try_clone() {
            Ok(registry) => {
                if !cfg!(any(
                    mio_unsupported_force_poll_poll,
                    mio_unsupported_test_libkqueue
                )) {
                    panic!("Registry::try_clone succeeded with no fd free: {registry:?}");
                }
            }
            Err(err) => assert!(is_emfile(&err), "Registry::try_clone: {err:?}"),
        }
        match Waker::new(poll.registry(), Token(9)) {
            Ok(waker) => {
                // poll(2) folds the Waker into the selector; a kqueue user event (not
                // libkqueue's) is no fd either.
                if !cfg!(any(
                    mio_unsupported_force_poll_poll,
                    all(mio_evfilt_user, not(mio_unsupported_test_libkqueue))
                )) {
                    panic!("Waker::new succeeded with no fd free: {waker:?}");
                }
            }
            // libkqueue loses the EMFILE: when eventfd(2) fails, its EVFILT_USER knote_create
            // calls `close(evfd)` on the -1 it got (src/linux/user.c:147), whose EBADF
            // replaces errno before it is returned in the receipt. Still a clean failure.
            #[cfg(mio_unsupported_test_libkqueue)]
            Err(err) if err.raw_os_error() == Some(libc::EBADF) => {}
            Err(err) => assert!(is_emfile(&err), "Waker::new: {err:?}"),
        }
        // One fd free: what needs two fails without keeping the one.
        drop(ballast.pop());
        for _ in 0..3 {
            emfile("pipe::new (one fd free)", pipe::new());
            emfile("UnixStream::pair (one fd free)", UnixStream::pair());
            emfile("UnixDatagram::pair (one fd free)", UnixDatagram::pair());
        }
        // With that fd, the queued connection can be accepted.
        let (stream, _) = unix_listener.accept().expect("accept with one fd free");
        drop(stream);

        drop(ballast);
        drop(unix_listener);
        drop(tcp);
        drop(_queued);
        drop(poll);
        setrlimit(Resource::Nofile, old_limit).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(util::fd_count_settled(start_fds), start_fds, "fds leaked");
    });
}
