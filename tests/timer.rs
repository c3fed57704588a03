//! Tests of the `timer` extra (`mio::timer::Timer`, not in upstream mio): one-shot and periodic
//! expirations, setting and cancelling while registered, the expiration count, and the full
//! lifecycle (register, reregister, deregister, drop while registered, the `Poll` dropped
//! first). They run with every selector the crate is tested with on Linux: epoll, poll(2)
//! (`--cfg mio_unsupported_force_poll_poll`), both with the timerfd timer, and the kqueue
//! selector over libkqueue (`--cfg mio_unsupported_test_libkqueue`), with the kqueue timer (an
//! `EVFILT_TIMER` knote on the `Poll`'s queue, no fd), the code macOS and the BSDs run.
//!
//! Times are only asserted as orderings (an expiration never comes before its deadline): how
//! precise timers are is measured by the benchmarks, not asserted.
//!
//! On Windows (under Wine in CI) the same tests run against the waitable-timer backend, plus
//! the lifecycle tests of its thread-pool waits (`mod windows` at the end).
// Where `Timer` exists (see src/timer.rs): Linux, Android and Windows here (illumos is
// compile-checked).
#![cfg(all(
    feature = "timer",
    any(target_os = "linux", target_os = "android", windows)
))]

mod util;

use std::io;
#[cfg(mio_timer_timerfd)]
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use mio::timer::Timer;
use mio::{Events, Interest, Poll, Token};

use util::{
    assert_lifecycle_errors, assert_send, assert_sync, expect_event, expect_no_event_for,
    expect_no_events, fd_count, fd_count_settled, libkqueue_deregister_before_close,
    libkqueue_warm_up, poll_once, registered, run_isolated, EXPECT_TIMEOUT,
};

const T: Token = Token(3);

fn setup() -> (Poll, Events, Timer) {
    registered(Timer::new().expect("Timer::new"), T)
}

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) {
    match res {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

/// Polls (bounded) until the timer's event, then reads its count; the count of a spurious
/// event (`WouldBlock`) sends it back to polling.
#[track_caller]
fn wait_and_read(poll: &mut Poll, events: &mut Events, timer: &Timer, token: Token) -> u64 {
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while Instant::now() < deadline {
        expect_event(poll, events, token);
        match timer.read() {
            Ok(n) => return n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => panic!("Timer::read: {e}"),
        }
    }
    panic!("the timer did not expire within {EXPECT_TIMEOUT:?}");
}

/// Drains what the selector may still have queued from before (a zero-timeout poll).
fn flush(poll: &mut Poll, events: &mut Events) {
    poll_once(poll, events, Some(Duration::ZERO));
}

#[test]
fn is_send_and_sync() {
    assert_send::<Timer>();
    assert_sync::<Timer>();
}

#[test]
fn new_timer_is_disarmed() {
    let (mut poll, mut events, timer) = setup();
    would_block(timer.read());
    expect_no_events(&mut poll, &mut events);
    would_block(timer.read());
}

#[test]
fn one_shot_expires_once_not_before_its_deadline() {
    let (mut poll, mut events, timer) = setup();
    let start = Instant::now();
    timer.set_timeout(Duration::from_millis(20)).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    assert!(start.elapsed() >= Duration::from_millis(20));
    would_block(timer.read());
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
}

#[test]
fn zero_timeout_and_past_deadline_expire_at_once() {
    let (mut poll, mut events, timer) = setup();
    timer.set_timeout(Duration::ZERO).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    let past = Instant::now();
    timer.set_deadline(past).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    would_block(timer.read());
}

#[test]
fn deadline_is_not_reached_early() {
    let (mut poll, mut events, timer) = setup();
    let deadline = Instant::now() + Duration::from_millis(15);
    timer.set_deadline(deadline).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    assert!(Instant::now() >= deadline);
}

#[test]
fn periodic_timer_keeps_expiring_until_cancelled() {
    let (mut poll, mut events, timer) = setup();
    let period = Duration::from_millis(2);
    let start = Instant::now();
    timer.set_interval(period).unwrap();
    let mut total = 0;
    for _ in 0..5 {
        let n = wait_and_read(&mut poll, &mut events, &timer, T);
        assert!(n >= 1);
        total += n;
        // No `WouldBlock` check here: another 2 ms period may pass before a second read (it
        // did under Wine on a loaded machine). That a read drains is checked with a period
        // of an hour (`first_expiration_then_period`) and after the cancel below.
    }
    // `total` expirations happened, the last one `total` periods after the start.
    assert!(start.elapsed() >= period * total as u32);
    timer.cancel().unwrap();
    would_block(timer.read());
    flush(&mut poll, &mut events);
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
}

#[test]
fn unread_periods_are_counted() {
    let (mut poll, mut events, timer) = setup();
    let period = Duration::from_millis(1);
    timer.set_interval(period).unwrap();
    let start = Instant::now();
    expect_event(&mut poll, &mut events, T);
    // Not read: the periods keep adding up. Wait (polling, bounded) for ten of them.
    while start.elapsed() < period * 10 {
        poll_once(&mut poll, &mut events, Some(period * 10));
    }
    let waited = start.elapsed();
    let n = timer.read().unwrap();
    assert!(
        u128::from(n) >= waited.as_nanos() / period.as_nanos(),
        "{n} expirations counted after {waited:?} of a {period:?} period"
    );
}

#[test]
fn first_expiration_then_period() {
    let (mut poll, mut events, timer) = setup();
    let start = Instant::now();
    timer
        .set_interval_after(Duration::from_millis(10), Duration::from_secs(3600))
        .unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    assert!(start.elapsed() >= Duration::from_millis(10));
    // The next one is an hour away.
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
    // An immediate first expiration.
    timer
        .set_interval_after(Duration::ZERO, Duration::from_secs(3600))
        .unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
}

#[test]
fn zero_period_is_invalid_input() {
    let timer = Timer::new().unwrap();
    for res in [
        timer.set_interval(Duration::ZERO),
        timer.set_interval_after(Duration::from_millis(1), Duration::ZERO),
    ] {
        let err = res.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }
    // Nothing was armed.
    would_block(timer.read());
}

#[test]
fn cancel_while_registered_prevents_the_expiration() {
    let (mut poll, mut events, timer) = setup();
    timer.set_timeout(Duration::from_millis(30)).unwrap();
    timer.cancel().unwrap();
    // Longer than the 30 ms the timer had.
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
    // Cancelling a disarmed timer is fine.
    timer.cancel().unwrap();
}

#[test]
fn set_again_while_registered_replaces_the_setting() {
    let (mut poll, mut events, timer) = setup();
    timer.set_timeout(Duration::from_secs(3600)).unwrap();
    timer.set_timeout(Duration::from_millis(5)).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    // Later, not earlier: an hour-long timer set after a short one never fires in the test.
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    timer.set_timeout(Duration::from_secs(3600)).unwrap();
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
}

/// The expiration was reported but not read when the timer is set again: it is discarded, and
/// the next expiration is reported (on poll(2), whose edge triggering is emulated, setting the
/// timer re-arms it as a `WouldBlock` would).
#[test]
fn set_again_after_an_unread_expiration_reports_the_next_one() {
    let (mut poll, mut events, timer) = setup();
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    expect_event(&mut poll, &mut events, T);
    timer.set_timeout(Duration::from_millis(5)).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    would_block(timer.read());
}

#[test]
fn ten_thousand_rearms_give_one_expiration() {
    let (mut poll, mut events, timer) = setup();
    for i in 0..10_000u64 {
        timer
            .set_timeout(Duration::from_secs(3600) + Duration::from_nanos(i))
            .unwrap();
    }
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
}

#[test]
fn many_timers_each_seen_once() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(64);
    let mut timers: Vec<Timer> = (0..100).map(|_| Timer::new().unwrap()).collect();
    for (i, timer) in timers.iter_mut().enumerate() {
        poll.registry()
            .register(timer, Token(i), Interest::READABLE)
            .unwrap();
        timer
            .set_timeout(Duration::from_micros(100 * i as u64))
            .unwrap();
    }
    let mut seen = vec![0u64; timers.len()];
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while seen.contains(&0) && Instant::now() < deadline {
        for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(250))) {
            match timers[e.token.0].read() {
                Ok(n) => seen[e.token.0] += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => panic!("read: {err}"),
            }
        }
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "expirations per timer: {seen:?}"
    );
    for timer in &mut timers {
        libkqueue_deregister_before_close(poll.registry(), timer).unwrap();
    }
}

#[test]
fn reregister_with_another_token() {
    let (mut poll, mut events, mut timer) = setup();
    let other = Token(99);
    poll.registry()
        .reregister(&mut timer, other, Interest::READABLE)
        .unwrap();
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, other), 1);
    flush(&mut poll, &mut events);
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    let seen = expect_event(&mut poll, &mut events, other);
    assert!(seen.readable);
    expect_no_event_for(&mut poll, &mut events, T);
}

#[test]
fn writable_interest_never_fires_and_readable_again_reports_the_expiration() {
    let (mut poll, mut events, mut timer) = setup();
    poll.registry()
        .reregister(&mut timer, T, Interest::WRITABLE)
        .unwrap();
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    // The timer expires meanwhile (20 ms), but nobody asked for readability.
    expect_no_event_for(&mut poll, &mut events, T);
    poll.registry()
        .reregister(&mut timer, T, Interest::READABLE)
        .unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
}

#[test]
fn deregistered_timer_reports_nothing_but_still_counts() {
    let (mut poll, mut events, mut timer) = setup();
    poll.registry().deregister(&mut timer).unwrap();
    let start = Instant::now();
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    expect_no_events(&mut poll, &mut events);
    assert!(start.elapsed() >= Duration::from_millis(1));
    assert_eq!(read_without_poll(&timer), 1);
    // And it can be registered again.
    poll.registry()
        .register(&mut timer, T, Interest::READABLE)
        .unwrap();
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
}

#[test]
fn lifecycle_errors() {
    let (poll, _events, mut timer) = setup();
    assert_lifecycle_errors(poll.registry(), &mut timer, T);
}

/// In its own process (`run_isolated`): the fd count must not see other tests' fds.
#[test]
fn drop_while_registered_closes_it_and_reports_nothing() {
    run_isolated(
        "drop_while_registered_closes_it_and_reports_nothing",
        || {
            libkqueue_warm_up();
            windows_warm_up();
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(8);
            let before = fd_count();
            let mut timer = Timer::new().unwrap();
            poll.registry()
                .register(&mut timer, T, Interest::READABLE)
                .unwrap();
            timer.set_timeout(Duration::from_millis(1)).unwrap();
            libkqueue_deregister_before_close(poll.registry(), &mut timer).unwrap();
            drop(timer);
            expect_no_events(&mut poll, &mut events);
            assert_eq!(fd_count_settled(before), before);
            // The Poll works on with a new timer (which may get the same fd number).
            let mut timer = Timer::new().unwrap();
            poll.registry()
                .register(&mut timer, Token(4), Interest::READABLE)
                .unwrap();
            timer.set_timeout(Duration::from_millis(1)).unwrap();
            assert_eq!(wait_and_read(&mut poll, &mut events, &timer, Token(4)), 1);
            libkqueue_deregister_before_close(poll.registry(), &mut timer).unwrap();
        },
    );
}

/// Windows: one timer expired through a `Poll`, so that the thread pool's wait thread (made
/// once per process, with its handles) exists before a handle count. Nothing elsewhere.
fn windows_warm_up() {
    #[cfg(windows)]
    {
        let (mut poll, mut events, timer) = setup();
        timer.set_timeout(Duration::ZERO).unwrap();
        wait_and_read(&mut poll, &mut events, &timer, T);
    }
}

#[test]
fn poll_dropped_first() {
    let (poll, events, timer) = setup();
    drop(events);
    drop(poll);
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    assert_eq!(read_without_poll(&timer), 1);
    timer.cancel().unwrap();
    drop(timer);
}

/// The count of a timer no `Poll` watches, once it expired (bounded).
fn read_without_poll(timer: &Timer) -> u64 {
    #[cfg(any(mio_timer_timerfd, windows))]
    wait_readable_without_poll(timer);
    // The kqueue timer has no fd: its count is the monotonic clock's, read until it expired
    // (a bounded wait for a time to pass, not for another thread).
    #[cfg(not(any(mio_timer_timerfd, windows)))]
    {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        loop {
            match timer.read() {
                Ok(n) => return n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(
                        Instant::now() < deadline,
                        "the timer did not expire within {EXPECT_TIMEOUT:?}"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("Timer::read: {e}"),
            }
        }
    }
    #[cfg(any(mio_timer_timerfd, windows))]
    timer.read().unwrap()
}

/// poll(2) on the timer's fd, bounded: for a timer no `Poll` watches.
#[cfg(mio_timer_timerfd)]
fn wait_readable_without_poll(timer: &Timer) {
    // SAFETY: the fd belongs to `timer`, which outlives this borrow.
    let fd = unsafe { BorrowedFd::borrow_raw(timer.as_raw_fd()) };
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let timeout = rustix::event::Timespec {
        tv_sec: EXPECT_TIMEOUT.as_secs() as i64,
        tv_nsec: 0,
    };
    loop {
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(1) => return,
            Ok(_) => panic!("the timer did not expire within {EXPECT_TIMEOUT:?}"),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => panic!("poll(2): {e}"),
        }
    }
}

/// WaitForSingleObject on the timer's handle, bounded: for a timer no `Poll` watches.
#[cfg(windows)]
fn wait_readable_without_poll(timer: &Timer) {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
    use windows_sys::Win32::System::Threading::WaitForSingleObject;
    let ms = EXPECT_TIMEOUT.as_millis() as u32;
    // SAFETY: the handle belongs to `timer`, alive for the call; a bounded wait.
    let res = unsafe { WaitForSingleObject(timer.as_raw_handle(), ms) };
    assert_eq!(
        res, WAIT_OBJECT_0,
        "the timer did not expire within {EXPECT_TIMEOUT:?}"
    );
}

/// One successful `read` drains the timer: reading once per event (never to `WouldBlock`)
/// still gets every next expiration reported (on poll(2) the read re-arms the registration).
#[test]
fn one_read_per_event_is_enough() {
    let (mut poll, mut events, timer) = setup();
    timer.set_interval(Duration::from_millis(2)).unwrap();
    let mut reads = 0;
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while reads < 3 {
        assert!(Instant::now() < deadline, "{reads} reads");
        expect_event(&mut poll, &mut events, T);
        if timer.read().is_ok() {
            reads += 1;
        }
    }
    timer.cancel().unwrap();
}

/// The Windows backend's own lifecycle: each armed timer has a thread-pool wait whose callback
/// posts a packet to the port (src/sys/windows/wait.rs). Disarming must wait for a running
/// callback, a packet already queued must make no event for a source that changed or went,
/// and nothing may leak (handles counted as tests/win_leaks.rs does).
#[cfg(windows)]
mod windows {
    use super::*;

    #[test]
    fn deregister_while_armed_then_no_event() {
        let (mut poll, mut events, mut timer) = setup();
        timer.set_timeout(Duration::from_millis(5)).unwrap();
        poll.registry().deregister(&mut timer).unwrap();
        expect_no_events(&mut poll, &mut events);
        // It still expired, and counts.
        wait_readable_without_poll(&timer);
        assert_eq!(timer.read().unwrap(), 1);
    }

    /// A packet posted (the timer expired at once) but not dequeued when the timer is
    /// deregistered: it is dequeued by the next poll and makes no event.
    #[test]
    fn deregister_with_a_packet_queued_then_no_event() {
        let (mut poll, mut events, mut timer) = setup();
        timer.set_timeout(Duration::ZERO).unwrap();
        wait_readable_without_poll(&timer);
        poll.registry().deregister(&mut timer).unwrap();
        expect_no_events(&mut poll, &mut events);
        assert_eq!(timer.read().unwrap(), 1);
    }

    /// Dropped while armed, while expiring and with packets queued, many times: no crash, no
    /// event, no handle left.
    #[test]
    fn drop_while_armed_many_times() {
        run_isolated("windows::drop_while_armed_many_times", || {
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(64);
            windows_warm_up();
            let before = fd_count();
            for i in 0..300u64 {
                let mut timer = Timer::new().unwrap();
                poll.registry()
                    .register(&mut timer, Token(i as usize), Interest::READABLE)
                    .unwrap();
                // 0 to 199 µs: some expire before the drop, some while it runs.
                timer.set_timeout(Duration::from_micros(i % 200)).unwrap();
                if i % 3 == 0 {
                    poll_once(&mut poll, &mut events, Some(Duration::ZERO));
                }
                drop(timer);
            }
            // Packets of dropped timers may still come: none is an event.
            expect_no_events(&mut poll, &mut events);
            assert_eq!(fd_count_settled(before), before);
        });
    }

    /// The `Poll` dropped with a wait armed and with a packet queued; the timer is set again
    /// afterwards (arming nothing) and still counts.
    #[test]
    fn poll_dropped_while_armed_and_with_a_packet_queued() {
        let (poll, events, armed) = setup();
        armed.set_timeout(Duration::from_secs(3600)).unwrap();
        let mut fired = Timer::new().unwrap();
        poll.registry()
            .register(&mut fired, Token(5), Interest::READABLE)
            .unwrap();
        fired.set_timeout(Duration::ZERO).unwrap();
        wait_readable_without_poll(&fired);
        drop(events);
        drop(poll);
        for timer in [&armed, &fired] {
            timer.set_timeout(Duration::from_millis(1)).unwrap();
            wait_readable_without_poll(timer);
            assert_eq!(timer.read().unwrap(), 1);
        }
    }

    /// 200 registered timers, each set 50 times (the last setting short): each is seen once,
    /// with one expiration.
    #[test]
    fn two_hundred_timers_rearmed_in_a_loop() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(256);
        let mut timers: Vec<Timer> = (0..200).map(|_| Timer::new().unwrap()).collect();
        for (i, timer) in timers.iter_mut().enumerate() {
            poll.registry()
                .register(timer, Token(i), Interest::READABLE)
                .unwrap();
        }
        for round in 0..50u64 {
            for timer in &timers {
                timer
                    .set_timeout(Duration::from_secs(3600) + Duration::from_nanos(round))
                    .unwrap();
            }
        }
        for timer in &timers {
            timer.set_timeout(Duration::from_millis(1)).unwrap();
        }
        let mut seen = vec![0u64; timers.len()];
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        while seen.contains(&0) && Instant::now() < deadline {
            for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(250))) {
                match timers[e.token.0].read() {
                    Ok(n) => seen[e.token.0] += n,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => panic!("read: {err}"),
                }
            }
        }
        assert!(
            seen.iter().all(|&n| n == 1),
            "expirations per timer: {seen:?}"
        );
        expect_no_events(&mut poll, &mut events);
    }

    /// Set from another thread while the `Poll` waits: the wait is armed there and wakes it.
    #[test]
    fn set_from_another_thread_wakes_the_poll() {
        let (mut poll, mut events, timer) = setup();
        let timer = std::sync::Arc::new(timer);
        let setter = std::sync::Arc::clone(&timer);
        let thread = std::thread::spawn(move || {
            setter.set_timeout(Duration::from_millis(2)).unwrap();
        });
        assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
        thread.join().unwrap();
    }
}

/// Set before it is registered: the setting is kept, and registering arms it for the time
/// left (on kqueue the knote is added at registration; a timerfd runs anyway).
#[test]
fn set_before_register_expires_after_registration() {
    let mut timer = Timer::new().unwrap();
    let start = Instant::now();
    timer.set_timeout(Duration::from_millis(20)).unwrap();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut timer, T, Interest::READABLE)
        .unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    assert!(start.elapsed() >= Duration::from_millis(20));
    // A periodic setting made before registering keeps being reported.
    let mut timer = Timer::new().unwrap();
    timer.set_interval(Duration::from_millis(2)).unwrap();
    poll.registry()
        .register(&mut timer, Token(5), Interest::READABLE)
        .unwrap();
    let mut total = 0;
    while total < 3 {
        total += wait_and_read(&mut poll, &mut events, &timer, Token(5));
    }
    timer.cancel().unwrap();
}

/// Set while registered from another thread (every method takes `&self`), while this one
/// polls.
#[test]
fn set_from_another_thread_while_registered() {
    let (mut poll, mut events, timer) = setup();
    std::thread::scope(|scope| {
        scope.spawn(|| timer.set_timeout(Duration::from_millis(5)).unwrap());
        assert_eq!(wait_and_read(&mut poll, &mut events, &timer, T), 1);
    });
    // And cancelled from another thread before it expires: nothing comes (within
    // `NO_EVENT_TIMEOUT`, 100 ms, which covers the 60 ms). A cancel that only came after the
    // expiration (a loaded machine: the thread took 60 ms to start) proves nothing: again,
    // a bounded number of times.
    let expiry = Duration::from_millis(60);
    for attempt in 1.. {
        let set_at = Instant::now();
        timer.set_timeout(expiry).unwrap();
        std::thread::scope(|scope| {
            scope.spawn(|| timer.cancel().unwrap());
        });
        if set_at.elapsed() < expiry {
            break;
        }
        assert!(
            attempt < 20,
            "the cancelling thread never ran within {expiry:?}"
        );
        flush(&mut poll, &mut events);
    }
    expect_no_event_for(&mut poll, &mut events, T);
    would_block(timer.read());
}

/// A setting armed under one token survives a reregister with another: the expiration is
/// reported under the new token only (on kqueue the knote is re-added for the time left).
#[test]
fn pending_setting_survives_reregister_with_another_token() {
    let (mut poll, mut events, mut timer) = setup();
    let start = Instant::now();
    timer.set_timeout(Duration::from_millis(20)).unwrap();
    poll.registry()
        .reregister(&mut timer, Token(42), Interest::READABLE)
        .unwrap();
    assert_eq!(wait_and_read(&mut poll, &mut events, &timer, Token(42)), 1);
    assert!(start.elapsed() >= Duration::from_millis(20));
    expect_no_event_for(&mut poll, &mut events, T);
    // A periodic one too, reregistered between two expirations.
    timer.set_interval(Duration::from_millis(3)).unwrap();
    assert!(wait_and_read(&mut poll, &mut events, &timer, Token(42)) >= 1);
    poll.registry()
        .reregister(&mut timer, Token(43), Interest::READABLE)
        .unwrap();
    let mut total = 0;
    while total < 3 {
        total += wait_and_read(&mut poll, &mut events, &timer, Token(43));
    }
    timer.cancel().unwrap();
}

/// The `Poll` dropped first: setting the timer still works (on kqueue the knote goes on the
/// dropped `Poll`'s queue, which the timer keeps open, never on whatever gets its fd number
/// next), and a new `Poll` hears nothing of it.
#[test]
fn poll_dropped_first_then_set_never_reaches_a_new_poll() {
    let (poll, events, timer) = setup();
    drop(events);
    drop(poll);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    timer.set_timeout(Duration::from_millis(1)).unwrap();
    expect_no_events(&mut poll, &mut events);
    assert_eq!(read_without_poll(&timer), 1);
    timer.set_interval(Duration::from_millis(1)).unwrap();
    expect_no_events(&mut poll, &mut events);
    timer.cancel().unwrap();
}

/// `set_interval_after` with a first expiration other than the period: reading once per
/// event, every period is reported (on kqueue a one-shot knote, then the periodic one armed
/// by the read).
#[test]
fn interval_after_a_shorter_first_keeps_reporting() {
    let (mut poll, mut events, timer) = setup();
    let start = Instant::now();
    timer
        .set_interval_after(Duration::from_millis(1), Duration::from_millis(4))
        .unwrap();
    let mut total = 0;
    while total < 4 {
        total += wait_and_read(&mut poll, &mut events, &timer, T);
    }
    // 1 + 3 * 4 ms at least.
    assert!(start.elapsed() >= Duration::from_millis(13));
    timer.cancel().unwrap();
}
