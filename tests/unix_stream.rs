#![cfg(all(feature = "os-poll", feature = "net"))]
#![cfg(unix)] // Unix domain sockets: Unix only in mio.
//! `mio::net::UnixStream`: pairs, connecting by path and abstract name, reading and writing,
//! close and shutdown events, `BrokenPipe` without `SIGPIPE`, addresses, `try_io` and
//! conversions.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{self, SocketAddr};
use std::time::Instant;

use mio::net::{UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Token};

mod net_util;
use net_util::{
    abstract_name, any_local_address, assert_nonblocking_cloexec, assert_would_block, checksum,
    expect_events, expect_no_events, fd_flags, in_subprocess, pattern, poll_once, read_polling,
    run_in_subprocess, until_ready, write_polling, Readiness, TempDir, TIMEOUT,
};

const A: Token = Token(0);
const B: Token = Token(1);

fn setup() -> (Poll, Events) {
    (Poll::new().unwrap(), Events::with_capacity(64))
}

/// A registered pair: `a` under `A`, `b` under `B`, both with `interest`.
fn pair(interest: Interest) -> (Poll, Events, UnixStream, UnixStream) {
    let (poll, events) = setup();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    poll.registry().register(&mut a, A, interest).unwrap();
    poll.registry().register(&mut b, B, interest).unwrap();
    (poll, events, a, b)
}

#[test]
fn pair_is_nonblocking_cloexec_and_talks() {
    let (mut poll, mut events, mut a, mut b) = pair(Interest::READABLE | Interest::WRITABLE);
    assert_nonblocking_cloexec(&a);
    assert_nonblocking_cloexec(&b);
    expect_events(
        &mut poll,
        &mut events,
        vec![(A, Readiness::WRITABLE), (B, Readiness::WRITABLE)],
    );
    let mut buf = [0; 8];
    assert_would_block(b.read(&mut buf));

    assert_eq!(a.write(b"ping").unwrap(), 4);
    expect_events(&mut poll, &mut events, vec![(B, Readiness::READABLE)]);
    assert_eq!(read_polling(&mut poll, &mut events, &b, 4), b"ping");
    assert_would_block(b.read(&mut buf));
    b.write_all(b"pong").unwrap();
    expect_events(&mut poll, &mut events, vec![(A, Readiness::READABLE)]);
    assert_eq!(read_polling(&mut poll, &mut events, &a, 4), b"pong");
}

#[test]
fn connect_path() {
    let (mut poll, mut events) = setup();
    let dir = TempDir::new();
    let path = dir.join("sock");
    let listener = net::UnixListener::bind(&path).unwrap();
    let mut stream = UnixStream::connect(&path).unwrap();
    assert_nonblocking_cloexec(&stream);
    poll.registry()
        .register(&mut stream, A, Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, vec![(A, Readiness::WRITABLE)]);

    let (mut server, peer) = listener.accept().unwrap();
    assert!(peer.is_unnamed());
    assert_eq!(
        stream.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert!(stream.local_addr().unwrap().is_unnamed());
    server.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(b"by path").unwrap();
    let mut got = [0; 7];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"by path");
    server.write_all(b"ok").unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &stream, 2), b"ok");
}

#[test]
fn connect_addr_pathname_and_abstract() {
    let dir = TempDir::new();
    let path = dir.join("sock");
    let listener = UnixListener::bind(&path).unwrap();
    let stream = UnixStream::connect_addr(&SocketAddr::from_pathname(&path).unwrap()).unwrap();
    assert_eq!(
        stream.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    let name = abstract_name("stream");
    let addr = SocketAddr::from_abstract_name(&name).unwrap();
    let abstract_listener = UnixListener::bind_addr(&addr).unwrap();
    let stream2 = UnixStream::connect_addr(&addr).unwrap();
    assert_eq!(
        stream2.peer_addr().unwrap().as_abstract_name(),
        Some(&name[..])
    );

    // Both connections are queued on their listeners.
    let (mut poll, mut events) = setup();
    until_ready(&mut poll, &mut events, || listener.accept());
    until_ready(&mut poll, &mut events, || abstract_listener.accept());
}

#[test]
fn connect_to_path_without_listener_fails() {
    let dir = TempDir::new();
    // Nothing at the path.
    let err = UnixStream::connect(dir.join("missing")).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
        ),
        "{err:?}"
    );
    // A socket file nobody listens on any more.
    let path = dir.join("stale");
    drop(net::UnixListener::bind(&path).unwrap());
    let err = UnixStream::connect(&path).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
    // Nobody at an abstract name.
    let addr = SocketAddr::from_abstract_name(abstract_name("nobody")).unwrap();
    let err = UnixStream::connect_addr(&addr).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
}

#[test]
fn connect_bad_paths_are_invalid_input() {
    let err = UnixStream::connect("/tmp/mio\0nul").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
    let err = UnixStream::connect(format!("/tmp/{}", "z".repeat(120))).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err:?}");
}

#[test]
fn vectored_write_and_read() {
    let (mut poll, mut events, mut a, mut b) = pair(Interest::READABLE);
    let n = a
        .write_vectored(&[
            IoSlice::new(b"one "),
            IoSlice::new(b"two "),
            IoSlice::new(b"three"),
        ])
        .unwrap();
    assert_eq!(n, 13);
    expect_events(&mut poll, &mut events, vec![(B, Readiness::READABLE)]);
    let mut x = [0u8; 4];
    let mut y = [0xAAu8; 16];
    let n = {
        let mut bufs = [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)];
        until_ready(&mut poll, &mut events, || b.read_vectored(&mut bufs))
    };
    assert_eq!(n, 13);
    assert_eq!(&x, b"one ");
    assert_eq!(&y[..9], b"two three");
    assert!(
        y[9..].iter().all(|&v| v == 0xAA),
        "read touched bytes past the count"
    );
}

#[test]
fn read_only_writes_into_the_buffer() {
    let (mut poll, mut events, mut a, mut b) = pair(Interest::READABLE);
    a.write_all(b"abc").unwrap();
    let mut buf = [0x55u8; 32];
    let n = until_ready(&mut poll, &mut events, || b.read(&mut buf));
    assert_eq!(n, 3);
    assert_eq!(&buf[..3], b"abc");
    assert!(buf[3..].iter().all(|&v| v == 0x55));
}

#[test]
fn write_through_shared_reference() {
    fn assert_io<T: Read + Write>() {}
    assert_io::<&UnixStream>();

    let (mut poll, mut events, a, b) = pair(Interest::READABLE);
    // What tokio's signal handler does.
    let n = (&a).write(&[1]).unwrap();
    assert_eq!(n, 1);
    let shared: &UnixStream = &a;
    let mut writer = shared;
    writer.write_all(b"23").unwrap();
    writer.flush().unwrap();
    assert_eq!(writer.write_vectored(&[IoSlice::new(b"4")]).unwrap(), 1);

    let mut reader = &b;
    let mut buf = [0; 4];
    let n = until_ready(&mut poll, &mut events, || reader.read(&mut buf));
    let rest = read_polling(&mut poll, &mut events, &b, 4 - n);
    assert_eq!([&buf[..n], &rest[..]].concat(), [1, b'2', b'3', b'4']);
}

#[test]
fn shared_references_across_threads() {
    let (mut poll, mut events) = setup();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    poll.registry()
        .register(&mut b, B, Interest::READABLE)
        .unwrap();
    // The writer thread polls its own `Poll`, writing through `&UnixStream`.
    let mut writer_poll = Poll::new().unwrap();
    writer_poll
        .registry()
        .register(&mut a, A, Interest::WRITABLE)
        .unwrap();
    let data = pattern(256 * 1024);
    let got = std::thread::scope(|s| {
        let (a, data) = (&a, &data);
        let writer = s.spawn(move || {
            let mut writer_events = Events::with_capacity(8);
            write_polling(&mut writer_poll, &mut writer_events, a, data);
        });
        let got = read_polling(&mut poll, &mut events, &b, data.len());
        writer.join().unwrap();
        got
    });
    assert_eq!(checksum(&got), checksum(&data));
    assert!(got == data);
}

#[test]
fn peer_dropped_gives_closed_events_eof_and_broken_pipe() {
    let (mut poll, mut events, mut a, b) = pair(Interest::READABLE | Interest::WRITABLE);
    drop(b);
    expect_events(
        &mut poll,
        &mut events,
        vec![(
            A,
            Readiness::READABLE | Readiness::READ_CLOSED | Readiness::WRITE_CLOSED,
        )],
    );
    let mut buf = [0; 8];
    assert_eq!(a.read(&mut buf).unwrap(), 0);
    let err = a.write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err:?}");
    let err = a.write_vectored(&[IoSlice::new(b"x")]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err:?}");
}

#[test]
fn no_events_after_drop() {
    let (mut poll, mut events, a, mut b) = pair(Interest::READABLE);
    drop(a);
    // b sees the close; the dropped a never reports anything.
    let seen = expect_events(&mut poll, &mut events, vec![(B, Readiness::READ_CLOSED)]);
    assert!(!seen.contains_key(&A), "{seen:?}");
    assert_eq!(b.read(&mut [0; 4]).unwrap(), 0);
    expect_no_events(&mut poll, &mut events);
}

/// Writes to closed sockets with `SIGPIPE` at its default action (terminate): only
/// `MSG_NOSIGNAL` keeps the process alive. Runs in a child process, so a failure kills only
/// the child, which the parent reports.
#[test]
fn write_to_closed_peer_is_broken_pipe_not_sigpipe() {
    const NAME: &str = "write_to_closed_peer_is_broken_pipe_not_sigpipe";
    if !in_subprocess(NAME) {
        run_in_subprocess(NAME);
        return;
    }
    // SAFETY: setting a signal disposition; this child process runs only this test.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR);

    // UnixStream, peer dropped.
    let (mut a, b) = UnixStream::pair().unwrap();
    drop(b);
    assert_eq!(a.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(
        a.write_vectored(&[IoSlice::new(b"x")]).unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
    assert_eq!(
        (&a).write(&[1]).unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );

    // UnixStream after our own shutdown(Write).
    let (mut c, _d) = UnixStream::pair().unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    assert_eq!(c.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);

    // TcpStream after shutdown(Write), and after the peer closed.
    let listener = std::net::TcpListener::bind(any_local_address()).unwrap();
    let mut tcp = mio::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    tcp.shutdown(Shutdown::Write).unwrap();
    assert_eq!(
        tcp.write(b"x").unwrap_err().kind(),
        io::ErrorKind::BrokenPipe
    );
    assert_eq!(
        tcp.write_vectored(&[IoSlice::new(b"x")])
            .unwrap_err()
            .kind(),
        io::ErrorKind::BrokenPipe
    );

    let mut tcp2 = mio::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server2, _) = listener.accept().unwrap();
    drop(server2);
    let (mut poll, mut events) = setup();
    poll.registry()
        .register(&mut tcp2, A, Interest::READABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, vec![(A, Readiness::READ_CLOSED)]);
    // The first write draws a reset; the following ones fail with EPIPE (or ECONNRESET).
    let deadline = Instant::now() + TIMEOUT;
    let err = loop {
        match tcp2.write(b"x") {
            Ok(n) => {
                assert!(n > 0);
                assert!(
                    Instant::now() < deadline,
                    "writes to a closed peer keep working"
                );
                let _ = poll_once(&mut poll, &mut events, std::time::Duration::from_millis(10));
            }
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    if err.kind() == io::ErrorKind::ConnectionReset {
        assert_eq!(
            tcp2.write(b"x").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
    drop(server);
}

#[test]
fn shutdown_write_then_peer_reads_eof() {
    let (mut poll, mut events, mut a, mut b) = pair(Interest::READABLE);
    a.write_all(b"last").unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    // Without POLLRDHUP (poll(2) outside Linux, tested here through the cfg) a FIN behind
    // unread data cannot be seen until the data is read: read-closed is a hint, missing here.
    let expected = if cfg!(mio_unsupported_test_poll_no_rdhup) {
        Readiness::READABLE
    } else {
        Readiness::READABLE | Readiness::READ_CLOSED
    };
    expect_events(&mut poll, &mut events, vec![(B, expected)]);
    assert_eq!(read_polling(&mut poll, &mut events, &b, 4), b"last");
    assert_eq!(b.read(&mut [0; 4]).unwrap(), 0);
    assert_eq!(a.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);

    // The other direction still works.
    b.write_all(b"reply").unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &a, 5), b"reply");
}

#[test]
fn shutdown_read_and_both() {
    let (_poll, _events, mut a, mut b) = pair(Interest::READABLE);
    a.shutdown(Shutdown::Read).unwrap();
    assert_eq!(a.read(&mut [0; 4]).unwrap(), 0);
    a.write_all(b"still").unwrap();
    let (mut c, mut d) = UnixStream::pair().unwrap();
    c.shutdown(Shutdown::Both).unwrap();
    assert_eq!(c.read(&mut [0; 4]).unwrap(), 0);
    assert_eq!(c.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(d.read(&mut [0; 4]).unwrap(), 0);
    let mut got = [0; 5];
    b.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"still");
}

#[test]
fn local_and_peer_addr() {
    let (a, b) = UnixStream::pair().unwrap();
    assert!(a.local_addr().unwrap().is_unnamed());
    assert!(a.peer_addr().unwrap().is_unnamed());
    assert!(b.peer_addr().unwrap().is_unnamed());

    let name = abstract_name("addrs");
    let addr = SocketAddr::from_abstract_name(&name).unwrap();
    let listener = UnixListener::bind_addr(&addr).unwrap();
    let client = UnixStream::connect_addr(&addr).unwrap();
    let (mut poll, mut events) = setup();
    let (server, _) = until_ready(&mut poll, &mut events, || listener.accept());
    assert_eq!(
        server.local_addr().unwrap().as_abstract_name(),
        Some(&name[..])
    );
    assert!(server.peer_addr().unwrap().is_unnamed());
    assert!(client.local_addr().unwrap().is_unnamed());
    assert_eq!(
        client.peer_addr().unwrap().as_abstract_name(),
        Some(&name[..])
    );
}

#[test]
fn take_error_is_none() {
    let (a, b) = UnixStream::pair().unwrap();
    assert!(a.take_error().unwrap().is_none());
    drop(b);
    assert!(a.take_error().unwrap().is_none());
}

/// `recv(2)` through `try_io`; `EAGAIN` becomes `WouldBlock`.
fn raw_recv(stream: &UnixStream, buf: &mut [u8]) -> io::Result<usize> {
    stream.try_io(|| {
        // SAFETY: a valid fd and a buffer of the given length.
        let n = unsafe { libc::recv(stream.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    })
}

#[test]
fn try_io_with_raw_recv() {
    let (mut poll, mut events, mut a, b) = pair(Interest::READABLE);
    let mut buf = [0; 16];
    assert_would_block(raw_recv(&b, &mut buf));
    for msg in [&b"raw one"[..], &b"raw two"[..]] {
        a.write_all(msg).unwrap();
        expect_events(&mut poll, &mut events, vec![(B, Readiness::READABLE)]);
        let n = until_ready(&mut poll, &mut events, || raw_recv(&b, &mut buf));
        assert_eq!(&buf[..n], msg);
        assert_would_block(raw_recv(&b, &mut buf));
    }
}

#[test]
fn large_transfer_in_order() {
    let (mut poll, mut events, a, b) = pair(Interest::READABLE | Interest::WRITABLE);
    let data = pattern(1024 * 1024);
    let got = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            // Its own poll: `b` is registered with the main one, so use a std clone.
            let std_b = net::UnixStream::from(b);
            std_b.set_nonblocking(false).unwrap();
            std_b.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut got = Vec::new();
            (&std_b).read_to_end(&mut got).unwrap();
            got
        });
        write_polling(&mut poll, &mut events, &a, &data);
        a.shutdown(Shutdown::Write).unwrap();
        reader.join().unwrap()
    });
    assert_eq!(got.len(), data.len());
    assert_eq!(checksum(&got), checksum(&data));
    assert!(got == data);
}

#[test]
fn from_std_nonblocking_stream() {
    let (mut poll, mut events) = setup();
    let (std_a, std_b) = net::UnixStream::pair().unwrap();
    std_a.set_nonblocking(true).unwrap();
    let mut a = UnixStream::from_std(std_a);
    poll.registry()
        .register(&mut a, A, Interest::READABLE)
        .unwrap();
    assert_would_block(a.read(&mut [0; 4]));
    (&std_b).write_all(b"std").unwrap();
    expect_events(&mut poll, &mut events, vec![(A, Readiness::READABLE)]);
    assert_eq!(read_polling(&mut poll, &mut events, &a, 3), b"std");
}

#[test]
fn from_std_does_not_change_blocking_mode() {
    let (std_a, _std_b) = net::UnixStream::pair().unwrap();
    let a = UnixStream::from_std(std_a);
    assert!(
        !fd_flags(&a).0,
        "from_std must leave the blocking mode alone"
    );
}

#[test]
fn conversions_round_trip() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let raw = a.as_raw_fd();
    assert_eq!(a.as_fd().as_raw_fd(), raw);
    let raw = a.into_raw_fd();
    // SAFETY: `raw` was just released by `into_raw_fd`; nothing else owns it.
    let a = unsafe { UnixStream::from_raw_fd(raw) };
    let owned = OwnedFd::from(a);
    assert_eq!(owned.as_raw_fd(), raw);
    let a = UnixStream::from(owned);
    let std_a = net::UnixStream::from(a);
    assert_eq!(std_a.as_raw_fd(), raw);
    assert!(fd_flags(&std_a).0, "still non-blocking");
    (&std_a).write_all(b"conv").unwrap();
    let mut got = [0; 4];
    assert_eq!(b.read(&mut got).unwrap(), 4);
    assert_eq!(&got, b"conv");
}

#[test]
fn debug_shows_type() {
    let (a, _b) = UnixStream::pair().unwrap();
    let debug = format!("{a:?}");
    assert!(debug.contains("UnixStream"), "{debug}");
    assert!(debug.contains(&a.as_raw_fd().to_string()), "{debug}");
}
