#![cfg(all(feature = "os-poll", feature = "net"))]
//! `mio::net::TcpStream`: connecting, reading and writing (plain, vectored, through shared
//! references), peeking, shutdown and close events, options, OOB data, `try_io` and conversions.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{self, Shutdown, SocketAddr};
#[cfg(any(unix, target_os = "wasi"))]
use std::os::fd::AsRawFd;
#[cfg(windows)]
use std::os::windows::io::AsRawSocket;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

mod net_util;
#[cfg(unix)]
use net_util::assert_nonblocking_cloexec;
#[cfg(windows)]
use net_util::assert_not_inheritable;
// A socket's blocking mode cannot be read back on WASI (see
// `from_std_does_not_change_blocking_mode`).
#[cfg(not(target_os = "wasi"))]
use net_util::is_nonblocking;
use net_util::{
    any_local_address, any_local_ipv6_address, assert_would_block, borrowed_raw_handle, checksum,
    expect_events, expect_no_events, expect_no_events_for, from_raw_handle, into_raw_handle,
    pattern, poll_once, raw_handle, read_polling, running_under_wine, until_ready, write_polling,
    OwnedHandle, Readiness, TIMEOUT,
};

const CLIENT: Token = Token(0);

fn setup() -> (Poll, Events) {
    (Poll::new().unwrap(), Events::with_capacity(64))
}

/// Accepts one connection on a non-blocking std listener, waiting (bounded) by polling `poll`.
/// The accepted stream is blocking, with `TIMEOUT` read and write timeouts.
fn accept_std(poll: &mut Poll, events: &mut Events, listener: &net::TcpListener) -> net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    let (stream, _) = until_ready(poll, events, || listener.accept());
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// A poll, a mio client registered under `CLIENT` with `interest`, and its std peer.
fn connected_on(addr: SocketAddr, interest: Interest) -> (Poll, Events, TcpStream, net::TcpStream) {
    let (mut poll, mut events) = setup();
    let listener = net::TcpListener::bind(addr).unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    #[cfg(not(target_os = "wasi"))]
    let server = {
        poll.registry()
            .register(&mut client, CLIENT, interest)
            .unwrap();
        accept_std(&mut poll, &mut events, &listener)
    };
    // WASI: the host finishes the connection on the client's side a moment after the server
    // accepted it (`NotConnected` until then), and its poll(2) reports a finished connection as
    // readable too. So the connection is set up on a poll of its own, and no edge of the
    // test's poll is spent on it (an event not followed by `WouldBlock` is not reported again).
    #[cfg(target_os = "wasi")]
    let server = {
        let (mut setup_poll, mut setup_events) = setup();
        setup_poll
            .registry()
            .register(&mut client, CLIENT, Interest::WRITABLE)
            .unwrap();
        let server = accept_std(&mut setup_poll, &mut setup_events, &listener);
        let deadline = Instant::now() + TIMEOUT;
        while matches!(client.peer_addr(), Err(ref e) if e.kind() == io::ErrorKind::NotConnected) {
            assert!(Instant::now() < deadline, "the connection never finished");
            poll_once(
                &mut setup_poll,
                &mut setup_events,
                std::time::Duration::from_millis(10),
            );
        }
        setup_poll.registry().deregister(&mut client).unwrap();
        poll.registry()
            .register(&mut client, CLIENT, interest)
            .unwrap();
        server
    };
    // The server saw the final ACK, so the client is established.
    assert_eq!(client.peer_addr().unwrap(), listener.local_addr().unwrap());
    (poll, events, client, server)
}

fn connected(interest: Interest) -> (Poll, Events, TcpStream, net::TcpStream) {
    connected_on(any_local_address(), interest)
}

fn connect_and_wait_writable(addr: SocketAddr) {
    let (mut poll, mut events) = setup();
    let listener = net::TcpListener::bind(addr).unwrap();
    let server_addr = listener.local_addr().unwrap();
    let mut stream = TcpStream::connect(server_addr).unwrap();
    #[cfg(unix)]
    assert_nonblocking_cloexec(&stream);
    // Winsock cannot read the non-blocking mode back; the `WouldBlock` tests cover it.
    #[cfg(windows)]
    assert_not_inheritable(&stream);
    poll.registry()
        .register(&mut stream, CLIENT, Interest::WRITABLE)
        .unwrap();

    // Writable means the connect finished: successfully here (nothing in SO_ERROR).
    let deadline = Instant::now() + TIMEOUT;
    loop {
        expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::WRITABLE)]);
        assert!(stream.take_error().unwrap().is_none());
        match stream.peer_addr() {
            Ok(peer) => {
                assert_eq!(peer, server_addr);
                break;
            }
            // Not connected yet: wait for the next event.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                assert!(Instant::now() < deadline, "never connected");
            }
            Err(e) => panic!("peer_addr: {e:?}"),
        }
    }
    let local = stream.local_addr().unwrap();
    assert_eq!(local.ip(), server_addr.ip());
    let server = accept_std(&mut poll, &mut events, &listener);
    assert_eq!(server.peer_addr().unwrap(), local);
}

#[test]
fn connect_then_writable_and_peer_addr() {
    connect_and_wait_writable(any_local_address());
}

#[test]
fn connect_then_writable_and_peer_addr_ipv6() {
    connect_and_wait_writable(any_local_ipv6_address());
}

#[test]
fn connect_to_closed_port() {
    let (mut poll, mut events) = setup();
    let addr = {
        let listener = net::TcpListener::bind(any_local_address()).unwrap();
        listener.local_addr().unwrap()
    };
    let mut stream = match TcpStream::connect(addr) {
        Ok(stream) => stream,
        // Refusing at once is allowed too.
        Err(e) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e:?}");
            return;
        }
    };
    poll.registry()
        .register(&mut stream, CLIENT, Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    // EPOLLIN|OUT|ERR|HUP|RDHUP on Linux.
    #[cfg(not(target_os = "wasi"))]
    {
        expect_events(
            &mut poll,
            &mut events,
            vec![(
                CLIENT,
                Readiness::WRITABLE
                    | Readiness::ERROR
                    | Readiness::READ_CLOSED
                    | Readiness::WRITE_CLOSED,
            )],
        );
        // Over libkqueue the error is gone by now: building the event it read `SO_ERROR`
        // with getsockopt(2) (`evfilt_write_copyout` in its src/linux/write.c,
        // `evfilt_read_copyout` in read.c), which on Linux clears it. The BSDs only copy
        // `so_error` into `fflags` (kqueue(2), EVFILT_READ: "returns the socket error (if any)
        // in fflags"), leaving it pending for `take_error`.
        #[cfg(mio_unsupported_test_libkqueue)]
        assert!(stream.take_error().unwrap().is_none());
        #[cfg(not(mio_unsupported_test_libkqueue))]
        {
            let err = stream.take_error().unwrap().expect("a pending error");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err:?}");
        }
    }
    // WASI: wasi-libc's poll(2) reports a finished connection attempt as writable (and
    // readable) whatever its outcome, and has no `SO_ERROR`: the next operation on the stream
    // fails, with `ConnectionRefused` or (the attempt over) `NotConnected`.
    #[cfg(target_os = "wasi")]
    {
        expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::WRITABLE)]);
        let err = stream.read(&mut [0; 1]).expect_err("a refused connection");
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::NotConnected
            ),
            "{err:?}"
        );
    }
    // SO_ERROR is cleared by reading it (on Windows too, as getsockopt's documentation says).
    // Wine 8.0 keeps it set after a failed connect, so there the second read is not checked.
    if !running_under_wine() {
        assert!(stream.take_error().unwrap().is_none());
    }
    let err = stream.peer_addr().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err:?}");
}

#[test]
fn write_then_read_echo() {
    let (mut poll, mut events, mut client, mut server) =
        connected(Interest::READABLE | Interest::WRITABLE);
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::WRITABLE)]);

    let n = client.write(b"hello mio").unwrap();
    assert_eq!(n, 9);
    client.flush().unwrap();
    let mut buf = [0; 9];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello mio");

    // Echo it back.
    server.write_all(&buf).unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    assert_eq!(
        read_polling(&mut poll, &mut events, &client, 9),
        b"hello mio"
    );
    assert_would_block(client.read(&mut buf));
}

#[test]
fn read_only_writes_into_the_buffer() {
    let (mut poll, mut events, mut client, mut server) = connected(Interest::READABLE);
    server.write_all(b"0123456789").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);

    let mut buf = [0xAAu8; 64];
    let n = until_ready(&mut poll, &mut events, || client.read(&mut buf));
    assert_eq!(n, 10);
    assert_eq!(&buf[..10], b"0123456789");
    assert!(
        buf[10..].iter().all(|&b| b == 0xAA),
        "read touched bytes past the count"
    );
    assert_would_block(client.read(&mut buf));
}

#[test]
fn vectored_write_and_read() {
    let (mut poll, mut events, mut client, mut server) = connected(Interest::READABLE);

    let bufs = [
        IoSlice::new(b"vec"),
        IoSlice::new(b"tored "),
        IoSlice::new(b"write"),
    ];
    let n = client.write_vectored(&bufs).unwrap();
    // WASI's libc writes only the first buffer of a vectored write to a socket (a short write,
    // which `Write::write_vectored` allows); everywhere else all of it goes at once.
    #[cfg(target_os = "wasi")]
    {
        assert_eq!(n, 3);
        client.write_all(&b"vectored write"[n..]).unwrap();
    }
    #[cfg(not(target_os = "wasi"))]
    assert_eq!(n, 14);
    let mut got = [0; 14];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"vectored write");

    server.write_all(b"vectored read").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    let mut a = [0u8; 4];
    let mut b = [0xAAu8; 16];
    let n = {
        let mut slices = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
        until_ready(&mut poll, &mut events, || client.read_vectored(&mut slices))
    };
    // WASI: the first buffer only, as for writes (see above); the rest is read on.
    #[cfg(target_os = "wasi")]
    let n = {
        assert_eq!(n, 4);
        n + read_polling(&mut poll, &mut events, &client, 9)
            .iter()
            .zip(&mut b)
            .map(|(&byte, slot)| *slot = byte)
            .count()
    };
    assert_eq!(n, 13);
    assert_eq!(&a, b"vect");
    assert_eq!(&b[..9], b"ored read");
    assert!(b[9..].iter().all(|&x| x == 0xAA));
}

// Not on WASI: its sockets cannot peek (wasi-libc answers `recv(MSG_PEEK)` with ENOTSUP).
#[cfg(not(target_os = "wasi"))]
#[test]
fn peek_then_read() {
    let (mut poll, mut events, mut client, mut server) = connected(Interest::READABLE);
    let mut buf = [0; 16];
    assert_would_block(client.peek(&mut buf));

    server.write_all(b"peekaboo").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    let n = until_ready(&mut poll, &mut events, || client.peek(&mut buf));
    assert_eq!(&buf[..n], b"peekaboo");
    // Peeking again sees the same bytes.
    let mut again = [0; 16];
    assert_eq!(client.peek(&mut again).unwrap(), n);
    assert_eq!(&again[..n], b"peekaboo");
    // The read gets them.
    let mut read = [0; 16];
    assert_eq!(client.read(&mut read).unwrap(), n);
    assert_eq!(&read[..n], b"peekaboo");
    assert_would_block(client.peek(&mut buf));
    assert_would_block(client.read(&mut buf));
}

// Not on WASI: its sockets cannot peek (wasi-libc answers `recv(MSG_PEEK)` with ENOTSUP).
#[cfg(not(target_os = "wasi"))]
#[test]
fn peek_would_block_then_readable_event_still_comes() {
    let (mut poll, mut events, client, mut server) = connected(Interest::READABLE);
    let mut buf = [0; 16];
    assert_would_block(client.peek(&mut buf));
    expect_no_events_for(&mut poll, &mut events, CLIENT);

    server.write_all(b"later").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    let n = until_ready(&mut poll, &mut events, || client.peek(&mut buf));
    assert_eq!(&buf[..n], b"later");

    // A successful peek leaves the data queued; draining it then more data gives a new edge.
    assert_eq!(read_polling(&mut poll, &mut events, &client, 5), b"later");
    assert_would_block(client.peek(&mut buf));
    server.write_all(b"more").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    assert_eq!(read_polling(&mut poll, &mut events, &client, 4), b"more");
}

#[test]
fn peer_close_gives_read_closed_and_eof() {
    let (mut poll, mut events, mut client, server) = connected(Interest::READABLE);
    drop(server);
    // WASI's poll(2) has no `POLLRDHUP` and its sockets cannot peek: the FIN is readable only
    // (see `mio::guide`, section 6), and the read below tells.
    #[cfg(not(target_os = "wasi"))]
    let expected = Readiness::READABLE | Readiness::READ_CLOSED;
    #[cfg(target_os = "wasi")]
    let expected = Readiness::READABLE;
    expect_events(&mut poll, &mut events, vec![(CLIENT, expected)]);
    let mut buf = [0; 8];
    assert_eq!(client.read(&mut buf).unwrap(), 0);
    assert_eq!(client.read(&mut buf).unwrap(), 0);

    // Writing to the closed peer fails (the first write may still be accepted and answered
    // with a reset).
    let deadline = Instant::now() + TIMEOUT;
    let err = loop {
        match client.write(b"anyone?") {
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
    // WASI's libc reports a broken connection as `EIO` (its sockets' "connection-broken").
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ) || (cfg!(target_os = "wasi") && err.raw_os_error() == Some(29)),
        "{err:?}"
    );
}

#[test]
fn shutdown_write_half_closes() {
    let (mut poll, mut events, mut client, mut server) = connected(Interest::READABLE);
    client.shutdown(Shutdown::Write).unwrap();
    let mut buf = [0; 8];
    assert_eq!(
        server.read(&mut buf).unwrap(),
        0,
        "peer must read end of file"
    );

    // Our write half is gone; no SIGPIPE (the test would die), just BrokenPipe.
    assert_write_after_shutdown(client.write(b"late"));
    assert_write_after_shutdown(client.write_vectored(&[IoSlice::new(b"late")]));

    // The read half still works.
    server.write_all(b"still").unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &client, 5), b"still");
}

#[test]
fn shutdown_read() {
    let (_poll, _events, mut client, mut server) = connected(Interest::READABLE);
    client.shutdown(Shutdown::Read).unwrap();
    let mut buf = [0; 8];
    assert_eq!(client.read(&mut buf).unwrap(), 0);

    // The write half still works.
    client.write_all(b"one way").unwrap();
    let mut got = [0; 7];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"one way");
}

#[test]
fn shutdown_both() {
    let (_poll, _events, mut client, mut server) = connected(Interest::READABLE);
    client.shutdown(Shutdown::Both).unwrap();
    let mut buf = [0; 8];
    assert_eq!(client.read(&mut buf).unwrap(), 0);
    assert_write_after_shutdown(client.write(b"x"));
    assert_eq!(server.read(&mut buf).unwrap(), 0);
}

/// A write after `shutdown(Write)` fails: `BrokenPipe` (EPIPE) on Unix; on Windows Winsock's
/// `WSAESHUTDOWN`, passed through as the OS error (std gives it no `ErrorKind` of its own).
#[track_caller]
fn assert_write_after_shutdown(res: io::Result<usize>) {
    let err = res.unwrap_err();
    #[cfg(unix)]
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err:?}");
    #[cfg(windows)]
    assert_eq!(
        err.raw_os_error(),
        Some(windows_sys::Win32::Networking::WinSock::WSAESHUTDOWN),
        "{err:?}"
    );
}

#[test]
fn set_nodelay_and_nodelay() {
    let (_poll, _events, client, _server) = connected(Interest::READABLE);
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_nodelay(false).unwrap();
    assert!(!client.nodelay().unwrap());
}

#[test]
fn set_ttl_and_ttl() {
    let (_poll, _events, client, _server) = connected(Interest::READABLE);
    client.set_ttl(17).unwrap();
    assert_eq!(client.ttl().unwrap(), 17);
    client.set_ttl(255).unwrap();
    assert_eq!(client.ttl().unwrap(), 255);
    assert!(client.set_ttl(0).is_err());
}

#[test]
fn local_addr_and_peer_addr() {
    let (_poll, _events, client, server) = connected(Interest::READABLE);
    assert_eq!(client.local_addr().unwrap(), server.peer_addr().unwrap());
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
}

#[test]
fn take_error_none_on_healthy_connection() {
    let (_poll, _events, client, _server) = connected(Interest::READABLE);
    assert!(client.take_error().unwrap().is_none());
}

#[test]
// `Interest::PRIORITY` exists on Linux and Android only, and only epoll and poll(2) report it
// (not the kqueue selector `mio_unsupported_test_libkqueue` runs on Linux: kqueue has no such
// readiness, and no real kqueue system has `Interest::PRIORITY`).
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_test_libkqueue)
))]
fn oob_data_is_priority_and_readable() {
    let (mut poll, mut events, client, server) = connected(Interest::READABLE | Interest::PRIORITY);
    // SAFETY: a valid fd and a 1-byte buffer that outlives the call.
    let sent = unsafe { libc::send(server.as_raw_fd(), b"!".as_ptr().cast(), 1, libc::MSG_OOB) };
    assert_eq!(sent, 1, "send(MSG_OOB): {}", io::Error::last_os_error());

    expect_events(
        &mut poll,
        &mut events,
        vec![(CLIENT, Readiness::READABLE | Readiness::PRIORITY)],
    );

    // Receive the urgent byte with a raw syscall through try_io.
    let mut byte = [0u8; 1];
    let n = client
        .try_io(|| {
            // SAFETY: a valid fd and a buffer of the given length.
            let n = unsafe {
                libc::recv(
                    client.as_raw_fd(),
                    byte.as_mut_ptr().cast(),
                    1,
                    libc::MSG_OOB,
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(&byte, b"!");
}

/// `recv(2)` on `stream`'s fd, through `try_io`; `EAGAIN` becomes `WouldBlock`.
#[cfg(any(unix, target_os = "wasi"))]
fn raw_recv(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
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

/// Winsock's `recv` on `stream`'s socket, through `try_io`; `WSAEWOULDBLOCK` becomes
/// `WouldBlock`.
#[cfg(windows)]
fn raw_recv(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    use windows_sys::Win32::Networking::WinSock::{recv, SOCKET, SOCKET_ERROR};
    stream.try_io(|| {
        let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        // SAFETY: a valid socket and a buffer of at least `len` bytes.
        let n = unsafe { recv(stream.as_raw_socket() as SOCKET, buf.as_mut_ptr(), len, 0) };
        if n == SOCKET_ERROR {
            // Winsock's last error is the thread's last error.
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    })
}

#[test]
fn try_io_with_raw_recv() {
    let (mut poll, mut events, client, mut server) = connected(Interest::READABLE);
    let mut buf = [0; 16];
    assert_would_block(raw_recv(&client, &mut buf));

    server.write_all(b"raw").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    let n = until_ready(&mut poll, &mut events, || raw_recv(&client, &mut buf));
    assert_eq!(&buf[..n], b"raw");
    assert_would_block(raw_recv(&client, &mut buf));

    // WouldBlock from try_io still lets the next event through.
    server.write_all(b"again").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    let n = until_ready(&mut poll, &mut events, || raw_recv(&client, &mut buf));
    assert_eq!(&buf[..n], b"again");

    // Errors other than WouldBlock pass through unchanged.
    let err = client
        .try_io(|| -> io::Result<()> { Err(io::Error::new(io::ErrorKind::Other, "mine")) })
        .unwrap_err();
    assert_eq!(err.to_string(), "mine");
}

#[test]
fn drop_registered_stream_closes_connection() {
    let (mut poll, mut events, client, mut server) =
        connected(Interest::READABLE | Interest::WRITABLE);
    drop(client);
    let mut buf = [0; 8];
    assert_eq!(server.read(&mut buf).unwrap(), 0);
    // Nothing arrives for the dropped stream, even when the peer writes.
    let _ = server.write(b"gone");
    let _ = poll_once(&mut poll, &mut events, std::time::Duration::ZERO);
    expect_no_events(&mut poll, &mut events);
}

/// Reads and writes through nothing but a shared reference.
fn echo_through_shared_ref(
    poll: &mut Poll,
    events: &mut Events,
    stream: &TcpStream,
    server: &mut net::TcpStream,
) {
    let mut writer = stream;
    writer.write_all(b"shared").unwrap();
    writer.flush().unwrap();
    let mut got = [0; 6];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"shared");

    server.write_all(b"ref").unwrap();
    let mut reader = stream;
    let mut buf = [0; 3];
    let n = until_ready(poll, events, || reader.read(&mut buf));
    assert_eq!(&buf[..n], &b"ref"[..n]);
    let rest = read_polling(poll, events, stream, 3 - n);
    assert_eq!([&buf[..n], &rest[..]].concat(), b"ref");

    let mut writer = stream;
    let n = writer
        .write_vectored(&[IoSlice::new(b"v"), IoSlice::new(b"w")])
        .unwrap();
    // WASI: the first buffer only (see `vectored_write_and_read`).
    #[cfg(target_os = "wasi")]
    {
        assert_eq!(n, 1);
        writer.write_all(b"w").unwrap();
    }
    #[cfg(not(target_os = "wasi"))]
    assert_eq!(n, 2);
    let mut got = [0; 2];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"vw");
}

#[test]
fn read_and_write_through_shared_references() {
    fn assert_io<T: Read + Write>() {}
    assert_io::<&TcpStream>();

    let (mut poll, mut events, client, mut server) = connected(Interest::READABLE);
    echo_through_shared_ref(&mut poll, &mut events, &client, &mut server);
}

const LARGE: usize = 1024 * 1024;

// Not on WASI: no threads there.
#[cfg(not(target_os = "wasi"))]
#[test]
fn large_write_arrives_in_order() {
    let (mut poll, mut events, client, server) = connected(Interest::READABLE | Interest::WRITABLE);
    let data = pattern(LARGE);
    let reader = std::thread::spawn(move || {
        let mut server = server;
        let mut got = Vec::new();
        server.read_to_end(&mut got).unwrap();
        got
    });
    write_polling(&mut poll, &mut events, &client, &data);
    client.shutdown(Shutdown::Write).unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), LARGE);
    assert_eq!(checksum(&got), checksum(&data));
    assert!(got == data, "bytes arrived out of order");
}

// Not on WASI: no threads there.
#[cfg(not(target_os = "wasi"))]
#[test]
fn large_read_until_would_block_arrives_in_order() {
    let (mut poll, mut events, mut client, server) = connected(Interest::READABLE);
    let data = pattern(LARGE);
    let to_send = data.clone();
    let writer = std::thread::spawn(move || {
        let mut server = server;
        server.write_all(&to_send).unwrap();
        // Dropping closes: the client reads end of file after the data.
    });

    let mut got = Vec::with_capacity(LARGE);
    let mut buf = vec![0u8; 16 * 1024];
    let deadline = Instant::now() + TIMEOUT;
    let mut would_blocks = 0;
    'outer: loop {
        assert!(
            Instant::now() < deadline,
            "got {} of {LARGE} bytes",
            got.len()
        );
        expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
        // Edge-triggered: drain until WouldBlock (or end of file) on every event.
        loop {
            match client.read(&mut buf) {
                Ok(0) => break 'outer,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    would_blocks += 1;
                    break;
                }
                Err(e) => panic!("read: {e:?}"),
            }
        }
    }
    writer.join().unwrap();
    assert!(would_blocks > 0 || got.len() == LARGE);
    assert_eq!(got.len(), LARGE);
    assert_eq!(checksum(&got), checksum(&data));
    assert!(got == data, "bytes arrived out of order");
}

#[test]
fn ipv6_loopback_round_trip() {
    let (mut poll, mut events, mut client, mut server) =
        connected_on(any_local_ipv6_address(), Interest::READABLE);
    assert!(client.local_addr().unwrap().is_ipv6());
    assert!(client.peer_addr().unwrap().ip().is_loopback());
    client.write_all(b"over v6").unwrap();
    let mut got = [0; 7];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"over v6");
    server.write_all(b"back").unwrap();
    assert_eq!(read_polling(&mut poll, &mut events, &client, 4), b"back");
}

#[test]
fn from_std_nonblocking_stream() {
    let (mut poll, mut events) = setup();
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let std_client = net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    std_client.set_nonblocking(true).unwrap();
    let mut client = TcpStream::from_std(std_client);
    let mut server = accept_std(&mut poll, &mut events, &listener);
    poll.registry()
        .register(&mut client, CLIENT, Interest::READABLE)
        .unwrap();
    server.write_all(b"std").unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::READABLE)]);
    assert_eq!(read_polling(&mut poll, &mut events, &client, 3), b"std");
    let mut buf = [0; 4];
    assert_would_block(client.read(&mut buf));
}

// Not on WASI: a socket's blocking mode cannot be read back there (wasi-libc answers
// `fcntl(F_GETFL)` on a socket with EINVAL).
#[cfg(not(target_os = "wasi"))]
#[test]
fn from_std_does_not_change_blocking_mode() {
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let std_client = net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert!(!is_nonblocking(&std_client));
    let client = TcpStream::from_std(std_client);
    assert!(
        !is_nonblocking(&client),
        "from_std must leave the blocking mode alone"
    );
}

#[test]
fn conversions_round_trip() {
    let (_poll, _events, client, mut server) = connected(Interest::READABLE);
    let local = client.local_addr().unwrap();
    let raw = raw_handle(&client);
    assert_eq!(borrowed_raw_handle(&client), raw);

    let raw = into_raw_handle(client);
    // SAFETY: `raw` was just released by `into_raw_handle`; nothing else owns it.
    let client: TcpStream = unsafe { from_raw_handle(raw) };
    assert_eq!(client.local_addr().unwrap(), local);

    let owned = OwnedHandle::from(client);
    assert_eq!(raw_handle(&owned), raw);
    let client = TcpStream::from(owned);
    assert_eq!(client.local_addr().unwrap(), local);

    let mut std_client = net::TcpStream::from(client);
    assert_eq!(raw_handle(&std_client), raw);
    assert_eq!(std_client.local_addr().unwrap(), local);
    // (Not readable back on WASI: see `from_std_does_not_change_blocking_mode`.)
    #[cfg(not(target_os = "wasi"))]
    assert!(is_nonblocking(&std_client), "still non-blocking");
    std_client.write_all(b"std now").unwrap();
    let mut got = [0; 7];
    server.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"std now");
}

#[test]
fn debug_shows_type_and_addresses() {
    let (_poll, _events, client, _server) = connected(Interest::READABLE);
    let debug = format!("{client:?}");
    assert!(debug.contains("TcpStream"), "{debug}");
    assert!(
        debug.contains(&client.local_addr().unwrap().to_string()),
        "{debug}"
    );
    assert!(
        debug.contains(&client.peer_addr().unwrap().to_string()),
        "{debug}"
    );
}

#[test]
fn deregister_then_no_events_and_reregister_changes_token() {
    let (mut poll, mut events, mut client, mut server) = connected(Interest::READABLE);
    poll.registry().deregister(&mut client).unwrap();
    server.write_all(b"1").unwrap();
    expect_no_events(&mut poll, &mut events);

    // Data already pending: registering again produces an event straight away.
    let new_token = Token(9);
    poll.registry()
        .register(&mut client, CLIENT, Interest::READABLE)
        .unwrap();
    poll.registry()
        .reregister(&mut client, new_token, Interest::READABLE)
        .unwrap();
    let seen = expect_events(
        &mut poll,
        &mut events,
        vec![(new_token, Readiness::READABLE)],
    );
    assert!(
        !seen.contains_key(&CLIENT),
        "event with the old token: {seen:?}"
    );
    assert_eq!(read_polling(&mut poll, &mut events, &client, 1), b"1");
}

/// Issue 16, defect 3: a socket registered for WRITABLE only, its writable event handled
/// (and nothing written since, so no `WouldBlock` re-armed anything), still hears of a reset:
/// errors are always reported (epoll: `EPOLLERR`/`EPOLLHUP`; Windows: a poll request stays
/// in flight for them).
// Not on WASI: its sockets have no `SO_LINGER`, so a reset cannot be made on purpose.
#[cfg(any(unix, windows))]
#[test]
fn writable_only_reports_a_reset_after_its_writable_event() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut stream, CLIENT, Interest::WRITABLE)
        .unwrap();
    expect_events(&mut poll, &mut events, vec![(CLIENT, Readiness::WRITABLE)]);
    let (peer, _) = listener.accept().unwrap();
    let peer = TcpStream::from_std(peer);
    net_util::linger_zero(&peer);
    drop(peer);
    expect_events(
        &mut poll,
        &mut events,
        vec![(CLIENT, Readiness::WRITE_CLOSED)],
    );
}
