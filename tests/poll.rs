//! Tests of `Poll`: timeouts, capacity and batching, edge triggering, signals, fds and drop.
//! The readiness tests use `util::Pair` (a Unix stream pair registered as a raw fd on Unix, a
//! loopback `mio::net::TcpStream` on Windows, which has no raw-handle source).
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
// Windows: `util::Pair` is a `mio::net::TcpStream` there.
#![cfg(any(unix, feature = "net"))]

mod util;

use std::io::{self, Write};
#[cfg(unix)]
use std::os::fd::AsRawFd;
#[cfg(unix)]
use std::os::unix::thread::JoinHandleExt;
#[cfg(unix)]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(unix)]
use std::sync::{mpsc, Arc};
#[cfg(unix)]
use std::thread;
use std::time::Duration;

#[cfg(unix)]
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Token, Waker};

// `fill` only serves a test the poll(2) fallback leaves out.
#[cfg(unix)]
use util::expect_event;
#[cfg_attr(mio_unsupported_force_poll_poll, allow(unused_imports))]
use util::{
    assert_send, assert_sync, drain, expect_events, expect_no_events, fd_count, fill, poll_once,
    run_isolated, ExpectEvent, Pair, Readiness,
};

#[test]
fn is_send_and_sync() {
    assert_send::<Poll>();
    assert_sync::<Poll>();
}

#[test]
#[cfg(all(unix, not(debug_assertions)))] // One fd: a Unix layout (Windows holds an `Arc`).
fn size_in_release_is_one_fd() {
    assert_eq!(std::mem::size_of::<Poll>(), 4);
}

#[test]
fn debug() {
    let poll = Poll::new().unwrap();
    assert_eq!(format!("{:?}", poll), "Poll");
    assert_eq!(format!("{:#?}", poll), "Poll");
}

#[cfg(all(unix, not(mio_unsupported_force_poll_poll)))] // `AsRawFd for Poll` is epoll-only.
#[cfg(not(mio_unsupported_test_libkqueue))] // See `as_raw_fd_is_a_cloexec_epoll_fd`.
fn assert_is_cloexec_epoll(fd: std::os::fd::RawFd) {
    assert!(fd >= 0);
    assert_eq!(util::fd_target(fd).unwrap(), "anon_inode:[eventpoll]");
    // SAFETY: `fd` is open for the duration of this call (owned by a live `Poll`/`Registry`).
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let flags = rustix::io::fcntl_getfd(borrowed).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
}

// `AsRawFd for Poll` is epoll-only; and not over libkqueue (`mio_unsupported_test_libkqueue`),
// whose queue fd is the write end of a pipe (`linux_kqueue_init` in its
// src/linux/platform.c), not an epoll fd.
#[test]
#[cfg(all(
    unix,
    not(mio_unsupported_force_poll_poll),
    not(mio_unsupported_test_libkqueue)
))]
fn as_raw_fd_is_a_cloexec_epoll_fd() {
    let poll = Poll::new().unwrap();
    let fd = poll.as_raw_fd();
    assert_is_cloexec_epoll(fd);
    assert_eq!(fd, poll.registry().as_raw_fd());
}

#[test]
fn timeout_with_nothing_ready_returns_ok_and_no_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(0), Interest::READABLE)
        .unwrap();
    let seen = poll_once(&mut poll, &mut events, Some(Duration::from_millis(20)));
    assert!(seen.is_empty(), "{seen:?}");
    assert!(events.is_empty());
}

#[test]
fn sub_millisecond_timeouts_return_ok_and_no_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    for timeout in [
        Duration::from_nanos(1),
        Duration::from_micros(1),
        Duration::from_micros(999),
        Duration::from_micros(1500),
    ] {
        let seen = poll_once(&mut poll, &mut events, Some(timeout));
        assert!(seen.is_empty(), "{timeout:?}: {seen:?}");
    }
}

#[test]
fn zero_duration_polls_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), Token(5)).unwrap();

    let seen = poll_once(&mut poll, &mut events, Some(Duration::ZERO));
    assert!(seen.is_empty(), "{seen:?}");

    waker.wake().unwrap();
    let seen = poll_once(&mut poll, &mut events, Some(Duration::ZERO));
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, Token(5));
    assert!(seen[0].readable);

    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(6), Interest::READABLE)
        .unwrap();
    pair.peer.write_all(b"x").unwrap();
    // Windows: AFD completes its poll request asynchronously after the data arrives (under
    // Wine, through the wineserver), so a zero timeout may come before the completion is
    // queued. Polled with a zero timeout until it is (bounded); on Unix the first call sees it.
    let mut seen = poll_once(&mut poll, &mut events, Some(Duration::ZERO));
    if cfg!(windows) {
        let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
        while seen.is_empty() && std::time::Instant::now() < deadline {
            std::thread::yield_now();
            seen = poll_once(&mut poll, &mut events, Some(Duration::ZERO));
        }
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, Token(6));
}

#[test]
fn duration_max_returns_when_an_event_is_ready() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), Token(1)).unwrap();
    waker.wake().unwrap();
    let seen = poll_once(&mut poll, &mut events, Some(Duration::MAX));
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, Token(1));

    // Just above the `c_int::MAX` milliseconds clamp, and a value whose rounding up overflows.
    for timeout in [
        Duration::from_millis(i32::MAX as u64 + 1),
        Duration::new(u64::MAX, 999_999_999),
        Duration::from_secs(u64::MAX / 1000),
    ] {
        waker.wake().unwrap();
        let seen = poll_once(&mut poll, &mut events, Some(timeout));
        assert_eq!(seen.len(), 1, "{timeout:?}: {seen:?}");
    }
}

#[test]
fn capacity_zero_is_invalid_input() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(0);
    // Even with something ready and with no timeout, the call fails at once.
    let waker = Waker::new(poll.registry(), Token(0)).unwrap();
    waker.wake().unwrap();
    for timeout in [None, Some(Duration::ZERO), Some(Duration::from_millis(10))] {
        let err = poll.poll(&mut events, timeout).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // EINVAL from epoll_wait(2); the Windows selector refuses before calling the port,
        // with the same kind and no OS code.
        #[cfg(unix)]
        assert_eq!(err.raw_os_error(), Some(22), "{err}");
        assert!(events.is_empty());
    }
    // The event was not consumed by the failed calls.
    let mut events = Events::with_capacity(4);
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(0), Readiness::READABLE)],
    );
}

/// Capacity 2 and 5 ready sources: all five come over three calls, none twice.
// poll(2) fallback: undrained raw fds are reported again after a back-off (see
// `raw_fd_edges_are_sampled` below), so "none twice" only holds on epoll.
#[cfg(not(mio_unsupported_force_poll_poll))]
#[test]
fn small_capacity_batches_without_loss_or_duplicates() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(2);
    let mut pairs = Vec::new();
    for i in 0..5 {
        let mut pair = Pair::new();
        poll.registry()
            .register(&mut pair, Token(i), Interest::READABLE)
            .unwrap();
        pair.peer.write_all(b"ready").unwrap();
        pairs.push(pair);
    }
    let mut tokens = Vec::new();
    let mut sizes = Vec::new();
    if cfg!(unix) {
        for _ in 0..3 {
            let batch = poll_once(&mut poll, &mut events, Some(Duration::from_secs(2)));
            assert!(batch.len() <= 2, "{batch:?}");
            sizes.push(batch.len());
            tokens.extend(batch.iter().map(|e| e.token.0));
        }
        assert_eq!(sizes, vec![2, 2, 1]);
    } else {
        // Windows: AFD completions are queued asynchronously as the data arrives, so a poll
        // may come before all five are queued and the batch sizes are not fixed; what is
        // fixed is at most two per call, and all five, each once.
        let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
        while tokens.len() < 5 && std::time::Instant::now() < deadline {
            let batch = poll_once(&mut poll, &mut events, Some(Duration::from_millis(250)));
            assert!(batch.len() <= 2, "{batch:?}");
            sizes.push(batch.len());
            tokens.extend(batch.iter().map(|e| e.token.0));
        }
        assert!(sizes.contains(&2), "never a full batch of 2: {sizes:?}");
    }
    tokens.sort_unstable();
    assert_eq!(tokens, vec![0, 1, 2, 3, 4]);
    expect_no_events(&mut poll, &mut events);
}

// With the poll(2) fallback a raw fd (`SourceFd`) cannot be re-armed by a `WouldBlock` (no
// operation goes through mio): it is sampled instead, and a readiness nobody drained is
// reported again after a back-off, so "no second event without draining" only holds on epoll.
// mio's own types re-arm exactly; see tests/pipe.rs and tests/net_*.
#[cfg(not(mio_unsupported_force_poll_poll))]
#[test]
fn edge_triggered_socket() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(1), Interest::READABLE)
        .unwrap();
    expect_no_events(&mut poll, &mut events);

    pair.peer.write_all(b"hello").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(1), Readiness::READABLE)],
    );
    // Not read: edge triggering reports it once.
    expect_no_events(&mut poll, &mut events);

    assert_eq!(drain(&pair.local), 5);
    expect_no_events(&mut poll, &mut events);

    // New data after `WouldBlock` makes a new edge.
    pair.peer.write_all(b"again").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(1), Readiness::READABLE)],
    );
    expect_no_events(&mut poll, &mut events);
    assert_eq!(drain(&pair.local), 5);
}

// With the poll(2) fallback a raw fd (`SourceFd`) cannot be re-armed by a `WouldBlock` (no
// operation goes through mio): it is sampled instead, and a readiness nobody drained is
// reported again after a back-off, so "no second event without draining" only holds on epoll.
// mio's own types re-arm exactly; see tests/pipe.rs and tests/net_*.
#[cfg(all(unix, not(mio_unsupported_force_poll_poll)))] // eventfd: Linux only.
#[test]
fn edge_triggered_eventfd() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let efd = util::eventfd();
    poll.registry()
        .register(
            &mut SourceFd(&efd.as_raw_fd()),
            Token(2),
            Interest::READABLE,
        )
        .unwrap();
    expect_no_events(&mut poll, &mut events);
    util::eventfd_signal(&efd);
    expect_event(&mut poll, &mut events, Token(2));
    expect_no_events(&mut poll, &mut events);
    assert_eq!(util::eventfd_drain(&efd), 1);
    assert_eq!(util::eventfd_drain(&efd), 0); // WouldBlock
    util::eventfd_signal(&efd);
    expect_event(&mut poll, &mut events, Token(2));
    expect_no_events(&mut poll, &mut events);
}

// With the poll(2) fallback a raw fd (`SourceFd`) cannot be re-armed by a `WouldBlock` (no
// operation goes through mio): it is sampled instead, and a readiness nobody drained is
// reported again after a back-off, so "no second event without draining" only holds on epoll.
// mio's own types re-arm exactly; see tests/pipe.rs and tests/net_*.
#[cfg(not(mio_unsupported_force_poll_poll))]
#[test]
fn writable_rearms_after_would_block() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(3), Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(3), Readiness::WRITABLE)],
    );
    expect_no_events(&mut poll, &mut events);

    assert!(fill(&pair.local) > 0);
    expect_no_events(&mut poll, &mut events);

    // Making room gives a new writable edge.
    assert!(drain(&pair.peer) > 0);
    if cfg!(unix) {
        expect_events(
            &mut poll,
            &mut events,
            vec![ExpectEvent::new(Token(3), Readiness::WRITABLE)],
        );
    } else {
        // TCP (Windows): one drain of the peer may free too little of the sender's buffer
        // for it to count as writable; keep draining (bounded) until the edge comes.
        let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
        loop {
            let seen = poll_once(&mut poll, &mut events, Some(Duration::from_millis(100)));
            if seen.iter().any(|e| e.token == Token(3) && e.writable) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no writable edge after draining the peer"
            );
            drain(&pair.peer);
        }
    }
}

#[test]
fn readable_and_writable_on_one_source() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut pair = Pair::new();
    pair.peer.write_all(b"pending").unwrap();
    // Data already waiting is reported on the first poll after registering.
    poll.registry()
        .register(&mut pair, Token(4), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![
            ExpectEvent::new(Token(4), Readiness::READABLE),
            ExpectEvent::new(Token(4), Readiness::WRITABLE),
        ],
    );
}

#[cfg(unix)] // Signals: Unix only.
extern "C" fn noop_signal_handler(_: libc::c_int) {}

/// Installs a no-op `SIGUSR1` handler, with `SA_RESTART` (which epoll_wait ignores).
#[cfg(unix)] // Signals: Unix only.
fn install_sigusr1_handler() {
    // SAFETY: a zeroed `sigaction` is a valid value; the handler is async-signal-safe (it
    // does nothing), and `sigemptyset`/`sigaction` get valid pointers.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction =
            noop_signal_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
}

/// A signal to the thread blocked in `poll(None)` makes it return `Interrupted` (not retried),
/// with `events` cleared; the next `poll` works.
#[test]
#[cfg(unix)] // Signals: Unix only.
fn signal_interrupts_poll() {
    install_sigusr1_handler();
    let mut poll = Poll::new().unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), Token(7)).unwrap());
    let give_up = Arc::new(AtomicBool::new(false));
    let (report_tx, report_rx) = mpsc::channel::<Result<bool, String>>();
    let (go_tx, go_rx) = mpsc::channel::<()>();

    let poller = {
        let waker = Arc::clone(&waker);
        let give_up = Arc::clone(&give_up);
        thread::spawn(move || -> (usize, bool) {
            let mut events = Events::with_capacity(8);
            // Fill `events` first, to see that a failing call clears it.
            waker.wake().unwrap();
            expect_event(&mut poll, &mut events, Token(7));
            assert!(!events.is_empty());
            loop {
                match poll.poll(&mut events, None) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        report_tx.send(Ok(events.is_empty())).unwrap();
                        break;
                    }
                    Ok(()) if give_up.load(Ordering::SeqCst) => {
                        report_tx
                            .send(Err("poll(None) never returned Interrupted".into()))
                            .unwrap();
                        return (0, false);
                    }
                    Ok(()) => continue,
                    Err(e) => {
                        report_tx
                            .send(Err(format!("unexpected error {e}")))
                            .unwrap();
                        return (0, false);
                    }
                }
            }
            go_rx.recv().unwrap();
            // The main thread sent no signal since it got the report, but one sent just
            // before may still be pending: at most one more `Interrupted`.
            let mut interrupts = 0;
            for _ in 0..20 {
                match poll.poll(&mut events, Some(Duration::from_secs(5))) {
                    Ok(()) => {
                        let woke = events.iter().any(|e| e.token() == Token(7));
                        return (interrupts, woke);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => interrupts += 1,
                    Err(e) => panic!("poll after Interrupted failed: {e}"),
                }
            }
            (interrupts, false)
        })
    };

    // std's `RawPthread` is an integer; libc's `pthread_t` is one on glibc, a pointer on musl.
    #[allow(clippy::unnecessary_cast)]
    let pthread = poller.as_pthread_t() as libc::pthread_t;
    let mut report = None;
    for _ in 0..500 {
        // SAFETY: the poller thread is not joined yet (we hold its handle), so its
        // `pthread_t` is valid; the signal has a handler installed.
        let rc = unsafe { libc::pthread_kill(pthread, libc::SIGUSR1) };
        assert_eq!(rc, 0);
        match report_rx.recv_timeout(Duration::from_millis(10)) {
            Ok(r) => {
                report = Some(r);
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if report.is_none() {
        give_up.store(true, Ordering::SeqCst);
        waker.wake().unwrap();
        report = report_rx.recv_timeout(Duration::from_secs(5)).ok();
    }
    let _ = go_tx.send(());
    waker.wake().unwrap();
    let (interrupts, woke) = poller.join().unwrap();
    let cleared = report
        .expect("the poller thread died")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cleared, "events were not cleared by the failing poll");
    assert!(
        interrupts <= 1,
        "{interrupts} more Interrupted after the signals stopped"
    );
    assert!(
        woke,
        "the poll after Interrupted did not deliver the waker event"
    );
}

/// 2000 cycles of creating and dropping a `Poll`, a `Waker`, a cloned `Registry` and
/// registered pipes (Windows: a registered TCP pair) leave the number of open fds (Windows:
/// handles) unchanged.
#[test]
fn no_fd_leak_over_create_drop_cycles() {
    run_isolated("no_fd_leak_over_create_drop_cycles", || {
        fn cycle() {
            let mut poll = Poll::new().unwrap();
            let registry = poll.registry().try_clone().unwrap();
            let waker = Waker::new(&registry, Token(0)).unwrap();
            #[cfg(unix)]
            {
                let (mut sender, mut receiver) = pipe::new().unwrap();
                registry
                    .register(&mut sender, Token(1), Interest::WRITABLE)
                    .unwrap();
                poll.registry()
                    .register(&mut receiver, Token(2), Interest::READABLE)
                    .unwrap();
            }
            #[cfg(windows)]
            let _pair = {
                let mut pair = Pair::new();
                registry
                    .register(&mut pair, Token(1), Interest::READABLE | Interest::WRITABLE)
                    .unwrap();
                pair
            };
            waker.wake().unwrap();
            let mut events = Events::with_capacity(4);
            poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
            assert!(!events.is_empty());
        }
        // Over libkqueue: the fds it keeps for the process are opened first, and the fds of a
        // dropped `Poll` go a little later (see the end of `util`). Nothing elsewhere.
        util::libkqueue_warm_up();
        let warm = fd_count();
        cycle(); // warm-up: lazily opened fds, if any.
        let before = util::fd_count_settled(warm);
        for _ in 0..2000 {
            cycle();
        }
        assert_eq!(
            util::fd_count_settled(before),
            before,
            "fd count grew over 2000 cycles"
        );
    });
}

/// Dropping a `Poll` (and a cloned `Registry`, and a `Waker`) closes each one's fd.
///
/// Over libkqueue (see the end of `util`): a `Poll` is `LIBKQUEUE_FDS_PER_QUEUE` fds, and
/// `LIBKQUEUE_FDS_WHILE_ANY_QUEUE` more while it is the only one (counted after a warm-up
/// that opens the fds kept for the process); a clone shares the queue fd, as libkqueue knows
/// a queue only by the number `kqueue()` returned (its `kqueue_lookup`,
/// src/common/kevent.c:485); the `Waker`'s EVFILT_USER knote is an eventfd
/// (src/linux/user.c:140); the queue fd closes with the last handle, and the rest is freed a
/// little later by libkqueue's monitoring thread.
#[test]
#[cfg(all(unix, not(mio_unsupported_force_poll_poll)))] // `AsRawFd for Poll` is epoll-only.
fn drop_closes_fds() {
    run_isolated("drop_closes_fds", || {
        util::libkqueue_warm_up();
        #[cfg(not(mio_unsupported_test_libkqueue))]
        let (poll_fds, clone_fds) = (1, 1);
        #[cfg(mio_unsupported_test_libkqueue)]
        let (poll_fds, clone_fds) = (
            util::LIBKQUEUE_FDS_PER_QUEUE + util::LIBKQUEUE_FDS_WHILE_ANY_QUEUE,
            0,
        );
        let before = fd_count();
        let poll = Poll::new().unwrap();
        assert_eq!(fd_count(), before + poll_fds);
        let clone = poll.registry().try_clone().unwrap();
        assert_eq!(fd_count(), before + poll_fds + clone_fds);
        if clone_fds == 0 {
            assert_eq!(clone.as_raw_fd(), poll.as_raw_fd());
        } else {
            assert_ne!(clone.as_raw_fd(), poll.as_raw_fd());
        }
        let waker = Waker::new(&clone, Token(0)).unwrap();
        // An eventfd, or the two ends of a pipe with the pipe waker (also kqueue without
        // `EVFILT_USER`); a kqueue user event opens none (libkqueue's: an eventfd,
        // src/linux/user.c:140).
        let waker_fds = if cfg!(any(
            mio_unsupported_force_waker_pipe,
            all(mio_kqueue_os, not(mio_evfilt_user))
        )) {
            2
        } else if cfg!(all(mio_evfilt_user, not(mio_unsupported_test_libkqueue))) {
            0
        } else {
            1
        };
        assert_eq!(fd_count(), before + poll_fds + clone_fds + waker_fds);
        drop(waker);
        assert_eq!(fd_count(), before + poll_fds + clone_fds);
        drop(clone);
        assert_eq!(fd_count(), before + poll_fds);
        let fd = poll.as_raw_fd();
        drop(poll);
        assert!(util::fd_target(fd).is_err(), "fd {fd} still open");
        assert_eq!(util::fd_count_settled(before), before);
    });
}

/// Windows: the handles a `Poll` holds. One completion port per `Poll`; a cloned `Registry`
/// and a `Waker` share it (no handle of their own, unlike the epoll fd clone and the eventfd
/// on Linux); registered sockets share `\Device\Afd` handles (one per 32 sockets). All of it
/// is closed when the last of them is dropped.
#[test]
#[cfg(all(windows, feature = "net"))]
fn drop_closes_handles() {
    run_isolated("drop_closes_handles", || {
        let mut pair = Pair::new();
        let before = fd_count();
        let poll = Poll::new().unwrap();
        assert_eq!(fd_count(), before + 1, "the completion port");
        let clone = poll.registry().try_clone().unwrap();
        let waker = Waker::new(&clone, Token(0)).unwrap();
        assert_eq!(fd_count(), before + 1, "a clone or a Waker opened a handle");
        clone
            .register(&mut pair, Token(1), Interest::READABLE)
            .unwrap();
        assert_eq!(fd_count(), before + 2, "the AFD handle");
        drop(waker);
        drop(poll);
        assert_eq!(fd_count(), before + 2, "the clone keeps the port");
        // The pool keeps its current AFD handle for the next socket while the port lives.
        clone.deregister(&mut pair).unwrap();
        drop(clone);
        assert_eq!(
            fd_count(),
            before,
            "the port or the AFD handle outlived the last handle"
        );
    });
}

#[test]
fn dropping_poll_leaves_sources_open_and_clones_working() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry().try_clone().unwrap();
    let mut pair = Pair::new();
    poll.registry()
        .register(&mut pair, Token(0), Interest::READABLE)
        .unwrap();
    drop(poll);
    // The source is untouched.
    pair.peer.write_all(b"x").unwrap();
    let mut read = 0;
    let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
    // Over TCP (Windows) the byte may take a moment to arrive.
    while read == 0 && std::time::Instant::now() < deadline {
        read = drain(&pair.local);
        if read == 0 {
            std::thread::yield_now();
        }
    }
    assert_eq!(read, 1);
    // The clone still holds the epoll instance (Windows: the port), with the registration.
    let err = registry
        .register(&mut pair, Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    registry.deregister(&mut pair).unwrap();
}

/// poll(2) fallback: a raw fd (what tokio's `AsyncFd` registers) that was drained after its
/// event is reported again when new data arrives, although no `WouldBlock` went through mio.
#[cfg(mio_unsupported_force_poll_poll)]
#[test]
fn raw_fd_edges_are_sampled() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut a, mut b) = util::unix_pair();
    poll.registry()
        .register(&mut SourceFd(&a.as_raw_fd()), Token(7), Interest::READABLE)
        .unwrap();
    for round in 0..3 {
        b.write_all(b"data").unwrap();
        expect_event(&mut poll, &mut events, Token(7));
        drain(&mut a);
        // Drained: the next poll samples it, sees it not ready, and watches it again.
        expect_no_events(&mut poll, &mut events);
        assert!(round < 3);
    }
    b.write_all(b"more").unwrap();
    expect_event(&mut poll, &mut events, Token(7));
}
