//! Tests of `Waker`: waking a blocked `Poll`, coalescing, threads, drop, and one per `Poll`.
//! The other source next to the waker is a pipe on Unix and a loopback TCP pair
//! (`util::Pair`) on Windows.
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
// Windows: `util::Pair` is a `mio::net::TcpStream` there.
#![cfg(any(unix, feature = "net"))]

mod util;

use std::io::Write;
use std::sync::{mpsc, Arc, Barrier};
use std::thread;
use std::time::Duration;

#[cfg(unix)]
use mio::unix::pipe;
use mio::{Events, Interest, Poll, Token, Waker};

use util::{
    assert_send, assert_sync, expect_event, expect_events, expect_no_events, poll_once,
    ExpectEvent, Readiness,
};

const WAKE: Token = Token(10);

#[test]
fn is_send_and_sync() {
    assert_send::<Waker>();
    assert_sync::<Waker>();
}

#[test]
// The eventfd waker; the kqueue selector that `mio_unsupported_test_libkqueue` runs on Linux
// has an `EVFILT_USER` waker holding a queue handle and its token instead.
#[cfg(all(
    target_os = "linux",
    not(mio_unsupported_force_poll_poll),
    not(mio_unsupported_force_waker_pipe),
    not(mio_unsupported_test_libkqueue)
))]
fn size_is_one_fd() {
    assert_eq!(std::mem::size_of::<Waker>(), 4);
}

#[test]
fn debug() {
    let poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    let s = format!("{:?}", waker);
    assert!(s.starts_with("Waker"), "{s}");
}

#[test]
fn wake_gives_one_readable_event() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    expect_no_events(&mut poll, &mut events);

    waker.wake().unwrap();
    let event = expect_event(&mut poll, &mut events, WAKE);
    assert!(event.readable);
    assert!(!event.writable && !event.error && !event.read_closed && !event.write_closed);
    expect_no_events(&mut poll, &mut events);

    // Again and again: each wake after a poll is a new event.
    for _ in 0..5 {
        waker.wake().unwrap();
        expect_event(&mut poll, &mut events, WAKE);
        expect_no_events(&mut poll, &mut events);
    }
}

#[test]
fn wakes_before_a_poll_coalesce() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    for _ in 0..100 {
        waker.wake().unwrap();
    }
    let seen = poll_once(&mut poll, &mut events, Some(Duration::from_secs(2)));
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, WAKE);
    expect_no_events(&mut poll, &mut events);
}

/// Many threads wake at once: at least one event, then nothing until the next wake.
#[test]
fn wake_from_several_threads() {
    const THREADS: usize = 4;
    const WAKES: usize = 1000;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let waker = Arc::clone(&waker);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                for _ in 0..WAKES {
                    waker.wake().unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let seen = poll_once(&mut poll, &mut events, Some(Duration::from_secs(2)));
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].token, WAKE);
    assert!(seen[0].readable);
    expect_no_events(&mut poll, &mut events);

    waker.wake().unwrap();
    expect_event(&mut poll, &mut events, WAKE);
    expect_no_events(&mut poll, &mut events);
}

/// Threads wake while the `Poll` is being polled: every burst is seen, and the wakes after the
/// last event bring nothing more.
#[test]
fn wake_from_several_threads_while_polling() {
    const THREADS: usize = 4;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let waker = Arc::clone(&waker);
            thread::spawn(move || {
                for _ in 0..200 {
                    waker.wake().unwrap();
                }
            })
        })
        .collect();
    // At least one event arrives while they run (or right after).
    expect_event(&mut poll, &mut events, WAKE);
    for h in handles {
        h.join().unwrap();
    }
    // Wakes after the last poll may still be pending: at most one more event, then none.
    let seen = poll_once(&mut poll, &mut events, Some(Duration::from_millis(100)));
    assert!(seen.len() <= 1, "{seen:?}");
    expect_no_events(&mut poll, &mut events);
}

/// A thread blocked in `poll(None)` is woken by another thread.
#[test]
fn wake_a_blocked_poll() {
    const WATCHDOG: Token = Token(99);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    // A pipe (Windows: a TCP pair) as watchdog: if the waker fails, a write unblocks
    // `poll(None)` so the test fails instead of hanging.
    #[cfg(unix)]
    let (mut watchdog, mut watchdog_rx) = pipe::new().unwrap();
    #[cfg(windows)]
    let (mut watchdog_rx, mut watchdog) = {
        let pair = util::Pair::new();
        (pair.local, pair.peer)
    };
    poll.registry()
        .register(&mut watchdog_rx, WATCHDOG, Interest::READABLE)
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();

    let helper = thread::spawn(move || {
        // Only makes it likely that the main thread is blocked already.
        thread::sleep(Duration::from_millis(50));
        waker.wake().unwrap();
        if done_rx.recv_timeout(Duration::from_secs(5)).is_err() {
            watchdog.write_all(b"timeout").unwrap();
        }
    });

    let result = loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll failed: {e}"),
        }
        if events.iter().any(|e| e.token() == WAKE) {
            break Ok(());
        }
        if events.iter().any(|e| e.token() == WATCHDOG) {
            break Err("the waker did not wake poll(None)");
        }
    };
    let _ = done_tx.send(());
    helper.join().unwrap();
    result.unwrap();
}

#[test]
fn waker_made_with_a_cloned_registry_on_another_thread() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let registry = poll.registry().try_clone().unwrap();
    let waker = thread::spawn(move || {
        let waker = Waker::new(&registry, WAKE).unwrap();
        waker.wake().unwrap();
        waker
    })
    .join()
    .unwrap();
    expect_event(&mut poll, &mut events, WAKE);
    waker.wake().unwrap();
    expect_event(&mut poll, &mut events, WAKE);
}

#[test]
fn waker_next_to_other_sources() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    #[cfg(unix)]
    let (mut sender, mut receiver) = pipe::new().unwrap();
    #[cfg(windows)]
    let (mut receiver, mut sender) = {
        let pair = util::Pair::new();
        (pair.local, pair.peer)
    };
    poll.registry()
        .register(&mut receiver, Token(1), Interest::READABLE)
        .unwrap();
    sender.write_all(b"x").unwrap();
    waker.wake().unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![
            ExpectEvent::new(WAKE, Readiness::READABLE),
            ExpectEvent::new(Token(1), Readiness::READABLE),
        ],
    );
}

/// Dropping the waker removes it: a wake that was not yet polled is not delivered.
#[test]
#[cfg(unix)] // Closing the eventfd (or pipe) takes it out of the kernel's ready list.
fn dropped_waker_delivers_nothing() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    waker.wake().unwrap();
    drop(waker);
    expect_no_events(&mut poll, &mut events);
}

/// Windows: a wake is a completion packet posted to the port, and a posted packet cannot be
/// taken back, so one wake made before the drop may still be delivered (events are only
/// promised while the `Waker` lives); after it, nothing, and wakes never pile up.
#[test]
#[cfg(windows)]
fn dropped_waker_delivers_at_most_the_posted_wake() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    for _ in 0..10 {
        waker.wake().unwrap();
    }
    drop(waker);
    let seen = poll_once(&mut poll, &mut events, Some(Duration::from_millis(100)));
    assert!(seen.len() <= 1, "{seen:?}");
    assert!(
        seen.iter().all(|e| e.token == WAKE && e.readable),
        "{seen:?}"
    );
    expect_no_events(&mut poll, &mut events);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "Only a single `Waker` can be active per `Poll` instance")]
fn second_waker_panics() {
    let poll = Poll::new().unwrap();
    let _first = Waker::new(poll.registry(), Token(0)).unwrap();
    let _second = Waker::new(poll.registry(), Token(1));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "Only a single `Waker` can be active per `Poll` instance")]
fn second_waker_through_a_cloned_registry_panics() {
    let poll = Poll::new().unwrap();
    let clone = poll.registry().try_clone().unwrap();
    let _first = Waker::new(poll.registry(), Token(0)).unwrap();
    let _second = Waker::new(&clone, Token(1));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "Only a single `Waker` can be active per `Poll` instance")]
fn second_waker_through_the_original_after_a_clone_panics() {
    let poll = Poll::new().unwrap();
    let clone = poll.registry().try_clone().unwrap();
    let _first = Waker::new(&clone, Token(0)).unwrap();
    let _second = Waker::new(poll.registry(), Token(1));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "Only a single `Waker` can be active per `Poll` instance")]
fn second_waker_panics_even_after_the_first_was_dropped() {
    let poll = Poll::new().unwrap();
    let first = Waker::new(poll.registry(), Token(0)).unwrap();
    drop(first);
    let _second = Waker::new(poll.registry(), Token(1));
}

/// The one-`Waker` rule is per `Poll`: other `Poll`s each get their own.
#[test]
fn one_waker_per_poll_for_many_polls() {
    let mut polls: Vec<Poll> = (0..4).map(|_| Poll::new().unwrap()).collect();
    let wakers: Vec<Waker> = polls
        .iter()
        .enumerate()
        .map(|(i, p)| Waker::new(p.registry(), Token(i)).unwrap())
        .collect();
    let mut events = Events::with_capacity(8);
    for (i, (poll, waker)) in polls.iter_mut().zip(&wakers).enumerate() {
        waker.wake().unwrap();
        let seen = expect_event(poll, &mut events, Token(i));
        assert!(seen.readable);
    }
}

/// Release builds have no check, and several wakers happen to work on epoll.
#[test]
#[cfg(not(debug_assertions))]
fn several_wakers_work_in_release() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let first = Waker::new(poll.registry(), Token(1)).unwrap();
    let second = Waker::new(poll.registry(), Token(2)).unwrap();
    first.wake().unwrap();
    second.wake().unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![
            ExpectEvent::new(Token(1), Readiness::READABLE),
            ExpectEvent::new(Token(2), Readiness::READABLE),
        ],
    );
}
