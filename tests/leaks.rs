//! No fd leaks: `/proc/self/fd` counts the same before and after 10 000 create / register /
//! drop cycles of every type (`Poll`, `Registry` clones, `Waker`, `TcpListener`, `TcpStream`,
//! `UdpSocket`, `UnixListener`, `UnixStream`, `UnixDatagram`, pipes, `SourceFd`) and of the
//! failing paths (bind to an address in use, connection refused, register twice, reregister
//! or deregister what is not registered, a closed or unpollable fd).
//!
//! (Windows: 2 000 cycles by default.)
//!
//! Each test counts in a child process that runs only that test (`util::run_isolated`), so
//! that fds opened by tests on other threads do not disturb the count. `MIO_LEAK_CYCLES`
//! changes the number of cycles (the valgrind script uses fewer).
//!
//! Windows: handles are counted instead of fds (`GetProcessHandleCount`; under Wine, whose
//! `GetProcessHandleCount` answers 0, the process's entries of the system handle table), and
//! named pipes take the place of Unix sockets and pipes. A deregistered or dropped socket's
//! state, and its share of a `\Device\Afd` handle, are released when a `poll` dequeues its
//! cancelled AFD request, so the cycles that keep one `Poll` poll it once (zero timeout) at
//! their end; `released_by_the_next_poll` checks that release on its own.
//!
//! Over libkqueue (`--cfg mio_unsupported_test_libkqueue`, see the end of `util`): a dropped
//! `Poll`'s fds are freed by libkqueue's monitoring thread after `close` returns, so counts wait
//! (bounded) for them (`fd_count_settled`), after a warm-up that opens the fds libkqueue keeps
//! for the whole process; and as libkqueue cannot see a close, every source is deregistered
//! before it is dropped (`libkqueue_deregister_before_close`), which the other builds leave to
//! the drop, as they must.
#![cfg(all(feature = "os-poll", feature = "os-ext", feature = "net"))]

mod net_util;
mod util;

use net_util::linger_zero;

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
#[cfg(unix)]
use std::os::fd::{AsRawFd, OwnedFd};
#[cfg(unix)]
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use mio::net::{UnixDatagram, UnixListener, UnixStream};
#[cfg(unix)]
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use util::run_isolated;

/// The number of open fds.
#[cfg(unix)]
fn fd_count() -> usize {
    util::fd_count()
}

/// The number of open handles (see `util::handle_count`).
#[cfg(windows)]
fn fd_count() -> usize {
    util::handle_count()
}

/// `fd_count()`, waiting (bounded) for it to be `expected` over libkqueue, which frees a
/// dropped `Poll`'s fds asynchronously (`util::fd_count_settled`).
#[cfg(unix)]
fn fd_count_settled(expected: usize) -> usize {
    util::fd_count_settled(expected)
}

/// Windows frees handles at once: the count as it is.
#[cfg(windows)]
fn fd_count_settled(_expected: usize) -> usize {
    fd_count()
}

/// Over libkqueue: deregisters `source` before the caller drops it (libkqueue cannot see a
/// close: `util::libkqueue_deregister_before_close`). Nothing elsewhere.
#[cfg(unix)]
fn deregister_if_libkqueue<S: mio::event::Source + ?Sized>(registry: &Registry, source: &mut S) {
    util::libkqueue_deregister_before_close(registry, source)
        .expect("deregister before close (libkqueue)");
}

/// Windows: nothing (see the Unix one).
#[cfg(windows)]
fn deregister_if_libkqueue<S: mio::event::Source + ?Sized>(_: &Registry, _: &mut S) {}

/// Windows: dequeues what the port holds, among it the cancelled AFD requests of sockets
/// dropped or deregistered since the last poll, which releases their state and AFD handle
/// share. Nothing to do on Unix (closing an fd releases everything at once).
#[cfg_attr(unix, allow(unused_variables))]
fn settle(poll: &mut Poll, events: &mut Events) {
    #[cfg(windows)]
    match poll.poll(events, Some(Duration::ZERO)) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::Interrupted => {}
        Err(e) => panic!("poll: {e}"),
    }
}

const RW: Interest = Interest::READABLE.add(Interest::WRITABLE);

fn cycles() -> usize {
    // Windows: under Wine every socket, pipe and port call is a wineserver round trip (shared by
    // every Wine process on the machine): 2 000 cycles keep the file within a minute there.
    let default = if cfg!(windows) { 2_000 } else { 10_000 };
    std::env::var("MIO_LEAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cycle` once to warm up (lazily opened fds of std or the harness are not leaks), then
/// `cycles()` times, and asserts that the number of open fds is back where it was, also every
/// 1000 cycles so a leak names the cycle it started near.
#[track_caller]
fn assert_no_fd_leak(what: &str, mut cycle: impl FnMut(usize)) {
    // Over libkqueue: the fds it keeps for the process are opened first (nothing elsewhere).
    util::libkqueue_warm_up();
    let warm = fd_count();
    cycle(0);
    // Over libkqueue the fds of a `Poll` dropped by `cycle` go a little later.
    let before = fd_count_settled(warm);
    let n = cycles();
    assert_no_fd_leak_n(what, n, before, cycle);
}

#[track_caller]
fn assert_no_fd_leak_n(what: &str, n: usize, before: usize, mut cycle: impl FnMut(usize)) {
    for i in 1..=n {
        cycle(i);
        if i % 1000 == 0 || i == n {
            let now = fd_count_settled(before);
            assert_eq!(
                now,
                before,
                "{what}: {} fds more after {i} cycles",
                now as isize - before as isize
            );
        }
    }
    println!("{what}: {n} cycles, fds {before} -> {}", fd_count());
}

fn expect_kind<T: std::fmt::Debug>(
    result: io::Result<T>,
    kind: ErrorKind,
    what: &str,
) -> io::Error {
    match result {
        Err(err) if err.kind() == kind => err,
        other => panic!("{what}: expected {kind:?}, got {other:?}"),
    }
}

/// Polls (bounded) until `done` says the events seen so far are enough.
fn poll_until(poll: &mut Poll, events: &mut Events, mut done: impl FnMut(&Events) -> bool) {
    let deadline = Instant::now() + util::EXPECT_TIMEOUT;
    loop {
        match poll.poll(events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll: {e}"),
        }
        if done(events) {
            return;
        }
        assert!(Instant::now() < deadline, "expected events never came");
    }
}

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A path for a Unix socket, unique to this process and `tag`, removed first.
#[cfg(unix)]
fn socket_path(tag: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("mio-leaks-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn poll_registry_clone() {
    run_isolated("poll_registry_clone", || {
        assert_no_fd_leak("Poll + Registry::try_clone", |_| {
            let poll = Poll::new().unwrap();
            let registry: Registry = poll.registry().try_clone().unwrap();
            drop(poll);
            drop(registry);
        })
    });
}

#[test]
fn waker() {
    run_isolated("waker", || {
        let mut events = Events::with_capacity(8);
        // One `Waker` per `Poll` (debug builds check it, as upstream): a new pair each cycle.
        assert_no_fd_leak("Poll + Waker (woken, event received)", |i| {
            let mut poll = Poll::new().unwrap();
            let waker = Waker::new(poll.registry(), Token(i)).unwrap();
            waker.wake().unwrap();
            poll_until(&mut poll, &mut events, |events| {
                events.iter().any(|e| e.token() == Token(i))
            });
            if i % 2 == 0 {
                drop(waker);
                drop(poll);
            } else {
                drop(poll);
                waker.wake().unwrap();
                drop(waker);
            }
        });
    });
}

#[test]
fn tcp_listener() {
    run_isolated("tcp_listener", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        assert_no_fd_leak("TcpListener", |i| {
            let mut listener = TcpListener::bind(localhost()).unwrap();
            poll.registry()
                .register(&mut listener, Token(i), Interest::READABLE)
                .unwrap();
            if i % 2 == 0 {
                poll.registry().deregister(&mut listener).unwrap();
            } else {
                deregister_if_libkqueue(poll.registry(), &mut listener);
            }
            drop(listener);
            settle(&mut poll, &mut events);
        });
    });
}

#[test]
fn tcp_stream_connect_accept() {
    run_isolated("tcp_stream_connect_accept", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut listener = TcpListener::bind(localhost()).unwrap();
        let addr = listener.local_addr().unwrap();
        poll.registry()
            .register(&mut listener, Token(0), Interest::READABLE)
            .unwrap();
        assert_no_fd_leak("TcpStream (connect + accept)", |i| {
            let mut client = TcpStream::connect(addr).unwrap();
            poll.registry().register(&mut client, Token(1), RW).unwrap();
            let mut accepted = None;
            let deadline = Instant::now() + util::EXPECT_TIMEOUT;
            while accepted.is_none() {
                match listener.accept() {
                    Ok((stream, _)) => accepted = Some(stream),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "no connection to accept");
                        poll_until(&mut poll, &mut events, |_| true);
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
            let mut server = accepted.unwrap();
            poll.registry()
                .register(&mut server, Token(2), Interest::READABLE)
                .unwrap();
            if i % 10 == 0 {
                // Close with a FIN (this end then sits in TIME_WAIT, which holds no fd).
                client.shutdown(Shutdown::Both).unwrap();
                poll.registry().deregister(&mut client).unwrap();
            } else {
                // An RST: no TIME_WAIT, so 10 000 connections (per CI configuration) do not
                // use up the ephemeral ports.
                linger_zero(&client);
                if i % 2 == 0 {
                    poll.registry().deregister(&mut client).unwrap();
                } else {
                    deregister_if_libkqueue(poll.registry(), &mut client);
                }
            }
            deregister_if_libkqueue(poll.registry(), &mut server);
            drop(client);
            drop(server);
            settle(&mut poll, &mut events);
        });
    });
}

#[test]
fn udp_socket() {
    run_isolated("udp_socket", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        assert_no_fd_leak("UdpSocket", |i| {
            let mut socket = UdpSocket::bind(localhost()).unwrap();
            poll.registry().register(&mut socket, Token(i), RW).unwrap();
            socket.send_to(b"x", socket.local_addr().unwrap()).unwrap();
            poll.registry()
                .reregister(&mut socket, Token(i + 1), Interest::READABLE)
                .unwrap();
            deregister_if_libkqueue(poll.registry(), &mut socket);
            drop(socket);
            settle(&mut poll, &mut events);
        });
    });
}

/// Windows: sockets dropped or deregistered without any `poll` in between keep their state
/// (and AFD handle shares: a new `\Device\Afd` handle per 32 of them) until a `poll` dequeues
/// their cancelled requests; then every handle is released but the pool's current AFD handle,
/// kept for the next socket while the `Poll` lives, and that one goes with the `Poll`.
#[test]
#[cfg(windows)]
fn released_by_the_next_poll() {
    run_isolated("released_by_the_next_poll", || {
        // Warm-up (Winsock's own handles, std's lazily opened ones), outside the count.
        drop(TcpListener::bind(localhost()).unwrap());
        let before = fd_count();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(64);
        assert_eq!(fd_count(), before + 1, "the port");
        for i in 0..1000 {
            let mut listener = TcpListener::bind(localhost()).unwrap();
            poll.registry()
                .register(&mut listener, Token(i), Interest::READABLE)
                .unwrap();
            if i % 2 == 0 {
                poll.registry().deregister(&mut listener).unwrap();
            }
        }
        let piled_up = fd_count();
        // Bounded: the cancellations complete promptly; each poll collects what has.
        let deadline = Instant::now() + util::EXPECT_TIMEOUT;
        let mut now = fd_count();
        while now != before + 2 && Instant::now() < deadline {
            poll.poll(&mut events, Some(Duration::from_millis(10)))
                .unwrap();
            now = fd_count();
        }
        println!(
            "1000 listeners registered and dropped without a poll: handles {before} (no Poll) \
             -> {piled_up} -> {now} after polling"
        );
        assert_eq!(
            now,
            before + 2,
            "the port and the pool's AFD handle only ({piled_up} before the polls)"
        );
        drop(poll);
        assert_eq!(
            fd_count(),
            before,
            "handles left after the Poll was dropped"
        );
    });
}

/// Windows: named pipes (server and client ends), registered, connected, written, read and
/// dropped in both orders.
#[test]
#[cfg(windows)]
fn named_pipes() {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::{FromRawHandle, IntoRawHandle};

    use mio::windows::NamedPipe;
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED;

    run_isolated("named_pipes", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        assert_no_fd_leak("NamedPipe (server + client)", |i| {
            let name = format!(r"\\.\pipe\mio-leaks-{}-{i}", std::process::id());
            let mut server = NamedPipe::new(&name).unwrap();
            poll.registry().register(&mut server, Token(1), RW).unwrap();
            match server.connect() {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("connect: {e}"),
            }
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(FILE_FLAG_OVERLAPPED)
                .open(&name)
                .unwrap();
            // SAFETY: an owned pipe client handle opened for overlapped I/O, not associated
            // with a completion port.
            let mut client = unsafe { NamedPipe::from_raw_handle(file.into_raw_handle()) };
            poll.registry().register(&mut client, Token(2), RW).unwrap();
            // The client writes; the server reads it (bounded, polling while it would block).
            let deadline = Instant::now() + util::EXPECT_TIMEOUT;
            loop {
                match client.write(b"ping") {
                    Ok(n) => {
                        assert_eq!(n, 4);
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("write: {e}"),
                }
                assert!(
                    Instant::now() < deadline,
                    "the client never became writable"
                );
                poll_until(&mut poll, &mut events, |_| true);
            }
            let mut buf = [0u8; 4];
            loop {
                match server.read(&mut buf) {
                    Ok(n) => {
                        assert_eq!(&buf[..n], &b"ping"[..n]);
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("read: {e}"),
                }
                assert!(
                    Instant::now() < deadline,
                    "the server never became readable"
                );
                poll_until(&mut poll, &mut events, |_| true);
            }
            if i % 2 == 0 {
                drop(server);
                drop(client);
            } else {
                poll.registry().deregister(&mut client).unwrap();
                drop(client);
                drop(server);
            }
            settle(&mut poll, &mut events);
        });
    });
}

#[test]
#[cfg(unix)] // Unix sockets: Unix only (Windows: `named_pipes` above).
fn unix_listener_stream_datagram() {
    run_isolated("unix_listener_stream_datagram", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let listener_path = socket_path("listener");
        let datagram_path = socket_path("datagram");
        let mut listener = UnixListener::bind(&listener_path).unwrap();
        poll.registry()
            .register(&mut listener, Token(0), Interest::READABLE)
            .unwrap();
        assert_no_fd_leak("UnixListener (bind + drop)", |i| {
            let path = socket_path("cycle");
            let mut l = UnixListener::bind(&path).unwrap();
            poll.registry()
                .register(&mut l, Token(i), Interest::READABLE)
                .unwrap();
            deregister_if_libkqueue(poll.registry(), &mut l);
            drop(l);
            std::fs::remove_file(&path).unwrap();
        });
        assert_no_fd_leak("UnixStream (pair, connect + accept)", |_| {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            poll.registry().register(&mut a, Token(1), RW).unwrap();
            poll.registry().register(&mut b, Token(2), RW).unwrap();
            (&a).write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            (&b).read_exact(&mut buf).unwrap();
            deregister_if_libkqueue(poll.registry(), &mut a);
            deregister_if_libkqueue(poll.registry(), &mut b);
            drop(a);
            drop(b);
            let mut client = UnixStream::connect(&listener_path).unwrap();
            poll.registry().register(&mut client, Token(3), RW).unwrap();
            let deadline = Instant::now() + util::EXPECT_TIMEOUT;
            let server = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        assert!(Instant::now() < deadline, "no connection to accept");
                        poll_until(&mut poll, &mut events, |_| true);
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            };
            deregister_if_libkqueue(poll.registry(), &mut client);
            drop(server);
            drop(client);
        });
        assert_no_fd_leak("UnixDatagram (pair, unbound, bind)", |i| {
            let (mut a, mut b) = UnixDatagram::pair().unwrap();
            poll.registry().register(&mut a, Token(1), RW).unwrap();
            poll.registry().register(&mut b, Token(2), RW).unwrap();
            a.send(b"x").unwrap();
            let mut c = UnixDatagram::unbound().unwrap();
            poll.registry().register(&mut c, Token(3), RW).unwrap();
            let mut d = UnixDatagram::bind(&datagram_path).unwrap();
            poll.registry().register(&mut d, Token(4), RW).unwrap();
            if i % 2 == 0 {
                poll.registry().deregister(&mut d).unwrap();
            } else {
                deregister_if_libkqueue(poll.registry(), &mut d);
            }
            for source in [&mut a, &mut b, &mut c] {
                deregister_if_libkqueue(poll.registry(), source);
            }
            drop(d);
            std::fs::remove_file(&datagram_path).unwrap();
        });
        drop(listener);
        let _ = std::fs::remove_file(&listener_path);
    });
}

#[test]
#[cfg(unix)] // `mio::unix::pipe`: Unix only (Windows: `named_pipes` above).
fn pipes() {
    run_isolated("pipes", || {
        let poll = Poll::new().unwrap();
        assert_no_fd_leak("unix::pipe", |i| {
            let (mut sender, mut receiver) = pipe::new().unwrap();
            poll.registry()
                .register(&mut sender, Token(1), Interest::WRITABLE)
                .unwrap();
            poll.registry()
                .register(&mut receiver, Token(2), Interest::READABLE)
                .unwrap();
            sender.write_all(b"x").unwrap();
            deregister_if_libkqueue(poll.registry(), &mut sender);
            deregister_if_libkqueue(poll.registry(), &mut receiver);
            if i % 2 == 0 {
                // The receiver goes first: the sender then sees a broken pipe.
                drop(receiver);
                drop(sender);
            } else {
                drop(sender);
                drop(receiver);
            }
        });
    });
}

#[test]
#[cfg(unix)] // `SourceFd`: Unix only.
fn source_fd() {
    run_isolated("source_fd", || {
        let poll = Poll::new().unwrap();
        assert_no_fd_leak(
            "SourceFd (eventfd, registered, deregistered, closed)",
            |i| {
                let fd = util::eventfd();
                let raw = fd.as_raw_fd();
                poll.registry()
                    .register(&mut SourceFd(&raw), Token(i), Interest::READABLE)
                    .unwrap();
                poll.registry()
                    .reregister(&mut SourceFd(&raw), Token(i), RW)
                    .unwrap();
                poll.registry().deregister(&mut SourceFd(&raw)).unwrap();
                drop(fd);
            },
        );
    });
}

#[test]
fn failing_bind_in_use() {
    run_isolated("failing_bind_in_use", || {
        let tcp = TcpListener::bind(localhost()).unwrap();
        let tcp_addr = tcp.local_addr().unwrap();
        let udp = UdpSocket::bind(localhost()).unwrap();
        let udp_addr = udp.local_addr().unwrap();
        #[cfg(unix)]
        let stream_path = socket_path("in-use-stream");
        #[cfg(unix)]
        let datagram_path = socket_path("in-use-datagram");
        #[cfg(unix)]
        let _unix = UnixListener::bind(&stream_path).unwrap();
        #[cfg(unix)]
        let _unix_dgram = UnixDatagram::bind(&datagram_path).unwrap();
        assert_no_fd_leak("bind to an address in use", |_| {
            expect_kind(
                TcpListener::bind(tcp_addr),
                ErrorKind::AddrInUse,
                "TcpListener",
            );
            expect_kind(UdpSocket::bind(udp_addr), ErrorKind::AddrInUse, "UdpSocket");
            #[cfg(unix)]
            expect_kind(
                UnixListener::bind(&stream_path),
                ErrorKind::AddrInUse,
                "UnixListener",
            );
            #[cfg(unix)]
            expect_kind(
                UnixDatagram::bind(&datagram_path),
                ErrorKind::AddrInUse,
                "UnixDatagram",
            );
        });
        #[cfg(unix)]
        let _ = std::fs::remove_file(&stream_path);
        #[cfg(unix)]
        let _ = std::fs::remove_file(&datagram_path);
    });
}

#[test]
fn failing_connect_refused() {
    run_isolated("failing_connect_refused", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        // A port bound but not listening, without `SO_REUSEADDR`: no listener of another
        // test can take it (they set `SO_REUSEADDR`, which both sockets would need), so a
        // connection to it is always refused.
        let (reserved, closed) = bound_not_listening();
        // A Unix socket file with nothing listening behind it.
        #[cfg(unix)]
        let stale_path = socket_path("stale");
        #[cfg(unix)]
        drop(std::os::unix::net::UnixListener::bind(&stale_path).unwrap());
        #[cfg(unix)]
        let missing_path = socket_path("missing");
        // Windows retries a refused SYN for about two seconds (Wine, on Linux's stack, is
        // refused at once): a few cycles only there.
        let cycles = if cfg!(windows) && !util::running_under_wine() {
            cycles().min(20)
        } else {
            cycles()
        };
        let check = |i: usize, poll: &mut Poll, events: &mut Events| {
            match TcpStream::connect(closed) {
                Err(err) => assert_eq!(err.kind(), ErrorKind::ConnectionRefused),
                Ok(mut stream) => {
                    poll.registry().register(&mut stream, Token(i), RW).unwrap();
                    #[cfg_attr(
                        not(mio_unsupported_test_libkqueue),
                        allow(unused_variables, unused_assignments)
                    )]
                    let mut error_event = false;
                    poll_until(poll, events, |events| {
                        let mut seen = false;
                        for event in events.iter().filter(|e| e.token() == Token(i)) {
                            seen = true;
                            error_event |= event.is_error();
                        }
                        seen
                    });
                    #[cfg(not(mio_unsupported_test_libkqueue))]
                    {
                        let err = stream.take_error().unwrap().expect("a connect error");
                        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
                    }
                    // libkqueue reads the socket error into the event: on `EPOLLERR` its
                    // EVFILT_READ and EVFILT_WRITE copyouts call `getsockopt(SO_ERROR)`
                    // (src/linux/read.c:118, src/linux/write.c:61), which on Linux also clears
                    // it (socket(7), SO_ERROR: "Get and clear the pending socket error"), so
                    // `take_error` finds nothing left. kqueue(2) only reports the error
                    // (EVFILT_READ: "returns the socket error (if any) in fflags"), leaving it
                    // to `getsockopt` as on the BSDs. So here the event must carry the error.
                    #[cfg(mio_unsupported_test_libkqueue)]
                    {
                        assert!(error_event, "the refused connect's event is not an error");
                        match stream.take_error().unwrap() {
                            None => {}
                            Some(err) => assert_eq!(err.kind(), ErrorKind::ConnectionRefused),
                        }
                    }
                    deregister_if_libkqueue(poll.registry(), &mut stream);
                    drop(stream);
                    settle(poll, events);
                }
            }
            #[cfg(unix)]
            expect_kind(
                UnixStream::connect(&stale_path),
                ErrorKind::ConnectionRefused,
                "UnixStream to a stale socket",
            );
            #[cfg(unix)]
            expect_kind(
                UnixStream::connect(&missing_path),
                ErrorKind::NotFound,
                "UnixStream to a missing path",
            );
        };
        check(0, &mut poll, &mut events);
        let before = fd_count();
        assert_no_fd_leak_n("connect refused", cycles, before, |i| {
            check(i, &mut poll, &mut events)
        });
        #[cfg(unix)]
        let _ = std::fs::remove_file(&stale_path);
        drop(reserved);
    });
}

#[test]
fn failing_registrations() {
    run_isolated("failing_registrations", || {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let other = Poll::new().unwrap();
        // A number certainly not open: past every fd this process has.
        #[cfg(unix)]
        let closed_fd = {
            let fd = util::eventfd();
            let high: OwnedFd = rustix::io::fcntl_dupfd_cloexec(&fd, 900).unwrap();
            high.as_raw_fd()
        };
        #[cfg(unix)]
        let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        #[cfg(unix)]
        let file_fd = file.as_raw_fd();
        assert_no_fd_leak(
            "register twice, (re|de)register unregistered, bad fds",
            |i| {
                let registry = poll.registry();
                let mut listener = TcpListener::bind(localhost()).unwrap();
                expect_kind(
                    registry.deregister(&mut listener),
                    ErrorKind::NotFound,
                    "deregister unregistered",
                );
                expect_kind(
                    registry.reregister(&mut listener, Token(i), Interest::READABLE),
                    ErrorKind::NotFound,
                    "reregister unregistered",
                );
                registry
                    .register(&mut listener, Token(i), Interest::READABLE)
                    .unwrap();
                expect_kind(
                    registry.register(&mut listener, Token(i), Interest::READABLE),
                    ErrorKind::AlreadyExists,
                    "register twice",
                );
                // Registered with `poll`: debug builds refuse `other` (upstream's check); release
                // builds on epoll let the kernel add it to the second epoll instance (Windows
                // refuses in both builds: one AFD registration per socket).
                match other
                    .registry()
                    .register(&mut listener, Token(i), Interest::READABLE)
                {
                    Err(_) => {}
                    Ok(()) => {
                        if cfg!(debug_assertions) {
                            panic!("registered with a second Poll");
                        }
                        other.registry().deregister(&mut listener).unwrap();
                    }
                }
                registry.deregister(&mut listener).unwrap();

                // A pipe (Windows: a UDP socket).
                #[cfg(unix)]
                let (mut sender, receiver) = pipe::new().unwrap();
                #[cfg(windows)]
                let mut sender = UdpSocket::bind(localhost()).unwrap();
                registry
                    .register(&mut sender, Token(i), Interest::WRITABLE)
                    .unwrap();
                expect_kind(
                    registry.register(&mut sender, Token(i), Interest::WRITABLE),
                    ErrorKind::AlreadyExists,
                    "pipe registered twice",
                );
                deregister_if_libkqueue(registry, &mut sender);
                #[cfg(unix)]
                drop(receiver);
                drop(sender);

                #[cfg(unix)]
                raw_fd_failures(registry, i, closed_fd, file_fd);
                settle(&mut poll, &mut events);
            },
        );
    });
}

/// The `SourceFd` cases of `failing_registrations`.
#[cfg(unix)]
fn raw_fd_failures(
    registry: &Registry,
    i: usize,
    closed_fd: std::os::fd::RawFd,
    file_fd: std::os::fd::RawFd,
) {
    {
        {
            let fd = util::eventfd();
            let raw = fd.as_raw_fd();
            expect_kind(
                registry.deregister(&mut SourceFd(&raw)),
                ErrorKind::NotFound,
                "deregister an unregistered raw fd",
            );
            registry
                .register(&mut SourceFd(&raw), Token(i), Interest::READABLE)
                .unwrap();
            expect_kind(
                registry.register(&mut SourceFd(&raw), Token(i), Interest::READABLE),
                ErrorKind::AlreadyExists,
                "raw fd registered twice",
            );
            registry.deregister(&mut SourceFd(&raw)).unwrap();
            drop(fd);

            let err = registry
                .register(&mut SourceFd(&closed_fd), Token(i), Interest::READABLE)
                .unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EBADF), "closed fd: {err}");
            let result = registry.register(&mut SourceFd(&file_fd), Token(i), Interest::READABLE);
            // epoll_ctl(2): "EPERM The target file fd does not support epoll".
            #[cfg(not(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll))))]
            {
                let err = result.unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EPERM), "regular file: {err}");
            }
            // kqueue takes a regular file (kqueue(2), EVFILT_READ: "Vnodes: Returns when the
            // file pointer is not at the end of file"; so does libkqueue, its `KNFL_FILE`
            // paths): registered, so deregistered, which must leave nothing either.
            #[cfg(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll)))]
            {
                result.unwrap_or_else(|e| panic!("regular file on kqueue: {e}"));
                registry.deregister(&mut SourceFd(&file_fd)).unwrap();
            }
        }
    }
}

/// A TCP socket bound to a loopback port but not listening, and its address.
#[cfg(unix)]
fn bound_not_listening() -> (OwnedFd, SocketAddr) {
    let reserved = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::STREAM,
        None,
    )
    .unwrap();
    rustix::net::bind(&reserved, &localhost()).unwrap();
    let closed = match rustix::net::getsockname(&reserved).unwrap().try_into() {
        Ok(addr) => addr,
        Err(_) => panic!("getsockname: not an IPv4 address"),
    };
    (reserved, closed)
}

/// A TCP socket bound to a loopback port but not listening, and its address.
#[cfg(windows)]
fn bound_not_listening() -> (std::os::windows::io::OwnedSocket, SocketAddr) {
    use std::os::windows::io::{FromRawSocket, OwnedSocket};
    use windows_sys::Win32::Networking::WinSock::{
        bind, getsockname, socket, AF_INET, INVALID_SOCKET, IN_ADDR, IN_ADDR_0, IPPROTO_TCP,
        SOCKADDR, SOCKADDR_IN, SOCKET_ERROR, SOCK_STREAM,
    };
    // Winsock is started by any std socket (and by `Poll::new`).
    drop(std::net::UdpSocket::bind(localhost()).unwrap());
    // SAFETY: plain Winsock calls with valid pointers and lengths; the new socket is owned by
    // the `OwnedSocket` at once.
    unsafe {
        let s = socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP);
        assert_ne!(s, INVALID_SOCKET, "socket: {}", io::Error::last_os_error());
        let owned = OwnedSocket::from_raw_socket(s as _);
        let mut addr = SOCKADDR_IN {
            sin_family: AF_INET,
            sin_port: 0,
            sin_addr: IN_ADDR {
                S_un: IN_ADDR_0 {
                    S_addr: u32::from_ne_bytes([127, 0, 0, 1]),
                },
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<SOCKADDR_IN>() as i32;
        let res = bind(s, (&addr as *const SOCKADDR_IN).cast::<SOCKADDR>(), len);
        assert_ne!(res, SOCKET_ERROR, "bind: {}", io::Error::last_os_error());
        let mut got = len;
        let res = getsockname(
            s,
            (&mut addr as *mut SOCKADDR_IN).cast::<SOCKADDR>(),
            &mut got,
        );
        assert_ne!(
            res,
            SOCKET_ERROR,
            "getsockname: {}",
            io::Error::last_os_error()
        );
        let port = u16::from_be(addr.sin_port);
        (owned, SocketAddr::from(([127, 0, 0, 1], port)))
    }
}
