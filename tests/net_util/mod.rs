//! Helpers shared by the `mio::net` integration tests: bounded polling with expectations,
//! loopback addresses, unique Unix socket paths and names, fd (Windows: socket handle) flag
//! checks and running one test in a child process.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::BitOr;
#[cfg(any(unix, target_os = "wasi"))]
use std::os::fd::AsFd;
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, FromRawSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::{Events, Poll, Token};

#[cfg(all(
    feature = "os-poll",
    feature = "net",
    not(all(target_os = "wasi", target_env = "p1"))
))]
pub mod udp;

/// How long the `expect_*`/`*_polling` helpers keep trying before they fail the test.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The timeout of each `poll` inside those loops.
const POLL_STEP: Duration = Duration::from_millis(100);
/// How long `expect_no_events` waits for an event that must not come.
pub const NO_EVENTS_TIMEOUT: Duration = Duration::from_millis(100);

pub fn assert_send<T: Send>() {}

pub fn assert_sync<T: Sync>() {}

/// A set of readiness flags.
#[derive(Copy, Clone, PartialEq, Eq, Default)]
pub struct Readiness(u8);

impl Readiness {
    pub const EMPTY: Readiness = Readiness(0);
    pub const READABLE: Readiness = Readiness(1);
    pub const WRITABLE: Readiness = Readiness(1 << 1);
    pub const ERROR: Readiness = Readiness(1 << 2);
    pub const READ_CLOSED: Readiness = Readiness(1 << 3);
    pub const WRITE_CLOSED: Readiness = Readiness(1 << 4);
    pub const PRIORITY: Readiness = Readiness(1 << 5);

    /// The flags `event` carries.
    pub fn of(event: &Event) -> Readiness {
        let mut r = Readiness::EMPTY;
        let mut add = |flag: Readiness, set: bool| {
            if set {
                r = r | flag;
            }
        };
        add(Readiness::READABLE, event.is_readable());
        add(Readiness::WRITABLE, event.is_writable());
        add(Readiness::ERROR, event.is_error());
        add(Readiness::READ_CLOSED, event.is_read_closed());
        add(Readiness::WRITE_CLOSED, event.is_write_closed());
        add(Readiness::PRIORITY, event.is_priority());
        r
    }

    /// Whether every flag of `other` is in `self`.
    pub fn contains(self, other: Readiness) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Readiness {
    type Output = Readiness;

    fn bitor(self, other: Readiness) -> Readiness {
        Readiness(self.0 | other.0)
    }
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (Readiness::READABLE, "READABLE"),
            (Readiness::WRITABLE, "WRITABLE"),
            (Readiness::ERROR, "ERROR"),
            (Readiness::READ_CLOSED, "READ_CLOSED"),
            (Readiness::WRITE_CLOSED, "WRITE_CLOSED"),
            (Readiness::PRIORITY, "PRIORITY"),
        ];
        let set: Vec<&str> = names
            .iter()
            .filter(|(flag, _)| self.contains(*flag))
            .map(|(_, name)| *name)
            .collect();
        write!(
            f,
            "{}",
            if set.is_empty() {
                "EMPTY".to_string()
            } else {
                set.join("|")
            }
        )
    }
}

/// One `poll`, retried on `Interrupted`. Returns `(token, flags)` of every event.
pub fn poll_once(
    poll: &mut Poll,
    events: &mut Events,
    timeout: Duration,
) -> Vec<(Token, Readiness)> {
    loop {
        match poll.poll(events, Some(timeout)) {
            Ok(()) => {
                return events
                    .iter()
                    .map(|e| (e.token(), Readiness::of(e)))
                    .collect()
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll failed: {e}"),
        }
    }
}

/// Polls (at most `TIMEOUT` in all) until, for every `(token, flags)` expected, the events of
/// `token` have together carried all of `flags` (so readable and writable may come in separate
/// events). Extra and spurious events are allowed. Returns the union of flags seen per token.
#[track_caller]
pub fn expect_events(
    poll: &mut Poll,
    events: &mut Events,
    expected: Vec<(Token, Readiness)>,
) -> HashMap<Token, Readiness> {
    let mut seen: HashMap<Token, Readiness> = HashMap::new();
    let deadline = Instant::now() + TIMEOUT;
    let all_seen = |seen: &HashMap<Token, Readiness>| {
        expected
            .iter()
            .all(|(token, flags)| seen.get(token).is_some_and(|s| s.contains(*flags)))
    };
    while !all_seen(&seen) {
        assert!(
            Instant::now() < deadline,
            "expected events {expected:?} not seen within {TIMEOUT:?}; seen {seen:?}"
        );
        for (token, flags) in poll_once(poll, events, POLL_STEP) {
            let entry = seen.entry(token).or_default();
            *entry = *entry | flags;
        }
    }
    seen
}

/// Polls once for `NO_EVENTS_TIMEOUT` and asserts that nothing came.
#[track_caller]
pub fn expect_no_events(poll: &mut Poll, events: &mut Events) {
    let seen = poll_once(poll, events, NO_EVENTS_TIMEOUT);
    assert!(seen.is_empty(), "expected no events, got {seen:?}");
}

/// Polls once for `NO_EVENTS_TIMEOUT` and asserts that no event carries `token`.
#[track_caller]
pub fn expect_no_events_for(poll: &mut Poll, events: &mut Events, token: Token) {
    let seen = poll_once(poll, events, NO_EVENTS_TIMEOUT);
    assert!(
        seen.iter().all(|(t, _)| *t != token),
        "expected no event for {token:?}, got {seen:?}"
    );
}

/// `127.0.0.1:0`.
pub fn any_local_address() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// `[::1]:0`.
pub fn any_local_ipv6_address() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// A number unique in this process.
pub fn unique() -> usize {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

/// An abstract Unix socket name unique to this process and call.
pub fn abstract_name(tag: &str) -> Vec<u8> {
    format!("mio-net-test-{}-{}-{tag}", std::process::id(), unique()).into_bytes()
}

/// A fresh directory under the system temp dir, unique per process and call, removed (with
/// everything in it) on drop. Keeps paths short: `sun_path` holds 108 bytes.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        let path =
            std::env::temp_dir().join(format!("mio-net-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<dir>/<name>`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `(O_NONBLOCK set, FD_CLOEXEC set)` for `fd`, from `fcntl(F_GETFL)` and `fcntl(F_GETFD)`.
#[cfg(unix)]
pub fn fd_flags<Fd: AsFd>(fd: Fd) -> (bool, bool) {
    let fl = rustix::fs::fcntl_getfl(&fd).expect("fcntl(F_GETFL)");
    let fd_fl = rustix::io::fcntl_getfd(&fd).expect("fcntl(F_GETFD)");
    (
        fl.contains(rustix::fs::OFlags::NONBLOCK),
        fd_fl.contains(rustix::io::FdFlags::CLOEXEC),
    )
}

/// Asserts that `fd` is non-blocking and close-on-exec.
#[cfg(unix)]
#[track_caller]
pub fn assert_nonblocking_cloexec<Fd: AsFd>(fd: Fd) {
    let (nonblocking, cloexec) = fd_flags(fd);
    assert!(nonblocking, "O_NONBLOCK not set");
    assert!(cloexec, "FD_CLOEXEC not set");
}

/// Whether `fd` is in non-blocking mode (`O_NONBLOCK`).
#[cfg(unix)]
pub fn is_nonblocking<Fd: AsFd>(fd: Fd) -> bool {
    fd_flags(fd).0
}

/// Whether `socket` is in non-blocking mode. Winsock cannot read `FIONBIO` back, so this asks
/// the socket itself: a peek with a 50 ms `SO_RCVTIMEO` fails with `WouldBlock` on a
/// non-blocking socket and with `TimedOut` (`WSAETIMEDOUT`) on a blocking one. Only for a
/// connected stream or a bound datagram socket with nothing queued to read (a listener's
/// `accept` has no timeout); the receive timeout is reset to none afterwards.
#[cfg(windows)]
#[track_caller]
pub fn is_nonblocking<S: AsSocket>(socket: S) -> bool {
    // A std stream borrowing the socket for `set_read_timeout` and `peek` (`recv(MSG_PEEK)`,
    // which datagram sockets take too); `ManuallyDrop` so the socket is not closed.
    // SAFETY: the socket is open for as long as `socket` is borrowed, which outlives `std`,
    // and `std` is never dropped.
    let std = std::mem::ManuallyDrop::new(unsafe {
        std::net::TcpStream::from_raw_socket(socket.as_socket().as_raw_socket())
    });
    std.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("set SO_RCVTIMEO");
    let res = std.peek(&mut [0u8; 1]);
    std.set_read_timeout(None).expect("reset SO_RCVTIMEO");
    match res {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
        Err(e) if e.kind() == io::ErrorKind::TimedOut => false,
        other => panic!("probing the blocking mode: the peek gave {other:?} (nothing queued?)"),
    }
}

/// Asserts that `socket`'s handle is not inherited by child processes
/// (`HANDLE_FLAG_INHERIT` clear): Windows' counterpart of close-on-exec. Its non-blocking mode
/// cannot be read back (see `is_nonblocking`): the callers assert `WouldBlock` instead.
#[cfg(windows)]
#[track_caller]
pub fn assert_not_inheritable<S: AsSocket>(socket: S) {
    use windows_sys::Win32::Foundation::{GetHandleInformation, HANDLE, HANDLE_FLAG_INHERIT};
    let mut flags = 0u32;
    // SAFETY: a socket is a kernel handle; `flags` is a valid out-pointer.
    let ok =
        unsafe { GetHandleInformation(socket.as_socket().as_raw_socket() as HANDLE, &mut flags) };
    assert!(
        ok != 0,
        "GetHandleInformation: {}",
        io::Error::last_os_error()
    );
    assert_eq!(
        flags & HANDLE_FLAG_INHERIT,
        0,
        "the socket handle is inheritable"
    );
}

/// Whether this Windows process runs under Wine rather than on Windows: ntdll exports
/// `wine_get_version` only under Wine. For the few documented places where Wine's Winsock
/// differs from Windows; the test keeps asserting Windows' behaviour on Windows. (The same
/// check as `tests/util`'s, which the `mio::net` tests do not include.)
#[cfg(windows)]
pub fn running_under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    // SAFETY: both names are NUL-terminated; ntdll is mapped in every process and never
    // unloaded, so its module handle stays valid.
    unsafe {
        let ntdll = GetModuleHandleA(b"ntdll.dll\0".as_ptr());
        !ntdll.is_null() && GetProcAddress(ntdll, b"wine_get_version\0".as_ptr()).is_some()
    }
}

/// Never on a non-Windows build (Wine runs Windows programs only).
#[cfg(not(windows))]
pub fn running_under_wine() -> bool {
    false
}

/// The platform's raw socket handle under one name, so that the conversion tests read the same
/// on both families: an fd on Unix, a `SOCKET` on Windows.
#[cfg(any(unix, target_os = "wasi"))]
#[allow(unused_imports)] // not every test file converts
pub use std::os::fd::{OwnedFd as OwnedHandle, RawFd as RawHandle};
#[cfg(windows)]
#[allow(unused_imports)] // not every test file converts
pub use std::os::windows::io::{OwnedSocket as OwnedHandle, RawSocket as RawHandle};

/// `as_raw_fd()` / `as_raw_socket()`.
#[cfg(any(unix, target_os = "wasi"))]
pub fn raw_handle<T: std::os::fd::AsRawFd>(t: &T) -> RawHandle {
    t.as_raw_fd()
}

/// `as_raw_fd()` / `as_raw_socket()`.
#[cfg(windows)]
pub fn raw_handle<T: AsRawSocket>(t: &T) -> RawHandle {
    t.as_raw_socket()
}

/// The raw handle through the borrowed one: `as_fd().as_raw_fd()` /
/// `as_socket().as_raw_socket()`.
#[cfg(any(unix, target_os = "wasi"))]
pub fn borrowed_raw_handle<T: AsFd>(t: &T) -> RawHandle {
    use std::os::fd::AsRawFd;
    t.as_fd().as_raw_fd()
}

/// The raw handle through the borrowed one: `as_fd().as_raw_fd()` /
/// `as_socket().as_raw_socket()`.
#[cfg(windows)]
pub fn borrowed_raw_handle<T: AsSocket>(t: &T) -> RawHandle {
    t.as_socket().as_raw_socket()
}

/// `into_raw_fd()` / `into_raw_socket()`.
#[cfg(any(unix, target_os = "wasi"))]
pub fn into_raw_handle<T: std::os::fd::IntoRawFd>(t: T) -> RawHandle {
    t.into_raw_fd()
}

/// `into_raw_fd()` / `into_raw_socket()`.
#[cfg(windows)]
pub fn into_raw_handle<T: std::os::windows::io::IntoRawSocket>(t: T) -> RawHandle {
    t.into_raw_socket()
}

/// `from_raw_fd()` / `from_raw_socket()`.
///
/// # Safety
/// `raw` must be an open socket that nothing else owns.
#[cfg(any(unix, target_os = "wasi"))]
pub unsafe fn from_raw_handle<T: std::os::fd::FromRawFd>(raw: RawHandle) -> T {
    // SAFETY: the caller's contract.
    unsafe { T::from_raw_fd(raw) }
}

/// `from_raw_fd()` / `from_raw_socket()`.
///
/// # Safety
/// `raw` must be an open socket that nothing else owns.
#[cfg(windows)]
pub unsafe fn from_raw_handle<T: FromRawSocket>(raw: RawHandle) -> T {
    // SAFETY: the caller's contract.
    unsafe { T::from_raw_socket(raw) }
}

/// Asserts that `result` is a `WouldBlock` error.
#[track_caller]
pub fn assert_would_block<T: std::fmt::Debug>(result: io::Result<T>) {
    match result {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

/// Retries `op` while it returns `WouldBlock`, polling (bounded) in between.
#[track_caller]
pub fn until_ready<T>(
    poll: &mut Poll,
    events: &mut Events,
    mut op: impl FnMut() -> io::Result<T>,
) -> T {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match op() {
            Ok(v) => return v,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "still WouldBlock after {TIMEOUT:?}"
                );
                let _ = poll_once(poll, events, POLL_STEP);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
}

/// Reads exactly `len` bytes from a non-blocking reader registered with `poll` for
/// readability, polling (bounded) whenever it would block.
#[track_caller]
pub fn read_polling<R: Read>(
    poll: &mut Poll,
    events: &mut Events,
    mut r: R,
    len: usize,
) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    let mut out = Vec::with_capacity(len);
    let mut buf = vec![0u8; 64 * 1024];
    while out.len() < len {
        let want = (len - out.len()).min(buf.len());
        match r.read(&mut buf[..want]) {
            Ok(0) => panic!("unexpected end of file after {} of {len} bytes", out.len()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "timed out reading {len} bytes");
                let _ = poll_once(poll, events, POLL_STEP);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read failed: {e:?}"),
        }
    }
    out
}

/// Writes all of `data` to a non-blocking writer registered with `poll` for writability,
/// polling (bounded) whenever it would block.
#[track_caller]
pub fn write_polling<W: Write>(poll: &mut Poll, events: &mut Events, mut w: W, data: &[u8]) {
    let deadline = Instant::now() + TIMEOUT;
    let mut written = 0;
    while written < data.len() {
        match w.write(&data[written..]) {
            Ok(0) => panic!("write returned 0"),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "timed out writing {} bytes",
                    data.len()
                );
                let _ = poll_once(poll, events, POLL_STEP);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("write failed: {e:?}"),
        }
    }
}

/// `len` bytes of a recognisable, non-repeating-ish pattern.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ (i >> 8) as u8).collect()
}

/// A simple order-sensitive checksum (Fletcher-like).
pub fn checksum(data: &[u8]) -> (u64, u64) {
    let (mut a, mut b) = (0u64, 0u64);
    for &byte in data {
        a = (a + byte as u64) % 65521;
        b = (b + a) % 65521;
    }
    (a, b)
}

/// The environment variable that marks a child started by `run_in_subprocess`.
const SUBPROCESS_VAR: &str = "MIO_NET_TEST_SUBPROCESS";

/// Whether this process is the child `run_in_subprocess` started for `test_name`.
pub fn in_subprocess(test_name: &str) -> bool {
    std::env::var(SUBPROCESS_VAR).as_deref() == Ok(test_name)
}

/// Re-runs the current test binary with only `test_name` (which must be a test at the root of
/// its file), marked so that `in_subprocess(test_name)` is true there, and asserts that the
/// child exited successfully (in particular: not killed by a signal) after running 1 test.
#[track_caller]
pub fn run_in_subprocess(test_name: &str) {
    let out = Command::new(std::env::current_exe().expect("current_exe"))
        .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
        .env(SUBPROCESS_VAR, test_name)
        .output()
        .expect("spawn the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run of {test_name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

/// `SO_LINGER` 0: closing sends an RST. Any socket type (this crate's, upstream's in
/// tests/differential.rs, std's).
#[cfg(unix)]
pub fn linger_zero<S: AsFd>(stream: &S) {
    rustix::net::sockopt::set_socket_linger(stream, Some(Duration::ZERO)).unwrap();
}

/// `SO_LINGER` 0: closing sends an RST. Any socket type (this crate's, upstream's in
/// tests/differential.rs, std's).
#[cfg(windows)]
pub fn linger_zero<S: AsRawSocket>(stream: &S) {
    use windows_sys::Win32::Networking::WinSock::{
        setsockopt, LINGER, SOCKET_ERROR, SOL_SOCKET, SO_LINGER,
    };
    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a live socket; the option value is a `LINGER` of the size given.
    let res = unsafe {
        setsockopt(
            stream.as_raw_socket() as usize,
            SOL_SOCKET,
            SO_LINGER,
            (&linger as *const LINGER).cast(),
            std::mem::size_of::<LINGER>() as i32,
        )
    };
    assert_ne!(
        res,
        SOCKET_ERROR,
        "SO_LINGER: {}",
        io::Error::last_os_error()
    );
}
