//! The scenarios: each one generic over [`Imp`], so the three implementations run the very
//! same logic. Every scenario sets up untimed, then times a fixed workload and returns a
//! [`Sample`]: seconds, units of work, and the heap allocations made meanwhile (all threads).

use std::io::{self, ErrorKind};
#[cfg(unix)]
use std::net::TcpListener as StdListener;
use std::net::{SocketAddr, TcpStream as StdStream};
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::alloc;
use crate::imp::{AsRawSource, Imp, Want};

/// What one timed run measured.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Seconds of the timed part (wall clock).
    pub secs: f64,
    /// CPU seconds the whole process (every thread, user + system) used in the timed part.
    pub cpu: f64,
    /// Units of work done in it (operations, bytes, events: see the scenario's unit).
    pub work: f64,
    /// Heap allocations made during the timed part, by every thread.
    pub allocs: u64,
    /// Scenario-specific figures (the scale scenario's memory numbers).
    pub extra: Vec<(&'static str, f64)>,
}

/// CPU time used so far by the whole process (all threads, user + system), in seconds.
#[cfg(unix)]
pub fn cpu_now() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable `timespec` for the duration of the call, which only
    // writes it.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return 0.0;
    }
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// CPU time used so far by the whole process (all threads, user + system), in seconds:
/// `GetProcessTimes`, in 100 ns units but advanced by the scheduler's tick (10 ms under Wine,
/// which reads it from Linux; 15.6 ms on Windows).
#[cfg(windows)]
pub fn cpu_now() -> f64 {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};
    let zero = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: the four FILETIMEs are valid and writable for the call, which only writes them;
    // the pseudo-handle of the current process needs no closing.
    let ok = unsafe {
        GetProcessTimes(
            GetCurrentProcess(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    if ok == 0 {
        return 0.0;
    }
    let secs = |t: FILETIME| {
        ((u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime)) as f64 * 1e-7
    };
    secs(kernel) + secs(user)
}

/// Times a stretch of code (wall clock and process CPU time) and counts its allocations.
pub(crate) struct Measure {
    start: Instant,
    cpu: f64,
    heap: alloc::Snapshot,
}

impl Measure {
    pub(crate) fn start() -> Measure {
        let heap = alloc::snapshot();
        let cpu = cpu_now();
        Measure {
            start: Instant::now(),
            cpu,
            heap,
        }
    }

    pub(crate) fn finish(self, work: f64) -> Sample {
        let secs = self.start.elapsed().as_secs_f64();
        let cpu = cpu_now() - self.cpu;
        let heap = alloc::snapshot() - self.heap;
        Sample {
            secs,
            cpu,
            work,
            allocs: heap.allocs,
            extra: Vec::new(),
        }
    }
}

const LOCALHOST: &str = "127.0.0.1:0";

fn localhost() -> SocketAddr {
    LOCALHOST.parse().unwrap()
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

/// `poll`, retried on `EINTR`.
#[inline]
pub(crate) fn poll_wait<I: Imp>(
    poll: &mut I::Poll,
    events: &mut I::Events,
    timeout: Option<Duration>,
) -> io::Result<()> {
    loop {
        match I::poll(poll, events, timeout) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Polls (blocking) until an event with `token` arrives.
#[inline]
fn wait_token<I: Imp>(poll: &mut I::Poll, events: &mut I::Events, token: usize) -> io::Result<()> {
    loop {
        poll_wait::<I>(poll, events, None)?;
        let mut seen = false;
        I::for_each(events, |e| seen |= e.token == token && e.readable);
        if seen {
            return Ok(());
        }
    }
}

/// A raw fd as `BorrowedFd`, for socket options the trait does not cover.
#[cfg(unix)]
fn borrow(fd: &impl AsRawFd) -> BorrowedFd<'_> {
    // SAFETY: `fd` is an open fd owned by the value borrowed for the returned lifetime.
    unsafe { BorrowedFd::borrow_raw(fd.as_raw_fd()) }
}

/// Closing with `SO_LINGER` 0 resets the connection instead of leaving a TIME_WAIT socket
/// behind: thousands of connections per round would otherwise pile up. Set on a listener, it
/// is inherited by the accepted sockets.
#[cfg(unix)]
fn linger_zero(fd: &impl AsRawSource) -> io::Result<()> {
    Ok(rustix::net::sockopt::set_socket_linger(
        borrow(fd),
        Some(Duration::ZERO),
    )?)
}

/// Windows: `setsockopt(SO_LINGER, {1, 0})`, as above.
#[cfg(windows)]
fn linger_zero(socket: &impl AsRawSource) -> io::Result<()> {
    use windows_sys::Win32::Networking::WinSock::{
        setsockopt, WSAGetLastError, LINGER, SOCKET, SOL_SOCKET, SO_LINGER,
    };
    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `socket` is an open socket owned by the borrowed value; `linger` is a valid
    // LINGER for the call, which only reads `size_of::<LINGER>()` bytes of it.
    let rc = unsafe {
        setsockopt(
            socket.as_raw_socket() as SOCKET,
            SOL_SOCKET,
            SO_LINGER,
            (&raw const linger).cast::<u8>(),
            std::mem::size_of::<LINGER>() as i32,
        )
    };
    if rc != 0 {
        // SAFETY: no preconditions; reads this thread's last Winsock error.
        return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
    }
    Ok(())
}

/// A barrier that gives up: if the other thread failed before reaching it, waiting ends with
/// an error after 30 s instead of hanging the run.
pub struct Gate {
    arrived: Mutex<usize>,
    all: Condvar,
    parties: usize,
}

impl Gate {
    pub fn new(parties: usize) -> Gate {
        Gate {
            arrived: Mutex::new(0),
            all: Condvar::new(),
            parties,
        }
    }

    pub fn wait(&self) -> io::Result<()> {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        if *arrived >= self.parties {
            self.all.notify_all();
            return Ok(());
        }
        let (arrived, timeout) = self
            .all
            .wait_timeout_while(arrived, Duration::from_secs(30), |a| *a < self.parties)
            .unwrap();
        drop(arrived);
        if timeout.timed_out() {
            Err(bad("the other thread of the scenario never got ready"))
        } else {
            Ok(())
        }
    }
}

/// Runs scenario `id` with workload `n` on implementation `I`.
pub fn run<I: Imp>(id: &str, n: u64) -> io::Result<Sample> {
    match id {
        "waker_local" => waker_local::<I>(n),
        "waker_cross" => waker_cross::<I>(n),
        "tcp_pingpong_1" => tcp_pingpong::<I>(1, n),
        "tcp_pingpong_64" => tcp_pingpong::<I>(64, n),
        "tcp_stream_1" => tcp_stream::<I>(1, n),
        "tcp_stream_16" => tcp_stream::<I>(16, n),
        "udp_echo" => udp_echo::<I>(n),
        "reg_dereg" => reg_dereg::<I>(n),
        "poll_1000_ready" => poll_ready::<I>(n),
        "empty_poll" => empty_poll::<I>(n),
        "timeout_100us" => timeout_100us::<I>(n),
        "accept_storm" => accept_storm::<I>(n),
        #[cfg(unix)]
        "scale" => scale::<I>(n),
        _ => Err(bad(format!("unknown scenario {id}"))),
    }
}

// --- 1. Waker ---------------------------------------------------------------------------------

/// `n` times: wake, then `poll(None)` until the waker's event: one thread.
fn waker_local<I: Imp>(n: u64) -> io::Result<Sample> {
    const TOKEN: usize = 7;
    let mut poll = I::new_poll()?;
    let mut events = I::new_events(16);
    let waker = I::new_waker(&poll, TOKEN)?;
    for _ in 0..1000 {
        I::wake(&waker)?;
        wait_token::<I>(&mut poll, &mut events, TOKEN)?;
    }
    let m = Measure::start();
    for _ in 0..n {
        I::wake(&waker)?;
        wait_token::<I>(&mut poll, &mut events, TOKEN)?;
    }
    Ok(m.finish(n as f64))
}

/// Two threads, each blocked in `poll(None)`, waking each other `n` times each way: the unit
/// is one wake → the other thread's `poll` returns (half a round trip).
fn waker_cross<I: Imp>(n: u64) -> io::Result<Sample> {
    const A: usize = 1;
    const B: usize = 2;
    const WARM: u64 = 200;
    let mut poll_a = I::new_poll()?;
    let mut poll_b = I::new_poll()?;
    let waker_a = I::new_waker(&poll_a, A)?;
    let waker_b = I::new_waker(&poll_b, B)?;
    thread::scope(|s| {
        let waker_a = &waker_a;
        let b = s.spawn(move || -> io::Result<()> {
            let mut events = I::new_events(16);
            for _ in 0..WARM + n {
                wait_token::<I>(&mut poll_b, &mut events, B)?;
                I::wake(waker_a)?;
            }
            Ok(())
        });
        let mut events = I::new_events(16);
        let mut run = |count: u64| -> io::Result<()> {
            for _ in 0..count {
                I::wake(&waker_b)?;
                wait_token::<I>(&mut poll_a, &mut events, A)?;
            }
            Ok(())
        };
        run(WARM)?;
        let m = Measure::start();
        run(n)?;
        let sample = m.finish(2.0 * n as f64);
        b.join().expect("waker thread panicked")?;
        Ok(sample)
    })
}

// --- 2. TCP ping-pong -------------------------------------------------------------------------

const MSG: [u8; 64] = [0x5a; 64];
const LISTENER: usize = usize::MAX;

/// Accepts (through the event loop) until `count` streams are registered readable with tokens
/// `0..count`.
fn accept_n<I: Imp>(
    poll: &mut I::Poll,
    listener: &mut I::Listener,
    count: usize,
    nodelay: bool,
) -> io::Result<Vec<I::Stream>> {
    let mut events = I::new_events(256);
    I::register_listener(poll, listener, LISTENER)?;
    let mut streams = Vec::with_capacity(count);
    while streams.len() < count {
        poll_wait::<I>(poll, &mut events, Some(Duration::from_secs(10)))?;
        if I::for_each(&events, |_| {}) == 0 {
            return Err(bad("accept timed out"));
        }
        loop {
            match I::accept(listener) {
                Ok(mut stream) => {
                    if nodelay {
                        I::set_nodelay(&stream)?;
                    }
                    I::register_stream(poll, &mut stream, streams.len(), Want::Read)?;
                    streams.push(stream);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(streams)
}

/// The echo side: accepts `conns`, then echoes everything until every peer has closed.
fn echo_server<I: Imp>(
    mut poll: I::Poll,
    mut listener: I::Listener,
    conns: usize,
    ready: &Gate,
) -> io::Result<()> {
    let streams = accept_n::<I>(&mut poll, &mut listener, conns, true)?;
    let mut streams: Vec<Option<I::Stream>> = streams.into_iter().map(Some).collect();
    let mut events = I::new_events(1024);
    // Everything is allocated before the barrier: the client's timed part starts after it.
    ready.wait()?;
    let mut open = conns;
    let mut buf = [0u8; 4096];
    let mut error = None;
    while open > 0 {
        poll_wait::<I>(&mut poll, &mut events, None)?;
        I::for_each(&events, |e| {
            let Some(stream) = streams.get(e.token).and_then(Option::as_ref) else {
                return;
            };
            let mut closed = false;
            loop {
                match I::read(stream, &mut buf) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    // 64 bytes in flight per connection always fit in the send buffer.
                    Ok(k) => match I::write(stream, &buf[..k]) {
                        Ok(w) if w == k => {}
                        other => {
                            error = Some(bad(format!("echo write: {other:?}")));
                            break;
                        }
                    },
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            if closed {
                streams[e.token] = None;
                open -= 1;
            }
        });
        if let Some(e) = error.take() {
            return Err(e);
        }
    }
    Ok(())
}

/// `conns` connections, one 64-byte message in flight on each; `n` round trips in all. Both
/// sides are event loops of the implementation under test, on two threads.
fn tcp_pingpong<I: Imp>(conns: usize, n: u64) -> io::Result<Sample> {
    let per = (n / conns as u64).max(1);
    let listener = I::bind(localhost())?;
    let addr = I::local_addr(&listener)?;
    let server_poll = I::new_poll()?;
    let ready = Gate::new(2);
    thread::scope(|s| {
        let ready = &ready;
        let server = s.spawn(move || echo_server::<I>(server_poll, listener, conns, ready));
        let result = (|| {
            let mut poll = I::new_poll()?;
            let mut clients = Vec::with_capacity(conns);
            for i in 0..conns {
                let stream = StdStream::connect(addr)?;
                stream.set_nonblocking(true)?;
                stream.set_nodelay(true)?;
                let mut stream = I::stream_from_std(stream);
                I::register_stream(&poll, &mut stream, i, Want::Read)?;
                clients.push(stream);
            }
            let mut events = I::new_events(1024);
            let mut left = vec![per; conns];
            let mut got = vec![0usize; conns];
            let mut done = 0;
            let mut buf = [0u8; 4096];
            let mut error = None;
            ready.wait()?;
            let m = Measure::start();
            for c in &clients {
                I::write(c, &MSG)?;
            }
            while done < conns {
                poll_wait::<I>(&mut poll, &mut events, None)?;
                I::for_each(&events, |e| {
                    let c = e.token;
                    loop {
                        match I::read(&clients[c], &mut buf) {
                            Ok(0) => {
                                error = Some(bad("server closed"));
                                break;
                            }
                            Ok(k) => {
                                got[c] += k;
                                if got[c] == MSG.len() {
                                    got[c] = 0;
                                    left[c] -= 1;
                                    if left[c] == 0 {
                                        done += 1;
                                    } else if let Err(e) = I::write(&clients[c], &MSG) {
                                        error = Some(e);
                                        break;
                                    }
                                }
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                });
                if let Some(e) = error.take() {
                    return Err(e);
                }
            }
            let sample = m.finish((per * conns as u64) as f64);
            drop(clients);
            Ok(sample)
        })();
        let served = server.join().expect("echo server panicked");
        let sample = result?;
        served?;
        Ok(sample)
    })
}

// --- 3. TCP streaming -------------------------------------------------------------------------

const CHUNK: usize = 64 * 1024;

/// `conns` connections; a writer thread pushes `n` bytes in all (64 KiB writes) and this
/// thread reads them (64 KiB reads). Timed on the reader, from the start signal to the last
/// byte.
fn tcp_stream<I: Imp>(conns: usize, n: u64) -> io::Result<Sample> {
    let per = (n / conns as u64).max(1);
    let mut listener = I::bind(localhost())?;
    let addr = I::local_addr(&listener)?;
    let ready = Gate::new(2);
    thread::scope(|s| {
        let ready = &ready;
        let writer = s.spawn(move || -> io::Result<()> {
            let mut poll = I::new_poll()?;
            let mut streams = Vec::with_capacity(conns);
            for i in 0..conns {
                let stream = StdStream::connect(addr)?;
                stream.set_nonblocking(true)?;
                let mut stream = I::stream_from_std(stream);
                I::register_stream(&poll, &mut stream, i, Want::Write)?;
                streams.push(stream);
            }
            let data = vec![0xa5u8; CHUNK];
            let mut left = vec![per; conns];
            let mut done = 0;
            let mut events = I::new_events(1024);
            let mut error = None;
            ready.wait()?;
            while done < conns {
                poll_wait::<I>(&mut poll, &mut events, None)?;
                I::for_each(&events, |e| {
                    let c = e.token;
                    while e.writable && left[c] > 0 {
                        let len = left[c].min(CHUNK as u64) as usize;
                        match I::write(&streams[c], &data[..len]) {
                            Ok(w) => {
                                left[c] -= w as u64;
                                if left[c] == 0 {
                                    done += 1;
                                }
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                });
                if let Some(e) = error.take() {
                    return Err(e);
                }
            }
            Ok(())
        });
        let result = (|| {
            let mut poll = I::new_poll()?;
            let streams = accept_n::<I>(&mut poll, &mut listener, conns, false)?;
            let mut events = I::new_events(1024);
            let mut buf = vec![0u8; CHUNK];
            let mut got = vec![0u64; conns];
            let mut done = 0;
            let mut error = None;
            ready.wait()?;
            let m = Measure::start();
            while done < conns {
                poll_wait::<I>(&mut poll, &mut events, Some(Duration::from_secs(10)))?;
                if I::for_each(&events, |_| {}) == 0 {
                    return Err(bad("stream timed out"));
                }
                I::for_each(&events, |e| {
                    let Some(stream) = streams.get(e.token) else {
                        return;
                    };
                    loop {
                        match I::read(stream, &mut buf) {
                            Ok(0) => break,
                            Ok(k) => {
                                got[e.token] += k as u64;
                                if got[e.token] == per {
                                    done += 1;
                                }
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                });
                if let Some(e) = error.take() {
                    return Err(e);
                }
            }
            Ok(m.finish((per * conns as u64) as f64))
        })();
        let wrote = writer.join().expect("writer panicked");
        let sample = result?;
        wrote?;
        Ok(sample)
    })
}

// --- 4. UDP echo ------------------------------------------------------------------------------

const UDP_WINDOW: u64 = 8;
const STOP: u8 = 0xff;

/// `n` 64-byte datagrams echoed by a server thread, with 8 in flight; the unit is one datagram
/// back at the client.
fn udp_echo<I: Imp>(n: u64) -> io::Result<Sample> {
    let mut server = I::udp_bind(localhost())?;
    let server_addr = I::udp_local_addr(&server)?;
    let ready = Gate::new(2);
    thread::scope(|s| {
        let ready = &ready;
        let echo = s.spawn(move || -> io::Result<()> {
            let setup = (|| {
                let poll = I::new_poll()?;
                I::register_udp(&poll, &mut server, 0)?;
                Ok::<_, io::Error>((poll, I::new_events(64)))
            })();
            let (mut poll, mut events) = setup?;
            let mut buf = [0u8; 2048];
            ready.wait()?;
            loop {
                poll_wait::<I>(&mut poll, &mut events, None)?;
                loop {
                    match I::udp_recv_from(&server, &mut buf) {
                        Ok((k, _)) if k > 0 && buf[0] == STOP => return Ok(()),
                        Ok((k, from)) => {
                            if I::udp_send_to(&server, &buf[..k], from)? != k {
                                return Err(bad("short echo"));
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        });
        let result = (|| {
            let mut poll = I::new_poll()?;
            let mut socket = I::udp_bind(localhost())?;
            I::udp_connect(&socket, server_addr)?;
            I::register_udp(&poll, &mut socket, 0)?;
            let mut events = I::new_events(64);
            let mut buf = [0u8; 2048];
            ready.wait()?;
            let m = Measure::start();
            let mut sent = 0;
            let mut received = 0;
            while sent < UDP_WINDOW.min(n) {
                I::udp_send(&socket, &MSG)?;
                sent += 1;
            }
            while received < n {
                poll_wait::<I>(&mut poll, &mut events, Some(Duration::from_secs(10)))?;
                if I::for_each(&events, |_| {}) == 0 {
                    return Err(bad("a datagram was lost (10 s without an echo)"));
                }
                loop {
                    match I::udp_recv(&socket, &mut buf) {
                        Ok(_) => {
                            received += 1;
                            if sent < n {
                                I::udp_send(&socket, &MSG)?;
                                sent += 1;
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            let sample = m.finish(n as f64);
            I::udp_send(&socket, &[STOP])?;
            Ok(sample)
        })();
        if result.is_err() {
            // Unblock the echo thread so the scope can end.
            let stop = std::net::UdpSocket::bind(LOCALHOST)?;
            stop.send_to(&[STOP], server_addr)?;
        }
        let echoed = echo.join().expect("echo thread panicked");
        let sample = result?;
        echoed?;
        Ok(sample)
    })
}

// --- 5. Register + deregister -----------------------------------------------------------------

pub const REG_SOURCES: usize = 10_000;

/// `n` passes of: register 10 000 sources (unbound Unix datagram sockets, readable and
/// writable), then deregister them all. The unit is one register + deregister pair.
fn reg_dereg<I: Imp>(n: u64) -> io::Result<Sample> {
    let poll = I::new_poll()?;
    let mut sources = (0..REG_SOURCES)
        .map(|_| I::dgram())
        .collect::<io::Result<Vec<_>>>()?;
    let pass = |sources: &mut Vec<I::Dgram>| -> io::Result<()> {
        for (i, source) in sources.iter_mut().enumerate() {
            I::register_dgram(&poll, source, i)?;
        }
        for source in sources.iter_mut() {
            I::deregister_dgram(&poll, source)?;
        }
        Ok(())
    };
    pass(&mut sources)?;
    let m = Measure::start();
    for _ in 0..n {
        pass(&mut sources)?;
    }
    Ok(m.finish((n * REG_SOURCES as u64) as f64))
}

// --- 6. poll with 1 000 ready sources ---------------------------------------------------------

pub const READY_SOURCES: usize = 1000;

/// 1 000 eventfds registered readable; before each of `n` polls (untimed) each gets a write,
/// so `poll(Some(0))` with capacity 1 024 returns all 1 000. Timed: the `poll` calls and
/// reading every event's token and readiness. The unit is one event.
#[cfg(unix)]
fn poll_ready<I: Imp>(n: u64) -> io::Result<Sample> {
    use rustix::event::{eventfd, EventfdFlags};
    // Made before the poll, so they outlive it (dropped after it): `polling` requires its
    // sources to stay open while registered.
    let fds = (0..READY_SOURCES)
        .map(|_| eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK))
        .collect::<Result<Vec<OwnedFd>, _>>()?;
    let mut poll = I::new_poll()?;
    let mut events = I::new_events(1024);
    for (i, fd) in fds.iter().enumerate() {
        I::register_fd(&poll, fd.as_raw_fd(), i)?;
    }
    let one = 1u64.to_ne_bytes();
    let mut timed = Duration::ZERO;
    let mut cpu = 0.0;
    let mut checksum = 0usize;
    let heap = alloc::snapshot();
    for round in 0..n + 10 {
        for fd in &fds {
            rustix::io::write(fd, &one)?;
        }
        let cpu_start = cpu_now();
        let start = Instant::now();
        poll_wait::<I>(&mut poll, &mut events, Some(Duration::ZERO))?;
        let mut readable = 0;
        I::for_each(&events, |e| {
            checksum = checksum.wrapping_add(e.token);
            readable += e.readable as usize;
        });
        if round >= 10 {
            timed += start.elapsed();
            cpu += cpu_now() - cpu_start;
        }
        if readable != READY_SOURCES {
            return Err(bad(format!("{readable} of {READY_SOURCES} sources ready")));
        }
    }
    std::hint::black_box(checksum);
    Ok(Sample {
        secs: timed.as_secs_f64(),
        cpu,
        work: (n * READY_SOURCES as u64) as f64,
        allocs: (alloc::snapshot() - heap).allocs,
        extra: Vec::new(),
    })
}

/// Windows (no eventfd): 1 000 UDP sockets bound to loopback ports, registered readable; before
/// each of `n` rounds (after one untimed) a 1-byte datagram is sent to each, then 2 ms pass so that the
/// (emulated) kernel has completed the sockets' AFD polls. Timed: `poll(Some(10 s))` with
/// capacity 1 024 until all 1 000 are reported (reading every event's token and readiness),
/// then draining each socket (`recv_from` until `WouldBlock`), which is where a Windows source
/// is re-armed: the two crates may re-arm at either step, so both are timed. The unit is one
/// event (one source reported and drained).
#[cfg(windows)]
fn poll_ready<I: Imp>(n: u64) -> io::Result<Sample> {
    let mut poll = I::new_poll()?;
    let mut events = I::new_events(1024);
    let mut sockets = (0..READY_SOURCES)
        .map(|_| I::udp_bind(localhost()))
        .collect::<io::Result<Vec<_>>>()?;
    let addrs = sockets
        .iter()
        .map(I::udp_local_addr)
        .collect::<io::Result<Vec<_>>>()?;
    for (i, socket) in sockets.iter_mut().enumerate() {
        I::register_udp(&poll, socket, i)?;
    }
    let sender = std::net::UdpSocket::bind(LOCALHOST)?;
    let mut seen = vec![false; READY_SOURCES];
    let mut buf = [0u8; 64];
    let mut timed = Duration::ZERO;
    let mut cpu = 0.0;
    let mut polls = 0u64;
    let mut checksum = 0usize;
    let heap = alloc::snapshot();
    // One untimed round only: a round can take seconds under Wine (see BENCHMARKS.md).
    const WARM: u64 = 1;
    for round in 0..n + WARM {
        for addr in &addrs {
            sender.send_to(b"x", addr)?;
        }
        thread::sleep(Duration::from_millis(2));
        seen.fill(false);
        let cpu_start = cpu_now();
        let start = Instant::now();
        let mut readable = 0;
        let mut calls = 0;
        while readable < READY_SOURCES {
            poll_wait::<I>(&mut poll, &mut events, Some(Duration::from_secs(10)))?;
            calls += 1;
            let k = I::for_each(&events, |e| {
                checksum = checksum.wrapping_add(e.token);
                if e.readable && !std::mem::replace(&mut seen[e.token], true) {
                    readable += 1;
                }
            });
            if k == 0 {
                return Err(bad(format!(
                    "{readable} of {READY_SOURCES} sources reported in 10 s"
                )));
            }
        }
        for socket in &sockets {
            loop {
                match I::udp_recv_from(socket, &mut buf) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if round >= WARM {
            timed += start.elapsed();
            cpu += cpu_now() - cpu_start;
            polls += calls;
        }
    }
    std::hint::black_box(checksum);
    Ok(Sample {
        secs: timed.as_secs_f64(),
        cpu,
        work: (n * READY_SOURCES as u64) as f64,
        allocs: (alloc::snapshot() - heap).allocs,
        extra: vec![("polls_per_round", polls as f64 / n as f64)],
    })
}

// --- 7. Empty poll ----------------------------------------------------------------------------

/// `n` calls of `poll(Some(0))` on a `Poll` with nothing registered (capacity 1 024).
fn empty_poll<I: Imp>(n: u64) -> io::Result<Sample> {
    let mut poll = I::new_poll()?;
    let mut events = I::new_events(1024);
    for _ in 0..1000 {
        poll_wait::<I>(&mut poll, &mut events, Some(Duration::ZERO))?;
    }
    let m = Measure::start();
    let mut seen = 0;
    for _ in 0..n {
        poll_wait::<I>(&mut poll, &mut events, Some(Duration::ZERO))?;
        seen += I::for_each(&events, |_| {});
    }
    if seen != 0 {
        return Err(bad("an empty poll returned events"));
    }
    Ok(m.finish(n as f64))
}

/// `n` calls of `poll(Some(100 µs))` with one idle socket registered: the unit is the time one
/// call really waits. Upstream rounds every timeout up to whole milliseconds (epoll_wait's
/// unit); this crate waits at the precision asked where the OS allows it (`epoll_pwait2`), so
/// about 100 µs plus the kernel's timer slack (50 µs by default).
fn timeout_100us<I: Imp>(n: u64) -> io::Result<Sample> {
    const WAIT: Duration = Duration::from_micros(100);
    let mut poll = I::new_poll()?;
    let mut events = I::new_events(16);
    let mut idle = I::udp_bind(localhost())?;
    I::register_udp(&poll, &mut idle, 1)?;
    for _ in 0..50 {
        poll_wait::<I>(&mut poll, &mut events, Some(WAIT))?;
    }
    let m = Measure::start();
    let mut seen = 0;
    for _ in 0..n {
        poll_wait::<I>(&mut poll, &mut events, Some(WAIT))?;
        seen += I::for_each(&events, |_| {});
    }
    if seen != 0 {
        return Err(bad("an idle poll returned events"));
    }
    Ok(m.finish(n as f64))
}

// --- 8. Accept storm --------------------------------------------------------------------------

/// At most this many connections wait in the accept queue (the backlog is 128): without a
/// bound, a connecting thread that runs ahead overflows the queue and the kernel's SYN retry
/// (one second) would dominate the result.
const ACCEPT_WINDOW: u64 = 100;

/// A client thread makes `n` connections (blocking `connect`, then close); this thread's event
/// loop accepts each and closes it. The unit is one accepted connection.
fn accept_storm<I: Imp>(n: u64) -> io::Result<Sample> {
    let mut poll = I::new_poll()?;
    let mut listener = I::bind(localhost())?;
    linger_zero(&listener)?;
    let addr = I::local_addr(&listener)?;
    I::register_listener(&poll, &mut listener, LISTENER)?;
    let accepted = AtomicU64::new(0);
    let client_failed = AtomicBool::new(false);
    let server_failed = AtomicBool::new(false);
    let ready = Gate::new(2);
    thread::scope(|s| {
        let (accepted, ready) = (&accepted, &ready);
        let (client_failed, server_failed) = (&client_failed, &server_failed);
        let client = s.spawn(move || -> io::Result<()> {
            let result = (|| {
                ready.wait()?;
                for i in 0..n {
                    while i >= accepted.load(Ordering::Acquire) + ACCEPT_WINDOW {
                        if server_failed.load(Ordering::Acquire) {
                            return Ok(());
                        }
                        // A sleep, not a spin: the process CPU time must count the work.
                        thread::sleep(Duration::from_micros(20));
                    }
                    match StdStream::connect(addr) {
                        Ok(stream) => drop(stream),
                        // The server accepted and reset the connection (SO_LINGER 0) before
                        // this thread got back from `connect`: it was made all the same.
                        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            })();
            if result.is_err() {
                client_failed.store(true, Ordering::Release);
            }
            result
        });
        let result = (|| {
            let mut events = I::new_events(256);
            ready.wait()?;
            let m = Measure::start();
            let mut count = 0;
            let mut idle = 0;
            while count < n {
                poll_wait::<I>(&mut poll, &mut events, Some(Duration::from_secs(1)))?;
                if I::for_each(&events, |_| {}) == 0 {
                    idle += 1;
                    if client_failed.load(Ordering::Acquire) {
                        return Err(bad("the connecting thread failed"));
                    }
                    if idle == 10 {
                        return Err(bad(format!("stalled: {count} of {n} accepted")));
                    }
                }
                loop {
                    match I::accept(&listener) {
                        Ok(stream) => {
                            drop(stream);
                            count += 1;
                            accepted.store(count, Ordering::Release);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Ok(m.finish(n as f64))
        })();
        if result.is_err() {
            server_failed.store(true, Ordering::Release);
        }
        let connected = client.join().expect("client panicked");
        connected?;
        result
    })
}

// --- 9. Scale ---------------------------------------------------------------------------------

/// The target of the scale scenario, in connections.
#[cfg(unix)]
pub const SCALE_TARGET: usize = 100_000;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (an unprivileged process cannot go
/// further); returns the soft limit in force.
#[cfg(unix)]
pub fn raise_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let want = limit.maximum.unwrap_or(1 << 20);
    if limit.current != Some(want) {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(want),
                maximum: limit.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(want)
}

/// `--quick`: the scale scenario makes at most this many connections.
#[cfg(unix)]
const SCALE_QUICK: usize = 2_000;

static QUICK: AtomicBool = AtomicBool::new(false);

pub fn set_quick(quick: bool) {
    QUICK.store(quick, Ordering::Relaxed);
}

/// How many connections the scale scenario makes: both ends are in this process and both are
/// registered, so two fds (and two sources) each, plus a few fds of slack.
#[cfg(unix)]
pub fn scale_connections() -> usize {
    let limit = raise_nofile() as usize;
    let target = if QUICK.load(Ordering::Relaxed) {
        SCALE_QUICK
    } else {
        SCALE_TARGET
    };
    target.min(limit.saturating_sub(64) / 2)
}

/// Resident set size: `VmRSS` of `/proc/self/status` (the same figure as the second field of
/// `/proc/self/statm`, already in kB, so no page size is needed).
#[cfg(unix)]
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// As many loopback connections as the fd limit allows (up to 100 000), both ends registered
/// readable and idle; then `n` rounds of: 1 byte written to 1% of the registered sources
/// (untimed), `poll` until all of them are reported (timed), drain (untimed). The unit is one
/// such round. Also measures the heap and RSS cost of registering.
#[cfg(unix)]
fn scale<I: Imp>(n: u64) -> io::Result<Sample> {
    let conns = scale_connections();
    let sources = 2 * conns;
    let active = (sources / 100).max(1);
    let rss_start = rss_bytes();
    let listener = StdListener::bind(LOCALHOST)?;
    linger_zero(&listener)?;
    let addr = listener.local_addr()?;
    let mut clients: Vec<I::Stream> = Vec::with_capacity(conns);
    let mut servers: Vec<I::Stream> = Vec::with_capacity(conns);
    for _ in 0..conns {
        let client = StdStream::connect(addr)?;
        let (server, _) = listener.accept()?;
        client.set_nonblocking(true)?;
        server.set_nonblocking(true)?;
        clients.push(I::stream_from_std(client));
        servers.push(I::stream_from_std(server));
    }
    drop(listener);
    let mut poll = I::new_poll()?;
    let mut events = I::new_events(1024);

    let rss_before = rss_bytes();
    let heap_before = alloc::snapshot();
    let start = Instant::now();
    for (i, stream) in servers.iter_mut().enumerate() {
        I::register_stream(&poll, stream, i, Want::Read)?;
    }
    for (i, stream) in clients.iter_mut().enumerate() {
        I::register_stream(&poll, stream, conns + i, Want::Read)?;
    }
    let register_secs = start.elapsed().as_secs_f64();
    let heap_reg = alloc::snapshot() - heap_before;
    let rss_after = rss_bytes();

    let mut buf = [0u8; 64];
    let mut timed = Duration::ZERO;
    let mut cpu = 0.0;
    let heap = alloc::snapshot();
    for round in 0..n {
        for m in 0..active {
            let i = (round as usize * active + m) % conns;
            if I::write(&clients[i], b"x")? != 1 {
                return Err(bad("short write"));
            }
        }
        let cpu_start = cpu_now();
        let start = Instant::now();
        let mut seen = 0;
        while seen < active {
            poll_wait::<I>(&mut poll, &mut events, Some(Duration::from_secs(10)))?;
            let k = I::for_each(&events, |e| {
                seen += (e.token < conns && e.readable) as usize
            });
            if k == 0 {
                return Err(bad("scale: poll timed out"));
            }
        }
        timed += start.elapsed();
        cpu += cpu_now() - cpu_start;
        for m in 0..active {
            let i = (round as usize * active + m) % conns;
            loop {
                match I::read(&servers[i], &mut buf) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let allocs = (alloc::snapshot() - heap).allocs;
    // Servers first: they reset (SO_LINGER 0, inherited), so no TIME_WAIT is left behind.
    drop(servers);
    drop(clients);
    Ok(Sample {
        secs: timed.as_secs_f64(),
        cpu,
        work: n as f64,
        allocs,
        extra: vec![
            ("connections", conns as f64),
            ("sources", sources as f64),
            ("active", active as f64),
            ("register_ns", register_secs * 1e9 / sources as f64),
            (
                "heap_bytes_per_source",
                heap_reg.bytes as f64 / sources as f64,
            ),
            (
                "heap_live_per_source",
                heap_reg.live as f64 / sources as f64,
            ),
            ("allocs_per_source", heap_reg.allocs as f64 / sources as f64),
            (
                "rss_register_per_source",
                rss_after.saturating_sub(rss_before) as f64 / sources as f64,
            ),
            (
                "rss_total_per_connection",
                rss_after.saturating_sub(rss_start) as f64 / conns as f64,
            ),
        ],
    })
}
