//! Tests of the `signal` extra (`mio::signal::Signals`, not in upstream mio): which signals
//! arrived, coalescing, several `Signals` on one or several `Poll`s, another user of the shared
//! handler registry beside them, a storm, bad signal numbers, and the full lifecycle. They run
//! under epoll, poll(2) and the kqueue selector over libkqueue.
//!
//! Signals belong to the whole process and the tests of this file run on parallel threads of
//! one process, so each test has its own real-time signal (`sig(n)`): a signal another test
//! raises never reaches its `Signals`.
// `Signals` exists on every Unix; the real-time signals that keep the tests apart are used
// as Linux and Android number them (the suite runs on Linux).
#![cfg(all(feature = "signal", any(target_os = "linux", target_os = "android")))]

mod util;

use std::io;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::signal::{SignalSet, Signals};
use mio::{Events, Interest, Poll, Token};

use util::{
    assert_lifecycle_errors, assert_send, assert_sync, expect_event, expect_no_event_for, fd_count,
    fd_count_settled, libkqueue_deregister_before_close, libkqueue_warm_up, poll_once, registered,
    run_isolated,
};

const S: Token = Token(5);

/// The test's own signal: the `n`th real-time signal.
fn sig(n: c_int) -> c_int {
    let s = libc::SIGRTMIN() + n;
    assert!(s <= libc::SIGRTMAX());
    s
}

/// Sends `signal` to the calling thread (raise(3)): "If a signal handler is called, the
/// raise() function shall not return until after the signal handler does" (POSIX), so the
/// handler has run when this returns. (Real-time signals are queued, not merged, so a
/// process-directed kill(2) could still be running its handler on another thread.)
fn raise(signal: c_int) {
    // SAFETY: raise(3) with a signal every test installs a handler for (through `Signals`)
    // before raising it; no memory is involved.
    let res = unsafe { libc::raise(signal) };
    assert_eq!(res, 0, "raise: {}", io::Error::last_os_error());
}

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) {
    match res {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

/// Polls (bounded) for the token's events and receives until `WouldBlock`, until `want` was
/// received; returns everything received.
#[track_caller]
fn receive_until(
    poll: &mut Poll,
    events: &mut Events,
    signals: &Signals,
    token: Token,
    want: &[c_int],
) -> Vec<c_int> {
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
    while !want.iter().all(|s| got.contains(s)) {
        assert!(
            std::time::Instant::now() < deadline,
            "expected {want:?}, received {got:?}"
        );
        expect_event(poll, events, token);
        loop {
            match signals.receive() {
                Ok(set) => got.extend(set.iter()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("receive: {e}"),
            }
        }
    }
    got
}

/// Polls (bounded) until every one of `sources` on `poll` received `signal`, receiving each
/// until `WouldBlock` on its events.
#[track_caller]
fn all_receive(poll: &mut Poll, events: &mut Events, sources: &[(Token, &Signals)], signal: c_int) {
    let mut seen = vec![false; sources.len()];
    let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
    while seen.contains(&false) {
        assert!(std::time::Instant::now() < deadline, "seen {seen:?}");
        for e in poll_once(poll, events, Some(Duration::from_millis(250))) {
            let i = sources.iter().position(|(t, _)| *t == e.token).unwrap();
            loop {
                match sources[i].1.receive() {
                    Ok(set) => {
                        assert!(set.contains(signal), "{set:?}");
                        seen[i] = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("receive: {e}"),
                }
            }
        }
    }
}

fn setup(signals: &[c_int]) -> (Poll, Events, Signals) {
    registered(Signals::new(signals).unwrap(), S)
}

#[test]
fn is_send_and_sync() {
    assert_send::<Signals>();
    assert_sync::<Signals>();
    assert_send::<SignalSet>();
}

#[test]
fn nothing_before_a_signal() {
    let (mut poll, mut events, signals) = setup(&[sig(0)]);
    would_block(signals.receive());
    expect_no_event_for(&mut poll, &mut events, S);
}

#[test]
fn a_signal_is_reported_once_and_coalesced() {
    let (mut poll, mut events, signals) = setup(&[sig(1)]);
    for _ in 0..10 {
        raise(sig(1));
    }
    let got = receive_until(&mut poll, &mut events, &signals, S, &[sig(1)]);
    assert_eq!(got, [sig(1)], "ten signals before a receive are one");
    would_block(signals.receive());
    expect_no_event_for(&mut poll, &mut events, S);
    // The next one is a new event.
    raise(sig(1));
    receive_until(&mut poll, &mut events, &signals, S, &[sig(1)]);
}

#[test]
fn the_set_says_which_signals_arrived() {
    let (mut poll, mut events, mut signals) = setup(&[sig(2), sig(3)]);
    signals.add(sig(4)).unwrap();
    // Adding one twice is fine.
    signals.add(sig(4)).unwrap();
    raise(sig(2));
    raise(sig(4));
    let got = receive_until(&mut poll, &mut events, &signals, S, &[sig(2), sig(4)]);
    assert!(!got.contains(&sig(3)), "{got:?}");
    let set_debug = format!("{:?}", {
        raise(sig(3));
        raise(sig(2));
        let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
        loop {
            expect_event(&mut poll, &mut events, S);
            match signals.receive() {
                Ok(set) if set.contains(sig(3)) && set.contains(sig(2)) => break set,
                Ok(_) | Err(_) => assert!(std::time::Instant::now() < deadline),
            }
        }
    });
    assert_eq!(set_debug, format!("{{{}, {}}}", sig(2), sig(3)));
}

#[test]
fn every_signals_on_one_or_several_polls_sees_a_signal() {
    let s = sig(5);
    let (mut poll1, mut events1, a) = setup(&[s]);
    let mut b = Signals::new(&[s]).unwrap();
    poll1
        .registry()
        .register(&mut b, Token(6), Interest::READABLE)
        .unwrap();
    let (mut poll2, mut events2, c) = setup(&[s]);
    raise(s);
    all_receive(&mut poll1, &mut events1, &[(S, &a), (Token(6), &b)], s);
    receive_until(&mut poll2, &mut events2, &c, S, &[s]);
}

/// Another user of signal-hook-registry (as tokio's `signal`, signal-hook and ctrlc are) and
/// two `Signals` in a storm of 10 000 signals: every one of them sees the signal after the
/// last one was sent, and nothing is left after that.
#[test]
fn a_storm_with_another_registry_user() {
    let s = sig(6);
    let other = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&other);
    // SAFETY: the action only increments an atomic: async-signal-safe.
    let id = unsafe {
        signal_hook_registry::register(s, move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
    }
    .unwrap();
    let (mut poll, mut events, a) = setup(&[s]);
    let mut b = Signals::new(&[s]).unwrap();
    poll.registry()
        .register(&mut b, Token(6), Interest::READABLE)
        .unwrap();
    for _ in 0..10_000 {
        raise(s);
    }
    // Every handler ran (raise(3)); real-time signals queue, so the handlers ran 10 000 times,
    // and each `Signals` still reports one event with one signal in its set.
    all_receive(&mut poll, &mut events, &[(S, &a), (Token(6), &b)], s);
    // Coalesced, but the other user saw at least one, and nothing is pending for us now:
    // one more signal is one more event for each.
    assert!(other.load(Ordering::SeqCst) >= 1);
    would_block(a.receive());
    would_block(b.receive());
    raise(s);
    all_receive(&mut poll, &mut events, &[(S, &a), (Token(6), &b)], s);
    assert!(signal_hook_registry::unregister(id));
}

#[test]
fn bad_signals_are_invalid_input() {
    for bad in [
        0,
        -1,
        128,
        1000,
        libc::SIGRTMAX() + 1,
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGILL,
        libc::SIGFPE,
    ] {
        let err = Signals::new(&[sig(7), bad]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}: {err}");
        let mut ok = Signals::new(&[]).unwrap();
        let err = ok.add(bad).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}: {err}");
    }
}

#[test]
fn reregister_with_another_token_and_interest() {
    let (mut poll, mut events, mut signals) = setup(&[sig(8)]);
    poll.registry()
        .reregister(&mut signals, Token(9), Interest::READABLE)
        .unwrap();
    raise(sig(8));
    receive_until(&mut poll, &mut events, &signals, Token(9), &[sig(8)]);
    // Writable only: a signal gives no readable event (the eventfd itself may be reported
    // writable: that interest means nothing for a `Signals`).
    poll.registry()
        .reregister(&mut signals, Token(9), Interest::WRITABLE)
        .unwrap();
    raise(sig(8));
    let seen = poll_once(&mut poll, &mut events, Some(util::NO_EVENT_TIMEOUT));
    assert!(seen.iter().all(|e| !e.readable), "{seen:?}");
    // Readable again: the pending signal is reported.
    poll.registry()
        .reregister(&mut signals, S, Interest::READABLE)
        .unwrap();
    receive_until(&mut poll, &mut events, &signals, S, &[sig(8)]);
}

#[test]
fn deregistered_signals_still_collect() {
    let (mut poll, mut events, mut signals) = setup(&[sig(9)]);
    poll.registry().deregister(&mut signals).unwrap();
    raise(sig(9));
    expect_no_event_for(&mut poll, &mut events, S);
    // The signal was still collected (raise(3) returned after the handler ran).
    assert!(signals.receive().unwrap().contains(sig(9)));
    poll.registry()
        .register(&mut signals, S, Interest::READABLE)
        .unwrap();
    raise(sig(9));
    receive_until(&mut poll, &mut events, &signals, S, &[sig(9)]);
}

#[test]
fn lifecycle_errors() {
    let (poll, _events, mut signals) = setup(&[sig(10)]);
    assert_lifecycle_errors(poll.registry(), &mut signals, S);
}

/// In its own process (`run_isolated`): the fd count must not see other tests' fds. After
/// the drop the signal is still caught by the registry's handler (its default action, which
/// for a real-time signal ends the process, does not come back), and reaches nobody.
#[test]
fn drop_while_registered() {
    run_isolated("drop_while_registered", || {
        libkqueue_warm_up();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let before = fd_count();
        let mut signals = Signals::new(&[sig(11)]).unwrap();
        poll.registry()
            .register(&mut signals, S, Interest::READABLE)
            .unwrap();
        libkqueue_deregister_before_close(poll.registry(), &mut signals).unwrap();
        drop(signals);
        assert_eq!(fd_count_settled(before), before);
        raise(sig(11));
        expect_no_event_for(&mut poll, &mut events, S);
        // A new one works on the same Poll.
        let mut signals = Signals::new(&[sig(11)]).unwrap();
        poll.registry()
            .register(&mut signals, Token(12), Interest::READABLE)
            .unwrap();
        raise(sig(11));
        receive_until(&mut poll, &mut events, &signals, Token(12), &[sig(11)]);
        libkqueue_deregister_before_close(poll.registry(), &mut signals).unwrap();
    });
}

#[test]
fn poll_dropped_first() {
    let (poll, events, signals) = setup(&[sig(12)]);
    drop(events);
    drop(poll);
    raise(sig(12));
    // raise(3) returned after the handler ran.
    assert!(signals.receive().unwrap().contains(sig(12)));
    drop(signals);
}

/// One successful `receive` drains the `Signals`: receiving once per event (never to
/// `WouldBlock`) still gets the next signal reported (on poll(2) it re-arms the registration).
#[test]
fn one_receive_per_event_is_enough() {
    let (mut poll, mut events, signals) = setup(&[sig(13)]);
    for _ in 0..3 {
        raise(sig(13));
        let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
        loop {
            assert!(std::time::Instant::now() < deadline);
            expect_event(&mut poll, &mut events, S);
            if let Ok(set) = signals.receive() {
                assert!(set.contains(sig(13)));
                break;
            }
        }
    }
}
