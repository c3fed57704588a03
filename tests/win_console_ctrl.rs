//! Windows-only: the `signal` extra there, console control events (`mio::signal::CTRL_*`,
//! src/sys/windows/signal.rs): numbers that are not events, events delivered with
//! `GenerateConsoleCtrlEvent` to two `Signals` on two `Poll`s, coalescing, and the lifecycle of
//! its thread-pool waits (deregister, drop, the `Poll` dropped first, handles counted).
//!
//! Events are delivered to every process attached to a console, so the tests that generate
//! them run in a child process of their own (`util::run_isolated`) with a console of its own
//! (`FreeConsole` + `AllocConsole`): nothing else receives them.
#![cfg(all(windows, feature = "signal"))]

mod util;

use std::io;
use std::time::Duration;

use mio::signal::{Signals, CTRL_BREAK, CTRL_C, CTRL_CLOSE, CTRL_LOGOFF, CTRL_SHUTDOWN};
use mio::{Events, Interest, Poll, Token};

use util::{
    assert_lifecycle_errors, assert_send, assert_sync, expect_event, expect_no_events, fd_count,
    fd_count_settled, poll_once, registered, run_isolated,
};

use windows_sys::Win32::System::Console::{
    AllocConsole, FreeConsole, GenerateConsoleCtrlEvent, CTRL_BREAK_EVENT, CTRL_C_EVENT,
};

const S: Token = Token(5);

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) {
    match res {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

/// A console of this process's own, so that generated events reach this process only; `false`
/// under Wine, whose headless console (no display, as in CI) cannot generate control events:
/// `GenerateConsoleCtrlEvent` answers `ERROR_INVALID_HANDLE` there (checked, so that a Wine
/// that starts delivering them makes this test run in full). The delivery path after the
/// system calls the handler routine is tested under Wine by the crate's unit test
/// `sys::windows::signal::tests`, which calls the routine itself.
fn own_console() -> bool {
    // SAFETY: plain calls without arguments; FreeConsole fails harmlessly without a console.
    unsafe { FreeConsole() };
    // SAFETY: as above.
    assert_ne!(
        unsafe { AllocConsole() },
        0,
        "AllocConsole: {}",
        io::Error::last_os_error()
    );
    if util::running_under_wine() {
        // SAFETY: plain values; process group 0 is this (own) console's processes: this one.
        // No `Signals` exists yet and nobody else handles Ctrl-Break: were it delivered, the
        // default handler would end this child, failing the test loudly.
        let ok = unsafe { GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, 0) };
        assert_eq!(
            ok, 0,
            "Wine delivers console control events now: drop this check"
        );
        eprintln!(
            "Wine: GenerateConsoleCtrlEvent fails ({}): no control event to test",
            io::Error::last_os_error()
        );
        return false;
    }
    true
}

fn generate(event: u32) {
    // SAFETY: plain values; process group 0 is every process of this (own) console.
    let ok = unsafe { GenerateConsoleCtrlEvent(event, 0) };
    assert_ne!(
        ok,
        0,
        "GenerateConsoleCtrlEvent: {}",
        io::Error::last_os_error()
    );
}

/// Polls (bounded) until `signals`' event, then receives; a spurious event's `WouldBlock`
/// sends it back to polling.
fn wait_and_receive(
    poll: &mut Poll,
    events: &mut Events,
    signals: &Signals,
    token: Token,
) -> Vec<i32> {
    loop {
        expect_event(poll, events, token);
        match signals.receive() {
            Ok(set) => return set.iter().collect(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => panic!("receive: {e}"),
        }
    }
}

#[test]
fn is_send_and_sync() {
    assert_send::<Signals>();
    assert_sync::<Signals>();
}

#[test]
fn the_constants_are_the_console_events() {
    assert_eq!(
        [CTRL_C, CTRL_BREAK, CTRL_CLOSE, CTRL_LOGOFF, CTRL_SHUTDOWN],
        [0, 1, 2, 5, 6]
    );
}

#[test]
fn numbers_that_are_not_events_are_invalid_input() {
    for n in [-1, 3, 4, 7, 15, 100] {
        let err = Signals::new(&[n]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{n}: {err}");
    }
    let mut signals = Signals::new(&[]).unwrap();
    signals.add(CTRL_C).unwrap();
    signals.add(CTRL_C).unwrap();
    let err = signals.add(3).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
}

#[test]
fn nothing_arrived_is_would_block_and_no_event() {
    let (mut poll, mut events, signals) = registered(Signals::new(&[CTRL_BREAK]).unwrap(), S);
    expect_no_events(&mut poll, &mut events);
    would_block(signals.receive());
}

#[test]
fn lifecycle_errors() {
    let (poll, _events, mut signals) = registered(Signals::new(&[CTRL_BREAK]).unwrap(), S);
    assert_lifecycle_errors(poll.registry(), &mut signals, S);
}

/// Ctrl-Break and Ctrl-C generated on the test's own console: both `Signals` (two `Poll`s) see
/// each, a third that watches neither sees nothing, coalescing, deregistered sees nothing but
/// still collects, and the `Poll` dropped first.
#[test]
fn generated_events_reach_every_signals_watching_them() {
    run_isolated("generated_events_reach_every_signals_watching_them", || {
        if !own_console() {
            return;
        }
        let (mut poll_a, mut events_a, a) =
            registered(Signals::new(&[CTRL_BREAK, CTRL_C]).unwrap(), S);
        let (mut poll_b, mut events_b, mut b) =
            registered(Signals::new(&[CTRL_BREAK]).unwrap(), Token(6));
        let (mut poll_c, mut events_c, c) =
            registered(Signals::new(&[CTRL_CLOSE]).unwrap(), Token(7));

        generate(CTRL_BREAK_EVENT);
        assert_eq!(
            wait_and_receive(&mut poll_a, &mut events_a, &a, S),
            [CTRL_BREAK]
        );
        assert_eq!(
            wait_and_receive(&mut poll_b, &mut events_b, &b, Token(6)),
            [CTRL_BREAK]
        );
        expect_no_events(&mut poll_c, &mut events_c);
        would_block(c.receive());
        would_block(a.receive());

        // Ctrl-C, then Ctrl-Break twice before a receive: one set, each once.
        generate(CTRL_C_EVENT);
        generate(CTRL_BREAK_EVENT);
        generate(CTRL_BREAK_EVENT);
        let mut seen = Vec::new();
        while seen.len() < 2 {
            for e in wait_and_receive(&mut poll_a, &mut events_a, &a, S) {
                if !seen.contains(&e) {
                    seen.push(e);
                }
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, [CTRL_C, CTRL_BREAK]);
        // `b` watches Ctrl-Break only.
        assert_eq!(
            wait_and_receive(&mut poll_b, &mut events_b, &b, Token(6)),
            [CTRL_BREAK]
        );

        // Deregistered: no event, but the event is collected.
        poll_b.registry().deregister(&mut b).unwrap();
        generate(CTRL_BREAK_EVENT);
        assert_eq!(
            wait_and_receive(&mut poll_a, &mut events_a, &a, S),
            [CTRL_BREAK]
        );
        expect_no_events(&mut poll_b, &mut events_b);
        assert_eq!(
            b.receive().unwrap().iter().collect::<Vec<_>>(),
            [CTRL_BREAK]
        );

        // The `Poll` dropped first, with the wait armed: events are still collected.
        drop(events_a);
        drop(poll_a);
        generate(CTRL_BREAK_EVENT);
        let mut got = None;
        for _ in 0..500 {
            match a.receive() {
                Ok(set) => {
                    got = Some(set.iter().collect::<Vec<_>>());
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Bounded: the handler runs on a thread of its own.
                    poll_once(&mut poll_b, &mut events_b, Some(Duration::from_millis(10)));
                }
                Err(e) => panic!("receive: {e}"),
            }
        }
        assert_eq!(got.as_deref(), Some(&[CTRL_BREAK][..]));
    });
}

/// Dropped registered (wait armed, some with the event signalled where events can be
/// generated), many times: no crash, no event, no handle left; an event generated reaches
/// only the live one.
#[test]
fn drop_while_armed_many_times() {
    run_isolated("drop_while_armed_many_times", || {
        let console = own_console();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(64);
        let mut live = Signals::new(&[CTRL_BREAK]).unwrap();
        // Registering arms a wait: the thread pool's wait thread exists from here on.
        poll.registry()
            .register(&mut live, S, Interest::READABLE)
            .unwrap();
        if console {
            // Warm up the handler's first run too.
            generate(CTRL_BREAK_EVENT);
            wait_and_receive(&mut poll, &mut events, &live, S);
        }
        let before = fd_count();
        for i in 0..200usize {
            let mut signals = Signals::new(&[CTRL_BREAK]).unwrap();
            poll.registry()
                .register(&mut signals, Token(100 + i), Interest::READABLE)
                .unwrap();
            if console && i % 50 == 0 {
                generate(CTRL_BREAK_EVENT);
            }
            drop(signals);
        }
        // The generated events: only `live` may report them.
        for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(100))) {
            assert_eq!(e.token, S, "{e:?}");
        }
        let _ = live.receive();
        assert_eq!(fd_count_settled(before), before);
    });
}
