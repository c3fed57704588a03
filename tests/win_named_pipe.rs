//! Windows-only: `mio::windows::NamedPipe`, both ends, on one `Poll`.
//!
//! The server end comes from `NamedPipe::new`; the client end is a handle opened with
//! `std::fs::OpenOptions` (`FILE_FLAG_OVERLAPPED`, read + write) and handed over with
//! `NamedPipe::from_raw_handle`. Covered: connecting before and after `connect`, data both
//! ways (reads smaller and larger than the 4 KiB internal buffer, vectored I/O, `&NamedPipe`),
//! the peer going away (`BrokenPipe`, `read_closed` then `Ok(0)`), `disconnect` and a new
//! client, `take_error`, a second instance of a name, dropping with I/O in flight (handle
//! counts back to their baseline, before and after the `Poll` goes), the registration errors,
//! `Debug`, `Send + Sync`.
//!
//! Handle counts: `GetProcessHandleCount` on Windows; under Wine, which answers 0 there, the
//! system handle table (`util::fd_count`). Those tests run in a child process of their own
//! (`util::run_isolated`) so that other tests' handles do not disturb the count.
#![cfg(all(windows, feature = "os-ext"))]

mod util;

use util::handle_count;

use std::fs::OpenOptions;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle};
use std::time::{Duration, Instant};

use mio::windows::NamedPipe;
use mio::{Events, Interest, Poll, Token};
use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED;

use util::{open_client, run_isolated, running_under_wine};

const RW: Interest = Interest::READABLE.add(Interest::WRITABLE);
const SERVER: Token = Token(0);
const CLIENT: Token = Token(1);
/// How long any wait for an event may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(10);

fn pipe_name() -> String {
    util::pipe_name("win-named-pipe")
}

/// A copy of an event's flags.
#[derive(Clone, Copy, Debug)]
struct Seen {
    token: Token,
    readable: bool,
    writable: bool,
    read_closed: bool,
    write_closed: bool,
}

/// A `Poll` and the events it delivered that no wait has consumed yet.
struct Harness {
    poll: Poll,
    events: Events,
    seen: Vec<Seen>,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            poll: Poll::new().unwrap(),
            events: Events::with_capacity(64),
            seen: Vec::new(),
        }
    }

    /// One poll; what came is appended to `seen` and returned.
    fn poll_once(&mut self, timeout: Duration) -> Vec<Seen> {
        loop {
            match self.poll.poll(&mut self.events, Some(timeout)) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("poll: {e}"),
            }
        }
        let new: Vec<Seen> = self
            .events
            .iter()
            .map(|e| Seen {
                token: e.token(),
                readable: e.is_readable(),
                writable: e.is_writable(),
                read_closed: e.is_read_closed(),
                write_closed: e.is_write_closed(),
            })
            .collect();
        self.seen.extend(new.iter().copied());
        new
    }

    /// Waits (bounded) for an event matching `f`, consuming it (and only it).
    #[track_caller]
    fn wait(&mut self, what: &str, mut f: impl FnMut(&Seen) -> bool) -> Seen {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(i) = self.seen.iter().position(&mut f) {
                return self.seen.remove(i);
            }
            assert!(
                Instant::now() < deadline,
                "no {what} event within {DEADLINE:?}; unconsumed: {:?}",
                self.seen
            );
            self.poll_once(Duration::from_millis(100));
        }
    }

    #[track_caller]
    fn wait_readable(&mut self, token: Token) -> Seen {
        self.wait("readable", |e| e.token == token && e.readable)
    }

    #[track_caller]
    fn wait_writable(&mut self, token: Token) -> Seen {
        self.wait("writable", |e| e.token == token && e.writable)
    }

    #[track_caller]
    fn wait_read_closed(&mut self, token: Token) -> Seen {
        self.wait("read-closed", |e| e.token == token && e.read_closed)
    }

    /// Writes all of `data` to `pipe`, waiting for writable events on `WouldBlock`.
    #[track_caller]
    fn write_all(&mut self, mut pipe: &NamedPipe, token: Token, data: &[u8]) {
        let mut off = 0;
        while off < data.len() {
            match pipe.write(&data[off..]) {
                Ok(0) => panic!("write returned 0"),
                Ok(n) => off += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait_writable(token);
                }
                Err(e) => panic!("write: {e}"),
            }
        }
    }

    /// Reads exactly `len` bytes from `pipe` with reads of `chunk` bytes, waiting for
    /// readable events on `WouldBlock`.
    #[track_caller]
    fn read_exact(
        &mut self,
        mut pipe: &NamedPipe,
        token: Token,
        len: usize,
        chunk: usize,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut buf = vec![0; chunk];
        while out.len() < len {
            match pipe.read(&mut buf[..chunk.min(len - out.len())]) {
                Ok(0) => panic!("unexpected end of file after {} of {len} bytes", out.len()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait_readable(token);
                }
                Err(e) => panic!("read: {e}"),
            }
        }
        out
    }
}

/// A server (`SERVER`) and a client (`CLIENT`), both registered for reading and writing, the
/// client opened before `connect` is called: `connect` answers `Ok` at once.
fn pair(h: &mut Harness) -> (NamedPipe, NamedPipe, String) {
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    let mut client = open_client(&name);
    h.poll.registry().register(&mut client, CLIENT, RW).unwrap();
    server
        .connect()
        .expect("connect with a client already there");
    (server, client, name)
}

/// `len` bytes of a pattern that does not repeat every 4 KiB, so a lost, repeated or
/// reordered buffer shows.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn would_block<T: std::fmt::Debug>(res: io::Result<T>) -> bool {
    matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

#[test]
fn client_before_connect() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    // Connected both ways: each end becomes writable.
    h.wait_writable(CLIENT);
    h.write_all(&client, CLIENT, b"ping");
    assert_eq!(h.read_exact(&server, SERVER, 4, 16), b"ping");
    h.write_all(&server, SERVER, b"pong!");
    assert_eq!(h.read_exact(&client, CLIENT, 5, 16), b"pong!");
    assert!(server.take_error().unwrap().is_none());
}

#[test]
fn client_after_connect() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    let err = server.connect().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
    // Nothing to read, nothing written yet: no data either way.
    assert!(would_block((&server).read(&mut [0; 8])));
    // A second call while waiting still waits.
    assert!(would_block(server.connect()));

    let mut client = open_client(&name);
    h.poll.registry().register(&mut client, CLIENT, RW).unwrap();
    h.wait_writable(SERVER);
    server.connect().expect("connect after the writable event");
    assert!(server.take_error().unwrap().is_none());

    h.write_all(&server, SERVER, b"hello client");
    assert_eq!(h.read_exact(&client, CLIENT, 12, 64), b"hello client");
    h.write_all(&client, CLIENT, b"hello server");
    assert_eq!(h.read_exact(&server, SERVER, 12, 64), b"hello server");
}

#[test]
fn io_before_register_not_found() {
    let name = pipe_name();
    let server = NamedPipe::new(&name).unwrap();
    // As upstream: `connect` needs the completion port (tests/differential.rs).
    let err = server.connect().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    let err = (&server).write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    let err = (&server).read(&mut [0; 8]).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

/// 100 KB each way, written in 10 000-byte writes, read with 1 KiB (smaller than the internal
/// buffer) and 64 KiB (larger) reads, interleaved on one thread: byte-exact.
fn transfer(read_chunk: usize) {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    for (writer, wtok, reader, rtok, seed) in [
        (&server, SERVER, &client, CLIENT, 1),
        (&client, CLIENT, &server, SERVER, 2),
    ] {
        const TOTAL: usize = 100_000;
        const WRITE: usize = 10_000;
        let data = pattern(TOTAL, seed);
        let mut sent = 0;
        let mut received = Vec::with_capacity(TOTAL);
        let mut buf = vec![0u8; read_chunk];
        let mut writes = 0;
        let mut reads = 0;
        let deadline = Instant::now() + DEADLINE;
        while received.len() < TOTAL {
            assert!(
                Instant::now() < deadline,
                "stuck: sent {sent}, received {} (token {rtok:?})",
                received.len()
            );
            let mut progress = false;
            if sent < TOTAL {
                let end = (sent + WRITE).min(TOTAL);
                match (&*writer).write(&data[sent..end]) {
                    Ok(n) => {
                        assert!(n > 0 && n <= end - sent);
                        sent += n;
                        writes += 1;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("write: {e}"),
                }
            }
            loop {
                match (&*reader).read(&mut buf) {
                    Ok(0) => panic!("end of file after {} bytes", received.len()),
                    Ok(n) => {
                        assert!(n <= read_chunk);
                        received.extend_from_slice(&buf[..n]);
                        reads += 1;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("read: {e}"),
                }
            }
            if !progress {
                // Something is in flight (a write, a read, or both): its completion is an
                // event.
                h.poll_once(Duration::from_millis(100));
                h.seen.clear();
            }
        }
        assert_eq!(received.len(), TOTAL);
        assert!(received == data, "data corrupted (token {rtok:?})");
        assert!(writes >= TOTAL / WRITE, "{writes} writes");
        assert!(
            reads >= (TOTAL + read_chunk - 1) / read_chunk,
            "{reads} reads"
        );
        // Nothing more arrives.
        assert!(would_block((&*reader).read(&mut buf)));
        let _ = wtok;
    }
}

#[test]
fn transfer_reads_smaller_than_buffer() {
    transfer(1024);
}

#[test]
fn transfer_reads_larger_than_buffer() {
    transfer(64 * 1024);
}

#[test]
fn vectored_io() {
    let mut h = Harness::new();
    let (mut server, mut client, _) = pair(&mut h);
    h.wait_writable(CLIENT);
    let bufs = [
        IoSlice::new(b"hello "),
        IoSlice::new(b""),
        IoSlice::new(b"vectored "),
        IoSlice::new(b"world"),
    ];
    assert_eq!(client.write_vectored(&bufs).unwrap(), 20);

    // Read it back into three buffers: the first two fill completely before the third.
    let expected = b"hello vectored world";
    let mut got = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while got.len() < expected.len() {
        assert!(Instant::now() < deadline, "got only {got:?}");
        let (mut a, mut b, mut c) = ([0u8; 3], [0u8; 4], [0u8; 64]);
        let mut slices = [
            IoSliceMut::new(&mut a),
            IoSliceMut::new(&mut b),
            IoSliceMut::new(&mut c),
        ];
        match server.read_vectored(&mut slices) {
            Ok(0) => panic!("end of file"),
            Ok(n) => {
                let flat: Vec<u8> = a.iter().chain(&b).chain(&c).copied().collect();
                got.extend_from_slice(&flat[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                h.wait_readable(SERVER);
            }
            Err(e) => panic!("read_vectored: {e}"),
        }
    }
    assert_eq!(got, expected);

    // The other way, through `&NamedPipe`.
    h.wait_writable(CLIENT); // the client's write completed
    let parts: [&[u8]; 3] = [b"ab", b"cd", b"ef"];
    let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    assert_eq!((&server).write_vectored(&slices).unwrap(), 6);
    let mut first = [0u8; 1];
    let mut rest = [0u8; 16];
    let mut got = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while got.len() < 6 {
        assert!(Instant::now() < deadline, "got only {got:?}");
        let mut slices = [IoSliceMut::new(&mut first), IoSliceMut::new(&mut rest)];
        match (&client).read_vectored(&mut slices) {
            Ok(0) => panic!("end of file"),
            Ok(n) => {
                let flat: Vec<u8> = first.iter().chain(&rest).copied().collect();
                got.extend_from_slice(&flat[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                h.wait_readable(CLIENT);
            }
            Err(e) => panic!("read_vectored: {e}"),
        }
    }
    assert_eq!(got, b"abcdef");
}

#[test]
fn shared_reference_read_write() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    h.wait_writable(CLIENT);
    // `Read` and `Write` for `&NamedPipe`: two shared references used at the same time.
    let (mut r, mut w) = (&server, &server);
    let mut cw = &client;
    assert_eq!(cw.write(b"through &NamedPipe").unwrap(), 18);
    cw.flush().unwrap();
    let mut buf = [0u8; 64];
    let n = loop {
        match r.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                h.wait_readable(SERVER);
            }
            Err(e) => panic!("read: {e}"),
        }
    };
    assert!(n > 0);
    let mut got = buf[..n].to_vec();
    got.extend(h.read_exact(&server, SERVER, 18 - n, 64));
    assert_eq!(got, b"through &NamedPipe");
    assert_eq!(w.write(b"reply").unwrap(), 5);
    w.flush().unwrap();
    assert_eq!(h.read_exact(&client, CLIENT, 5, 64), b"reply");
}

#[test]
fn write_while_a_write_is_in_flight_would_block() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    h.wait_writable(SERVER);
    // More than the pipe's kernel buffer, nobody reading on the other side yet beyond the
    // client's internal 4 KiB: the write stays in flight.
    let big = pattern(1 << 20, 3);
    assert_eq!((&server).write(&big).unwrap(), big.len());
    assert!(would_block((&server).write(b"more")));
    // The client drains it; the write completes and the server is writable again.
    let got = h.read_exact(&client, CLIENT, big.len(), 64 * 1024);
    assert!(got == big);
    h.wait_writable(SERVER);
    assert_eq!((&server).write(b"more").unwrap(), 4);
    assert_eq!(h.read_exact(&client, CLIENT, 4, 64), b"more");
}

#[test]
fn peer_dropped_read_closed_then_eof() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    h.wait_writable(CLIENT);
    h.write_all(&client, CLIENT, b"last words");
    drop(client);
    // The data written before the close is still read, then end of file.
    assert_eq!(h.read_exact(&server, SERVER, 10, 64), b"last words");
    h.wait_read_closed(SERVER);
    assert_eq!((&server).read(&mut [0; 16]).unwrap(), 0);
    assert_eq!((&server).read(&mut [0; 16]).unwrap(), 0);
}

#[test]
fn write_after_client_dropped_is_broken_pipe() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    h.wait_writable(SERVER);
    drop(client);
    h.wait_read_closed(SERVER);
    let err = (&server).write(b"anyone?").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
    let err = (&server).write(b"anyone?").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
    // The OS's own code, as callers compare it (tokio's named-pipe tests check
    // ERROR_NO_DATA, 232); found by tokio's suite: it used to be wrapped in a custom error.
    assert!(
        matches!(err.raw_os_error(), Some(232) | Some(109)),
        "raw OS error kept: {err:?}"
    );
}

/// Found by tokio's suite (`test_named_pipe_access`): a client that connects and leaves at
/// once, while `connect` is pending. The writable event says the connect completed, and the
/// next `connect` must answer `Ok` (asking the OS again would answer ERROR_NO_DATA for a
/// connection that did happen).
#[test]
fn connect_ok_after_completion_even_if_the_client_left() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    assert!(would_block(server.connect()));
    drop(open_client(&name));
    h.wait_writable(SERVER);
    server.connect().expect("the completed connect is Ok");
}

#[test]
fn write_after_server_dropped_is_broken_pipe() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    h.wait_writable(CLIENT);
    drop(server);
    h.wait_read_closed(CLIENT);
    assert_eq!((&client).read(&mut [0; 16]).unwrap(), 0);
    let err = (&client).write(b"anyone?").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
}

#[test]
fn write_in_flight_when_peer_drops_fails_next_write() {
    let mut h = Harness::new();
    let (server, client, _) = pair(&mut h);
    h.wait_writable(SERVER);
    // A write that cannot complete (more than the kernel buffer, nobody reading).
    let big = pattern(1 << 20, 4);
    assert_eq!((&server).write(&big).unwrap(), big.len());
    drop(client);
    // Its failure is a writable event (write-closed) and the next write's error.
    let e = h.wait("write-closed", |e| {
        e.token == SERVER && e.writable && e.write_closed
    });
    assert!(e.write_closed);
    let err = (&server).write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
}

#[test]
fn disconnect_then_new_client() {
    let mut h = Harness::new();
    let (server, client1, name) = pair(&mut h);
    const CLIENT2: Token = Token(2);
    h.wait_writable(CLIENT);
    h.write_all(&server, SERVER, b"to one");
    assert_eq!(h.read_exact(&client1, CLIENT, 6, 64), b"to one");
    // Unread data from the first client is lost with the disconnect.
    h.write_all(&client1, CLIENT, b"stale");

    server.disconnect().unwrap();
    // The first client sees its pipe closed.
    h.wait_read_closed(CLIENT);
    assert_eq!((&client1).read(&mut [0; 16]).unwrap(), 0);
    let err = (&client1).write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
    drop(client1);

    // Until `connect` is called again no client can open the pipe (`ERROR_PIPE_BUSY`).
    let err = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(FILE_FLAG_OVERLAPPED)
        .open(&name)
        .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(231), "{err}"); // ERROR_PIPE_BUSY
    h.seen.clear();
    assert!(would_block(server.connect()));
    // The new client comes: what the first one sent and the server never read ("stale"),
    // and the first connection's end of file, must not leak into the second.
    let mut client2 = open_client(&name);
    h.poll
        .registry()
        .register(&mut client2, CLIENT2, RW)
        .unwrap();
    h.wait_writable(SERVER);
    server.connect().unwrap();
    assert!(server.take_error().unwrap().is_none());
    h.write_all(&client2, CLIENT2, b"from two");
    assert_eq!(h.read_exact(&server, SERVER, 8, 64), b"from two");
    h.write_all(&server, SERVER, b"to two");
    assert_eq!(h.read_exact(&client2, CLIENT2, 6, 64), b"to two");
    // Nothing stale either way.
    assert!(would_block((&server).read(&mut [0; 16])));
    assert!(would_block((&client2).read(&mut [0; 16])));
}

#[test]
fn disconnect_before_client_then_connect() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    assert!(would_block(server.connect()));
    let mut c = open_client(&name);
    h.poll.registry().register(&mut c, CLIENT, RW).unwrap();
    h.wait_writable(SERVER);
    server.connect().unwrap();
    server.disconnect().unwrap();
    h.wait_read_closed(CLIENT);
    drop(c);
    // Waiting again for the next client works as the first time.
    assert!(would_block(server.connect()));
    let mut c = open_client(&name);
    h.poll.registry().register(&mut c, CLIENT, RW).unwrap();
    h.wait_writable(SERVER);
    server.connect().unwrap();
    h.write_all(&c, CLIENT, b"again");
    assert_eq!(h.read_exact(&server, SERVER, 5, 64), b"again");
}

/// Issue 16, hang 1: the client connects after `register` and before `connect`, whose
/// `ERROR_PIPE_CONNECTED` answers `Ok` at once. A loop that handled every event before calling
/// `connect` and then waits for writable (as tokio's first write does) must get one.
#[test]
fn connect_ok_at_once_is_followed_by_a_writable_event() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    let client = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    // Everything reported so far was handled.
    h.poll_once(Duration::from_millis(100));
    h.seen.clear();
    server.connect().expect("the client is already there");
    h.wait_writable(SERVER);
    h.write_all(&server, SERVER, b"hello");
    drop(client);
}

/// Issue 16, hang 2 and defect 2: a client connects and leaves before `connect` is called.
/// `ConnectNamedPipe` answers `ERROR_NO_DATA`: that is a connection (its client already
/// gone), so `connect` is `Ok`, a readable event follows and `read` gives end of file; then
/// `disconnect` + `connect` serve the next client.
#[test]
fn client_came_and_went_before_connect() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    drop(open_client(&name));
    server
        .connect()
        .expect("a client that came and went is a connection");
    h.wait_readable(SERVER);
    assert_eq!((&server).read(&mut [0; 16]).unwrap(), 0);
    // Still the same ended connection.
    server.connect().expect("connect again before disconnect");

    server.disconnect().unwrap();
    assert!(would_block(server.connect()));
    let mut client = open_client(&name);
    h.poll.registry().register(&mut client, CLIENT, RW).unwrap();
    h.wait_writable(SERVER);
    server.connect().unwrap();
    h.write_all(&client, CLIENT, b"next");
    assert_eq!(h.read_exact(&server, SERVER, 4, 64), b"next");
}

/// Issue 16, defect 1: `write` said the data was taken; dropping the pipe right after must
/// not lose it. 1 MiB (far more than the pipe's 64 KiB buffer, so the write is still in flight
/// at the drop), read to end of file by a client on another thread while the loop goes on
/// polling: exactly the bytes written arrive, then end of file.
#[test]
fn drop_after_write_delivers_everything() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    let mut client = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&name)
        .unwrap();
    server.connect().unwrap();
    let data = pattern(1 << 20, 16);
    h.write_all(&server, SERVER, &data);
    drop(server);
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        client.read_to_end(&mut got).map(|_| got)
    });
    let deadline = Instant::now() + DEADLINE;
    while !reader.is_finished() {
        assert!(
            Instant::now() < deadline,
            "no end of file within {DEADLINE:?}"
        );
        h.poll_once(Duration::from_millis(20));
    }
    let got = reader
        .join()
        .unwrap()
        .expect("the client reads to end of file");
    assert_eq!(got.len(), data.len(), "bytes delivered after the drop");
    assert!(got == data, "the data arrived changed");
}

#[test]
fn take_error_is_none_when_nothing_failed() {
    let mut h = Harness::new();
    let name = pipe_name();
    let mut server = NamedPipe::new(&name).unwrap();
    assert!(server.take_error().unwrap().is_none());
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    assert!(would_block(server.connect()));
    assert!(server.take_error().unwrap().is_none());
    let mut c = open_client(&name);
    h.poll.registry().register(&mut c, CLIENT, RW).unwrap();
    h.wait_writable(SERVER);
    server.connect().unwrap();
    assert!(server.take_error().unwrap().is_none());
    assert!(c.take_error().unwrap().is_none());
}

#[test]
fn second_instance_of_a_name_fails() {
    let name = pipe_name();
    let first = NamedPipe::new(&name).unwrap();
    let second = NamedPipe::new(&name);
    if running_under_wine() {
        // Wine 8.0 ignores FILE_FLAG_FIRST_PIPE_INSTANCE: it creates a second instance of the
        // name (Windows refuses with ERROR_ACCESS_DENIED). Nothing of ours to check there.
        drop(second);
    } else {
        let err = second.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    }
    // Once the first is gone, the name is free again.
    drop(first);
    NamedPipe::new(&name).unwrap();
}

#[test]
fn name_with_nul_is_invalid_input() {
    let err = NamedPipe::new("\\\\.\\pipe\\bad\0name").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
}

#[test]
fn register_twice_already_exists() {
    let h = Harness::new();
    let mut server = NamedPipe::new(pipe_name()).unwrap();
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    let err = h
        .poll
        .registry()
        .register(&mut server, SERVER, RW)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    // Still registered: deregistering works once, then it is not found.
    h.poll.registry().deregister(&mut server).unwrap();
    let err = h.poll.registry().deregister(&mut server).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

#[test]
fn deregister_or_reregister_unregistered_not_found() {
    let h = Harness::new();
    let mut server = NamedPipe::new(pipe_name()).unwrap();
    let err = h.poll.registry().deregister(&mut server).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    let err = h
        .poll
        .registry()
        .reregister(&mut server, SERVER, RW)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

#[test]
fn register_with_a_second_poll_fails() {
    let h1 = Harness::new();
    let h2 = Harness::new();
    let mut server = NamedPipe::new(pipe_name()).unwrap();
    h1.poll
        .registry()
        .register(&mut server, SERVER, RW)
        .unwrap();
    let err = h2
        .poll
        .registry()
        .register(&mut server, SERVER, RW)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    // Tied to the first `Poll` for life, even once deregistered there.
    h1.poll.registry().deregister(&mut server).unwrap();
    let err = h2
        .poll
        .registry()
        .register(&mut server, SERVER, RW)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    h1.poll
        .registry()
        .register(&mut server, SERVER, RW)
        .unwrap();
}

#[test]
fn reregister_changes_token_and_interest() {
    let mut h = Harness::new();
    let (mut server, client, _) = pair(&mut h);
    h.wait_writable(SERVER);
    const NEW: Token = Token(7);
    h.poll
        .registry()
        .reregister(&mut server, NEW, Interest::READABLE)
        .unwrap();
    h.seen.clear();
    h.write_all(&client, CLIENT, b"to the new token");
    let e = h.wait_readable(NEW);
    assert!(!e.writable, "registered for reading only: {e:?}");
    assert_eq!(h.read_exact(&server, NEW, 16, 64), b"to the new token");
    // Every event since the reregistration carried the new token.
    let deadline = Instant::now() + Duration::from_millis(200);
    while Instant::now() < deadline {
        h.poll_once(Duration::from_millis(50));
    }
    assert!(
        h.seen.iter().all(|e| e.token != SERVER),
        "event with the old token: {:?}",
        h.seen
    );
    // Back to writable interest: a write gets its writable event under the new token.
    h.poll.registry().reregister(&mut server, NEW, RW).unwrap();
    h.write_all(&server, NEW, b"x");
    assert_eq!(h.read_exact(&client, CLIENT, 1, 64), b"x");
}

#[test]
fn deregistered_pipe_gets_no_events() {
    let mut h = Harness::new();
    let (mut server, client, _) = pair(&mut h);
    h.wait_writable(SERVER);
    h.poll.registry().deregister(&mut server).unwrap();
    h.seen.clear();
    h.write_all(&client, CLIENT, b"unheard");
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        h.poll_once(Duration::from_millis(50));
    }
    assert!(
        h.seen.iter().all(|e| e.token != SERVER),
        "event for a deregistered pipe: {:?}",
        h.seen
    );
    // Registered again, the data is there.
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    assert_eq!(h.read_exact(&server, SERVER, 7, 64), b"unheard");
}

#[test]
fn debug_output() {
    let server = NamedPipe::new(pipe_name()).unwrap();
    let s = format!("{server:?}");
    assert!(s.starts_with("NamedPipe"), "{s}");
    let handle = format!("{:?}", server.as_raw_handle());
    assert!(s.contains(&handle), "{s} does not show the handle {handle}");
}

#[test]
fn send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<NamedPipe>();
}

/// Runs `scenario` once to warm up (Winsock's start-up, the first port, the runtime's own
/// handles), then counts handles around a second run: they must match exactly.
fn no_handle_leak(scenario: impl Fn()) {
    scenario();
    let before = handle_count();
    scenario();
    let after = handle_count();
    eprintln!("handles: before {before}, after {after}");
    assert_eq!(
        after,
        before,
        "handles before {before}, after {after}: leaked {}",
        after as isize - before as isize
    );
}

/// Polls (bounded) until the handle count is back to `target`, so the cancelled operations'
/// completions are collected; returns the last count.
fn poll_until_handles(h: &mut Harness, target: usize) -> usize {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let n = handle_count();
        if n <= target || Instant::now() > deadline {
            return n;
        }
        h.poll_once(Duration::from_millis(20));
    }
}

/// Polls until the handle count stops changing (the completions of everything cancelled so
/// far collected); returns it.
fn settle(h: &mut Harness) -> usize {
    let deadline = Instant::now() + DEADLINE;
    let mut last = handle_count();
    loop {
        h.poll_once(Duration::from_millis(20));
        let n = handle_count();
        if n == last || Instant::now() > deadline {
            return n;
        }
        last = n;
    }
}

#[test]
fn drop_with_connect_in_flight() {
    run_isolated("drop_with_connect_in_flight", || {
        no_handle_leak(|| {
            let base = handle_count();
            let mut h = Harness::new();
            let name = pipe_name();
            let mut server = NamedPipe::new(&name).unwrap();
            h.poll.registry().register(&mut server, SERVER, RW).unwrap();
            assert!(would_block(server.connect()));
            drop(server);
            // The name is free at once: the handle was closed by the drop.
            let again = NamedPipe::new(&name).unwrap();
            drop(again);
            // The cancelled connect completes with no event for the dropped pipe.
            let deadline = Instant::now() + Duration::from_millis(200);
            while Instant::now() < deadline {
                h.poll_once(Duration::from_millis(50));
            }
            assert!(h.seen.is_empty(), "{:?}", h.seen);
            drop(h);
            assert_eq!(handle_count(), base);
        })
    });
}

#[test]
fn drop_with_read_and_write_in_flight() {
    run_isolated("drop_with_read_and_write_in_flight", || {
        no_handle_leak(|| {
            let base = handle_count();
            let mut h = Harness::new();
            let with_poll = handle_count();
            let (server, client, _) = pair(&mut h);
            h.wait_writable(SERVER);
            // A write that cannot complete, and each end's internal read in flight.
            let big = pattern(1 << 20, 5);
            assert_eq!((&server).write(&big).unwrap(), big.len());
            assert!(would_block((&server).read(&mut [0; 8])));
            assert!(would_block((&client).read(&mut [0; 8])));
            h.seen.clear();
            drop(server);
            drop(client);
            let n = poll_until_handles(&mut h, with_poll);
            assert_eq!(n, with_poll, "handles with the poll {with_poll}, now {n}");
            // No event for the dropped pipes (their cancelled I/O is silent).
            assert!(h.seen.is_empty(), "{:?}", h.seen);
            drop(h);
            assert_eq!(handle_count(), base);
        })
    });
}

#[test]
fn drop_poll_with_io_in_flight() {
    run_isolated("drop_poll_with_io_in_flight", || {
        no_handle_leak(|| {
            let base = handle_count();
            let mut h = Harness::new();
            let (server, client, _) = pair(&mut h);
            h.wait_writable(SERVER);
            let big = pattern(1 << 20, 6);
            assert_eq!((&server).write(&big).unwrap(), big.len());
            // A third pipe waiting for a client.
            let mut waiting = NamedPipe::new(pipe_name()).unwrap();
            h.poll
                .registry()
                .register(&mut waiting, Token(3), RW)
                .unwrap();
            assert!(would_block(waiting.connect()));
            // A fourth deregistered with its read still in flight.
            let (mut s4, c4) = {
                let name = pipe_name();
                let mut s = NamedPipe::new(&name).unwrap();
                h.poll.registry().register(&mut s, Token(4), RW).unwrap();
                let mut c = open_client(&name);
                h.poll.registry().register(&mut c, Token(5), RW).unwrap();
                s.connect().unwrap();
                (s, c)
            };
            assert!(would_block((&s4).read(&mut [0; 8])));
            h.poll.registry().deregister(&mut s4).unwrap();

            // The `Poll` goes first, promptly (its drain collects the cancelled I/O).
            let start = Instant::now();
            drop(h);
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(2),
                "dropping the Poll took {took:?}"
            );

            // The pipes stay usable as values: their operations fail or would block, never
            // crash, and registering with a new `Poll` is refused (tied to the first).
            assert!((&server).write(b"x").is_err());
            // What the client had buffered can still be read; nothing new comes.
            let mut reads = 0;
            let err = loop {
                match (&client).read(&mut [0; 4096]) {
                    Ok(n) => assert!(n > 0 && reads < 2, "read {n} bytes, {reads} reads"),
                    Err(e) => break e,
                }
                reads += 1;
            };
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
            assert!(would_block(waiting.connect()));
            let h2 = Harness::new();
            let err = h2
                .poll
                .registry()
                .register(&mut s4, Token(4), RW)
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
            drop(h2);
            drop((server, client, waiting, s4, c4));
            assert_eq!(handle_count(), base);
        })
    });
}

#[test]
fn many_pipes_create_register_drop() {
    run_isolated("many_pipes_create_register_drop", || {
        let mut h = Harness::new();
        let cycle = |h: &mut Harness| {
            let (server, client, _) = pair(h);
            let _ = (&server).write(b"x");
            drop(server);
            drop(client);
        };
        for _ in 0..50 {
            cycle(&mut h);
        }
        let before = settle(&mut h);
        for _ in 0..1000 {
            cycle(&mut h);
        }
        let after = poll_until_handles(&mut h, before);
        eprintln!("1000 pipe pairs: handles before {before}, after {after}");
        assert_eq!(
            after, before,
            "1000 pipe pairs: handles before {before}, after {after}"
        );
    });
}

/// The leak checks above can see a leak: the count follows the handles this crate opens.
#[test]
fn handle_count_sees_ports_and_pipes() {
    run_isolated("handle_count_sees_ports_and_pipes", || {
        drop(Harness::new()); // one-time start-up (Winsock) out of the way
        let base = handle_count();
        let h = Harness::new();
        assert_eq!(handle_count(), base + 1, "the completion port");
        let mut server = NamedPipe::new(pipe_name()).unwrap();
        assert_eq!(handle_count(), base + 2, "the pipe");
        h.poll.registry().register(&mut server, SERVER, RW).unwrap();
        assert_eq!(handle_count(), base + 2, "registering opens nothing");
        drop(server);
        drop(h);
        assert_eq!(handle_count(), base);
    });
}

/// A message-mode pipe made elsewhere (raw `CreateNamedPipeW`) and handed over: a message
/// larger than the internal buffer comes out whole, over several reads (each `ReadFile` of
/// part of a message ends with `ERROR_MORE_DATA`, which is data, not an error).
#[test]
fn message_mode_pipe_larger_than_the_buffer() {
    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::Storage::FileSystem::PIPE_ACCESS_DUPLEX;
    use windows_sys::Win32::System::Pipes::{
        CreateNamedPipeW, PIPE_READMODE_MESSAGE, PIPE_TYPE_MESSAGE,
    };

    let mut h = Harness::new();
    let name = pipe_name();
    let wide: Vec<u16> = name.encode_utf16().chain(Some(0)).collect();
    // SAFETY: `wide` is NUL-terminated; no security attributes.
    let raw = unsafe {
        CreateNamedPipeW(
            wide.as_ptr(),
            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
            PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE,
            1,
            65536,
            65536,
            0,
            std::ptr::null(),
        )
    };
    assert_ne!(raw, INVALID_HANDLE_VALUE, "{}", io::Error::last_os_error());
    // SAFETY: a new overlapped pipe handle, owned from here on, associated with no port.
    let mut server = unsafe { NamedPipe::from_raw_handle(raw) };
    h.poll.registry().register(&mut server, SERVER, RW).unwrap();
    let mut client = open_client(&name);
    h.poll.registry().register(&mut client, CLIENT, RW).unwrap();
    server.connect().unwrap();
    h.wait_writable(CLIENT);
    let message = pattern(10_000, 7);
    assert_eq!((&client).write(&message).unwrap(), message.len());
    let got = h.read_exact(&server, SERVER, message.len(), 64 * 1024);
    assert!(got == message, "message corrupted");
    assert!(server.take_error().unwrap().is_none());
    // And the other way, read in 1 KiB pieces.
    let message = pattern(9_000, 8);
    h.wait_writable(SERVER);
    assert_eq!((&server).write(&message).unwrap(), message.len());
    let got = h.read_exact(&client, CLIENT, message.len(), 1024);
    assert!(got == message, "message corrupted");
}

/// Reliability (issue 16): 40 clients in turn, each writing 256 KiB and dropping its end at
/// once, its write still in flight (delivered, then its handle closes); every other server
/// then drops its own write in flight to the client that is gone. Every byte arrives, in
/// order, and the handle count comes back to where it was.
#[test]
fn many_clients_drop_mid_write() {
    run_isolated("many_clients_drop_mid_write", || {
        let mut h = Harness::new();
        let round = |h: &mut Harness, i: usize| {
            let name = pipe_name();
            let mut server = NamedPipe::new(&name).unwrap();
            h.poll.registry().register(&mut server, SERVER, RW).unwrap();
            let mut client = open_client(&name);
            h.poll.registry().register(&mut client, CLIENT, RW).unwrap();
            server.connect().unwrap();
            let data = pattern(256 * 1024 + i, i as u32);
            h.wait_writable(CLIENT);
            h.write_all(&client, CLIENT, &data);
            drop(client);
            let mut got = Vec::with_capacity(data.len());
            let mut buf = vec![0; 64 * 1024];
            loop {
                match (&server).read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        h.wait_readable(SERVER);
                    }
                    Err(e) => panic!("round {i}: read: {e}"),
                }
            }
            assert_eq!(got.len(), data.len(), "round {i}: bytes");
            assert!(got == data, "round {i}: the data changed");
            if i % 2 == 0 {
                // To a client that is gone: fails now or when it completes; either way the
                // handle closes.
                let _ = (&server).write(&data);
            }
            drop(server);
            h.seen.clear();
        };
        round(&mut h, 0);
        let before = settle(&mut h);
        for i in 1..=40 {
            round(&mut h, i);
        }
        let after = settle(&mut h);
        eprintln!("40 clients: handles before {before}, after {after}");
        assert_eq!(after, before, "leaked {}", after as isize - before as isize);
    });
}
