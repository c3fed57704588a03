//! Tests of `Events`, its `Iter` and `Event`: capacity, iteration quirks, flags and `Debug`.
//! The first few need no OS backend and also run in the shell build (no `os-poll`).

use mio::event::{Event, Iter};
use mio::Events;

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn are_send_and_sync() {
    assert_send::<Events>();
    assert_sync::<Events>();
    assert_send::<Event>();
    assert_sync::<Event>();
    assert_send::<Iter<'static>>();
    assert_sync::<Iter<'static>>();
}

#[test]
#[cfg(all(
    target_os = "linux",
    target_arch = "x86_64",
    feature = "os-poll",
    not(mio_unsupported_force_poll_poll),
    not(mio_unsupported_test_libkqueue)
))] // The epoll layout (not libkqueue's `struct kevent`).
fn sizes() {
    // `Event` is exactly the kernel's packed `struct epoll_event`.
    assert_eq!(std::mem::size_of::<Event>(), 12);
    assert_eq!(std::mem::size_of::<Events>(), 24);
}

#[test]
fn capacity_is_exactly_what_was_asked() {
    for cap in [0, 1, 2, 3, 7, 64, 256, 1000, 1024] {
        let events = Events::with_capacity(cap);
        assert_eq!(events.capacity(), cap);
        assert!(events.is_empty());
    }
}

#[test]
fn new_events_are_empty() {
    let events = Events::with_capacity(16);
    assert!(events.is_empty());
    assert!(events.iter().next().is_none());
    assert_eq!(events.iter().count(), 0);
    assert_eq!(events.iter().size_hint(), (0, Some(0)));
    assert_eq!(format!("{:?}", events), "[]");
}

#[test]
fn clear_on_empty_events() {
    let mut events = Events::with_capacity(3);
    events.clear();
    assert!(events.is_empty());
    assert_eq!(events.capacity(), 3);
}

// Windows: `util::Pair` is a `mio::net::TcpStream` there.
#[cfg(all(feature = "os-poll", feature = "os-ext", any(unix, feature = "net")))]
mod util;

/// Tests that need events from a real `Poll`. The sockets are `util::Pair`s: a Unix stream
/// pair registered as a raw fd on Unix, a loopback TCP connection on Windows.
#[cfg(all(feature = "os-poll", feature = "os-ext", any(unix, feature = "net")))]
mod polled {
    use std::io::{Read, Write};
    #[cfg(unix)]
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    use mio::event::Event;
    #[cfg(unix)]
    use mio::unix::SourceFd;
    use mio::{Events, Interest, Poll, Token, Waker};

    use crate::util::{self, expect_event, expect_events, poll_once, ExpectEvent, Pair, Readiness};

    const WAKER: Token = Token(1);

    /// A `Poll` whose `Events` hold exactly one waker event afterwards.
    fn poll_with_waker_event() -> (Poll, Events, Waker) {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let waker = Waker::new(poll.registry(), WAKER).unwrap();
        waker.wake().unwrap();
        expect_events(
            &mut poll,
            &mut events,
            vec![ExpectEvent::new(WAKER, Readiness::READABLE)],
        );
        (poll, events, waker)
    }

    /// Polls until one call returns at least `n` events; returns the `Events` as filled by it.
    /// `rearm` runs before each call: on Windows the sources' AFD completions are queued
    /// asynchronously, so one call may see only some of them, and re-registering (with the
    /// data still unread) makes all of them due again for the next try.
    fn poll_until_at_least(
        poll: &mut Poll,
        events: &mut Events,
        n: usize,
        mut rearm: impl FnMut(&Poll),
    ) {
        let deadline = std::time::Instant::now() + util::EXPECT_TIMEOUT;
        loop {
            rearm(poll);
            let seen = poll_once(poll, events, Some(Duration::from_millis(100)));
            if seen.len() >= n {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never got {n} events at once"
            );
        }
    }

    #[test]
    fn iterate_after_poll() {
        let (_poll, events, _waker) = poll_with_waker_event();
        assert!(!events.is_empty());
        let tokens: Vec<Token> = events.iter().map(|e| e.token()).collect();
        assert_eq!(tokens, vec![WAKER]);
        // `&Events` is `IntoIterator`.
        let mut n = 0;
        for event in &events {
            assert_eq!(event.token(), WAKER);
            n += 1;
        }
        assert_eq!(n, 1);
    }

    #[test]
    fn clear_keeps_capacity() {
        let (_poll, mut events, _waker) = poll_with_waker_event();
        assert!(!events.is_empty());
        events.clear();
        assert!(events.is_empty());
        assert_eq!(events.capacity(), 8);
        assert!(events.iter().next().is_none());
    }

    #[test]
    fn poll_replaces_previous_contents() {
        let (mut poll, mut events, _waker) = poll_with_waker_event();
        assert!(!events.is_empty());
        poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
        assert!(events.is_empty());
        assert_eq!(events.capacity(), 8);
    }

    #[test]
    fn iter_size_hint_and_count_report_the_total() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut a = Pair::new();
        let mut b = Pair::new();
        poll.registry()
            .register(&mut a, Token(10), Interest::READABLE)
            .unwrap();
        poll.registry()
            .register(&mut b, Token(11), Interest::READABLE)
            .unwrap();
        a.peer.write_all(b"a").unwrap();
        b.peer.write_all(b"b").unwrap();
        let mut first = true;
        poll_until_at_least(&mut poll, &mut events, 2, |poll| {
            if !std::mem::take(&mut first) {
                for (pair, token) in [(&mut a, Token(10)), (&mut b, Token(11))] {
                    poll.registry()
                        .reregister(pair, token, Interest::READABLE)
                        .unwrap();
                }
            }
        });

        let mut iter = events.iter();
        assert_eq!(iter.size_hint(), (2, Some(2)));
        assert!(iter.next().is_some());
        // The quirk: still the total, not what is left.
        assert_eq!(iter.size_hint(), (2, Some(2)));
        let clone = iter.clone();
        assert_eq!(clone.count(), 2);
        assert!(iter.next().is_some());
        assert_eq!(iter.size_hint(), (2, Some(2)));
        assert!(iter.next().is_none());
        assert_eq!(iter.size_hint(), (2, Some(2)));
        assert_eq!(iter.count(), 2);

        // A clone continues from the same position.
        let mut iter = events.iter();
        let first = iter.next().unwrap().token();
        let mut clone = iter.clone();
        let second = clone.next().unwrap().token();
        assert_ne!(first, second);
        assert_eq!(iter.next().unwrap().token(), second);
        assert!(!format!("{:?}", iter).is_empty());
    }

    #[test]
    fn event_debug_of_a_waker_event() {
        let (_poll, events, _waker) = poll_with_waker_event();
        let event = events.iter().next().unwrap();
        assert_eq!(
            format!("{:?}", event),
            "Event { token: Token(1), readable: true, writable: false, error: false, \
         read_closed: false, write_closed: false, priority: false, aio: false, lio: false }"
        );
        let pretty = format!("{:#?}", event);
        assert!(pretty.contains("details"), "{pretty}");
        assert!(
            pretty.contains("token: Token(\n") || pretty.contains("token: Token(1)"),
            "{pretty}"
        );
        assert!(pretty.contains("readable: true"), "{pretty}");
    }

    #[test]
    fn events_debug_is_a_list() {
        let (_poll, events, _waker) = poll_with_waker_event();
        let event = events.iter().next().unwrap();
        assert_eq!(format!("{:?}", events), format!("[{:?}]", event));
    }

    #[test]
    fn event_debug_of_a_writable_event() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        // An eventfd on Linux, a TCP socket with room on Windows: writable, nothing else.
        #[cfg(unix)]
        let efd = util::eventfd();
        #[cfg(unix)]
        let mut source = SourceFd(&efd.as_raw_fd());
        #[cfg(windows)]
        let mut source = Pair::new();
        poll.registry()
            .register(&mut source, Token(42), Interest::WRITABLE)
            .unwrap();
        expect_event(&mut poll, &mut events, Token(42));
        let event = events.iter().find(|e| e.token() == Token(42)).unwrap();
        assert_eq!(
            format!("{:?}", event),
            "Event { token: Token(42), readable: false, writable: true, error: false, \
         read_closed: false, write_closed: false, priority: false, aio: false, lio: false }"
        );
    }

    #[test]
    fn event_clone_has_the_same_flags() {
        let (_poll, events, _waker) = poll_with_waker_event();
        let event = events.iter().next().unwrap();
        let clone: Event = event.clone();
        assert_eq!(clone.token(), event.token());
        assert_eq!(clone.is_readable(), event.is_readable());
        assert_eq!(clone.is_writable(), event.is_writable());
        assert_eq!(format!("{:?}", clone), format!("{:?}", event));
    }

    #[test]
    fn waker_event_flags() {
        let (_poll, events, _waker) = poll_with_waker_event();
        let event = events.iter().next().unwrap();
        assert_eq!(event.token(), WAKER);
        assert!(event.is_readable());
        assert!(!event.is_writable());
        assert!(!event.is_error());
        assert!(!event.is_read_closed());
        assert!(!event.is_write_closed());
        assert!(!event.is_priority());
        assert!(!event.is_aio());
        assert!(!event.is_lio());
    }

    #[test]
    fn readable_and_writable_flags_of_a_socket() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut pair = Pair::new();
        poll.registry()
            .register(&mut pair, Token(0), Interest::READABLE | Interest::WRITABLE)
            .unwrap();
        let first = expect_event(&mut poll, &mut events, Token(0));
        assert!(first.writable);
        assert!(!first.readable && !first.error && !first.read_closed && !first.write_closed);

        pair.peer.write_all(b"hi").unwrap();
        let second = expect_event(&mut poll, &mut events, Token(0));
        assert!(second.readable);
        assert!(!second.error && !second.read_closed && !second.write_closed && !second.priority);
    }

    #[test]
    #[cfg(unix)] // A Unix stream's peer closing is a hang-up (both directions); see below for TCP.
    fn peer_closed_socket_flags() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let (mut a, b) = util::unix_pair();
        poll.registry()
            .register(
                &mut SourceFd(&a.as_raw_fd()),
                Token(0),
                Interest::READABLE | Interest::WRITABLE,
            )
            .unwrap();
        expect_event(&mut poll, &mut events, Token(0)); // writable
        drop(b);
        #[cfg(not(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll))))]
        let event = expect_event(&mut poll, &mut events, Token(0));
        // kqueue: one kevent per filter, each with `EV_EOF` (kqueue(2), EVFILT_READ: "If the
        // read direction of the socket has shutdown, then the filter also sets EV_EOF";
        // EVFILT_WRITE: "When the reader disconnects, the filter will set EV_EOF"), so the
        // flags come as two events, merged here.
        #[cfg(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll)))]
        let event = util::expect_merged_event(&mut poll, &mut events, Token(0), |e| {
            e.read_closed && e.write_closed
        });
        assert!(event.readable, "{event:?}");
        assert!(event.writable, "{event:?}");
        assert!(event.read_closed, "{event:?}");
        assert!(event.write_closed, "{event:?}");
        assert!(!event.error, "{event:?}");
        assert!(!event.priority, "{event:?}");
        let mut buf = [0u8; 8];
        assert_eq!(a.read(&mut buf).unwrap(), 0);
        let err = a.write(b"x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }

    /// Windows (TCP): the peer closing sends a FIN, a half close: readable and read-closed,
    /// and the write side is not reported closed (only a reset, `AFD_POLL_ABORT`, would).
    #[test]
    #[cfg(windows)]
    fn peer_closed_socket_flags() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut pair = Pair::new();
        poll.registry()
            .register(&mut pair, Token(0), Interest::READABLE | Interest::WRITABLE)
            .unwrap();
        expect_event(&mut poll, &mut events, Token(0)); // writable
        drop(pair.peer);
        let event = expect_event(&mut poll, &mut events, Token(0));
        assert!(event.readable, "{event:?}");
        assert!(event.read_closed, "{event:?}");
        assert!(!event.write_closed, "{event:?}");
        assert!(!event.error, "{event:?}");
        assert!(!event.priority, "{event:?}");
        let mut buf = [0u8; 8];
        assert_eq!((&pair.local).read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn read_half_shutdown_sets_read_closed_only() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut pair = Pair::new();
        poll.registry()
            .register(&mut pair, Token(0), Interest::READABLE)
            .unwrap();
        pair.peer.shutdown(std::net::Shutdown::Write).unwrap();
        let event = expect_event(&mut poll, &mut events, Token(0));
        assert!(event.readable, "{event:?}");
        assert!(event.read_closed, "{event:?}");
        assert!(!event.write_closed, "{event:?}");
        assert!(!event.error, "{event:?}");
    }

    #[test]
    fn aio_and_lio_are_never_set() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut pair = Pair::new();
        // `PRIORITY` exists on Linux and Android only.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let interests = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let interests = Interest::READABLE | Interest::WRITABLE;
        poll.registry()
            .register(&mut pair, Token(0), interests)
            .unwrap();
        drop(pair.peer);
        expect_event(&mut poll, &mut events, Token(0));
        for event in events.iter() {
            assert!(!event.is_aio());
            assert!(!event.is_lio());
        }
    }
}
