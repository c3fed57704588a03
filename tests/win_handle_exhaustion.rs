//! Windows under Wine: running out of socket handles (`WSAEMFILE`), the counterpart of
//! `tests/fd_exhaustion.rs`. Built only with `--cfg mio_test_wine_fd_limit` and run by
//! `reliability/windows-handle-exhaustion`, which starts a `wineserver` of its own with a low
//! `RLIMIT_NOFILE` (256 by default) and runs this binary in it.
//!
//! Why a script and a cfg: Windows has no per-process handle quota that a program (or a test)
//! could lower, so nothing inside a test can make socket creation fail. Under Wine a socket is
//! a Unix socket held by the `wineserver` process, so the server's `RLIMIT_NOFILE` bounds the
//! sockets every process of its prefix can have: creating one more fails with `WSAEMFILE`
//! (10024), what Windows answers when its own socket resources run out. That limit is a Linux
//! one, set before the server starts; the suite's shared server (limit 20 000, serving every
//! test binary) is not the place to exhaust it.
//!
//! Checked, as on Unix:
//! - every socket constructor fails cleanly with `WSAEMFILE` (and leaves no handle behind),
//!   while `Poll`, `Waker` and `NamedPipe`, which need no socket, still work;
//! - `accept` on a readable listener returns the error as an `io::Error` with
//!   `raw_os_error() == Some(WSAEMFILE)`, the readiness loop does not spin on it (the failed
//!   `accept` is not a `WouldBlock`, so nothing is re-armed and no event repeats), and once a
//!   handle is freed the pending connection is accepted and works;
//! - nothing leaks: the handle count is back where it was at the end.
//!
//! Loops are bounded by counts (sockets created, polls), not by time.
#![allow(unexpected_cfgs)]
#![cfg(all(mio_test_wine_fd_limit, windows, feature = "os-poll", feature = "net"))]

mod util;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};

use util::handle_count;

/// `WSAEMFILE`: "Too many open sockets" (Winsock error codes,
/// <https://learn.microsoft.com/en-us/windows/win32/winsock/windows-sockets-error-codes-2>).
const WSAEMFILE: i32 = 10024;

/// More sockets than this without an error: the binary is not running under the limited
/// server of `reliability/windows-handle-exhaustion`.
const BOUND: usize = 5_000;

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Creates sockets until creation fails; the sockets (to free later) and the error.
fn exhaust() -> (Vec<std::net::UdpSocket>, io::Error) {
    let mut held = Vec::new();
    loop {
        match std::net::UdpSocket::bind(localhost()) {
            Ok(s) => held.push(s),
            Err(e) => return (held, e),
        }
        assert!(
            held.len() < BOUND,
            "{BOUND} sockets and no error: run this through reliability/windows-handle-exhaustion"
        );
    }
}

fn assert_emfile<T: std::fmt::Debug>(what: &str, res: io::Result<T>) {
    match res {
        Err(e) => assert_eq!(e.raw_os_error(), Some(WSAEMFILE), "{what}: {e}"),
        Ok(v) => panic!("{what} succeeded with no socket handle left: {v:?}"),
    }
}

/// `WSAEINVAL`, what Wine 8.0's `accept` answers when the accepted socket cannot be created.
const WSAEINVAL: i32 = 10022;

/// The error of a plain Winsock `accept` on `listener` (which must fail).
fn raw_accept_error(listener: &TcpListener) -> i32 {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{accept, WSAGetLastError, INVALID_SOCKET};
    // SAFETY: the listener's socket is valid for the call; null address and length pointers
    // are allowed (no peer address is asked for).
    let s = unsafe {
        accept(
            listener.as_raw_socket() as _,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(s, INVALID_SOCKET, "Winsock's accept succeeded at the limit");
    // SAFETY: no other Winsock call on this thread since `accept`.
    unsafe { WSAGetLastError() }
}

fn poll_once(poll: &mut Poll, events: &mut Events, timeout: Duration) {
    loop {
        match poll.poll(events, Some(timeout)) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
    }
}

#[test]
fn constructors_fail_cleanly_then_recover() {
    // Warm-up outside the count.
    drop(std::net::UdpSocket::bind(localhost()).unwrap());
    let before = handle_count();
    let (held, err) = exhaust();
    assert_eq!(err.raw_os_error(), Some(WSAEMFILE), "{err}");
    let exhausted = handle_count();
    let at_limit = handle_count();
    assert_emfile("TcpListener::bind", TcpListener::bind(localhost()));
    assert_emfile("UdpSocket::bind", UdpSocket::bind(localhost()));
    assert_emfile(
        "TcpStream::connect",
        TcpStream::connect("127.0.0.1:9".parse().unwrap()),
    );
    assert_eq!(
        handle_count(),
        at_limit,
        "a failed constructor left a handle"
    );
    // No socket in a `Poll`, a `Waker` or a named pipe: they still work at the socket limit
    // (under Wine a completion port and a pipe are wineserver objects, not Unix fds).
    let poll = Poll::new().expect("Poll::new at the socket limit");
    let waker = mio::Waker::new(poll.registry(), Token(0)).expect("Waker::new at the limit");
    let pipe = mio::windows::NamedPipe::new(format!(
        r"\\.\pipe\mio-test-exhaustion-{}",
        std::process::id()
    ))
    .expect("NamedPipe::new at the socket limit");
    drop((waker, pipe, poll));
    eprintln!(
        "sockets created before WSAEMFILE: {}; handles: before {before}, exhausted {exhausted}",
        held.len()
    );
    drop(held);
    // Recovered: every constructor works again.
    drop(TcpListener::bind(localhost()).unwrap());
    drop(UdpSocket::bind(localhost()).unwrap());
    assert_eq!(handle_count(), before, "handles left behind");
}

#[test]
fn accept_at_the_limit_reports_the_error_without_spinning_and_recovers() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let mut listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    drop(std::net::TcpStream::connect(addr).unwrap());
    // Warm-up: one connection accepted and closed, outside the count.
    let mut polls = 0;
    let warm = loop {
        match listener.accept() {
            Ok(c) => break c,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        polls += 1;
        assert!(polls < 100, "the first connection never came");
        poll_once(&mut poll, &mut events, Duration::from_millis(100));
    };
    drop(warm);
    let before = handle_count();

    let (mut held, err) = exhaust();
    assert_eq!(err.raw_os_error(), Some(WSAEMFILE), "{err}");
    // One handle freed for the client's socket: the accepted one would need another.
    drop(held.pop());
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    // The listener becomes readable (bounded by a count of polls).
    let mut polls = 0;
    while !events
        .iter()
        .any(|e| e.token() == Token(0) && e.is_readable())
    {
        polls += 1;
        assert!(polls < 100, "no readable event for the pending connection");
        poll_once(&mut poll, &mut events, Duration::from_millis(100));
    }
    let mut failures = 0;
    let err = loop {
        match listener.accept() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Under Wine the pending connection may not be visible to `accept` yet.
                failures += 1;
                assert!(failures < 100, "accept kept answering WouldBlock");
                poll_once(&mut poll, &mut events, Duration::from_millis(10));
            }
            other => break other.map(|(s, _)| s).unwrap_err(),
        }
    };
    // Winsock's own `accept` on the same socket, now: mio passes its answer through. Windows
    // documents WSAEMFILE here ("the queue is nonempty upon entry to accept and there are no
    // descriptors available"); Wine 8.0 answers WSAEINVAL.
    let raw = raw_accept_error(&listener);
    assert_eq!(
        err.raw_os_error(),
        Some(raw),
        "accept: {err}, Winsock's accept: {raw}"
    );
    if util::running_under_wine() {
        assert!(raw == WSAEMFILE || raw == WSAEINVAL, "accept: {err}");
    } else {
        assert_eq!(raw, WSAEMFILE, "accept: {err}");
    }
    // No spinning: the failed accept re-armed nothing, so no event repeats.
    let mut spurious = 0;
    for _ in 0..5 {
        poll_once(&mut poll, &mut events, Duration::from_millis(20));
        spurious += events.iter().count();
    }
    assert_eq!(spurious, 0, "events kept coming after the failed accept");
    // A handle freed: the pending connection is accepted and works.
    drop(held.pop());
    let (mut accepted, _) = listener.accept().expect("accept after a handle was freed");
    client.write_all(b"ping").unwrap();
    poll.registry()
        .register(&mut accepted, Token(1), Interest::READABLE)
        .unwrap();
    let mut buf = [0u8; 4];
    let mut got = 0;
    let mut polls = 0;
    while got < 4 {
        match accepted.read(&mut buf[got..]) {
            Ok(0) => panic!("EOF"),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                polls += 1;
                assert!(polls < 100, "the data never came");
                poll_once(&mut poll, &mut events, Duration::from_millis(100));
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(&buf, b"ping");
    eprintln!(
        "accept at the limit: {err}; {} sockets held; after freeing one, accepted and read",
        held.len() + 1
    );
    drop((accepted, client, held));
    assert_eq!(handle_count(), before, "handles left behind");
}
