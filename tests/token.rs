//! Tests of `Token`: conversions, derived traits, and values surviving the trip through epoll.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use mio::Token;

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn is_send_and_sync() {
    assert_send::<Token>();
    assert_sync::<Token>();
}

#[test]
fn into_usize() {
    assert_eq!(usize::from(Token(0)), 0);
    assert_eq!(usize::from(Token(42)), 42);
    assert_eq!(usize::from(Token(usize::MAX)), usize::MAX);
    let n: usize = Token(7).into();
    assert_eq!(n, 7);
    assert_eq!(Token(9).0, 9);
}

#[test]
fn debug() {
    assert_eq!(format!("{:?}", Token(3)), "Token(3)");
    assert_eq!(format!("{:?}", Token(0)), "Token(0)");
    assert_eq!(
        format!("{:?}", Token(usize::MAX)),
        format!("Token({})", usize::MAX)
    );
}

#[test]
fn eq_ord_copy() {
    let a = Token(1);
    let b = a; // Copy
    assert_eq!(a, b);
    assert_ne!(Token(1), Token(2));
    assert!(Token(1) < Token(2));
    assert!(Token(usize::MAX) > Token(0));
    assert_eq!(Token(5).cmp(&Token(5)), std::cmp::Ordering::Equal);
    let mut v = vec![Token(3), Token(usize::MAX), Token(0), Token(2)];
    v.sort();
    assert_eq!(v, vec![Token(0), Token(2), Token(3), Token(usize::MAX)]);
    assert_eq!(Token(4).max(Token(8)), Token(8));
}

#[test]
fn hash() {
    fn hash_of(t: Token) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }
    assert_eq!(hash_of(Token(12)), hash_of(Token(12)));
    let set: HashSet<Token> = [Token(1), Token(2), Token(1), Token(usize::MAX)]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 3);
    assert!(set.contains(&Token(usize::MAX)));
    assert!(!set.contains(&Token(3)));
}

// Windows: `util::Pair` is a `mio::net::TcpStream` there.
#[cfg(all(feature = "os-poll", feature = "os-ext", any(unix, feature = "net")))]
mod util;

/// Tokens survive epoll's `u64` (Windows: the completion port's keys and events) unchanged,
/// including values with the top bits set.
#[cfg(all(feature = "os-poll", feature = "os-ext", any(unix, feature = "net")))]
mod round_trip {
    use std::io::Write;

    use mio::{Events, Interest, Poll, Token, Waker};

    use crate::util::{self, expect_events, ExpectEvent, Pair, Readiness};

    fn round_trip(tokens: &[Token]) {
        util::init();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(16);
        let mut pairs = Vec::new();
        for &token in tokens {
            let mut pair = Pair::new();
            poll.registry()
                .register(&mut pair, token, Interest::READABLE)
                .unwrap();
            pair.peer.write_all(b"x").unwrap();
            pairs.push(pair);
        }
        let expected = tokens
            .iter()
            .map(|&t| ExpectEvent::new(t, Readiness::READABLE))
            .collect();
        let seen = expect_events(&mut poll, &mut events, expected);
        for event in seen {
            assert!(
                tokens.contains(&event.token),
                "unknown token {:?}",
                event.token
            );
        }
    }

    #[test]
    fn extreme_values() {
        round_trip(&[
            Token(0),
            Token(usize::MAX),
            Token(usize::MAX - 1),
            Token(1 << (usize::BITS - 1)),
        ]);
    }

    #[test]
    fn pointer_values() {
        let x = 5u64;
        let boxed = Box::new([0u8; 3]);
        let on_stack = &x as *const u64 as usize;
        let on_heap = &*boxed as *const [u8; 3] as usize;
        let function = pointer_values as fn() as usize;
        round_trip(&[Token(on_stack), Token(on_heap), Token(function)]);
    }

    #[test]
    fn waker_with_max_token() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        let waker = Waker::new(poll.registry(), Token(usize::MAX)).unwrap();
        waker.wake().unwrap();
        let seen = expect_events(
            &mut poll,
            &mut events,
            vec![ExpectEvent::new(Token(usize::MAX), Readiness::READABLE)],
        );
        assert!(seen.iter().all(|e| e.token == Token(usize::MAX)));
    }

    #[test]
    fn reregister_changes_to_max_token() {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        let mut pair = Pair::new();
        poll.registry()
            .register(&mut pair, Token(0), Interest::READABLE)
            .unwrap();
        poll.registry()
            .reregister(&mut pair, Token(usize::MAX), Interest::READABLE)
            .unwrap();
        pair.peer.write_all(b"x").unwrap();
        let seen = expect_events(
            &mut poll,
            &mut events,
            vec![ExpectEvent::new(Token(usize::MAX), Readiness::READABLE)],
        );
        assert!(seen.iter().all(|e| e.token == Token(usize::MAX)));
    }
}
