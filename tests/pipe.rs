//! Tests of `unix::pipe`: `new`, `Sender`/`Receiver` I/O and events, child process streams,
//! blocking mode, fd flags, `try_io`, fd conversions and `Debug`.
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
#![cfg(unix)] // `mio::unix::pipe`: Unix only (Windows named pipes: tests/win_named_pipe.rs).

mod util;

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use mio::unix::pipe::{self, Receiver, Sender};
use mio::{Events, Interest, Poll, Token};
use rustix::fs::OFlags;
use rustix::io::FdFlags;

use util::{
    assert_send, assert_sync, drain, expect_event, expect_events, expect_no_events, fill,
    poll_once, read_exact_polling, ExpectEvent, Readiness, EXPECT_TIMEOUT,
};

const SENDER: Token = Token(0);
const RECEIVER: Token = Token(1);

/// Held while a child is spawned, and by tests that assert what happens when a pipe end is
/// closed: between `fork` and `exec` a child holds copies of every fd of the process (they
/// are close-on-exec, so only until `exec`), which would keep a just-dropped end open.
static SPAWN_LOCK: Mutex<()> = Mutex::new(());

fn no_spawn() -> MutexGuard<'static, ()> {
    SPAWN_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn spawn(command: &mut Command) -> Child {
    let _guard = no_spawn();
    command.spawn().expect("spawn a child process")
}

fn is_nonblocking(fd: impl AsFd) -> bool {
    rustix::fs::fcntl_getfl(fd)
        .unwrap()
        .contains(OFlags::NONBLOCK)
}

fn is_cloexec(fd: impl AsFd) -> bool {
    rustix::io::fcntl_getfd(fd)
        .unwrap()
        .contains(FdFlags::CLOEXEC)
}

fn access_mode(fd: impl AsFd) -> OFlags {
    rustix::fs::fcntl_getfl(fd)
        .unwrap()
        .intersection(OFlags::ACCMODE)
}

/// A pipe with both ends registered: the sender for writable, the receiver for readable.
fn registered_pipe(poll: &Poll) -> (Sender, Receiver) {
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut sender, SENDER, Interest::WRITABLE)
        .unwrap();
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    (sender, receiver)
}

/// Reads until end of file, polling (bounded) when the read would block.
fn read_to_end_polling(poll: &mut Poll, events: &mut Events, mut r: &Receiver) -> Vec<u8> {
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "no end of file; read {out:?}");
                poll_once(poll, events, Some(std::time::Duration::from_millis(250)));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

#[test]
fn are_send_and_sync() {
    assert_send::<Sender>();
    assert_sync::<Sender>();
    assert_send::<Receiver>();
    assert_sync::<Receiver>();
}

#[test]
fn new_gives_nonblocking_cloexec_ends_in_order() {
    let (sender, receiver) = pipe::new().unwrap();
    assert!(is_nonblocking(&sender));
    assert!(is_nonblocking(&receiver));
    assert!(is_cloexec(&sender));
    assert!(is_cloexec(&receiver));
    // `(Sender, Receiver)`: the write end first.
    assert_eq!(access_mode(&sender), OFlags::WRONLY);
    assert_eq!(access_mode(&receiver), OFlags::RDONLY);
    assert_eq!(sender.as_fd().as_raw_fd(), sender.as_raw_fd());
    assert_eq!(receiver.as_fd().as_raw_fd(), receiver.as_raw_fd());
    assert_eq!(util::fd_target(sender.as_raw_fd()).unwrap()[..6], *"pipe:[");
}

#[test]
fn set_nonblocking_changes_the_flag() {
    let (sender, receiver) = pipe::new().unwrap();
    sender.set_nonblocking(false).unwrap();
    receiver.set_nonblocking(false).unwrap();
    assert!(!is_nonblocking(&sender));
    assert!(!is_nonblocking(&receiver));
    sender.set_nonblocking(true).unwrap();
    receiver.set_nonblocking(true).unwrap();
    assert!(is_nonblocking(&sender));
    assert!(is_nonblocking(&receiver));
    // Idempotent, and close-on-exec is untouched.
    sender.set_nonblocking(true).unwrap();
    assert!(is_nonblocking(&sender));
    assert!(is_cloexec(&sender));
    assert!(is_cloexec(&receiver));
}

#[test]
fn write_then_read() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = registered_pipe(&poll);
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(SENDER, Readiness::WRITABLE)],
    );
    // Nothing to read yet.
    let mut buf = [0u8; 16];
    let err = receiver.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

    assert_eq!(sender.write(b"hello").unwrap(), 5);
    sender.flush().unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(RECEIVER, Readiness::READABLE)],
    );
    assert_eq!(receiver.read(&mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    let err = receiver.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    expect_no_events(&mut poll, &mut events);

    // Through shared references, and vectored.
    let n = (&sender)
        .write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
        .unwrap();
    assert_eq!(n, 4);
    (&sender).flush().unwrap();
    let event = expect_event(&mut poll, &mut events, RECEIVER);
    assert!(event.readable);
    let (mut x, mut y) = ([0u8; 1], [0u8; 8]);
    let n = (&receiver)
        .read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])
        .unwrap();
    assert_eq!(n, 4);
    assert_eq!(&x, b"a");
    assert_eq!(&y[..3], b"bcd");
    let mut rest = [0u8; 4];
    assert_eq!(
        (&receiver).read(&mut rest).unwrap_err().kind(),
        io::ErrorKind::WouldBlock
    );
}

#[test]
fn edge_triggered_both_ends() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (sender, receiver) = registered_pipe(&poll);
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(SENDER, Readiness::WRITABLE)],
    );
    expect_no_events(&mut poll, &mut events);

    // Fill the pipe to `WouldBlock`: readable once, and no writable edge while full.
    let written = fill(&sender);
    assert!(written > 0);
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(RECEIVER, Readiness::READABLE)],
    );
    expect_no_events(&mut poll, &mut events);

    // Draining makes room: a new writable edge.
    assert_eq!(drain(&receiver), written);
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(SENDER, Readiness::WRITABLE)],
    );
    expect_no_events(&mut poll, &mut events);

    // And new data after the `WouldBlock` is a new readable edge.
    (&sender).write_all(b"again").unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![ExpectEvent::new(RECEIVER, Readiness::READABLE)],
    );
    assert_eq!(drain(&receiver), 5);
}

/// §3.4: `Sender` dropped, no data left: a bare hang-up, read- and write-closed, not readable.
#[test]
fn sender_dropped_without_data() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    expect_no_events(&mut poll, &mut events);
    drop(sender);
    let event = expect_event(&mut poll, &mut events, RECEIVER);
    assert!(event.read_closed, "{event:?}");
    assert!(!event.writable, "{event:?}");
    assert!(!event.error, "{event:?}");
    // epoll and poll(2): a bare hang-up (`EPOLLHUP`/`POLLHUP`), which closes both directions.
    #[cfg(not(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll))))]
    {
        assert!(event.write_closed, "{event:?}");
        assert!(!event.readable, "{event:?}");
    }
    // kqueue: the read filter fires with `EV_EOF` (kqueue(2), EVFILT_READ: "When the last
    // writer disconnects, the filter will set EV_EOF in flags"): every read-filter event is
    // readable, and `EV_EOF` on it closes the read direction only (API.md §3.4, kqueue).
    #[cfg(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll)))]
    {
        assert!(!event.write_closed, "{event:?}");
        assert!(event.readable, "{event:?}");
    }
    let mut buf = [0u8; 4];
    assert_eq!(receiver.read(&mut buf).unwrap(), 0);
}

/// `Sender` dropped with data waiting: readable and read-closed; the data, then end of file.
#[test]
fn sender_dropped_with_data() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    sender.write_all(b"last words").unwrap();
    drop(sender);
    let event = expect_event(&mut poll, &mut events, RECEIVER);
    assert!(event.readable, "{event:?}");
    assert!(event.read_closed, "{event:?}");
    assert!(!event.error, "{event:?}");
    let mut out = Vec::new();
    receiver.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"last words");
}

/// §3.4: `Receiver` dropped: the sender is writable, error and write-closed; writes fail.
#[test]
fn receiver_dropped() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut sender, SENDER, Interest::WRITABLE)
        .unwrap();
    let first = expect_event(&mut poll, &mut events, SENDER);
    assert!(
        first.writable && !first.error && !first.write_closed,
        "{first:?}"
    );
    drop(receiver);
    let event = expect_event(&mut poll, &mut events, SENDER);
    assert!(event.writable, "{event:?}");
    assert!(event.error, "{event:?}");
    assert!(event.write_closed, "{event:?}");
    assert!(!event.readable, "{event:?}");
    assert!(!event.read_closed, "{event:?}");
    let err = sender.write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

/// `Receiver` dropped while the pipe is full: error and write-closed, without writable.
#[test]
fn receiver_dropped_while_full() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut sender, SENDER, Interest::WRITABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, SENDER);
    fill(&sender);
    expect_no_events(&mut poll, &mut events);
    drop(receiver);
    let event = expect_event(&mut poll, &mut events, SENDER);
    assert!(event.error, "{event:?}");
    assert!(event.write_closed, "{event:?}");
}

/// A `Receiver` dropped while registered delivers nothing more, not even a pending event.
#[test]
fn dropped_receiver_delivers_nothing() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    sender.write_all(b"pending").unwrap();
    drop(receiver);
    expect_no_events(&mut poll, &mut events);
    assert_eq!(
        sender.write(b"x").unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
    expect_no_events(&mut poll, &mut events);
}

/// Likewise a dropped `Sender` (registered and writable at the time).
#[test]
fn dropped_sender_delivers_nothing() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, _receiver) = pipe::new().unwrap();
    poll.registry()
        .register(&mut sender, SENDER, Interest::WRITABLE)
        .unwrap();
    drop(sender);
    expect_no_events(&mut poll, &mut events);
}

#[test]
fn deregister_then_no_events() {
    let _guard = no_spawn();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = registered_pipe(&poll);
    poll.registry().deregister(&mut sender).unwrap();
    poll.registry().deregister(&mut receiver).unwrap();
    expect_no_events(&mut poll, &mut events);
    sender.write_all(b"data").unwrap();
    expect_no_events(&mut poll, &mut events);
    drop(sender);
    expect_no_events(&mut poll, &mut events);
    let mut out = Vec::new();
    receiver.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"data");
}

#[test]
fn reregister_pipe_ends() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (mut sender, mut receiver) = registered_pipe(&poll);
    expect_event(&mut poll, &mut events, SENDER);
    // Re-registering a ready sender makes a new edge, under the new token.
    poll.registry()
        .reregister(&mut sender, Token(7), Interest::WRITABLE)
        .unwrap();
    let event = expect_event(&mut poll, &mut events, Token(7));
    assert!(event.writable);
    sender.write_all(b"x").unwrap();
    poll.registry()
        .reregister(&mut receiver, Token(8), Interest::READABLE)
        .unwrap();
    let event = expect_event(&mut poll, &mut events, Token(8));
    assert!(event.readable);
}

#[test]
fn try_io() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (sender, receiver) = registered_pipe(&poll);
    expect_event(&mut poll, &mut events, SENDER);

    // The closure's result comes back as it is.
    let value = receiver.try_io(|| Ok(42)).unwrap();
    assert_eq!(value, 42);
    let err = sender
        .try_io(|| -> io::Result<()> { Err(io::Error::new(io::ErrorKind::Other, "mine")) })
        .unwrap_err();
    assert_eq!(err.to_string(), "mine");

    // A raw read on the fd: `WouldBlock` while empty.
    let mut buf = [0u8; 16];
    let err = receiver
        .try_io(|| rustix::io::read(&receiver, &mut buf).map_err(io::Error::from))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);

    // A raw write, then the event, then the raw read.
    let n = sender
        .try_io(|| rustix::io::write(&sender, b"raw").map_err(io::Error::from))
        .unwrap();
    assert_eq!(n, 3);
    expect_event(&mut poll, &mut events, RECEIVER);
    let n = receiver
        .try_io(|| rustix::io::read(&receiver, &mut buf).map_err(io::Error::from))
        .unwrap();
    assert_eq!(&buf[..n], b"raw");
    let err = receiver
        .try_io(|| rustix::io::read(&receiver, &mut buf).map_err(io::Error::from))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    // After `WouldBlock`, new data is a new event.
    (&sender).write_all(b"more").unwrap();
    expect_event(&mut poll, &mut events, RECEIVER);
}

#[test]
fn raw_fd_round_trips() {
    let (sender, receiver) = pipe::new().unwrap();
    let (sfd, rfd) = (sender.as_raw_fd(), receiver.as_raw_fd());

    // IntoRawFd / FromRawFd keep the fd (and its flags).
    let raw = sender.into_raw_fd();
    assert_eq!(raw, sfd);
    // SAFETY: `raw` was just released by `into_raw_fd` and is owned by nobody else.
    let sender = unsafe { Sender::from_raw_fd(raw) };
    assert_eq!(sender.as_raw_fd(), sfd);
    let raw = receiver.into_raw_fd();
    assert_eq!(raw, rfd);
    // SAFETY: as above.
    let receiver = unsafe { Receiver::from_raw_fd(raw) };
    assert_eq!(receiver.as_raw_fd(), rfd);

    // OwnedFd both ways.
    let owned = OwnedFd::from(sender);
    assert_eq!(owned.as_raw_fd(), sfd);
    let mut sender = Sender::from(owned);
    let owned: OwnedFd = receiver.into();
    assert_eq!(owned.as_raw_fd(), rfd);
    let mut receiver = Receiver::from(owned);
    assert!(is_nonblocking(&sender));
    assert!(is_nonblocking(&receiver));

    // Still the same pipe, still usable with a `Poll`.
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    sender.write_all(b"round trip").unwrap();
    let got = read_exact_polling(&mut poll, &mut events, &receiver, 10);
    assert_eq!(got, b"round trip");
}

/// Converting an fd never changes its blocking mode.
#[test]
fn from_owned_fd_keeps_blocking_mode() {
    let (read, write) = util::raw_pipe();
    rustix::io::ioctl_fionbio(&read, false).unwrap();
    let receiver = Receiver::from(read);
    assert!(!is_nonblocking(&receiver));
    let sender = Sender::from(write);
    assert!(is_nonblocking(&sender));
}

#[test]
fn debug() {
    let (sender, receiver) = pipe::new().unwrap();
    let s = format!("{:?}", sender);
    assert!(s.starts_with("Sender { inner: File {"), "{s}");
    assert!(s.contains(&format!("fd: {}", sender.as_raw_fd())), "{s}");
    let r = format!("{:?}", receiver);
    assert!(r.starts_with("Receiver { inner: File {"), "{r}");
    assert!(r.contains(&format!("fd: {}", receiver.as_raw_fd())), "{r}");
    assert!(format!("{:#?}", receiver).contains("inner"));
}

/// A child's stdin and stdout as pipe ends: blocking until told otherwise, then driven by
/// the `Poll` (through `cat`).
#[test]
fn from_child_stdin_and_stdout() {
    let mut child = spawn(
        Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut sender = Sender::from(child.stdin.take().unwrap());
    let mut receiver = Receiver::from(child.stdout.take().unwrap());
    // The conversion leaves the blocking mode alone.
    assert!(!is_nonblocking(&sender));
    assert!(!is_nonblocking(&receiver));
    sender.set_nonblocking(true).unwrap();
    receiver.set_nonblocking(true).unwrap();
    assert!(is_nonblocking(&sender));
    assert!(is_nonblocking(&receiver));

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut sender, SENDER, Interest::WRITABLE)
        .unwrap();
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, SENDER);
    sender.write_all(b"hello through cat").unwrap();
    let got = read_exact_polling(&mut poll, &mut events, &receiver, 17);
    assert_eq!(got, b"hello through cat");

    // Closing stdin ends `cat`, which closes its stdout: read-closed, then end of file.
    poll.registry().deregister(&mut sender).unwrap();
    drop(sender);
    let event = expect_event(&mut poll, &mut events, RECEIVER);
    assert!(event.read_closed, "{event:?}");
    assert!(read_to_end_polling(&mut poll, &mut events, &receiver).is_empty());
    assert!(child.wait().unwrap().success());
}

#[test]
fn from_child_stderr() {
    let mut child = spawn(
        Command::new("sh")
            .args(["-c", "echo oops >&2"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let mut receiver = Receiver::from(child.stderr.take().unwrap());
    assert!(!is_nonblocking(&receiver));
    receiver.set_nonblocking(true).unwrap();
    assert!(is_nonblocking(&receiver));
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut receiver, RECEIVER, Interest::READABLE)
        .unwrap();
    let got = read_to_end_polling(&mut poll, &mut events, &receiver);
    assert_eq!(got, b"oops\n");
    assert!(child.wait().unwrap().success());
}
