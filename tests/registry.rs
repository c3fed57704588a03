//! Tests of `Registry`: register/reregister/deregister semantics and errors, cloning, and use
//! from several threads while the `Poll` is blocked.
//!
//! Sockets are `util::Pair`s (a Unix stream pair registered as a raw fd on Unix, a loopback
//! `mio::net::TcpStream` on Windows); the `IoSource` tests use a pipe on Unix and two ends of
//! a loopback TCP connection on Windows (`io_pair`). Raw fds (`SourceFd`, regular files, closed
//! fds, the epoll fd) are Unix only.
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
// Windows: `util::Pair` is a `mio::net::TcpStream` there.
#![cfg(any(unix, feature = "net"))]

mod util;

#[cfg(unix)]
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::fd::{AsRawFd, RawFd};
#[cfg(unix)]
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

use mio::event::Source;
#[cfg(unix)]
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

// `drain` only serves tests the poll(2) fallback leaves out.
#[cfg(any(target_os = "linux", target_os = "android"))]
use util::expect_no_event_for;
#[cfg_attr(mio_unsupported_force_poll_poll, allow(unused_imports))]
use util::{
    assert_send, assert_sync, drain, expect_event, expect_events, expect_no_events, poll_once,
    ExpectEvent, Pair, Readiness,
};

/// The two ends of an `IoSource` connection: data written to the first arrives at the second.
#[cfg(unix)]
type Sender = pipe::Sender;
#[cfg(unix)]
type Receiver = pipe::Receiver;
/// Windows: mio has no anonymous pipe there; two ends of a loopback TCP connection.
#[cfg(windows)]
type Sender = mio::net::TcpStream;
#[cfg(windows)]
type Receiver = mio::net::TcpStream;

fn io_pair() -> (Sender, Receiver) {
    #[cfg(unix)]
    {
        pipe::new().unwrap()
    }
    #[cfg(windows)]
    {
        let pair = Pair::new();
        (mio::net::TcpStream::from_std(pair.peer), pair.local)
    }
}

#[test]
fn is_send_and_sync() {
    assert_send::<Registry>();
    assert_sync::<Registry>();
}

#[test]
#[cfg(all(unix, not(debug_assertions)))] // One fd: a Unix layout.
fn size_in_release_is_one_fd() {
    assert_eq!(std::mem::size_of::<Registry>(), 4);
}

#[test]
fn debug() {
    let poll = Poll::new().unwrap();
    assert_eq!(format!("{:?}", poll.registry()), "Registry");
    let clone = poll.registry().try_clone().unwrap();
    assert_eq!(format!("{:#?}", clone), "Registry");
}

#[test]
#[cfg(all(unix, not(mio_unsupported_force_poll_poll)))]
// `AsRawFd for Poll` is epoll-only.
// Not over libkqueue (`mio_unsupported_test_libkqueue`): its queue fd is the write end of a
// pipe (`linux_kqueue_init` in its src/linux/platform.c), not an epoll fd, and clones share it
// (see `sys::unix::kqueue`'s `QueueFd`).
#[cfg(not(mio_unsupported_test_libkqueue))]
fn as_fd_and_as_raw_fd_are_the_epoll_fd() {
    use std::os::fd::AsFd;

    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let fd = registry.as_raw_fd();
    assert_eq!(registry.as_fd().as_raw_fd(), fd);
    assert_eq!(fd, poll.as_raw_fd());
    assert_eq!(util::fd_target(fd).unwrap(), "anon_inode:[eventpoll]");
    let flags = rustix::io::fcntl_getfd(registry.as_fd()).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));

    let clone = registry.try_clone().unwrap();
    assert_ne!(clone.as_raw_fd(), fd);
    assert_eq!(clone.as_fd().as_raw_fd(), clone.as_raw_fd());
    assert_eq!(
        util::fd_target(clone.as_raw_fd()).unwrap(),
        "anon_inode:[eventpoll]"
    );
    let flags = rustix::io::fcntl_getfd(clone.as_fd()).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
}

// poll(2) fallback: a raw fd's undrained readiness is reported again after a back-off (see
// tests/poll.rs `raw_fd_edges_are_sampled`), so the "no more events" steps only hold on epoll.
#[cfg(not(mio_unsupported_force_poll_poll))]
#[test]
fn reregister_replaces_token_and_interest() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(1), Interest::READABLE)
        .unwrap();
    expect_no_events(&mut poll, &mut events);

    // A socket with room is writable: the new interest reports at once, under the new token.
    poll.registry()
        .reregister(&mut pair, Token(2), Interest::WRITABLE)
        .unwrap();
    let seen = expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(2), Readiness::WRITABLE)],
    );
    assert!(seen.iter().all(|e| e.token == Token(2)), "{seen:?}");

    // Readable is no longer of interest, so data brings no event.
    pair.peer.write_all(b"data").unwrap();
    expect_no_events(&mut poll, &mut events);

    // Back to readable under a third token: the pending data is reported.
    poll.registry()
        .reregister(&mut pair, Token(3), Interest::READABLE)
        .unwrap();
    let event = expect_event(&mut poll, &mut events, Token(3));
    assert!(event.readable);
    assert!(!event.writable);
    expect_no_events(&mut poll, &mut events);
}

// poll(2) fallback: a raw fd's undrained readiness is reported again after a back-off (see
// tests/poll.rs `raw_fd_edges_are_sampled`), so the "no more events" steps only hold on epoll.
#[cfg(not(mio_unsupported_force_poll_poll))]
#[test]
fn reregister_rearms_a_ready_source() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(1), Interest::READABLE)
        .unwrap();
    pair.peer.write_all(b"data").unwrap();
    expect_event(&mut poll, &mut events, Token(1));
    expect_no_events(&mut poll, &mut events);
    // Not drained: re-registering makes a new edge for the same readiness.
    for _ in 0..3 {
        poll.registry()
            .reregister(&mut pair, Token(1), Interest::READABLE)
            .unwrap();
        expect_event(&mut poll, &mut events, Token(1));
        expect_no_events(&mut poll, &mut events);
    }
    assert_eq!(drain(&pair.local), 4);
}

#[test]
fn deregister_stops_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(1), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    // Deregistered while an event (writable) is pending: it is not delivered.
    poll.registry().deregister(&mut pair).unwrap();
    expect_no_events(&mut poll, &mut events);
    // Nor is anything that happens afterwards.
    pair.peer.write_all(b"data").unwrap();
    expect_no_events(&mut poll, &mut events);
    pair.peer.shutdown(std::net::Shutdown::Both).unwrap();
    expect_no_events(&mut poll, &mut events);

    // And it can be registered again.
    poll.registry()
        .register(&mut pair, Token(2), Interest::READABLE)
        .unwrap();
    let event = expect_event(&mut poll, &mut events, Token(2));
    assert!(event.readable);
}

#[test]
fn try_clone_registers_with_the_same_poll() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let clone = poll.registry().try_clone().unwrap();
    let clone2 = clone.try_clone().unwrap();
    let mut pair = Pair::new();
    clone
        .register(&mut pair, Token(1), Interest::READABLE)
        .unwrap();
    pair.peer.write_all(b"x").unwrap();
    expect_event(&mut poll, &mut events, Token(1));
    // Same epoll instance: the original and the clone's clone see the registration.
    clone2
        .reregister(&mut pair, Token(2), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(2));
    poll.registry().deregister(&mut pair).unwrap();
    let err = clone.deregister(&mut pair).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    // The clone outlives the original's use: dropping it does not disturb the `Poll`.
    drop(clone);
    drop(clone2);
    let waker = Waker::new(poll.registry(), Token(9)).unwrap();
    waker.wake().unwrap();
    expect_event(&mut poll, &mut events, Token(9));
}

/// A thread blocked in `poll(None)` sees a source registered by another thread.
#[test]
fn register_while_another_thread_polls() {
    const SOURCE: Token = Token(1);
    const WATCHDOG: Token = Token(2);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let registry = poll.registry().try_clone().unwrap();
    let watchdog = Waker::new(poll.registry(), WATCHDOG).unwrap();
    let mut pair = Pair::new();
    pair.peer.write_all(b"ready").unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();

    let helper = thread::spawn(move || {
        // Only makes it likely that the main thread is already blocked; not needed for
        // correctness.
        thread::sleep(Duration::from_millis(50));
        registry
            .register(&mut pair, SOURCE, Interest::READABLE)
            .unwrap();
        // If the main thread did not see it in time, unblock it so that the test fails
        // instead of hanging.
        if done_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            watchdog.wake().unwrap();
        }
        pair
    });

    let result = loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll failed: {e}"),
        }
        if events.iter().any(|e| e.token() == SOURCE) {
            break Ok(());
        }
        if events.iter().any(|e| e.token() == WATCHDOG) {
            break Err("poll(None) did not return for a source registered by another thread");
        }
    };
    let _ = done_tx.send(());
    helper.join().unwrap();
    result.unwrap();
}

/// Many threads register through one `Arc<Registry>` while the `Poll` is polled.
#[test]
fn registry_behind_arc() {
    const THREADS: usize = 8;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    let registry = Arc::new(poll.registry().try_clone().unwrap());
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let registry = Arc::clone(&registry);
            let tx = tx.clone();
            thread::spawn(move || {
                let mut pair = Pair::new();
                registry
                    .register(&mut pair, Token(i), Interest::READABLE)
                    .unwrap();
                pair.peer.write_all(b"x").unwrap();
                // Keep the sockets open until the test ends.
                tx.send(pair).unwrap();
            })
        })
        .collect();
    let expected = (0..THREADS)
        .map(|i| ExpectEvent::new(Token(i), Readiness::READABLE))
        .collect();
    expect_events(&mut poll, &mut events, expected);
    for h in handles {
        h.join().unwrap();
    }
    let pairs: Vec<_> = rx.try_iter().collect();
    assert_eq!(pairs.len(), THREADS);
}

/// register/reregister/deregister from several threads at once, while polling.
#[test]
fn registry_operations_are_thread_safe() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 200;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let registry = Arc::new(poll.registry().try_clone().unwrap());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let registry = Arc::clone(&registry);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                for round in 0..ROUNDS {
                    let mut pair = Pair::new();
                    let token = Token(t * ROUNDS + round);
                    registry
                        .register(&mut pair, token, Interest::READABLE)
                        .unwrap();
                    registry
                        .reregister(&mut pair, token, Interest::READABLE | Interest::WRITABLE)
                        .unwrap();
                    registry.deregister(&mut pair).unwrap();
                }
            })
        })
        .collect();
    while handles.iter().any(|h| !h.is_finished()) {
        poll_once(&mut poll, &mut events, Some(Duration::from_millis(10)));
    }
    for h in handles {
        h.join().unwrap();
    }
    // Everything was deregistered (and closed): nothing can be pending.
    expect_no_events(&mut poll, &mut events);
}

// --- Errors with `SourceFd`: straight from the kernel. -----------------------------------

#[test]
#[cfg(unix)] // `SourceFd`: Unix only.
fn source_fd_register_twice_is_already_exists() {
    let poll = Poll::new().unwrap();
    let (a, _b) = util::unix_pair();
    let fd = a.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    let err = poll
        .registry()
        .register(&mut SourceFd(&fd), Token(1), Interest::WRITABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(err.raw_os_error(), Some(17), "{err}");
}

#[test]
#[cfg(unix)] // `SourceFd`: Unix only.
fn source_fd_not_registered_is_not_found() {
    let poll = Poll::new().unwrap();
    let (a, _b) = util::unix_pair();
    let fd = a.as_raw_fd();
    let err = poll
        .registry()
        .reregister(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert_eq!(err.raw_os_error(), Some(2), "{err}");
    let err = poll.registry().deregister(&mut SourceFd(&fd)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert_eq!(err.raw_os_error(), Some(2), "{err}");

    // Also after a deregister.
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
    let err = poll.registry().deregister(&mut SourceFd(&fd)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

/// A regular temporary file, removed on drop.
#[cfg(unix)] // For `registering_a_regular_file_is_permission_denied`.
struct TempFile {
    path: PathBuf,
    file: File,
}

#[cfg(unix)]
impl TempFile {
    fn new(tag: &str) -> TempFile {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("mio-test-{}-{}-{}", std::process::id(), tag, nanos));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        TempFile { path, file }
    }
}

#[cfg(unix)]
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[test]
#[cfg(unix)]
// Raw fds and regular files: Unix only (EPERM from epoll_ctl).
// Not on kqueue, which accepts regular files: see the next test.
#[cfg(not(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll))))]
fn registering_a_regular_file_is_permission_denied() {
    let poll = Poll::new().unwrap();
    let tmp = TempFile::new("regular");
    let fd = tmp.file.as_raw_fd();
    for interest in [
        Interest::READABLE,
        Interest::WRITABLE,
        Interest::READABLE | Interest::WRITABLE,
    ] {
        let err = poll
            .registry()
            .register(&mut SourceFd(&fd), Token(0), interest)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
        assert_eq!(err.raw_os_error(), Some(1), "{err}");
    }
    // Through a pipe end built from the file (an `IoSource`) too, in both builds.
    let mut receiver =
        pipe::Receiver::from(std::os::fd::OwnedFd::from(tmp.file.try_clone().unwrap()));
    let err = poll
        .registry()
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
}

/// kqueue accepts a regular file: kqueue(2), EVFILT_READ: "Vnodes: Returns when the file
/// pointer is not at the end of file"; FreeBSD's `vfs_kqfilter` (sys/kern/vfs_subr.c) also
/// takes EVFILT_WRITE, always ready. So does libkqueue (its `KNFL_FILE` paths in
/// src/linux/read.c and write.c). A file with data is reported readable.
#[test]
#[cfg(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll)))]
fn registering_a_regular_file_is_accepted_on_kqueue() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut tmp = TempFile::new("regular-kqueue");
    tmp.file.write_all(b"data").unwrap();
    let reader = fs::File::open(&tmp.path).unwrap();
    let fd = reader.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    let event = expect_event(&mut poll, &mut events, Token(0));
    assert!(event.readable, "{event:?}");
    poll.registry().deregister(&mut SourceFd(&fd)).unwrap();
}

/// An fd number that is surely closed: far above what the tests here open at once.
#[cfg(unix)] // fd numbers: Unix only.
fn closed_fd() -> RawFd {
    let (a, _b) = util::unix_pair();
    let high = rustix::io::fcntl_dupfd_cloexec(&a, 700).unwrap();
    let fd = high.as_raw_fd();
    drop(high);
    fd
}

#[test]
#[cfg(unix)] // fd numbers: Unix only.
fn closed_fd_is_ebadf() {
    let poll = Poll::new().unwrap();
    let fd = closed_fd();
    #[cfg(not(mio_unsupported_test_libkqueue))]
    assert_all_ebadf(&poll, fd);
    // Over libkqueue a change without `EV_ADD` (reregister's deletes, deregister's) is answered
    // from its own table of knotes, keyed by number, without looking at the fd (`knote_lookup`
    // in its src/common/kevent.c): `ENOENT` where the BSDs answer `EBADF` (kqueue(2) ERRORS:
    // "The specified descriptor is invalid"). Adding one reaches the fd: `EBADF`.
    #[cfg(mio_unsupported_test_libkqueue)]
    {
        let registry = poll.registry();
        let err = registry
            .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(9), "{err}");
        let err = registry
            .reregister(&mut SourceFd(&fd), Token(0), Interest::READABLE)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(2), "{err}");
        let err = registry.deregister(&mut SourceFd(&fd)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(2), "{err}");
    }
}

#[test]
#[cfg(unix)] // fd numbers: Unix only.
fn deregister_after_close_is_ebadf() {
    let poll = Poll::new().unwrap();
    let (a, _b) = util::unix_pair();
    let high = rustix::io::fcntl_dupfd_cloexec(&a, 750).unwrap();
    let fd = high.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    drop(high);
    let result = poll.registry().deregister(&mut SourceFd(&fd));
    // Over libkqueue, closing an fd does not remove its knotes (kqueue(2): "Calling close() on
    // a file descriptor will remove any kevents that reference the descriptor"; libkqueue
    // keys knotes by number, `knote_lookup` in its src/common/kevent.c, and cannot see a
    // close), so the delete finds the stale registration and succeeds.
    #[cfg(mio_unsupported_test_libkqueue)]
    result.unwrap();
    #[cfg(not(mio_unsupported_test_libkqueue))]
    {
        let err = result.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(9), "{err}");
    }
}

#[test]
#[cfg(unix)] // fd numbers: Unix only.
fn minus_one_is_ebadf_not_a_panic() {
    let poll = Poll::new().unwrap();
    let fd: RawFd = -1;
    assert_all_ebadf(&poll, fd);
    // Other negative numbers too.
    assert_all_ebadf(&poll, i32::MIN);
}

/// register, reregister and deregister of `fd` through `SourceFd` each fail with `EBADF`.
#[track_caller]
#[cfg(unix)] // fd numbers: Unix only.
fn assert_all_ebadf(poll: &Poll, fd: RawFd) {
    let registry = poll.registry();
    let results = [
        registry.register(&mut SourceFd(&fd), Token(0), Interest::READABLE),
        registry.reregister(&mut SourceFd(&fd), Token(0), Interest::READABLE),
        registry.deregister(&mut SourceFd(&fd)),
    ];
    for result in results {
        let err = result.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(9), "{err}");
    }
}

#[test]
#[cfg(all(unix, not(mio_unsupported_force_poll_poll)))]
// `AsRawFd for Poll` is epoll-only.
// Not over libkqueue: its queue fd is a pipe's write end (`linux_kqueue_init` in its
// src/linux/platform.c), which it watches like any pipe; FreeBSD's `kqueue_register` refuses
// a kqueue watching itself with `EINVAL`.
#[cfg(not(mio_unsupported_test_libkqueue))]
fn registering_the_epoll_fd_with_itself_fails() {
    let poll = Poll::new().unwrap();
    let fd = poll.as_raw_fd();
    let err = poll
        .registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
}

// --- Errors with `IoSource` types (pipe ends): the debug-build association check. --------

#[test]
fn io_source_register_twice() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, _receiver) = io_pair();
    poll.registry()
        .register(&mut sender, Token(0), Interest::WRITABLE)
        .unwrap();
    let err = poll
        .registry()
        .register(&mut sender, Token(1), Interest::WRITABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    // Windows: the selector keeps each source's registration itself and refuses with the
    // same message in release builds too (there is no kernel set to ask).
    #[cfg(any(debug_assertions, windows))]
    assert_eq!(
        err.to_string(),
        "I/O source already registered with a `Registry`"
    );
    #[cfg(all(unix, not(debug_assertions)))]
    assert_eq!(err.raw_os_error(), Some(17), "{err}");
    // The first registration is intact.
    let seen = expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(0), Readiness::WRITABLE)],
    );
    assert!(seen.iter().all(|e| e.token == Token(0)), "{seen:?}");
    poll.registry().deregister(&mut sender).unwrap();
}

#[test]
#[cfg(debug_assertions)]
fn io_source_register_with_a_second_poll_is_refused_in_debug() {
    let poll1 = Poll::new().unwrap();
    let poll2 = Poll::new().unwrap();
    let (_sender, mut receiver) = io_pair();
    poll1
        .registry()
        .register(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
    let err = poll2
        .registry()
        .register(&mut receiver, Token(2), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        err.to_string(),
        "I/O source already registered with a `Registry`"
    );
}

/// Windows: a socket has one registration (one AFD poll request at a time), so a second
/// `Poll` is refused in release builds too, with the debug build's message.
#[test]
#[cfg(all(windows, not(debug_assertions)))]
fn io_source_register_with_a_second_poll_is_refused_on_windows() {
    let poll1 = Poll::new().unwrap();
    let poll2 = Poll::new().unwrap();
    let (_sender, mut receiver) = io_pair();
    poll1
        .registry()
        .register(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
    let err = poll2
        .registry()
        .register(&mut receiver, Token(2), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        err.to_string(),
        "I/O source already registered with a `Registry`"
    );
}

/// epoll lets one fd sit in several epoll sets, and release builds do not check.
#[test]
#[cfg(all(unix, not(debug_assertions)))] // Several epoll sets per fd: see above for Windows.
fn io_source_register_with_a_second_poll_works_in_release() {
    let mut poll1 = Poll::new().unwrap();
    let mut poll2 = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll1
        .registry()
        .register(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
    poll2
        .registry()
        .register(&mut receiver, Token(2), Interest::READABLE)
        .unwrap();
    sender.write_all(b"x").unwrap();
    expect_event(&mut poll1, &mut events, Token(1));
    expect_event(&mut poll2, &mut events, Token(2));
}

#[test]
fn io_source_not_registered() {
    let poll = Poll::new().unwrap();
    let (mut sender, mut receiver) = io_pair();
    let errors = [
        poll.registry()
            .reregister(&mut sender, Token(0), Interest::WRITABLE)
            .unwrap_err(),
        poll.registry().deregister(&mut sender).unwrap_err(),
        poll.registry()
            .reregister(&mut receiver, Token(0), Interest::READABLE)
            .unwrap_err(),
        poll.registry().deregister(&mut receiver).unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        // Windows: the selector's own bookkeeping, with this message in both builds.
        #[cfg(any(debug_assertions, windows))]
        assert_eq!(err.to_string(), "I/O source not registered with `Registry`");
        #[cfg(all(unix, not(debug_assertions)))]
        assert_eq!(err.raw_os_error(), Some(2), "{err}");
    }

    // After register + deregister it is "not registered" again.
    poll.registry()
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut receiver).unwrap();
    let err = poll.registry().deregister(&mut receiver).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    #[cfg(debug_assertions)]
    assert_eq!(err.to_string(), "I/O source not registered with `Registry`");
    // And may be registered again.
    poll.registry()
        .register(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
}

#[test]
fn io_source_reregister_through_a_different_registry() {
    let poll1 = Poll::new().unwrap();
    let poll2 = Poll::new().unwrap();
    let (mut sender, _receiver) = io_pair();
    poll1
        .registry()
        .register(&mut sender, Token(0), Interest::WRITABLE)
        .unwrap();
    let err = poll2
        .registry()
        .reregister(&mut sender, Token(0), Interest::WRITABLE)
        .unwrap_err();
    // Windows: the selector knows which `Poll` the socket is registered with, in both builds.
    #[cfg(any(debug_assertions, windows))]
    {
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(
            err.to_string(),
            "I/O source already registered with a different `Registry`"
        );
    }
    #[cfg(all(unix, not(debug_assertions)))]
    {
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert_eq!(err.raw_os_error(), Some(2), "{err}");
    }
    // The registration with the first poll is intact.
    poll1
        .registry()
        .reregister(&mut sender, Token(1), Interest::WRITABLE)
        .unwrap();
    poll1.registry().deregister(&mut sender).unwrap();
}

#[test]
fn io_source_deregister_through_a_different_registry() {
    let poll1 = Poll::new().unwrap();
    let poll2 = Poll::new().unwrap();
    let (_sender, mut receiver) = io_pair();
    poll1
        .registry()
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap();
    let err = poll2.registry().deregister(&mut receiver).unwrap_err();
    #[cfg(debug_assertions)]
    {
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(
            err.to_string(),
            "I/O source already registered with a different `Registry`"
        );
        // A failed deregister still clears the association (as upstream): the first poll
        // now answers "not registered" although the kernel registration remains.
        let err = poll1.registry().deregister(&mut receiver).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert_eq!(err.to_string(), "I/O source not registered with `Registry`");
    }
    #[cfg(all(unix, not(debug_assertions)))]
    {
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        poll1.registry().deregister(&mut receiver).unwrap();
    }
    // Windows: refused as registered elsewhere, and the registration with the first is intact.
    #[cfg(all(windows, not(debug_assertions)))]
    {
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(
            err.to_string(),
            "I/O source already registered with a different `Registry`"
        );
        poll1.registry().deregister(&mut receiver).unwrap();
    }
}

#[test]
fn io_source_through_a_cloned_registry_is_the_same_registry() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let clone = poll.registry().try_clone().unwrap();
    let (mut sender, mut receiver) = io_pair();
    clone
        .register(&mut receiver, Token(0), Interest::READABLE)
        .unwrap();
    poll.registry()
        .reregister(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
    sender.write_all(b"x").unwrap();
    expect_event(&mut poll, &mut events, Token(1));
    clone.deregister(&mut receiver).unwrap();
    // Registering again through either is fine, and a second register through the other
    // is refused.
    poll.registry()
        .register(&mut receiver, Token(2), Interest::READABLE)
        .unwrap();
    let err = clone
        .register(&mut receiver, Token(3), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
}

// --- Source kinds accepted by `Registry`. ----------------------------------------------

#[test]
fn register_dyn_source_and_boxes() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);

    // `&mut dyn Source`.
    let (mut s1, mut r1) = io_pair();
    {
        let source: &mut dyn Source = &mut r1;
        poll.registry()
            .register(source, Token(1), Interest::READABLE)
            .unwrap();
    }
    s1.write_all(b"1").unwrap();
    expect_event(&mut poll, &mut events, Token(1));
    let source: &mut dyn Source = &mut r1;
    poll.registry()
        .reregister(source, Token(11), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(11));
    poll.registry().deregister(source).unwrap();

    // `Box<dyn Source>`, both as the box and as the unsized content.
    let (mut s2, r2) = io_pair();
    let mut boxed: Box<dyn Source> = Box::new(r2);
    poll.registry()
        .register(&mut boxed, Token(2), Interest::READABLE)
        .unwrap();
    s2.write_all(b"2").unwrap();
    expect_event(&mut poll, &mut events, Token(2));
    poll.registry()
        .reregister(&mut *boxed, Token(22), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(22));
    poll.registry().deregister(&mut boxed).unwrap();

    // `Box<SourceFd>` (Windows: a boxed `Pair`, a user `Source`).
    #[cfg(unix)]
    let (a, mut b) = util::unix_pair();
    #[cfg(unix)]
    let fd = a.as_raw_fd();
    #[cfg(unix)]
    let mut boxed_fd = Box::new(SourceFd(&fd));
    #[cfg(windows)]
    let mut boxed_fd = Box::new(Pair::new());
    poll.registry()
        .register(&mut boxed_fd, Token(3), Interest::READABLE)
        .unwrap();
    #[cfg(unix)]
    b.write_all(b"3").unwrap();
    #[cfg(windows)]
    boxed_fd.peer.write_all(b"3").unwrap();
    expect_event(&mut poll, &mut events, Token(3));
    poll.registry().deregister(&mut boxed_fd).unwrap();

    // A `Vec` of boxed sources of different types.
    let (mut s4, r4) = io_pair();
    #[cfg(unix)]
    let (a5, mut b5) = util::unix_pair();
    #[cfg(unix)]
    let fd5 = a5.as_raw_fd();
    #[cfg(unix)]
    let source5 = SourceFd(&fd5);
    // Windows: written before it is boxed (and so before registering: pending data is
    // reported on registering).
    #[cfg(windows)]
    let mut source5 = Pair::new();
    #[cfg(windows)]
    source5.peer.write_all(b"5").unwrap();
    let mut sources: Vec<Box<dyn Source + '_>> = vec![Box::new(r4), Box::new(source5)];
    for (i, source) in sources.iter_mut().enumerate() {
        poll.registry()
            .register(source, Token(40 + i), Interest::READABLE)
            .unwrap();
    }
    s4.write_all(b"4").unwrap();
    #[cfg(unix)]
    b5.write_all(b"5").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![
            ExpectEvent::new(Token(40), Readiness::READABLE),
            ExpectEvent::new(Token(41), Readiness::READABLE),
        ],
    );
    for source in sources.iter_mut() {
        poll.registry().deregister(source).unwrap();
    }
}

/// A user-written `Source` that delegates, and one whose errors pass straight through.
#[test]
fn user_sources() {
    struct Wrapper {
        inner: Receiver,
        calls: usize,
    }
    impl Source for Wrapper {
        fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
            self.calls += 1;
            r.register(&mut self.inner, t, i)
        }
        fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
            self.calls += 1;
            r.reregister(&mut self.inner, t, i)
        }
        fn deregister(&mut self, r: &Registry) -> io::Result<()> {
            self.calls += 1;
            r.deregister(&mut self.inner)
        }
    }

    struct Failing;
    impl Source for Failing {
        fn register(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
            Err(io::Error::new(io::ErrorKind::Other, "register refused"))
        }
        fn reregister(&mut self, _: &Registry, _: Token, _: Interest) -> io::Result<()> {
            Err(io::Error::from_raw_os_error(95))
        }
        fn deregister(&mut self, _: &Registry) -> io::Result<()> {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "deregister refused",
            ))
        }
    }

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, receiver) = io_pair();
    let mut wrapper = Wrapper {
        inner: receiver,
        calls: 0,
    };
    poll.registry()
        .register(&mut wrapper, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .reregister(&mut wrapper, Token(2), Interest::READABLE)
        .unwrap();
    sender.write_all(b"x").unwrap();
    expect_event(&mut poll, &mut events, Token(2));
    poll.registry().deregister(&mut wrapper).unwrap();
    assert_eq!(wrapper.calls, 3);

    let err = poll
        .registry()
        .register(&mut Failing, Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Other);
    assert_eq!(err.to_string(), "register refused");
    let err = poll
        .registry()
        .reregister(&mut Failing, Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(95));
    let err = poll.registry().deregister(&mut Failing).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    assert_eq!(err.to_string(), "deregister refused");
}

#[test]
fn every_interest_combination_registers() {
    let poll = Poll::new().unwrap();
    let mut pair = Pair::new();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let combos = [
        Interest::READABLE,
        Interest::WRITABLE,
        Interest::PRIORITY,
        Interest::READABLE | Interest::WRITABLE,
        Interest::READABLE | Interest::PRIORITY,
        Interest::WRITABLE | Interest::PRIORITY,
        Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY,
    ];
    // `PRIORITY` exists on Linux and Android only.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let combos = [
        Interest::READABLE,
        Interest::WRITABLE,
        Interest::READABLE | Interest::WRITABLE,
    ];
    for interest in combos {
        poll.registry()
            .register(&mut pair, Token(0), interest)
            .unwrap();
        for other in combos {
            poll.registry()
                .reregister(&mut pair, Token(1), other)
                .unwrap();
        }
        poll.registry().deregister(&mut pair).unwrap();
    }
}

/// `PRIORITY` on a Unix stream registers fine; plain data is readable but not priority (OOB
/// data needs TCP, tested with `mio::net`).
#[test]
#[cfg(any(target_os = "linux", target_os = "android"))] // `PRIORITY`: Linux and Android only.
fn priority_interest_on_a_unix_stream() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = util::unix_pair();
    poll.registry()
        .register(
            &mut SourceFd(&a.as_raw_fd()),
            Token(0),
            Interest::READABLE | Interest::PRIORITY,
        )
        .unwrap();
    expect_no_events(&mut poll, &mut events);
    b.write_all(b"plain").unwrap();
    let event = expect_event(&mut poll, &mut events, Token(0));
    assert!(event.readable);
    assert!(!event.priority);

    // PRIORITY alone: ordinary data brings nothing.
    let (c, mut d) = util::unix_pair();
    poll.registry()
        .register(&mut SourceFd(&c.as_raw_fd()), Token(1), Interest::PRIORITY)
        .unwrap();
    d.write_all(b"plain").unwrap();
    expect_no_event_for(&mut poll, &mut events, Token(1));
}
