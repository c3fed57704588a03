//! Windows-only: the AFD poll requests' lifetimes and the handles they use.
#![cfg(all(windows, feature = "os-poll", feature = "net"))]

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

#[derive(Clone, Copy, Debug)]
struct Seen {
    token: Token,
    readable: bool,
    writable: bool,
    read_closed: bool,
}

/// Polls until an event matching `f` arrives (events of earlier polls that did not match are
/// kept in `seen` and matched too), for at most 5 s.
fn poll_until<F: FnMut(&Seen) -> bool>(
    poll: &mut Poll,
    events: &mut Events,
    seen: &mut Vec<Seen>,
    mut f: F,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(i) = seen.iter().position(&mut f) {
            seen.remove(i);
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        match poll.poll(events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        seen.extend(events.iter().map(|e| Seen {
            token: e.token(),
            readable: e.is_readable(),
            writable: e.is_writable(),
            read_closed: e.is_read_closed(),
        }));
    }
}

#[test]
fn smoke_tcp_echo() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let mut seen = Vec::new();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(
            &mut client,
            Token(1),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(0)
        && e.readable));
    let (mut server, _) = listener.accept().unwrap();
    poll.registry()
        .register(&mut server, Token(2), Interest::READABLE)
        .unwrap();
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(1)
        && e.writable));
    client.write_all(b"hello").unwrap();
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(2)
        && e.readable));
    let mut buf = [0; 16];
    assert_eq!(server.read(&mut buf).unwrap(), 5);
    assert_eq!(
        server.read(&mut buf).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
    drop(client);
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(2)
        && e.read_closed));
    assert_eq!(server.read(&mut buf).unwrap(), 0);
}

#[test]
fn smoke_waker() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let mut seen = Vec::new();
    let waker = std::sync::Arc::new(Waker::new(poll.registry(), Token(9)).unwrap());
    let w = waker.clone();
    let t = std::thread::spawn(move || w.wake().unwrap());
    assert!(poll_until(&mut poll, &mut events, &mut seen, |e| e.token
        == Token(9)
        && e.readable));
    t.join().unwrap();
}
