//! A signal delivered to a thread blocked in `Poll::poll` makes that poll return
//! `ErrorKind::Interrupted` (with no events), whether the handler was installed with
//! `SA_RESTART` or not (epoll_wait(2) and poll(2) are never restarted, see signal(7)), and the
//! next poll works: it reports the readiness that came after.
//!
//! The handler is a no-op installed with `sigaction`; each test uses its own signal, so tests
//! running at the same time do not share a handler. The signal is sent with `pthread_kill` to
//! the polling thread, again (bounded) until that thread reports the interruption: a signal
//! that lands before the thread blocks is simply handled and does nothing.
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
#![cfg(unix)] // POSIX signals (sigaction, pthread_kill): Unix only.

use std::io::{ErrorKind, Write};
use std::os::unix::thread::JoinHandleExt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use mio::unix::pipe;
use mio::{Events, Interest, Poll, Token, Waker};

const WAKE: Token = Token(10);
const PIPE: Token = Token(20);

extern "C" fn noop(_: libc::c_int) {}

fn install_noop_handler(signal: libc::c_int, restart: bool) {
    // SAFETY: a zeroed `sigaction` is a valid value (no flags, empty mask) that is then filled
    // in; `noop` is async-signal-safe (it does nothing).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = noop as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = if restart { libc::SA_RESTART } else { 0 };
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(signal, &action, std::ptr::null_mut()),
            0,
            "sigaction"
        );
    }
}

/// What the polling thread saw.
#[derive(Debug, PartialEq)]
enum Phase1 {
    /// `poll` returned `Interrupted`, with the events buffer empty.
    Interrupted,
    /// `poll` returned normally (the main thread gave up and woke it).
    NotInterrupted,
}

fn interrupted_then_works(signal: libc::c_int, restart: bool, timeout: Option<Duration>) {
    install_noop_handler(signal, restart);
    let mut poll = Poll::new().unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, PIPE, Interest::READABLE)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();

    let poller = thread::spawn(move || {
        let mut events = Events::with_capacity(8);
        // Phase 1: one blocking poll, which only a signal (or the main thread's give-up wake)
        // ends.
        let phase1 = match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() == ErrorKind::Interrupted => {
                assert!(events.is_empty(), "events with Interrupted");
                Phase1::Interrupted
            }
            Ok(()) => Phase1::NotInterrupted,
            Err(e) => panic!("poll: unexpected error {e:?}"),
        };
        tx.send(phase1).unwrap();
        // Phase 2: once data is written, the next polls report it. More signals sent before
        // the main thread saw phase 1 may still interrupt a poll: retried, bounded.
        go_rx.recv().unwrap();
        for _ in 0..50 {
            match poll.poll(&mut events, Some(Duration::from_millis(200))) {
                Ok(()) => {
                    if events.iter().any(|e| e.token() == PIPE && e.is_readable()) {
                        return true;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("poll after the interruption: {e:?}"),
            }
        }
        drop(receiver);
        false
    });

    // An integer in std, a pointer in musl's libc.
    #[allow(clippy::unnecessary_cast)]
    let thread = poller.as_pthread_t() as libc::pthread_t;
    let mut phase1 = None;
    for _ in 0..200 {
        // SAFETY: `thread` is a live thread: it is joined only below.
        let rc = unsafe { libc::pthread_kill(thread, signal) };
        assert_eq!(rc, 0, "pthread_kill");
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(seen) => {
                phase1 = Some(seen);
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if phase1.is_none() {
        // Never interrupted: release the thread so the test ends, and fail below.
        waker.wake().unwrap();
        phase1 = rx.recv_timeout(Duration::from_secs(10)).ok();
    }
    sender.write_all(b"after the signal").unwrap();
    go_tx.send(()).unwrap();
    let phase2 = poller.join().expect("polling thread panicked");
    assert_eq!(
        phase1,
        Some(Phase1::Interrupted),
        "poll was not interrupted"
    );
    assert!(
        phase2,
        "the poll after the interruption missed the readiness"
    );
}

#[test]
fn blocking_poll_interrupted_without_sa_restart() {
    interrupted_then_works(libc::SIGUSR1, false, None);
}

#[test]
fn blocking_poll_interrupted_with_sa_restart() {
    interrupted_then_works(libc::SIGUSR2, true, None);
}

#[test]
fn timed_poll_interrupted_without_sa_restart() {
    interrupted_then_works(libc::SIGWINCH, false, Some(Duration::from_secs(30)));
}

#[test]
fn timed_poll_interrupted_with_sa_restart() {
    interrupted_then_works(libc::SIGURG, true, Some(Duration::from_secs(30)));
}

/// Signals arriving again and again while a thread polls with a timeout: every call returns
/// `Ok` or `Interrupted`, never another error, and readiness is not lost across them.
#[test]
fn signal_storm_loses_no_readiness() {
    install_noop_handler(libc::SIGPROF, false);
    let mut poll = Poll::new().unwrap();
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, PIPE, Interest::READABLE)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let poller = thread::spawn(move || {
        let mut events = Events::with_capacity(8);
        let mut interrupted = 0;
        let mut readable = false;
        // Bounded: the data is written after 20 signals; 400 polls of at most 50 ms.
        for _ in 0..400 {
            match poll.poll(&mut events, Some(Duration::from_millis(50))) {
                Ok(()) => {
                    if events.iter().any(|e| e.token() == PIPE && e.is_readable()) {
                        readable = true;
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    interrupted += 1;
                    let _ = tx.send(());
                }
                Err(e) => panic!("poll: unexpected error {e:?}"),
            }
        }
        drop(receiver);
        (interrupted, readable)
    });
    // An integer in std, a pointer in musl's libc.
    #[allow(clippy::unnecessary_cast)]
    let thread = poller.as_pthread_t() as libc::pthread_t;
    let mut acknowledged = 0;
    for _ in 0..400 {
        if acknowledged == 20 {
            break;
        }
        // SAFETY: `thread` is joined only below.
        assert_eq!(unsafe { libc::pthread_kill(thread, libc::SIGPROF) }, 0);
        if rx.recv_timeout(Duration::from_millis(20)).is_ok() {
            acknowledged += 1;
        }
    }
    sender.write_all(b"x").unwrap();
    let (interrupted, readable) = poller.join().expect("polling thread panicked");
    assert!(interrupted >= 20, "only {interrupted} interruptions");
    assert!(readable, "readability lost among the interruptions");
}
