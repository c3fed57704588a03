//! `mio::signal::Signals` (this crate's extra) and tokio's own signal handling, side by side in
//! one process, with tokio running on this mio: a storm of `SIGUSR1`.
//!
//! Two `Signals` for `SIGUSR1` on one `Poll`, and a task of a tokio runtime (on its own thread)
//! waiting in `tokio::signal::unix::signal(SIGUSR1)`. Both go through signal-hook-registry's
//! one process-wide handler. After `--count` signals (10 000 by default):
//! - each `Signals` reports an event with `SIGUSR1` in its set, and then nothing more;
//! - tokio's stream has yielded at least once;
//! - one more signal: each `Signals` reports it again, and tokio's stream yields again (nobody
//!   lost the last one, and tokio still works).
//!
//! Exits 0 and prints a summary when all of that held; panics (exit 101) with what was missing
//! otherwise. Every wait is bounded (10 s).

use std::io;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mio::signal::Signals;
use mio::{Events, Interest, Poll, Token};

const A: Token = Token(1);
const B: Token = Token(2);
const LIMIT: Duration = Duration::from_secs(10);

fn main() {
    let mut count = 10_000u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--count" => count = args.next().and_then(|v| v.parse().ok()).expect("--count N"),
            other => panic!("unknown argument {other}"),
        }
    }

    // tokio's side: a current-thread runtime on its own thread, telling each yield of its
    // stream through a channel.
    let (ready_tx, ready_rx) = mpsc::channel();
    let (yield_tx, yields) = mpsc::channel();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let tokio_thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let mut usr1 = signal(SignalKind::user_defined1()).expect("tokio signal(SIGUSR1)");
            ready_tx.send(()).unwrap();
            loop {
                tokio::select! {
                    got = usr1.recv() => {
                        got.expect("tokio's signal stream ended");
                        let _ = yield_tx.send(());
                    }
                    _ = &mut stop_rx => break,
                }
            }
        });
    });
    ready_rx.recv_timeout(LIMIT).expect("tokio's task did not start");

    // mio's side: two `Signals` on one `Poll`.
    let mut poll = Poll::new().expect("Poll::new");
    let mut events = Events::with_capacity(16);
    let mut a = Signals::new(&[libc::SIGUSR1]).expect("Signals::new");
    let mut b = Signals::new(&[libc::SIGUSR1]).expect("Signals::new");
    poll.registry().register(&mut a, A, Interest::READABLE).unwrap();
    poll.registry().register(&mut b, B, Interest::READABLE).unwrap();

    let start = Instant::now();
    for _ in 0..count {
        send_usr1();
    }
    let storm = start.elapsed();
    both_receive(&mut poll, &mut events, &a, &b, "after the storm");
    // Coalesced: nothing left for either after their receives.
    for (name, s) in [("a", &a), ("b", &b)] {
        match s.receive() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => panic!("{name}: still pending after the storm was received: {other:?}"),
        }
    }
    yields
        .recv_timeout(LIMIT)
        .expect("tokio's stream did not yield after the storm");
    let after_storm = 1 + yields.try_iter().count();

    // One more: everyone sees it (tokio's stream yields at least once more; coalescing may
    // have merged it with a late yield of the storm's, which this cannot tell apart).
    send_usr1();
    both_receive(&mut poll, &mut events, &a, &b, "after the last signal");
    yields
        .recv_timeout(LIMIT)
        .expect("tokio's stream did not yield after the last signal");

    let _ = stop_tx.send(());
    tokio_thread.join().expect("tokio thread panicked");
    println!(
        "tokio-signals: {count} SIGUSR1 sent in {:.1} ms; both mio Signals saw the storm and the \
         last signal; tokio's stream yielded {} times for the storm and again for the last one",
        storm.as_secs_f64() * 1e3,
        after_storm
    );
}

/// kill(2) of this process (any thread may take it; the handler is process-wide).
fn send_usr1() {
    // SAFETY: kill(2) with this process's pid and a valid signal number; no memory involved.
    let r = unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
    assert_eq!(r, 0, "kill: {}", io::Error::last_os_error());
}

/// Polls (bounded) until both `Signals` reported `SIGUSR1`, receiving each until `WouldBlock`.
fn both_receive(poll: &mut Poll, events: &mut Events, a: &Signals, b: &Signals, when: &str) {
    let mut seen = [false, false];
    let deadline = Instant::now() + LIMIT;
    while seen != [true, true] {
        assert!(Instant::now() < deadline, "{when}: seen (a, b) = {seen:?}");
        poll.poll(events, Some(Duration::from_millis(250))).expect("poll");
        for event in events.iter() {
            let (i, s) = match event.token() {
                A => (0, a),
                B => (1, b),
                t => panic!("unexpected token {t:?}"),
            };
            loop {
                match s.receive() {
                    Ok(set) => {
                        assert!(set.contains(libc::SIGUSR1), "{when}: {set:?}");
                        seen[i] = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("receive: {e}"),
                }
            }
        }
    }
}
