//! Tests of `unix::SourceFd`: registering raw fds (sockets, pipes, eventfds) as they are.
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
#![cfg(unix)] // `mio::unix::SourceFd`: Unix only.

mod util;

use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};

use mio::event::Source;
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Token};

use util::{
    assert_send, assert_sync, drain, expect_event, expect_events, expect_no_events, ExpectEvent,
    Readiness,
};

#[test]
fn is_send_and_sync() {
    assert_send::<SourceFd<'static>>();
    assert_sync::<SourceFd<'static>>();
}

#[test]
fn debug() {
    let fd: RawFd = 6;
    assert_eq!(format!("{:?}", SourceFd(&fd)), "SourceFd(6)");
    let fd: RawFd = -1;
    assert_eq!(format!("{:?}", SourceFd(&fd)), "SourceFd(-1)");
    let (a, _b) = util::unix_pair();
    let fd = a.as_raw_fd();
    assert_eq!(format!("{:?}", SourceFd(&fd)), format!("SourceFd({fd})"));
}

#[test]
fn field_is_public() {
    let fd: RawFd = 3;
    let source = SourceFd(&fd);
    assert_eq!(*source.0, 3);
}

#[test]
fn socket_pair() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = util::unix_pair();
    let fd = a.as_raw_fd();
    let mut source = SourceFd(&fd);
    poll.registry()
        .register(&mut source, Token(0), Interest::READABLE)
        .unwrap();
    b.write_all(b"abc").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(0), Readiness::READABLE)],
    );
    assert_eq!(drain(&a), 3);
    poll.registry().deregister(&mut source).unwrap();
}

#[test]
fn raw_pipe() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (read, write) = util::raw_pipe();
    let (rfd, wfd) = (read.as_raw_fd(), write.as_raw_fd());
    poll.registry()
        .register(&mut SourceFd(&rfd), Token(0), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&mut SourceFd(&wfd), Token(1), Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(1), Readiness::WRITABLE)],
    );
    rustix::io::write(&write, b"data").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(Token(0), Readiness::READABLE)],
    );
    // The write end closing is a hang-up for the read end.
    poll.registry().deregister(&mut SourceFd(&wfd)).unwrap();
    drop(write);
    let event = expect_event(&mut poll, &mut events, Token(0));
    assert!(event.read_closed, "{event:?}");
}

#[test]
fn eventfd() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let efd = util::eventfd();
    let fd = efd.as_raw_fd();
    poll.registry()
        .register(
            &mut SourceFd(&fd),
            Token(3),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    // Counter 0: writable, not readable.
    let event = expect_event(&mut poll, &mut events, Token(3));
    assert!(event.writable && !event.readable, "{event:?}");
    util::eventfd_signal(&efd);
    let event = expect_event(&mut poll, &mut events, Token(3));
    assert!(event.readable, "{event:?}");
    assert_eq!(util::eventfd_drain(&efd), 1);
}

#[test]
fn never_closes_the_fd() {
    let poll = Poll::new().unwrap();
    let (a, _b) = util::unix_pair();
    let fd = a.as_raw_fd();
    {
        let mut source = SourceFd(&fd);
        poll.registry()
            .register(&mut source, Token(0), Interest::READABLE)
            .unwrap();
        poll.registry()
            .reregister(&mut source, Token(1), Interest::WRITABLE)
            .unwrap();
        poll.registry().deregister(&mut source).unwrap();
    }
    {
        let mut source = SourceFd(&fd);
        poll.registry()
            .register(&mut source, Token(0), Interest::READABLE)
            .unwrap();
        // Dropped while registered: nothing is deregistered or closed.
    }
    assert!(rustix::io::fcntl_getfd(&a).is_ok());
    let err = poll
        .registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
}

/// `SourceFd` skips the debug-build association check: the same fd may sit in two `Poll`s.
#[test]
fn registers_with_two_polls() {
    let mut poll1 = Poll::new().unwrap();
    let mut poll2 = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, receiver) = pipe::new().unwrap();
    let fd = receiver.as_raw_fd();
    poll1
        .registry()
        .register(&mut SourceFd(&fd), Token(1), Interest::READABLE)
        .unwrap();
    poll2
        .registry()
        .register(&mut SourceFd(&fd), Token(2), Interest::READABLE)
        .unwrap();
    sender.write_all(b"x").unwrap();
    expect_event(&mut poll1, &mut events, Token(1));
    expect_event(&mut poll2, &mut events, Token(2));
    poll1.registry().deregister(&mut SourceFd(&fd)).unwrap();
    poll2.registry().deregister(&mut SourceFd(&fd)).unwrap();
}

// epoll forgets a closed fd by itself. poll(2) cannot: it reports the number as invalid
// (`POLLNVAL`), which the fallback delivers once as an error event; see the test below.
#[cfg(not(mio_unsupported_force_poll_poll))]
/// Closing a registered fd removes it: an event pending at that time is not delivered.
#[test]
fn closed_while_registered_delivers_nothing() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = util::unix_pair();
    poll.registry()
        .register(
            &mut SourceFd(&a.as_raw_fd()),
            Token(0),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    b.write_all(b"pending").unwrap();
    drop(a);
    expect_no_events(&mut poll, &mut events);
    let err = b.write(b"more").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    expect_no_events(&mut poll, &mut events);
}

/// A `dup` of a registered fd keeps the registration alive after the original is closed
/// (the kernel tracks the open file, not the number).
#[test]
fn dup_keeps_the_registration() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, mut b) = util::unix_pair();
    poll.registry()
        .register(&mut SourceFd(&a.as_raw_fd()), Token(5), Interest::READABLE)
        .unwrap();
    let dup = a.try_clone().unwrap();
    drop(a);
    b.write_all(b"x").unwrap();
    expect_event(&mut poll, &mut events, Token(5));
    drop(dup);
    b.write_all(b"y").unwrap_err();
    expect_no_events(&mut poll, &mut events);
}

/// A type that owns an fd implements `Source` through `SourceFd`.
#[test]
fn user_source_delegating_to_source_fd() {
    struct MyIo {
        fd: std::os::fd::OwnedFd,
    }
    impl Source for MyIo {
        fn register(
            &mut self,
            registry: &mio::Registry,
            token: Token,
            interests: Interest,
        ) -> io::Result<()> {
            SourceFd(&self.fd.as_raw_fd()).register(registry, token, interests)
        }
        fn reregister(
            &mut self,
            registry: &mio::Registry,
            token: Token,
            interests: Interest,
        ) -> io::Result<()> {
            SourceFd(&self.fd.as_raw_fd()).reregister(registry, token, interests)
        }
        fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
            SourceFd(&self.fd.as_raw_fd()).deregister(registry)
        }
    }

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut io = MyIo {
        fd: util::eventfd(),
    };
    poll.registry()
        .register(&mut io, Token(1), Interest::READABLE)
        .unwrap();
    util::eventfd_signal(&io.fd);
    expect_event(&mut poll, &mut events, Token(1));
    poll.registry()
        .reregister(&mut io, Token(2), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(2));
    poll.registry().deregister(&mut io).unwrap();
    util::eventfd_signal(&io.fd);
    expect_no_events(&mut poll, &mut events);
}

/// poll(2) fallback: a raw fd closed while registered is reported once as an error event
/// (never a silent spin), then forgotten, so its number can be registered again.
#[cfg(mio_unsupported_force_poll_poll)]
#[test]
fn closed_while_registered_is_one_error_event() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (a, _b) = util::unix_pair();
    let fd = a.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
        .unwrap();
    drop(a);
    let event = expect_event(&mut poll, &mut events, Token(0));
    assert!(
        event.error && event.read_closed && event.write_closed,
        "{event:?}"
    );
    expect_no_events(&mut poll, &mut events);
    // Forgotten: EBADF, or ENOENT if another test thread already reuses the number.
    let err = poll.registry().deregister(&mut SourceFd(&fd)).unwrap_err();
    assert!(matches!(err.raw_os_error(), Some(9) | Some(2)), "{err}");
}
