//! Model-based test: random sequences of open / close (so fd numbers get reused) / register /
//! reregister / deregister / write / drain / wake / poll over pipes and Unix stream pairs,
//! run against a `Poll` and against a model of what mio promises:
//! - **no stale token**: an event carries the `Waker`'s token or the current token of a
//!   registered source, never one of a registration that ended (deregistered, replaced by
//!   `reregister`, or closed) before that `poll` began (every token is used once, so this is
//!   exact);
//! - **errors**: every call's result is what the model predicts: `Ok`, `AlreadyExists`
//!   (register twice), `NotFound` (reregister / deregister unregistered), `EBADF` (a closed
//!   fd), `EPERM` (a regular file; kqueue accepts one: `Ok`, then deregistered); on the
//!   kqueue kernels but FreeBSD, a second `register` refused by the selector leaves its token
//!   on the registration (documented in the guide), which the model follows;
//! - **no readiness lost**: an event owed by the model comes within a bounded number of polls
//!   (`Settle`, and at the end of every case). Owed: readable after (re)registering with data
//!   pending, or after data arrives while the source is *armed* (nothing reported since it was
//!   (re)registered or drained to `WouldBlock`); writable after (re)registering a stream end
//!   (it never fills); the `Waker`'s token after a wake. This is the edge-triggered contract,
//!   the same for both backends, with the poll(2) fallback's documented difference: a raw fd
//!   (`SourceFd`) cannot report `WouldBlock` to the crate, so draining it does not re-arm it
//!   there; only `reregister` does.
//!
//! Sources: mio's `pipe::Receiver` and `UnixStream` (their reads re-arm on both backends) and a
//! raw pipe read end through `SourceFd` (closed only after deregistering, as its docs require,
//! except on epoll, where closing a registered fd is also checked).
//!
//! Over libkqueue (`--cfg mio_unsupported_test_libkqueue`; see the end of `tests/util`), which
//! cannot see a close, every registered source is deregistered before it is closed, and
//! reregister / deregister of a closed fd answer `ENOENT` (`NotFound`) from libkqueue's knote
//! table instead of kqueue(2)'s `EBADF`.
//!
//! Windows: the sources are a loopback TCP connection (`mio::net::TcpStream`, the peer a
//! std stream) and a connected pair of UDP sockets (`mio::net::UdpSocket`), both re-armed by
//! their reads' `WouldBlock` as everywhere; there are no raw fds, closed fds or regular files
//! to register (those ops are Unix only), and handle values stand in for fd numbers in the
//! reuse count. Named pipes are left out: their reads complete asynchronously, so a drain
//! right after a write may legitimately see less than was written.
//!
//! 64 cases by default (CI); more from one command, e.g.
//! `PROPTEST_CASES=5000 cargo test --release --all-features --test model`.
#![cfg(all(feature = "os-poll", feature = "os-ext", feature = "net"))]

use std::io::{self, ErrorKind, Read, Write};
#[cfg(unix)]
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::AsRawSocket;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mio::event::Source;
#[cfg(unix)]
use mio::net::UnixStream;
#[cfg(unix)]
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Token, Waker};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const SLOTS: usize = 4;
/// High bits set: 1 << 40 on 64-bit targets, 1 << 8 on 32-bit ones.
const WAKE: Token = Token(1 << (usize::BITS - 24));
/// Polls a `Settle` may take before an owed event counts as lost.
const SETTLE_POLLS: usize = 20;
/// Data pending in one source is kept under this (no write ever blocks).
const MAX_PENDING: usize = 16 * 1024;

/// Whether raw fds are re-armed by draining them (epoll: yes; the poll(2) fallback: no).
#[cfg(unix)]
const RAW_DRAIN_REARMS: bool = !cfg!(mio_unsupported_force_poll_poll);
/// Whether closing a registered source ends its registration (epoll, kqueue(2): "Calling
/// close() on a file descriptor will remove any kevents that reference the descriptor"; not
/// libkqueue, which keys its knotes by the fd number and cannot see a close:
/// `knote_lookup(filt, src->ident)`, src/common/kevent.c:206; its knote would stay and refuse
/// the next fd with that number. Deregister first there).
#[cfg(unix)]
const CLOSE_DEREGISTERS: bool = !cfg!(mio_unsupported_test_libkqueue);
/// Whether closing a registered raw fd ends its registration (as above; and not with the
/// poll(2) fallback, which reports the closed fd once as an error event: deregister first, as
/// the `SourceFd` docs say).
#[cfg(unix)]
const RAW_CLOSE_DEREGISTERS: bool = CLOSE_DEREGISTERS && !cfg!(mio_unsupported_force_poll_poll);
/// What reregister and deregister of a closed fd answer: kqueue(2) and epoll_ctl(2), `EBADF`.
/// libkqueue looks the ident up in its knote table before anything else and answers `ENOENT`
/// for a number it has no knote for ("no knote found", src/common/kevent.c:250); `register`
/// still gets `EBADF`, from the `fstat` of the `EV_ADD` (src/linux/platform.c:1572).
#[cfg(unix)]
const CLOSED_FD_CHANGE_ERRNO: i32 = if cfg!(mio_unsupported_test_libkqueue) {
    libc::ENOENT
} else {
    libc::EBADF
};
/// Whether a second `register` refused by the selector with `AlreadyExists` leaves its token on
/// the registration: on the kqueue kernels but FreeBSD (whose probe carries `EV_KEEPUDATA`) and
/// on libkqueue, as the guide documents: the probe that finds the kevent is a change, and any
/// change to an existing kevent stores its `udata`. epoll (and FreeBSD) keep the first token.
/// See `Kind::refused_register_takes_token` for which calls reach the selector.
const SELECTOR_REFUSAL_TAKES_TOKEN: bool = cfg!(all(
    mio_kqueue_os,
    not(target_os = "freebsd"),
    not(mio_unsupported_force_poll_poll)
));
/// Whether registering a regular file succeeds: kqueue takes one (kqueue(2), EVFILT_READ:
/// "Vnodes: Returns when the file pointer is not at the end of file"; libkqueue too, its
/// `KNFL_FILE` paths); epoll_ctl(2) answers `EPERM`.
#[cfg(unix)]
const REGULAR_FILE_REGISTERS: bool = cfg!(all(mio_kqueue_os, not(mio_unsupported_force_poll_poll)));

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    #[cfg(unix)]
    Pipe,
    Stream,
    #[cfg(unix)]
    RawPipe,
    #[cfg(windows)]
    Datagram,
}

impl Kind {
    /// Whether the end is registered for writing too (pipe read ends are only readable).
    fn duplex(self) -> bool {
        match self {
            #[cfg(unix)]
            Kind::Pipe | Kind::RawPipe => false,
            _ => true,
        }
    }

    /// Whether a refused second `register` leaves its token (`SELECTOR_REFUSAL_TAKES_TOKEN`):
    /// a raw fd's always reaches the selector; a mio source's only in release builds, as debug
    /// builds refuse it before (the source already belongs to a `Registry`).
    fn refused_register_takes_token(self) -> bool {
        #[cfg(unix)]
        let raw = self == Kind::RawPipe;
        #[cfg(windows)]
        let raw = false;
        SELECTOR_REFUSAL_TAKES_TOKEN && (raw || !cfg!(debug_assertions))
    }

    /// Whether draining to `WouldBlock` re-arms readable (all but a raw fd with poll(2)).
    fn drain_rearms(self) -> bool {
        match self {
            #[cfg(unix)]
            Kind::RawPipe => RAW_DRAIN_REARMS,
            _ => true,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Dir {
    R,
    W,
    Rw,
}

#[cfg(unix)] // Raw fds: Unix only.
#[derive(Clone, Copy, Debug)]
enum BadCall {
    Register,
    Reregister,
    Deregister,
}

#[derive(Clone, Debug)]
enum Op {
    Open(usize, Kind),
    Close(usize),
    Register(usize, Dir),
    Reregister(usize, Dir),
    Deregister(usize),
    Write(usize, usize),
    Drain(usize),
    Wake,
    Poll,
    Settle,
    #[cfg(unix)] // Raw fds: Unix only.
    ClosedFd(BadCall),
    #[cfg(unix)] // Raw fds: Unix only.
    RegularFile,
}

#[cfg(unix)]
fn op_strategy() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let kind = prop_oneof![Just(Kind::Pipe), Just(Kind::Stream), Just(Kind::RawPipe)];
    let dir = prop_oneof![Just(Dir::R), Just(Dir::W), Just(Dir::Rw)];
    let bad = prop_oneof![
        Just(BadCall::Register),
        Just(BadCall::Reregister),
        Just(BadCall::Deregister)
    ];
    prop_oneof![
        3 => (slot.clone(), kind).prop_map(|(s, k)| Op::Open(s, k)),
        2 => slot.clone().prop_map(Op::Close),
        3 => (slot.clone(), dir.clone()).prop_map(|(s, d)| Op::Register(s, d)),
        2 => (slot.clone(), dir).prop_map(|(s, d)| Op::Reregister(s, d)),
        2 => slot.clone().prop_map(Op::Deregister),
        3 => (slot.clone(), 1..2048usize).prop_map(|(s, n)| Op::Write(s, n)),
        2 => slot.prop_map(Op::Drain),
        1 => Just(Op::Wake),
        3 => Just(Op::Poll),
        1 => Just(Op::Settle),
        1 => bad.prop_map(Op::ClosedFd),
        1 => Just(Op::RegularFile),
    ]
}

#[cfg(windows)]
fn op_strategy() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let kind = prop_oneof![Just(Kind::Stream), Just(Kind::Datagram)];
    let dir = prop_oneof![Just(Dir::R), Just(Dir::W), Just(Dir::Rw)];
    prop_oneof![
        3 => (slot.clone(), kind).prop_map(|(s, k)| Op::Open(s, k)),
        2 => slot.clone().prop_map(Op::Close),
        3 => (slot.clone(), dir.clone()).prop_map(|(s, d)| Op::Register(s, d)),
        2 => (slot.clone(), dir).prop_map(|(s, d)| Op::Reregister(s, d)),
        2 => slot.clone().prop_map(Op::Deregister),
        3 => (slot.clone(), 1..2048usize).prop_map(|(s, n)| Op::Write(s, n)),
        2 => slot.prop_map(Op::Drain),
        1 => Just(Op::Wake),
        3 => Just(Op::Poll),
        1 => Just(Op::Settle),
    ]
}

/// The registrable end and the end written to.
enum Real {
    #[cfg(unix)]
    Pipe(pipe::Receiver, pipe::Sender),
    #[cfg(unix)]
    Stream(UnixStream, UnixStream),
    #[cfg(unix)]
    Raw(OwnedFd, OwnedFd),
    #[cfg(windows)]
    Stream(mio::net::TcpStream, std::net::TcpStream),
    #[cfg(windows)]
    Datagram(mio::net::UdpSocket, std::net::UdpSocket),
}

impl Real {
    #[cfg(windows)]
    fn open(kind: Kind) -> Real {
        match kind {
            Kind::Stream => {
                let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
                let (end, _) = listener.accept().unwrap();
                end.set_nonblocking(true).unwrap();
                peer.set_nonblocking(true).unwrap();
                peer.set_nodelay(true).unwrap();
                Real::Stream(mio::net::TcpStream::from_std(end), peer)
            }
            Kind::Datagram => {
                let end = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                end.connect(peer.local_addr().unwrap()).unwrap();
                peer.connect(end.local_addr().unwrap()).unwrap();
                end.set_nonblocking(true).unwrap();
                peer.set_nonblocking(true).unwrap();
                Real::Datagram(mio::net::UdpSocket::from_std(end), peer)
            }
        }
    }

    /// The socket handle's value: reused like fd numbers.
    #[cfg(windows)]
    fn fd(&self) -> u64 {
        match self {
            Real::Stream(end, _) => end.as_raw_socket(),
            Real::Datagram(end, _) => end.as_raw_socket(),
        }
    }

    #[cfg(windows)]
    fn with_source<R>(&mut self, f: impl FnOnce(&mut dyn Source) -> R) -> R {
        match self {
            Real::Stream(end, _) => f(end),
            Real::Datagram(end, _) => f(end),
        }
    }

    #[cfg(windows)]
    fn write_peer(&mut self, data: &[u8]) {
        let written = match self {
            Real::Stream(_, peer) => peer.write(data),
            Real::Datagram(_, peer) => peer.send(data),
        };
        assert_eq!(
            written.expect("write to the peer"),
            data.len(),
            "short write"
        );
    }

    #[cfg(windows)]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Real::Stream(end, _) => end.read(buf),
            Real::Datagram(end, _) => end.recv(buf),
        }
    }

    #[cfg(unix)]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Real::Pipe(end, _) => end.read(buf),
            Real::Stream(end, _) => end.read(buf),
            Real::Raw(end, _) => rustix::io::read(&*end, buf).map_err(io::Error::from),
        }
    }

    #[cfg(unix)]
    fn open(kind: Kind) -> Real {
        match kind {
            Kind::Pipe => {
                let (sender, receiver) = pipe::new().unwrap();
                Real::Pipe(receiver, sender)
            }
            Kind::Stream => {
                let (a, b) = UnixStream::pair().unwrap();
                Real::Stream(a, b)
            }
            Kind::RawPipe => {
                use rustix::pipe::{pipe_with, PipeFlags};
                let (r, w) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).unwrap();
                Real::Raw(r, w)
            }
        }
    }

    #[cfg(unix)]
    fn fd(&self) -> RawFd {
        match self {
            Real::Pipe(end, _) => end.as_raw_fd(),
            Real::Stream(end, _) => end.as_raw_fd(),
            Real::Raw(end, _) => end.as_raw_fd(),
        }
    }

    /// Calls `f` with the end as a `Source`.
    #[cfg(unix)]
    fn with_source<R>(&mut self, f: impl FnOnce(&mut dyn Source) -> R) -> R {
        match self {
            Real::Pipe(end, _) => f(end),
            Real::Stream(end, _) => f(end),
            Real::Raw(end, _) => f(&mut SourceFd(&end.as_raw_fd())),
        }
    }

    #[cfg(unix)]
    fn write_peer(&mut self, data: &[u8]) {
        let written = match self {
            Real::Pipe(_, peer) => peer.write(data),
            Real::Stream(_, peer) => peer.write(data),
            Real::Raw(_, peer) => rustix::io::write(&*peer, data).map_err(io::Error::from),
        };
        assert_eq!(
            written.expect("write to the peer"),
            data.len(),
            "short write"
        );
    }

    /// Reads until `WouldBlock`; returns the bytes read.
    fn drain(&mut self) -> usize {
        let mut buf = [0u8; 4096];
        let mut total = 0;
        for _ in 0..1000 {
            match self.read(&mut buf) {
                Ok(0) => panic!("end of file on an open pair"),
                Ok(n) => total += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return total,
                Err(e) => panic!("read: {e}"),
            }
        }
        panic!("drain did not reach WouldBlock");
    }
}

/// The model of one slot.
#[derive(Clone, Debug, Default)]
struct Model {
    kind: Option<Kind>,
    reg: Option<(Token, Interest)>,
    pending: usize,
    /// Nothing readable was reported since (re)registration or the last drain.
    armed_read: bool,
    owed_read: bool,
    owed_write: bool,
}

struct Harness {
    poll: Poll,
    events: Events,
    waker: Waker,
    real: Vec<Option<Real>>,
    model: Vec<Model>,
    owed_wake: bool,
    next_token: usize,
    #[cfg(unix)]
    closed_fd: RawFd,
    #[cfg(unix)]
    file: std::fs::File,
    /// fd numbers (Windows: socket handle values) of closed ends, to count reuse.
    closed_numbers: Vec<Fd>,
    stats: Stats,
}

#[derive(Default, Debug)]
struct Stats {
    ops: u64,
    polls: u64,
    events: u64,
    fd_reuses: u64,
    owed_checked: u64,
}

/// An fd number, or a socket handle's value on Windows.
#[cfg(unix)]
type Fd = RawFd;
#[cfg(windows)]
type Fd = u64;
/// What `Harness::new` gets: a surely closed fd (Windows: nothing, no raw-fd ops there).
#[cfg(unix)]
type ClosedFd = RawFd;
#[cfg(windows)]
type ClosedFd = ();

static TOTAL_OPS: AtomicU64 = AtomicU64::new(0);
static TOTAL_EVENTS: AtomicU64 = AtomicU64::new(0);
static TOTAL_REUSES: AtomicU64 = AtomicU64::new(0);
static TOTAL_OWED: AtomicU64 = AtomicU64::new(0);

fn interest(kind: Kind, dir: Dir) -> Interest {
    match (kind.duplex(), dir) {
        // Pipe read ends are only ever readable.
        (false, _) | (true, Dir::R) => Interest::READABLE,
        (true, Dir::W) => Interest::WRITABLE,
        (true, Dir::Rw) => Interest::READABLE | Interest::WRITABLE,
    }
}

fn expect_err(result: io::Result<()>, kind: ErrorKind, what: &str) -> Result<(), String> {
    match result {
        Err(e) if e.kind() == kind => Ok(()),
        other => Err(format!("{what}: expected {kind:?}, got {other:?}")),
    }
}

#[cfg(unix)]
fn expect_errno(result: io::Result<()>, errno: i32, what: &str) -> Result<(), String> {
    match result {
        Err(e) if e.raw_os_error() == Some(errno) => Ok(()),
        other => Err(format!("{what}: expected errno {errno}, got {other:?}")),
    }
}

impl Harness {
    #[cfg_attr(windows, allow(clippy::let_unit_value, unused_variables))]
    fn new(closed_fd: ClosedFd) -> Harness {
        let poll = Poll::new().unwrap();
        let waker = Waker::new(poll.registry(), WAKE).unwrap();
        Harness {
            poll,
            events: Events::with_capacity(64),
            waker,
            real: (0..SLOTS).map(|_| None).collect(),
            model: vec![Model::default(); SLOTS],
            owed_wake: false,
            next_token: 0,
            #[cfg(unix)]
            closed_fd,
            #[cfg(unix)]
            file: std::fs::File::open(std::env::current_exe().unwrap()).unwrap(),
            closed_numbers: Vec::new(),
            stats: Stats::default(),
        }
    }

    fn token(&mut self) -> Token {
        self.next_token += 1;
        Token(self.next_token)
    }

    fn apply(&mut self, op: &Op) -> Result<(), String> {
        self.stats.ops += 1;
        match *op {
            Op::Open(s, kind) => {
                if self.real[s].is_none() {
                    let real = Real::open(kind);
                    if self.closed_numbers.contains(&real.fd()) {
                        self.stats.fd_reuses += 1;
                    }
                    self.real[s] = Some(real);
                    self.model[s] = Model {
                        kind: Some(kind),
                        ..Model::default()
                    };
                }
            }
            Op::Close(s) => {
                if let Some(real) = self.real[s].take() {
                    #[cfg(unix)]
                    let mut real = real;
                    #[cfg(unix)]
                    let m = &self.model[s];
                    #[cfg(unix)]
                    let close_deregisters = if m.kind == Some(Kind::RawPipe) {
                        RAW_CLOSE_DEREGISTERS
                    } else {
                        CLOSE_DEREGISTERS
                    };
                    #[cfg(unix)]
                    if m.reg.is_some() && !close_deregisters {
                        // poll(2) cannot see a raw fd close, nor libkqueue any close: deregister
                        // first (for a raw fd, as documented).
                        let registry = self.poll.registry();
                        real.with_source(|src| registry.deregister(src))
                            .map_err(|e| format!("deregister before close: {e}"))?;
                    }
                    self.closed_numbers.push(real.fd());
                    drop(real);
                    self.model[s] = Model::default();
                }
            }
            Op::Register(s, dir) => {
                let Some(kind) = self.model[s].kind else {
                    return Ok(());
                };
                let token = self.token();
                let interests = interest(kind, dir);
                let registry = self.poll.registry();
                let real = self.real[s].as_mut().unwrap();
                let result = real.with_source(|src| registry.register(src, token, interests));
                let m = &mut self.model[s];
                if let Some((_, registered_interests)) = m.reg {
                    expect_err(result, ErrorKind::AlreadyExists, "register twice")?;
                    if kind.refused_register_takes_token() {
                        // Events of this fd carry the refused call's token from now on.
                        m.reg = Some((token, registered_interests));
                    }
                } else {
                    result.map_err(|e| format!("register: {e}"))?;
                    registered(m, token, interests);
                }
            }
            Op::Reregister(s, dir) => {
                let Some(kind) = self.model[s].kind else {
                    return Ok(());
                };
                let token = self.token();
                let interests = interest(kind, dir);
                let registry = self.poll.registry();
                let real = self.real[s].as_mut().unwrap();
                let result = real.with_source(|src| registry.reregister(src, token, interests));
                let m = &mut self.model[s];
                if m.reg.is_some() {
                    result.map_err(|e| format!("reregister: {e}"))?;
                    registered(m, token, interests);
                } else {
                    expect_err(result, ErrorKind::NotFound, "reregister unregistered")?;
                }
            }
            Op::Deregister(s) => {
                if self.model[s].kind.is_none() {
                    return Ok(());
                }
                let registry = self.poll.registry();
                let real = self.real[s].as_mut().unwrap();
                let result = real.with_source(|src| registry.deregister(src));
                let m = &mut self.model[s];
                if m.reg.is_some() {
                    result.map_err(|e| format!("deregister: {e}"))?;
                    m.reg = None;
                    m.owed_read = false;
                    m.owed_write = false;
                } else {
                    expect_err(result, ErrorKind::NotFound, "deregister unregistered")?;
                }
            }
            Op::Write(s, n) => {
                if self.model[s].kind.is_none() || self.model[s].pending + n > MAX_PENDING {
                    return Ok(());
                }
                let data = vec![0x5a; n];
                self.real[s].as_mut().unwrap().write_peer(&data);
                let m = &mut self.model[s];
                m.pending += n;
                if matches!(m.reg, Some((_, i)) if i.is_readable()) && m.armed_read {
                    m.owed_read = true;
                }
            }
            Op::Drain(s) => {
                let Some(kind) = self.model[s].kind else {
                    return Ok(());
                };
                let got = self.real[s].as_mut().unwrap().drain();
                let m = &mut self.model[s];
                if got != m.pending {
                    return Err(format!("drained {got} bytes, {} were pending", m.pending));
                }
                m.pending = 0;
                m.owed_read = false;
                if kind.drain_rearms() {
                    m.armed_read = true;
                }
            }
            Op::Wake => {
                self.waker.wake().map_err(|e| format!("wake: {e}"))?;
                self.owed_wake = true;
            }
            Op::Poll => {
                self.poll_once(Duration::ZERO)?;
            }
            Op::Settle => self.settle()?,
            #[cfg(unix)]
            Op::ClosedFd(call) => {
                let registry = self.poll.registry();
                let mut src = SourceFd(&self.closed_fd);
                let (result, errno) = match call {
                    BadCall::Register => (
                        registry.register(&mut src, WAKE, Interest::READABLE),
                        libc::EBADF,
                    ),
                    BadCall::Reregister => (
                        registry.reregister(&mut src, WAKE, Interest::READABLE),
                        CLOSED_FD_CHANGE_ERRNO,
                    ),
                    BadCall::Deregister => (registry.deregister(&mut src), CLOSED_FD_CHANGE_ERRNO),
                };
                expect_errno(result, errno, &format!("{call:?} a closed fd"))?;
            }
            #[cfg(unix)]
            Op::RegularFile => {
                let fd = self.file.as_raw_fd();
                if REGULAR_FILE_REGISTERS {
                    // A token of its own: an event for the file after the deregistration is
                    // then reported as stale.
                    let token = self.token();
                    let registry = self.poll.registry();
                    registry
                        .register(&mut SourceFd(&fd), token, Interest::READABLE)
                        .map_err(|e| format!("register a regular file: {e}"))?;
                    registry
                        .deregister(&mut SourceFd(&fd))
                        .map_err(|e| format!("deregister a regular file: {e}"))?;
                } else {
                    let result =
                        self.poll
                            .registry()
                            .register(&mut SourceFd(&fd), WAKE, Interest::READABLE);
                    expect_errno(result, libc::EPERM, "register a regular file")?;
                }
            }
        }
        Ok(())
    }

    /// One poll; checks every event against the model and updates what is owed.
    fn poll_once(&mut self, timeout: Duration) -> Result<(), String> {
        self.stats.polls += 1;
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(format!("poll: {e}")),
        }
        for event in self.events.iter() {
            self.stats.events += 1;
            let token = event.token();
            if token == WAKE {
                self.owed_wake = false;
                continue;
            }
            let Some(m) = self
                .model
                .iter_mut()
                .find(|m| matches!(m.reg, Some((t, _)) if t == token))
            else {
                return Err(format!(
                    "stale event: {event:?} carries a token no source is registered with"
                ));
            };
            if event.is_readable() {
                m.owed_read = false;
                m.armed_read = false;
            }
            if event.is_writable() {
                m.owed_write = false;
            }
        }
        Ok(())
    }

    fn owed(&self) -> Vec<String> {
        let mut owed = Vec::new();
        if self.owed_wake {
            owed.push("the waker".to_string());
        }
        for (s, m) in self.model.iter().enumerate() {
            if m.owed_read {
                owed.push(format!("readable for slot {s} {m:?}"));
            }
            if m.owed_write {
                owed.push(format!("writable for slot {s} {m:?}"));
            }
        }
        owed
    }

    /// Polls until nothing is owed, at most `SETTLE_POLLS` times.
    fn settle(&mut self) -> Result<(), String> {
        if !self.owed().is_empty() {
            self.stats.owed_checked += 1;
        }
        for _ in 0..SETTLE_POLLS {
            if self.owed().is_empty() {
                return Ok(());
            }
            self.poll_once(Duration::from_millis(50))?;
        }
        let owed = self.owed();
        if owed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "readiness lost after {SETTLE_POLLS} polls: {owed:?}"
            ))
        }
    }
}

/// The model after a successful register or reregister: a fresh registration.
fn registered(m: &mut Model, token: Token, interests: Interest) {
    m.reg = Some((token, interests));
    m.armed_read = true;
    m.owed_read = interests.is_readable() && m.pending > 0;
    m.owed_write = interests.is_writable();
}

fn run_case(ops: &[Op], closed_fd: ClosedFd) -> Result<(), TestCaseError> {
    let mut h = Harness::new(closed_fd);
    for (i, op) in ops.iter().enumerate() {
        h.apply(op)
            .map_err(|e| TestCaseError::fail(format!("op {i} {op:?}: {e}")))?;
    }
    h.settle()
        .map_err(|e| TestCaseError::fail(format!("at the end: {e}")))?;
    TOTAL_OPS.fetch_add(h.stats.ops, Ordering::Relaxed);
    TOTAL_EVENTS.fetch_add(h.stats.events, Ordering::Relaxed);
    TOTAL_REUSES.fetch_add(h.stats.fd_reuses, Ordering::Relaxed);
    TOTAL_OWED.fetch_add(h.stats.owed_checked, Ordering::Relaxed);
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn poll_matches_the_model() {
    // A number certainly not open: above every fd this process has (fds are allocated lowest
    // first, and nothing here opens 4000 at once).
    #[cfg(unix)]
    let closed_fd = {
        let (r, _w) = rustix::pipe::pipe().unwrap();
        let fd = rustix::io::fcntl_dupfd_cloexec(&r, 4000).unwrap();
        fd.as_raw_fd()
    };
    #[cfg(windows)]
    #[allow(clippy::let_unit_value)]
    let closed_fd = ();
    let config = Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(op_strategy(), 1..80), |ops| {
        run_case(&ops, closed_fd)
    });
    println!(
        "model: {cases} cases, {} ops, {} events, {} fd numbers reused, {} settles with owed \
         events (backend: {})",
        TOTAL_OPS.load(Ordering::Relaxed),
        TOTAL_EVENTS.load(Ordering::Relaxed),
        TOTAL_REUSES.load(Ordering::Relaxed),
        TOTAL_OWED.load(Ordering::Relaxed),
        if cfg!(windows) {
            "IOCP + AFD"
        } else if cfg!(mio_unsupported_force_poll_poll) {
            "poll(2)"
        } else if cfg!(mio_unsupported_test_libkqueue) {
            "kqueue (libkqueue)"
        } else if cfg!(mio_kqueue_os) {
            "kqueue"
        } else {
            "epoll"
        }
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
