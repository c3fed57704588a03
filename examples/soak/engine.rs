//! The soak engine shared by `examples/soak` (long runs) and `tests/soak.rs` (a bounded run).
//!
//! One server thread runs an echo server on this crate: a `TcpListener` and every accepted
//! `TcpStream` on one `Poll`, edge-triggered, with back-pressure (it stops reading a
//! connection while more than `PENDING_CAP` bytes wait to be echoed, and must then resume
//! without a new readable event), `reregister` to add and drop `WRITABLE`, tokens of reused
//! slots carrying a generation, and a `Waker` to ask it to finish.
//!
//! Client threads use blocking `std` sockets, an oracle independent of the crate. Each keeps
//! `concurrent` connections open at once, writes one message on each, then reads every echo
//! back and compares it byte for byte with what it sent (messages are regenerated from the
//! seed, never stored), and keeps a running checksum of each direction of each connection.
//! Connections end in one of three ways, chosen from the seed:
//! - normal: every echo read, then close;
//! - half-close: `shutdown(Write)` right after the last message, before its echo is read;
//!   the client then reads the rest of the echo and must see end-of-file;
//! - reset: `SO_LINGER` 0 then close (an RST), after a random number of echoed messages,
//!   half of the time with one more message just written and its echo unread.
//!
//! What must hold: no client error, no lost or corrupt byte on a connection that was not reset,
//! no server error other than a reset or broken pipe, no event carrying the token of a
//! connection closed in an earlier `poll` (`stale_events`), and every connection closed by the
//! server once its client is gone (`leftover` = 0: no close or reset event was lost).

#![allow(dead_code)] // the example and the test each use a part.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

/// The workload.
#[derive(Clone, Debug)]
pub struct Config {
    /// Connections in all.
    pub connections: usize,
    /// Messages per connection (fewer on a reset connection).
    pub messages: usize,
    /// Client threads.
    pub threads: usize,
    /// Connections each client thread keeps open at once.
    pub concurrent: usize,
    /// Most messages are 1..=`max_size` bytes...
    pub max_size: usize,
    /// ...and one in 64 is 1..=`large_size` bytes (more than a small receive buffer holds, so
    /// the server's writes hit `WouldBlock`).
    pub large_size: usize,
    /// One connection in `half_close_every` half-closes (0: none).
    pub half_close_every: usize,
    /// One connection in `reset_every` is reset (0: none).
    pub reset_every: usize,
    pub seed: u64,
    /// Read/write timeout of every client socket call, and how long the server waits for
    /// its last connections to close at the end.
    pub io_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            connections: 500,
            messages: 50,
            threads: 4,
            concurrent: 64,
            max_size: 1024,
            large_size: 64 * 1024,
            half_close_every: 7,
            reset_every: 9,
            seed: 0x5eed,
            io_timeout: Duration::from_secs(20),
        }
    }
}

/// What a run did and found. A clean run has `errors`, `lost_bytes`, `corrupt_messages`,
/// `server_errors`, `stale_events` and `leftover` at 0, and `messages == expected_messages`.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub connections: u64,
    /// Echoes received and checked byte for byte.
    pub messages: u64,
    /// Messages the plan says must come back (every one written on a connection, except the
    /// one written just before a reset).
    pub expected_messages: u64,
    /// Bytes sent and received back intact (one direction).
    pub bytes: u64,
    pub half_closes: u64,
    pub resets: u64,
    /// Client-side failures: connect, write or read errors and timeouts on a connection that
    /// was not being reset, a missing end-of-file after a half-close.
    pub errors: u64,
    /// Bytes written on connections that were not reset and never echoed back.
    pub lost_bytes: u64,
    pub corrupt_messages: u64,
    /// Sum of the per-connection checksums of what was sent / received back (must match).
    pub sent_checksum: u64,
    pub echoed_checksum: u64,
    pub server: ServerStats,
    pub elapsed: Duration,
}

impl Report {
    /// Whether everything that must hold held.
    pub fn is_clean(&self) -> bool {
        self.errors == 0
            && self.lost_bytes == 0
            && self.corrupt_messages == 0
            && self.messages == self.expected_messages
            && self.sent_checksum == self.echoed_checksum
            && self.server.errors == 0
            && self.server.stale_events == 0
            && self.server.leftover == 0
            && self.server.accepted + self.server.gone_before_accept == self.connections
    }
}

/// What the server saw.
#[derive(Clone, Debug, Default)]
pub struct ServerStats {
    pub accepted: u64,
    /// Connections reset by their client while still queued, which the OS dropped before
    /// `accept` (Windows does; Linux hands them out, and they read as reset).
    pub gone_before_accept: u64,
    /// Closed after reading end-of-file and echoing everything.
    pub closed_eof: u64,
    /// Closed after a reset (`ECONNRESET`) or broken pipe (`EPIPE`): expected for resets.
    pub closed_reset: u64,
    /// Unexpected errors (anything else).
    pub errors: u64,
    /// Events whose token belonged to no live connection and to none closed earlier in the
    /// same batch of events.
    pub stale_events: u64,
    /// Connections still open when the server stopped.
    pub leftover: u64,
    pub max_live: u64,
    pub polls: u64,
    pub events: u64,
    /// `reregister` calls (adding or dropping `WRITABLE`).
    pub reregisters: u64,
    /// Times a write returned `WouldBlock`.
    pub write_blocks: u64,
    /// Times reading stopped because `PENDING_CAP` bytes were waiting.
    pub backpressure_stops: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns (old soft, new soft). Windows has
/// no such limit (handles are limited by memory): nothing to do there.
#[cfg(not(unix))]
pub fn raise_nofile_limit() -> io::Result<(Option<u64>, Option<u64>)> {
    Ok((None, None))
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns (old soft, new soft).
#[cfg(unix)]
pub fn raise_nofile_limit() -> io::Result<(Option<u64>, Option<u64>)> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised)?;
    Ok((limit.current, limit.maximum))
}

/// Runs the workload to the end and reports; `Err` only if the server could not start.
pub fn run(config: &Config) -> io::Result<Report> {
    let start = Instant::now();
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    let addr = listener.local_addr()?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let grace = config.io_timeout;
    let server = thread::Builder::new()
        .name("soak-server".into())
        .spawn(move || Server::new(listener).run(&mut poll, grace))?;

    let totals = Arc::new(Mutex::new(Report::default()));
    let next = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for i in 0..config.threads.max(1) {
        let config = config.clone();
        let totals = Arc::clone(&totals);
        let next = Arc::clone(&next);
        clients.push(
            thread::Builder::new()
                .name(format!("soak-client-{i}"))
                .spawn(move || {
                    let report = client_thread(&config, addr, &next);
                    totals.lock().unwrap().add(&report);
                })?,
        );
    }
    let mut client_panics = 0;
    for client in clients {
        if client.join().is_err() {
            client_panics += 1;
        }
    }
    waker.wake()?;
    let server = server
        .join()
        .map_err(|_| io::Error::new(io::ErrorKind::Other, "the soak server panicked"))?;
    let mut report = totals.lock().unwrap().clone();
    report.errors += client_panics;
    report.server = server;
    report.elapsed = start.elapsed();
    Ok(report)
}

impl Report {
    fn add(&mut self, other: &Report) {
        self.connections += other.connections;
        self.messages += other.messages;
        self.expected_messages += other.expected_messages;
        self.bytes += other.bytes;
        self.half_closes += other.half_closes;
        self.resets += other.resets;
        self.errors += other.errors;
        self.lost_bytes += other.lost_bytes;
        self.corrupt_messages += other.corrupt_messages;
        self.sent_checksum = self.sent_checksum.wrapping_add(other.sent_checksum);
        self.echoed_checksum = self.echoed_checksum.wrapping_add(other.echoed_checksum);
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-randomness: everything a connection does follows from (seed, id).

/// splitmix64.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

struct Rng(u64);

impl Rng {
    fn new(seed: u64, a: u64, b: u64) -> Rng {
        Rng(mix(seed ^ mix(a ^ mix(b))))
    }

    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }

    /// Uniform in `1..=max` (max >= 1).
    fn size(&mut self, max: usize) -> usize {
        1 + (self.next() % max.max(1) as u64) as usize
    }
}

/// Message `index` of connection `conn`.
fn message(config: &Config, conn: u64, index: usize, buf: &mut Vec<u8>) {
    let mut rng = Rng::new(config.seed, conn, index as u64 + 1);
    let len = if rng.next() % 64 == 0 {
        rng.size(config.large_size)
    } else {
        rng.size(config.max_size)
    };
    buf.clear();
    while buf.len() < len {
        let word = rng.next().to_le_bytes();
        let take = (len - buf.len()).min(8);
        buf.extend_from_slice(&word[..take]);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Normal,
    HalfClose,
    /// Reset after this many echoed messages; with `true`, one more message is written first.
    Reset(usize, bool),
}

fn ending(config: &Config, conn: u64) -> Ending {
    let mut rng = Rng::new(config.seed, conn, 0);
    let roll = rng.next();
    if config.reset_every > 0 && roll % config.reset_every as u64 == 0 {
        let after = (rng.next() % (config.messages as u64 + 1)) as usize;
        let mid = rng.next() % 2 == 0 && after < config.messages;
        Ending::Reset(after, mid)
    } else if config.half_close_every > 0 && (roll / 1000) % config.half_close_every as u64 == 0 {
        Ending::HalfClose
    } else {
        Ending::Normal
    }
}

/// An order-sensitive running checksum of a byte stream (Fletcher style, two lanes).
#[derive(Clone, Copy, Default)]
struct Checksum {
    a: u64,
    b: u64,
}

impl Checksum {
    fn update(&mut self, data: &[u8]) {
        // Sums modulo 2^64: `b` (the sum of the prefix sums) depends on the order of bytes.
        for &byte in data {
            self.a = self.a.wrapping_add(byte as u64 + 1);
            self.b = self.b.wrapping_add(self.a);
        }
    }

    fn value(self) -> u64 {
        self.b ^ self.a.rotate_left(32)
    }
}

// ---------------------------------------------------------------------------------------------
// Clients.

struct ClientConn {
    id: u64,
    /// `None` once closed (reset) or failed.
    stream: Option<std::net::TcpStream>,
    ending: Ending,
    sent: Checksum,
    echoed: Checksum,
    /// Bytes written that must come back.
    owed: u64,
}

fn client_thread(config: &Config, addr: SocketAddr, next: &AtomicU64) -> Report {
    let mut report = Report::default();
    let mut msg = Vec::new();
    let mut got = Vec::new();
    loop {
        // Take the next batch of connection ids.
        let batch = config.concurrent.max(1) as u64;
        let first = next.fetch_add(batch, Ordering::Relaxed);
        if first >= config.connections as u64 {
            return report;
        }
        let last = (first + batch).min(config.connections as u64);
        let mut conns = Vec::new();
        for id in first..last {
            report.connections += 1;
            match connect(config, addr) {
                Ok(stream) => conns.push(ClientConn {
                    id,
                    stream: Some(stream),
                    ending: ending(config, id),
                    sent: Checksum::default(),
                    echoed: Checksum::default(),
                    owed: 0,
                }),
                Err(err) => {
                    eprintln!("soak: connection {id}: connect: {err}");
                    report.errors += 1;
                }
            }
        }
        for index in 0..config.messages {
            // Write one message on every open connection...
            for conn in conns.iter_mut() {
                let Some(stream) = conn.stream.as_mut() else {
                    continue;
                };
                if let Ending::Reset(after, mid) = conn.ending {
                    if index == after {
                        if mid {
                            message(config, conn.id, index, &mut msg);
                            let _ = stream.write_all(&msg);
                        }
                        reset(conn, &mut report);
                        continue;
                    }
                }
                message(config, conn.id, index, &mut msg);
                report.expected_messages += 1;
                if let Err(err) = stream.write_all(&msg) {
                    fail(conn, &mut report, "write", err);
                    continue;
                }
                conn.sent.update(&msg);
                conn.owed += msg.len() as u64;
                if conn.ending == Ending::HalfClose && index + 1 == config.messages {
                    // The last echo is still on its way: the server must send it before FIN.
                    if let Err(err) = stream.shutdown(Shutdown::Write) {
                        fail(conn, &mut report, "shutdown", err);
                    }
                }
            }
            // ...then read every echo back.
            for conn in conns.iter_mut() {
                let Some(stream) = conn.stream.as_mut() else {
                    continue;
                };
                message(config, conn.id, index, &mut msg);
                got.resize(msg.len(), 0);
                match stream.read_exact(&mut got) {
                    Ok(()) => {
                        conn.echoed.update(&got);
                        conn.owed -= msg.len() as u64;
                        if got == msg {
                            report.messages += 1;
                            report.bytes += msg.len() as u64;
                        } else {
                            eprintln!("soak: connection {}: message {index} corrupt", conn.id);
                            report.corrupt_messages += 1;
                        }
                    }
                    Err(err) => fail(conn, &mut report, "read", err),
                }
            }
        }
        for mut conn in conns {
            if let Ending::Reset(..) = conn.ending {
                // Reset after the last message, if not before.
                reset(&mut conn, &mut report);
            }
            if conn.ending == Ending::HalfClose {
                if let Some(stream) = conn.stream.as_mut() {
                    report.half_closes += 1;
                    let mut byte = [0u8; 1];
                    match stream.read(&mut byte) {
                        Ok(0) => {}
                        Ok(_) => {
                            eprintln!("soak: connection {}: data after the last echo", conn.id);
                            report.errors += 1;
                        }
                        Err(err) => fail(&mut conn, &mut report, "read end-of-file", err),
                    }
                }
            }
            report.lost_bytes += conn.owed;
            report.sent_checksum = report.sent_checksum.wrapping_add(conn.sent.value());
            report.echoed_checksum = report.echoed_checksum.wrapping_add(conn.echoed.value());
            // Normal and half-closed connections close here; the server sees end-of-file.
        }
    }
}

fn connect(config: &Config, addr: SocketAddr) -> io::Result<std::net::TcpStream> {
    let stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(config.io_timeout))?;
    stream.set_write_timeout(Some(config.io_timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn reset(conn: &mut ClientConn, report: &mut Report) {
    if let Some(stream) = conn.stream.take() {
        // SO_LINGER 0: close sends an RST instead of a FIN, and drops whatever is unsent.
        if let Err(err) = linger_zero(&stream) {
            fail(conn, report, "SO_LINGER", err);
            return;
        }
        report.resets += 1;
        // What was written since the last echo is not owed: the reset discards it.
        conn.owed = 0;
        drop(stream);
    }
}

fn fail(conn: &mut ClientConn, report: &mut Report, what: &str, err: io::Error) {
    eprintln!(
        "soak: connection {} ({:?}): {what}: {err}",
        conn.id, conn.ending
    );
    report.errors += 1;
    conn.stream = None;
}

// ---------------------------------------------------------------------------------------------
// The server.

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Stop reading a connection while this many bytes wait to be echoed.
const PENDING_CAP: usize = 16 * 1024;

struct ServerConn {
    stream: TcpStream,
    token: Token,
    /// Bytes read and not yet echoed: `pending[sent..]`.
    pending: Vec<u8>,
    sent: usize,
    /// A read returned `WouldBlock` since the last readable event.
    read_drained: bool,
    /// A write returned `WouldBlock` since the last writable event.
    write_blocked: bool,
    /// The peer half-closed (read returned 0).
    peer_eof: bool,
    interest: Interest,
}

enum Outcome {
    Open,
    Eof,
    Reset,
    Failed,
}

struct Server {
    listener: TcpListener,
    slots: Vec<Option<ServerConn>>,
    generations: Vec<u64>,
    free: Vec<usize>,
    live: u64,
    stats: ServerStats,
    buf: Vec<u8>,
}

impl Server {
    fn new(listener: TcpListener) -> Server {
        Server {
            listener,
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            live: 0,
            stats: ServerStats::default(),
            buf: vec![0; 16 * 1024],
        }
    }

    /// The generation in the high half of the token, the slot in the low one (16 bits each on
    /// 32-bit targets, where the generation wraps: it only has to differ from the last one).
    const HALF: u32 = usize::BITS / 2;

    fn token(slot: usize, generation: u64) -> Token {
        Token(2 + slot + ((generation as usize) << Self::HALF))
    }

    fn slot_of(token: Token) -> usize {
        (token.0 - 2) & ((1 << Self::HALF) - 1)
    }

    fn run(mut self, poll: &mut Poll, grace: Duration) -> ServerStats {
        let mut events = Events::with_capacity(1024);
        let mut closed_in_batch = Vec::new();
        let mut stop_deadline: Option<Instant> = None;
        loop {
            if let Some(deadline) = stop_deadline {
                if self.live == 0 {
                    break;
                }
                if Instant::now() >= deadline {
                    eprintln!("soak server: {} connections never closed", self.live);
                    self.stats.leftover = self.live;
                    break;
                }
            }
            self.stats.polls += 1;
            match poll.poll(&mut events, Some(Duration::from_millis(100))) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    eprintln!("soak server: poll: {err}");
                    self.stats.errors += 1;
                    break;
                }
            }
            closed_in_batch.clear();
            for event in events.iter() {
                self.stats.events += 1;
                match event.token() {
                    LISTENER => self.accept_all(poll.registry()),
                    WAKER => {
                        stop_deadline.get_or_insert_with(|| Instant::now() + grace);
                    }
                    token => {
                        let slot = Server::slot_of(token);
                        let live =
                            matches!(self.slots.get(slot), Some(Some(c)) if c.token == token);
                        if !live {
                            // Closed earlier in this batch is fine; anything else is stale.
                            if !closed_in_batch.contains(&token) {
                                eprintln!("soak server: stale event {event:?}");
                                self.stats.stale_events += 1;
                            }
                            continue;
                        }
                        if self.connection_event(poll.registry(), slot, event) {
                            closed_in_batch.push(token);
                        }
                    }
                }
            }
        }
        self.stats
    }

    fn accept_all(&mut self, registry: &Registry) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    if let Err(err) = tune(&stream, self.stats.accepted) {
                        eprintln!("soak server: socket options: {err}");
                        self.stats.errors += 1;
                    }
                    let slot = self.free.pop().unwrap_or_else(|| {
                        self.slots.push(None);
                        self.generations.push(0);
                        self.slots.len() - 1
                    });
                    self.generations[slot] += 1;
                    let token = Server::token(slot, self.generations[slot]);
                    let interest = Interest::READABLE;
                    if let Err(err) = registry.register(&mut stream, token, interest) {
                        eprintln!("soak server: register: {err}");
                        self.stats.errors += 1;
                        self.free.push(slot);
                        continue;
                    }
                    self.stats.accepted += 1;
                    self.live += 1;
                    self.stats.max_live = self.stats.max_live.max(self.live);
                    self.slots[slot] = Some(ServerConn {
                        stream,
                        token,
                        pending: Vec::new(),
                        sent: 0,
                        read_drained: false,
                        write_blocked: false,
                        peer_eof: false,
                        interest,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A client reset while queued: skip it. Linux says ECONNABORTED, Windows
                // WSAECONNRESET, Wine WSAENOTCONN.
                Err(e) if queued_connection_gone(&e) => {
                    self.stats.gone_before_accept += 1;
                    continue;
                }
                Err(e) => {
                    eprintln!("soak server: accept: {e}");
                    self.stats.errors += 1;
                    return;
                }
            }
        }
    }

    /// Handles one event; returns true if the connection was closed.
    fn connection_event(&mut self, registry: &Registry, slot: usize, event: &Event) -> bool {
        let conn = self.slots[slot].as_mut().expect("live slot");
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            conn.read_drained = false;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            conn.write_blocked = false;
        }
        let outcome = conn.progress(&mut self.buf, &mut self.stats);
        let outcome = match outcome {
            Outcome::Open => match conn.update_interest(registry) {
                Ok(true) => {
                    self.stats.reregisters += 1;
                    Outcome::Open
                }
                Ok(false) => Outcome::Open,
                Err(err) => {
                    eprintln!("soak server: reregister: {err}");
                    Outcome::Failed
                }
            },
            other => other,
        };
        match outcome {
            Outcome::Open => return false,
            Outcome::Eof => self.stats.closed_eof += 1,
            Outcome::Reset => self.stats.closed_reset += 1,
            Outcome::Failed => self.stats.errors += 1,
        }
        let mut conn = self.slots[slot].take().expect("live slot");
        // Half the connections are deregistered explicitly, the others only dropped (which
        // must deregister them too). All of them over libkqueue (`--cfg
        // mio_unsupported_test_libkqueue`), which cannot see a close: kqueue(2), "Calling
        // close() on a file descriptor will remove any kevents that reference the descriptor",
        // but libkqueue keys its knotes by fd number (`knote_lookup`, src/common/kevent.c), so
        // the next connection given that number would be refused with `AlreadyExists`.
        if slot % 2 == 0 || cfg!(mio_unsupported_test_libkqueue) {
            if let Err(err) = registry.deregister(&mut conn.stream) {
                eprintln!("soak server: deregister: {err}");
                self.stats.errors += 1;
            }
        }
        drop(conn);
        self.free.push(slot);
        self.live -= 1;
        true
    }
}

impl ServerConn {
    /// Echoes and reads until nothing more can be done without a new event.
    fn progress(&mut self, buf: &mut [u8], stats: &mut ServerStats) -> Outcome {
        loop {
            // Flush what is pending.
            while self.sent < self.pending.len() && !self.write_blocked {
                match self.stream.write(&self.pending[self.sent..]) {
                    Ok(0) => return Outcome::Failed,
                    Ok(n) => self.sent += n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        stats.write_blocks += 1;
                        self.write_blocked = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return outcome_of(&e),
                }
            }
            if self.sent == self.pending.len() {
                self.pending.clear();
                self.sent = 0;
                if self.peer_eof {
                    return Outcome::Eof;
                }
            }
            if self.peer_eof || self.read_drained {
                return Outcome::Open;
            }
            if self.pending.len() - self.sent >= PENDING_CAP {
                // Back-pressure: reading resumes once the echo drains, without a new
                // readable event (the edge was already reported).
                stats.backpressure_stops += 1;
                return Outcome::Open;
            }
            match self.stream.read(buf) {
                Ok(0) => self.peer_eof = true,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.read_drained = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return outcome_of(&e),
            }
        }
    }

    /// `WRITABLE` only while an echo is blocked; returns whether it reregistered.
    fn update_interest(&mut self, registry: &Registry) -> io::Result<bool> {
        let wanted = if self.write_blocked {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if wanted == self.interest {
            return Ok(false);
        }
        registry.reregister(&mut self.stream, self.token, wanted)?;
        self.interest = wanted;
        Ok(true)
    }
}

/// No Nagle delay on echoes, and a small send buffer on one connection in three: echoing a
/// large message then returns `WouldBlock` and needs a `WRITABLE` event.
fn tune(stream: &TcpStream, n: u64) -> io::Result<()> {
    stream.set_nodelay(true)?;
    if n % 3 == 1 {
        small_send_buffer(stream)?;
    }
    Ok(())
}

/// The error `accept` gives for a connection reset by its client while it was queued: the
/// next one can be accepted.
fn queued_connection_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) || (cfg!(windows) && err.kind() == io::ErrorKind::NotConnected)
}

#[cfg(unix)]
fn linger_zero(stream: &std::net::TcpStream) -> io::Result<()> {
    Ok(rustix::net::sockopt::set_socket_linger(
        stream,
        Some(Duration::ZERO),
    )?)
}

#[cfg(unix)]
fn small_send_buffer(stream: &TcpStream) -> io::Result<()> {
    Ok(rustix::net::sockopt::set_socket_send_buffer_size(
        stream, 4096,
    )?)
}

/// `setsockopt(SOL_SOCKET, name, value)` on Windows.
#[cfg(windows)]
fn set_sockopt<T>(
    socket: &impl std::os::windows::io::AsRawSocket,
    name: i32,
    value: T,
) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{setsockopt, SOCKET_ERROR, SOL_SOCKET};
    // SAFETY: `value` is a live, plain-data option value of the size given.
    let res = unsafe {
        setsockopt(
            socket.as_raw_socket() as usize,
            SOL_SOCKET,
            name,
            (&value as *const T).cast(),
            std::mem::size_of::<T>() as i32,
        )
    };
    if res == SOCKET_ERROR {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(windows)]
fn linger_zero(stream: &std::net::TcpStream) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{LINGER, SO_LINGER};
    set_sockopt(
        stream,
        SO_LINGER,
        LINGER {
            l_onoff: 1,
            l_linger: 0,
        },
    )
}

#[cfg(windows)]
fn small_send_buffer(stream: &TcpStream) -> io::Result<()> {
    set_sockopt(
        stream,
        windows_sys::Win32::Networking::WinSock::SO_SNDBUF,
        4096i32,
    )
}

fn outcome_of(err: &io::Error) -> Outcome {
    match err.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Outcome::Reset,
        _ => {
            eprintln!("soak server: connection error: {err}");
            Outcome::Failed
        }
    }
}
