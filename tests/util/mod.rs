//! Helpers shared by the integration tests: bounded polling with expectations, fd makers,
//! fd (Windows: handle) counting and process isolation for tests that must not see other
//! tests' fds.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::ops::BitOr;
#[cfg(unix)]
use std::os::fd::OwnedFd;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::{Events, Poll, Token};

/// How long `expect_events` keeps polling before it gives up.
pub const EXPECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The timeout of each `poll` inside `expect_events`.
const POLL_STEP: Duration = Duration::from_millis(250);
/// How long `expect_no_events` waits for an event that should not come.
pub const NO_EVENT_TIMEOUT: Duration = Duration::from_millis(100);

/// Nothing to set up for now; kept so every test can start the same way.
pub fn init() {}

pub fn assert_send<T: Send>() {}

pub fn assert_sync<T: Sync>() {}

/// A set of readiness flags an expected event must (at least) carry.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Readiness(u8);

impl Readiness {
    pub const READABLE: Readiness = Readiness(1);
    pub const WRITABLE: Readiness = Readiness(1 << 1);
    pub const ERROR: Readiness = Readiness(1 << 2);
    pub const READ_CLOSED: Readiness = Readiness(1 << 3);
    pub const WRITE_CLOSED: Readiness = Readiness(1 << 4);
    pub const PRIORITY: Readiness = Readiness(1 << 5);

    /// Whether `event` has every flag of `self`.
    pub fn matches(self, event: &Event) -> bool {
        let has = |flag: Readiness, set: bool| self.0 & flag.0 == 0 || set;
        has(Readiness::READABLE, event.is_readable())
            && has(Readiness::WRITABLE, event.is_writable())
            && has(Readiness::ERROR, event.is_error())
            && has(Readiness::READ_CLOSED, event.is_read_closed())
            && has(Readiness::WRITE_CLOSED, event.is_write_closed())
            && has(Readiness::PRIORITY, event.is_priority())
    }
}

impl BitOr for Readiness {
    type Output = Readiness;

    fn bitor(self, other: Readiness) -> Readiness {
        Readiness(self.0 | other.0)
    }
}

impl From<mio::Interest> for Readiness {
    fn from(interest: mio::Interest) -> Readiness {
        let mut r = Readiness(0);
        if interest.is_readable() {
            r = r | Readiness::READABLE;
        }
        if interest.is_writable() {
            r = r | Readiness::WRITABLE;
        }
        if interest.is_priority() {
            r = r | Readiness::PRIORITY;
        }
        r
    }
}

/// An event `expect_events` waits for: `token` with at least `readiness`.
#[derive(Clone, Debug)]
pub struct ExpectEvent {
    pub token: Token,
    pub readiness: Readiness,
}

impl ExpectEvent {
    pub fn new<R: Into<Readiness>>(token: Token, readiness: R) -> ExpectEvent {
        ExpectEvent {
            token,
            readiness: readiness.into(),
        }
    }
}

/// An owned copy of an event's flags, for assertions after the buffer is reused.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub token: Token,
    pub readable: bool,
    pub writable: bool,
    pub error: bool,
    pub read_closed: bool,
    pub write_closed: bool,
    pub priority: bool,
}

impl From<&Event> for Seen {
    fn from(e: &Event) -> Seen {
        Seen {
            token: e.token(),
            readable: e.is_readable(),
            writable: e.is_writable(),
            error: e.is_error(),
            read_closed: e.is_read_closed(),
            write_closed: e.is_write_closed(),
            priority: e.is_priority(),
        }
    }
}

/// One `poll`, retried on `Interrupted` (a signal meant for another test's thread is not ours
/// to report). Returns a copy of what came.
pub fn poll_once(poll: &mut Poll, events: &mut Events, timeout: Option<Duration>) -> Vec<Seen> {
    loop {
        match poll.poll(events, timeout) {
            Ok(()) => return events.iter().map(Seen::from).collect(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("poll failed: {e}"),
        }
    }
}

/// Polls (at most `EXPECT_TIMEOUT` in all) until every expected event was seen. Extra events
/// are allowed (spurious events are). Returns everything that was seen.
#[track_caller]
pub fn expect_events(
    poll: &mut Poll,
    events: &mut Events,
    expected: Vec<ExpectEvent>,
) -> Vec<Seen> {
    let mut missing = expected;
    let mut seen = Vec::new();
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while !missing.is_empty() && Instant::now() < deadline {
        for event in poll_once(poll, events, Some(POLL_STEP)) {
            seen.push(event);
        }
        for event in events.iter() {
            missing.retain(|exp| !(exp.token == event.token() && exp.readiness.matches(event)));
        }
    }
    assert!(
        missing.is_empty(),
        "expected events not seen within {EXPECT_TIMEOUT:?}: missing {missing:?}, seen {seen:?}"
    );
    seen
}

/// Polls until an event for `token` arrives (bounded) and returns its flags.
#[track_caller]
pub fn expect_event(poll: &mut Poll, events: &mut Events, token: Token) -> Seen {
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        for event in poll_once(poll, events, Some(POLL_STEP)) {
            if event.token == token {
                return event;
            }
            seen.push(event);
        }
    }
    panic!("no event for {token:?} within {EXPECT_TIMEOUT:?}; seen {seen:?}");
}

/// The flags of every event for `token`, merged (kqueue reports each direction of a source on
/// its own event), polling (bounded) until `done` holds for them; at least one event must come.
#[track_caller]
pub fn expect_merged_event(
    poll: &mut Poll,
    events: &mut Events,
    token: Token,
    done: impl Fn(&Seen) -> bool,
) -> Seen {
    let mut merged: Option<Seen> = None;
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while !merged.as_ref().is_some_and(&done) && Instant::now() < deadline {
        for e in poll_once(poll, events, Some(POLL_STEP)) {
            if e.token != token {
                continue;
            }
            let m = merged.get_or_insert(e);
            m.readable |= e.readable;
            m.writable |= e.writable;
            m.error |= e.error;
            m.read_closed |= e.read_closed;
            m.write_closed |= e.write_closed;
            m.priority |= e.priority;
        }
    }
    merged.unwrap_or_else(|| panic!("no event for {token:?} within {EXPECT_TIMEOUT:?}"))
}

/// Polls once with a short timeout and asserts that nothing came.
#[track_caller]
pub fn expect_no_events(poll: &mut Poll, events: &mut Events) {
    let seen = poll_once(poll, events, Some(NO_EVENT_TIMEOUT));
    assert!(seen.is_empty(), "expected no events, got {seen:?}");
}

/// Polls once with a short timeout and asserts that no event carries `token`.
#[track_caller]
pub fn expect_no_event_for(poll: &mut Poll, events: &mut Events, token: Token) {
    let seen = poll_once(poll, events, Some(NO_EVENT_TIMEOUT));
    assert!(
        seen.iter().all(|e| e.token != token),
        "expected no event for {token:?}, got {seen:?}"
    );
}

/// The number of open fds of this process (entries of `/proc/self/fd`).
#[cfg(unix)]
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

/// The number of open handles of this process: the Windows counterpart of the fd count, for
/// the same leak checks. Counted from the system handle table
/// (`NtQuerySystemInformation(SystemExtendedHandleInformation)`) because Wine's
/// `GetProcessHandleCount` always reports 0.
#[cfg(windows)]
pub fn fd_count() -> usize {
    use windows_sys::Wdk::System::SystemInformation::NtQuerySystemInformation;

    /// `SYSTEM_INFORMATION_CLASS` value of `SystemExtendedHandleInformation`.
    const SYSTEM_EXTENDED_HANDLE_INFORMATION: i32 = 64;
    /// `STATUS_INFO_LENGTH_MISMATCH`: the buffer was too small.
    const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;

    /// `SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX`.
    #[repr(C)]
    #[derive(Copy, Clone)]
    struct Entry {
        object: usize,
        unique_process_id: usize,
        handle_value: usize,
        granted_access: u32,
        creator_back_trace_index: u16,
        object_type_index: u16,
        handle_attributes: u32,
        reserved: u32,
    }

    // The header (`NumberOfHandles`, `Reserved`) is two `usize`s, then the entries.
    let header = 2 * std::mem::size_of::<usize>();
    let mut words = vec![0usize; 1 << 16];
    loop {
        let len = words.len() * std::mem::size_of::<usize>();
        let mut needed = 0u32;
        // SAFETY: `words` is a writable, usize-aligned buffer of `len` bytes; `needed` is a
        // valid out-pointer.
        let status = unsafe {
            NtQuerySystemInformation(
                SYSTEM_EXTENDED_HANDLE_INFORMATION,
                words.as_mut_ptr().cast(),
                len as u32,
                &mut needed,
            )
        };
        if status == STATUS_INFO_LENGTH_MISMATCH {
            let grow = (needed as usize).max(len * 2) / std::mem::size_of::<usize>() + 1024;
            words.resize(grow, 0);
            continue;
        }
        assert!(
            status >= 0,
            "NtQuerySystemInformation: NTSTATUS {status:#x}"
        );
        let count = words[0];
        let max = (len - header) / std::mem::size_of::<Entry>();
        assert!(
            count <= max,
            "handle table of {count} entries overflows the buffer"
        );
        let pid = std::process::id() as usize;
        // SAFETY: the call filled `count` entries after the header, all inside the buffer
        // (checked above); the buffer is usize-aligned as `Entry` needs.
        let entries = unsafe {
            std::slice::from_raw_parts(
                words.as_ptr().cast::<u8>().add(header).cast::<Entry>(),
                count,
            )
        };
        return entries
            .iter()
            .filter(|e| e.unique_process_id == pid)
            .count();
    }
}

/// Whether this Windows process runs under Wine rather than on Windows: ntdll exports
/// `wine_get_version` only under Wine. For the few documented places where Wine's Winsock or
/// NT layer differs from Windows; a test must keep asserting Windows' behaviour on Windows.
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

/// What `/proc/self/fd/<fd>` points to, e.g. `anon_inode:[eventpoll]`.
#[cfg(unix)]
pub fn fd_target(fd: std::os::fd::RawFd) -> io::Result<String> {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).map(|p| p.to_string_lossy().into_owned())
}

/// Runs `body` in a child process that runs only the test `test_name` (which must be the
/// test calling this, at the root of its file), so that fd counts are not disturbed by tests
/// running on other threads. In the parent this asserts that the child's test passed.
#[track_caller]
pub fn run_isolated(test_name: &str, body: impl FnOnce()) {
    const VAR: &str = "MIO_TEST_ISOLATED";
    if std::env::var(VAR).as_deref() == Ok(test_name) {
        body();
        return;
    }
    let out = Command::new(std::env::current_exe().expect("current_exe"))
        .args([test_name, "--exact", "--test-threads=1", "--nocapture"])
        .env(VAR, test_name)
        .output()
        .expect("spawn the isolated test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "isolated run of {test_name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

/// A connected, non-blocking Unix stream socket pair.
#[cfg(unix)]
pub fn unix_pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// A non-blocking, close-on-exec pipe: `(read end, write end)`.
#[cfg(unix)]
pub fn raw_pipe() -> (OwnedFd, OwnedFd) {
    use rustix::pipe::{pipe_with, PipeFlags};
    pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).expect("pipe2")
}

/// A non-blocking, close-on-exec eventfd with counter 0.
#[cfg(unix)]
pub fn eventfd() -> OwnedFd {
    use rustix::event::{eventfd, EventfdFlags};
    eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).expect("eventfd")
}

/// Adds 1 to an eventfd's counter.
#[cfg(unix)]
pub fn eventfd_signal(fd: &OwnedFd) {
    rustix::io::write(fd, &1u64.to_ne_bytes()).expect("write eventfd");
}

/// Reads (and zeroes) an eventfd's counter; 0 if it was already zero.
#[cfg(unix)]
pub fn eventfd_drain(fd: &OwnedFd) -> u64 {
    let mut buf = [0u8; 8];
    match rustix::io::read(fd, &mut buf) {
        Ok(_) => u64::from_ne_bytes(buf),
        Err(rustix::io::Errno::AGAIN) => 0,
        Err(e) => panic!("read eventfd: {e}"),
    }
}

/// Reads until `WouldBlock` (or end of file); returns the number of bytes read.
pub fn drain<R: Read>(mut r: R) -> usize {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// Writes until `WouldBlock`; returns the number of bytes written.
pub fn fill<W: Write>(mut w: W) -> usize {
    let buf = [0xa5u8; 4096];
    let mut total = 0;
    loop {
        match w.write(&buf) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return total,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("write failed: {e}"),
        }
    }
}

/// Reads exactly `len` bytes from a non-blocking reader registered with `poll`, polling
/// (bounded) whenever it would block.
#[track_caller]
pub fn read_exact_polling<R: Read>(
    poll: &mut Poll,
    events: &mut Events,
    mut r: R,
    len: usize,
) -> Vec<u8> {
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < len {
        match r.read(&mut buf) {
            Ok(0) => panic!("unexpected end of file after {} bytes", out.len()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "timed out reading {len} bytes");
                let _ = poll_once(poll, events, Some(POLL_STEP));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read failed: {e}"),
        }
    }
    out
}

// ---- added for Windows by the core-tests port ----

/// A connected stream pair for the readiness tests of `Poll`/`Registry`/`Events`: `local` is
/// registered (through `Source for Pair`), `peer` is written to and read from.
///
/// Unix: a Unix stream pair, `local` registered as a raw fd (`SourceFd`, what these tests
/// have always used). Windows has no raw-handle source (readiness comes from AFD on a socket
/// mio owns), so there it is a loopback TCP connection with `local` a `mio::net::TcpStream`;
/// reading or writing `&pair.local` then goes through mio, whose `WouldBlock` re-arms.
#[cfg(any(unix, all(windows, feature = "net")))]
pub struct Pair {
    #[cfg(unix)]
    pub local: UnixStream,
    #[cfg(unix)]
    pub peer: UnixStream,
    #[cfg(windows)]
    pub local: mio::net::TcpStream,
    #[cfg(windows)]
    pub peer: std::net::TcpStream,
}

#[cfg(any(unix, all(windows, feature = "net")))]
impl Pair {
    /// Both ends non-blocking; on Windows also `TCP_NODELAY`, so a small write is sent at once.
    pub fn new() -> Pair {
        #[cfg(unix)]
        {
            let (local, peer) = unix_pair();
            Pair { local, peer }
        }
        #[cfg(windows)]
        {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let peer =
                std::net::TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
            let (local, _) = listener.accept().expect("accept");
            for s in [&local, &peer] {
                s.set_nonblocking(true).unwrap();
                s.set_nodelay(true).unwrap();
            }
            Pair {
                local: mio::net::TcpStream::from_std(local),
                peer,
            }
        }
    }
}

#[cfg(any(unix, all(windows, feature = "net")))]
impl mio::event::Source for Pair {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            mio::unix::SourceFd(&self.local.as_raw_fd()).register(registry, token, interests)
        }
        #[cfg(windows)]
        {
            self.local.register(registry, token, interests)
        }
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            mio::unix::SourceFd(&self.local.as_raw_fd()).reregister(registry, token, interests)
        }
        #[cfg(windows)]
        {
            self.local.reregister(registry, token, interests)
        }
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            mio::unix::SourceFd(&self.local.as_raw_fd()).deregister(registry)
        }
        #[cfg(windows)]
        {
            self.local.deregister(registry)
        }
    }
}

#[cfg(windows)]
/// The handles this process has open: `GetProcessHandleCount` on Windows; under Wine (whose
/// `GetProcessHandleCount` always answers 0) the count from the system handle table.
pub fn handle_count() -> usize {
    if running_under_wine() {
        return fd_count();
    }
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessHandleCount};
    let mut count = 0u32;
    // SAFETY: the pseudo-handle of the current process is always valid; `count` is a valid
    // out-pointer.
    let ok = unsafe { GetProcessHandleCount(GetCurrentProcess(), &mut count) };
    assert_ne!(
        ok,
        0,
        "GetProcessHandleCount: {}",
        io::Error::last_os_error()
    );
    count as usize
}

// ---- libkqueue (`--cfg mio_unsupported_test_libkqueue`): fd accounting and closing ----
//
// Two ways in which libkqueue, the user-space kqueue over epoll that this test-only cfg runs
// the kqueue selector on, differs from the BSDs' and macOS's kqueue(2) where fds are counted or
// closed (line numbers are of libkqueue's snapshot in ../shared/vendor/libkqueue):
//
// - A kqueue is several fds, freed after `close` returns. kqueue() opens an epoll instance and
//   a close-detection pipe whose write end is the queue fd (src/linux/platform.c:587, 601,
//   638) and its EVFILT_SIGNAL filter's eventfd (src/common/evfilt_signal.h:468); the first
//   live queue also starts the signal dispatch thread with a socket pair and a signalfd
//   (src/common/evfilt_signal.h:296, 494, stopped with the last queue at 532;
//   src/common/evfilt_signalfd.c:63), and the process's first queue opens the monitoring
//   thread's epoll instance and drain eventfd, kept until exit (src/linux/platform.c:677, 682).
//   Closing the queue fd only wakes the monitoring thread, which frees the rest later ("The
//   normal close-cleanup path is asynchronous", src/linux/platform.c:502). On the BSDs a kqueue
//   is one fd, freed by close(2).
// - close(2) does not remove knotes. kqueue(2): "Calling close() on a file descriptor will
//   remove any kevents that reference the descriptor." libkqueue keeps its knotes in a table
//   keyed by the ident number (`kn = knote_lookup(filt, src->ident)`, src/common/kevent.c:206)
//   and cannot see a close: the knote of a source dropped while registered stays, and the next
//   fd to get that number is refused by `register` (`AlreadyExists`: the crate's probe finds
//   the knote), while EV_DELETE / EV_ENABLE on a closed fd answer `ENOENT` from the table
//   ("no knote found", src/common/kevent.c:250) where kqueue(2) says "[EBADF] The specified
//   descriptor is invalid".

/// libkqueue: fds one `kqueue()` opens for itself (epoll, the two pipe ends, the signal
/// filter's eventfd); see above.
#[cfg(mio_unsupported_test_libkqueue)]
pub const LIBKQUEUE_FDS_PER_QUEUE: usize = 4;
/// libkqueue: fds open while at least one queue lives (the signal dispatch thread's socket
/// pair and signalfd); see above.
#[cfg(mio_unsupported_test_libkqueue)]
pub const LIBKQUEUE_FDS_WHILE_ANY_QUEUE: usize = 3;
/// libkqueue: fds the process's first `kqueue()` opens and keeps until exit (the monitoring
/// thread's epoll instance and drain eventfd); see above.
#[cfg(mio_unsupported_test_libkqueue)]
pub const LIBKQUEUE_FDS_PER_PROCESS: usize = 2;

/// What each open fd of this process points to (`/proc/self/fd`), for failure messages.
#[cfg(unix)]
pub fn fd_targets() -> Vec<String> {
    let mut fds: Vec<(i32, String)> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|entry| {
            let fd = entry.ok()?.file_name().to_str()?.parse().ok()?;
            Some((fd, fd_target(fd).unwrap_or_else(|e| e.to_string())))
        })
        .collect();
    fds.sort();
    fds.into_iter()
        .map(|(fd, target)| format!("{fd}: {target}"))
        .collect()
}

/// The number of open fds, once it is `expected`. Over libkqueue, whose dropped queues are
/// freed by its monitoring thread after `close` returns (see above), this waits for that: it
/// re-counts (yielding in between, bounded by `EXPECT_TIMEOUT`) until the count is `expected`
/// and returns the last count, for the caller to assert on. Elsewhere it counts once: closing
/// an epoll or kqueue fd (or anything else) frees it before `close` returns.
pub fn fd_count_settled(expected: usize) -> usize {
    #[cfg(mio_unsupported_test_libkqueue)]
    {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        loop {
            let now = fd_count();
            if now == expected || Instant::now() >= deadline {
                return now;
            }
            std::thread::yield_now();
        }
    }
    #[cfg(not(mio_unsupported_test_libkqueue))]
    {
        let _ = expected;
        fd_count()
    }
}

/// Over libkqueue: creates and drops one `Poll` and waits (bounded) until that queue's fds are
/// freed, asserting how many it opened and that only the per-process ones stay. Call it before
/// taking a count that dropped `Poll`s are compared with, so that the count already includes
/// the fds libkqueue keeps for the rest of the process. Nothing elsewhere.
#[track_caller]
pub fn libkqueue_warm_up() {
    #[cfg(all(mio_unsupported_test_libkqueue, feature = "os-poll"))]
    {
        let before = fd_count();
        let poll = Poll::new().expect("Poll::new");
        let opened = fd_count() - before;
        drop(poll);
        let queue = LIBKQUEUE_FDS_PER_QUEUE;
        let first_live = queue + LIBKQUEUE_FDS_WHILE_ANY_QUEUE;
        let kept = match opened {
            // The process's first queue: the per-process fds stay.
            n if n == first_live + LIBKQUEUE_FDS_PER_PROCESS => LIBKQUEUE_FDS_PER_PROCESS,
            // No other queue lives, or one does.
            n if n == first_live || n == queue => 0,
            n => panic!(
                "libkqueue: a new Poll opened {n} fds, expected {queue}, {first_live} or {}: \
                 {:#?}",
                first_live + LIBKQUEUE_FDS_PER_PROCESS,
                fd_targets()
            ),
        };
        let now = fd_count_settled(before + kept);
        assert_eq!(
            now,
            before + kept,
            "libkqueue: {} fds of a dropped Poll still open after {EXPECT_TIMEOUT:?}: {:#?}",
            now as isize - (before + kept) as isize,
            fd_targets()
        );
    }
}

/// Over libkqueue: deregisters `source`, which must be registered, before the caller closes
/// it. libkqueue cannot see a close (see above): without this, the knote of a source dropped
/// while registered would stay and refuse the next fd with the same number. Nothing elsewhere:
/// there, dropping a registered source ends its registration, as the tests check.
pub fn libkqueue_deregister_before_close<S>(
    registry: &mio::Registry,
    source: &mut S,
) -> io::Result<()>
where
    S: mio::event::Source + ?Sized,
{
    #[cfg(mio_unsupported_test_libkqueue)]
    {
        registry.deregister(source)
    }
    #[cfg(not(mio_unsupported_test_libkqueue))]
    {
        let _ = (registry, source);
        Ok(())
    }
}

/// The errors of a misused registration, for `source` registered with `registry` under
/// `token`: registering it again is `AlreadyExists`; once deregistered, deregistering or
/// reregistering it is `NotFound`. Leaves it deregistered.
#[track_caller]
pub fn assert_lifecycle_errors<S>(registry: &mio::Registry, source: &mut S, token: Token)
where
    S: mio::event::Source + ?Sized,
{
    let err = registry
        .register(source, token, mio::Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
    registry.deregister(source).unwrap();
    let err = registry.deregister(source).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    let err = registry
        .reregister(source, token, mio::Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
}

/// A new `Poll` with `source` registered readable under `token`, and an `Events` for it.
pub fn registered<S: mio::event::Source>(mut source: S, token: Token) -> (Poll, Events, S) {
    let poll = Poll::new().expect("Poll::new");
    poll.registry()
        .register(&mut source, token, mio::Interest::READABLE)
        .expect("register");
    (poll, Events::with_capacity(16), source)
}

/// A fresh named-pipe name per call: `tag` (the test binary's), the process id and a counter,
/// so parallel tests and concurrent runs never meet.
#[cfg(windows)]
pub fn pipe_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        r"\\.\pipe\mio-test-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Opens the client end of the named pipe `name` for overlapped I/O, as a `NamedPipe`.
#[cfg(all(windows, feature = "os-ext"))]
pub fn open_client(name: &str) -> mio::windows::NamedPipe {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::{FromRawHandle, IntoRawHandle};
    use windows_sys::Win32::Storage::FileSystem::FILE_FLAG_OVERLAPPED;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(FILE_FLAG_OVERLAPPED)
        .open(name)
        .unwrap_or_else(|e| panic!("open the client end of {name}: {e}"));
    // SAFETY: the handle is a pipe client end opened with FILE_FLAG_OVERLAPPED, owned (taken
    // from the `File`), and not associated with any completion port.
    unsafe { mio::windows::NamedPipe::from_raw_handle(file.into_raw_handle()) }
}
