//! `mio-bench --udp-bulk`: bulk UDP over loopback, 1200-byte datagrams, one sender and one
//! receiver thread, each on its own `Poll`. Datagrams per second and syscalls per datagram
//! for each way of moving them:
//!
//! | variant | send | receive |
//! |---|---|---|
//! | `upstream_single` | upstream mio's `send_to`, one per datagram | `recv_from`, one per datagram |
//! | `ours_single` | this crate's `send_to` | `recv_from` |
//! | `ours_batch` | `send_batch` of 64 (`sendmmsg`) | `recv_batch` of 64 (`recvmmsg`) |
//! | `ours_gso` | `send_batch` of messages of 48 segments (`UDP_SEGMENT`) | `recv_batch` with receive offload (`UDP_GRO`) |
//! | `quinn_plain` | quinn-udp 0.6 `try_send`, one `Transmit` per datagram | quinn-udp's `recv` |
//! | `quinn_gso` | quinn-udp `try_send` of 48-segment `Transmit`s (GSO) | quinn-udp's `recv` (GRO) |
//!
//! quinn-udp is used as a black box on a socket made by this crate (`mio::net::UdpSocket`,
//! lent to it by reference), registered like the others.
//!
//! Flow control keeps it loss-free: the sender stays at most `WINDOW` datagrams ahead of what
//! the receiver counted (the receiver's buffer is raised to hold a window), and waits on its
//! `Poll` (woken by the receiver through a `Waker`) when it is that far ahead. The same loop
//! runs every variant; only the send and receive calls differ.
//!
//! Syscalls per datagram: the variant run alone under `strace -f -c` (both threads) for `n`
//! and `2n` datagrams; the difference over `n` (setup cancels out).

use std::io::{self, ErrorKind, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use mio::net::{RecvDatagram, SendDatagram};

use crate::imp::{Imp, Ours, Upstream};
use crate::scenarios::{poll_wait, Gate, Measure, Sample};

/// Bytes per datagram (QUIC's usual size).
const SIZE: usize = 1200;
/// Segments per offloaded message (48 × 1200 = 57 600 bytes, under the 65 507 limit).
const SEGMENTS: usize = 48;
/// Datagrams the sender may be ahead of the receiver.
const WINDOW: u64 = 1024;
/// The receiver's `SO_RCVBUF` request (Linux doubles it; capped by `net.core.rmem_max`).
const RCVBUF: usize = 4 << 20;

/// The variants, in the table's order.
pub const VARIANTS: &[(&str, &str)] = &[
    (
        "upstream_single",
        "(a) upstream mio 1.2.5: `send_to` / `recv_from`, one syscall per datagram",
    ),
    (
        "ours_single",
        "(a) this crate: `send_to` / `recv_from`, one syscall per datagram",
    ),
    (
        "ours_batch",
        "(b) this crate: `send_batch` / `recv_batch`, 64 per call (`sendmmsg` / `recvmmsg`)",
    ),
    (
        "ours_gso",
        "(c) this crate: `send_batch` of 48-segment messages (`UDP_SEGMENT`) / `recv_batch` with `set_recv_offload` (`UDP_GRO`)",
    ),
    (
        "quinn_plain",
        "(d) quinn-udp 0.6: one `Transmit` per datagram (`sendmsg`) / its `recv`",
    ),
    (
        "quinn_gso",
        "(d) quinn-udp 0.6: 48-segment `Transmit`s (GSO) / its `recv` (GRO)",
    ),
];

/// The send and receive calls of one variant: `send(budget)` sends up to `budget` datagrams
/// and returns how many it sent (0 when the socket is full); `recv()` receives until
/// `WouldBlock` and returns how many datagrams it got.
type SendFn<'a> = Box<dyn FnMut(u64) -> io::Result<u64> + Send + 'a>;
type RecvFn<'a> = Box<dyn FnMut() -> io::Result<u64> + Send + 'a>;

/// One timed run of `variant` moving `n` datagrams.
pub fn run(variant: &str, n: u64) -> io::Result<Sample> {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let payload = vec![0x5au8; SIZE * SEGMENTS];
    match variant {
        "upstream_single" => {
            let tx = upstream_mio::net::UdpSocket::bind(any)?;
            let rx = upstream_mio::net::UdpSocket::bind(any)?;
            let to = rx.local_addr()?;
            raise_rcvbuf(&rx)?;
            let mut buf = vec![0u8; 2048];
            bulk::<Upstream>(
                n,
                rx.as_raw_fd(),
                Box::new(move |budget| {
                    single_send(budget, |b| tx.send_to(b, to), &payload[..SIZE])
                }),
                Box::new(move || single_recv(|| rx.recv_from(&mut buf).map(drop))),
            )
        }
        "ours_single" => {
            let tx = mio::net::UdpSocket::bind(any)?;
            let rx = mio::net::UdpSocket::bind(any)?;
            let to = rx.local_addr()?;
            raise_rcvbuf(&rx)?;
            let mut buf = vec![0u8; 2048];
            bulk::<Ours>(
                n,
                rx.as_raw_fd(),
                Box::new(move |budget| {
                    single_send(budget, |b| tx.send_to(b, to), &payload[..SIZE])
                }),
                Box::new(move || single_recv(|| rx.recv_from(&mut buf).map(drop))),
            )
        }
        "ours_batch" | "ours_gso" => {
            let gso = variant == "ours_gso";
            let tx = mio::net::UdpSocket::bind(any)?;
            let rx = mio::net::UdpSocket::bind(any)?;
            let to = rx.local_addr()?;
            raise_rcvbuf(&rx)?;
            if gso && !(tx.send_offload() && rx.set_recv_offload(true)?) {
                return Err(io::Error::other("no segmentation offload here"));
            }
            let fd = rx.as_raw_fd();
            let (slots, slot_size) = if gso { (8, 65_535) } else { (64, 2048) };
            let send: SendFn<'_> = if gso {
                Box::new(move |budget| ours_gso_send(&tx, to, &payload, budget))
            } else {
                Box::new(move |budget| ours_batch_send(&tx, to, &payload[..SIZE], budget))
            };
            let mut storage = vec![0u8; slots * slot_size];
            // Made once: the receive loop reuses them (nothing allocated per call).
            let mut slots: Vec<_> = storage
                .chunks_mut(slot_size)
                .map(RecvDatagram::new)
                .collect();
            bulk::<Ours>(n, fd, send, Box::new(move || ours_recv(&rx, &mut slots)))
        }
        "quinn_plain" | "quinn_gso" => {
            let gso = variant == "quinn_gso";
            let tx = mio::net::UdpSocket::bind(any)?;
            let rx = mio::net::UdpSocket::bind(any)?;
            let to = rx.local_addr()?;
            raise_rcvbuf(&rx)?;
            let tx_state = quinn_udp::UdpSocketState::new((&tx).into())?;
            let rx_state = quinn_udp::UdpSocketState::new((&rx).into())?;
            if gso && (tx_state.max_gso_segments() < SEGMENTS || rx_state.gro_segments() < 2) {
                return Err(io::Error::other("quinn-udp finds no offload here"));
            }
            let segments = if gso { SEGMENTS } else { 1 };
            let fd = rx.as_raw_fd();
            let mut storage = vec![0u8; 8 * 65_535];
            let mut bufs: Vec<IoSliceMut<'_>> =
                storage.chunks_mut(65_535).map(IoSliceMut::new).collect();
            bulk::<Ours>(
                n,
                fd,
                Box::new(move |budget| quinn_send(&tx_state, &tx, to, &payload, segments, budget)),
                Box::new(move || quinn_recv(&rx_state, &rx, &mut bufs)),
            )
        }
        other => Err(io::Error::other(format!(
            "unknown UDP bulk variant {other}"
        ))),
    }
}

/// `SO_RCVBUF` large enough for a window of datagrams.
fn raise_rcvbuf(socket: &impl std::os::fd::AsFd) -> io::Result<()> {
    Ok(rustix::net::sockopt::set_socket_recv_buffer_size(
        socket, RCVBUF,
    )?)
}

/// One send call per datagram until `budget` or a full socket.
fn single_send(
    budget: u64,
    mut send: impl FnMut(&[u8]) -> io::Result<usize>,
    datagram: &[u8],
) -> io::Result<u64> {
    for sent in 0..budget {
        match send(datagram) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(sent),
            Err(e) => return Err(e),
        }
    }
    Ok(budget)
}

/// One receive call per datagram until `WouldBlock`.
fn single_recv(mut recv: impl FnMut() -> io::Result<()>) -> io::Result<u64> {
    let mut got = 0;
    loop {
        match recv() {
            Ok(()) => got += 1,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// `send_batch` of up to 64 single datagrams per call.
fn ours_batch_send(
    tx: &mio::net::UdpSocket,
    to: SocketAddr,
    datagram: &[u8],
    budget: u64,
) -> io::Result<u64> {
    let msgs = [SendDatagram::new(datagram).to(to); mio::net::UdpSocket::MAX_BATCH];
    let mut sent = 0;
    while sent < budget {
        let k = (budget - sent).min(msgs.len() as u64) as usize;
        match tx.send_batch(&msgs[..k]) {
            Ok(done) => sent += done as u64,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// `send_batch` of up to 8 messages of `SEGMENTS` datagrams each (the last one shorter to
/// fit the budget).
fn ours_gso_send(
    tx: &mio::net::UdpSocket,
    to: SocketAddr,
    payload: &[u8],
    budget: u64,
) -> io::Result<u64> {
    let mut sent = 0;
    while sent < budget {
        let mut msgs = [SendDatagram::new(&[]); 8];
        let mut count = 0;
        let mut planned = 0;
        while count < msgs.len() && sent + planned < budget {
            let k = (budget - sent - planned).min(SEGMENTS as u64) as usize;
            msgs[count] = SendDatagram::new(&payload[..k * SIZE])
                .to(to)
                .segment_size(SIZE);
            planned += k as u64;
            count += 1;
        }
        match tx.send_batch(&msgs[..count]) {
            Ok(done) => {
                sent += msgs[..done]
                    .iter()
                    .map(|m| (m.buf().len() / SIZE) as u64)
                    .sum::<u64>();
                if done < count {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// `recv_batch` until `WouldBlock`, counting coalesced datagrams one by one.
fn ours_recv(rx: &mio::net::UdpSocket, slots: &mut [RecvDatagram<'_>]) -> io::Result<u64> {
    let mut got = 0;
    loop {
        match rx.recv_batch(slots) {
            Ok(n) => {
                got += slots[..n]
                    .iter()
                    .map(|s| s.datagrams().count() as u64)
                    .sum::<u64>()
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// quinn-udp's `try_send`, one `Transmit` of `segments` datagrams (or fewer, to fit the budget)
/// per call.
fn quinn_send(
    state: &quinn_udp::UdpSocketState,
    tx: &mio::net::UdpSocket,
    to: SocketAddr,
    payload: &[u8],
    segments: usize,
    budget: u64,
) -> io::Result<u64> {
    let mut sent = 0;
    while sent < budget {
        let k = (budget - sent).min(segments as u64) as usize;
        let transmit = quinn_udp::Transmit {
            destination: to,
            ecn: None,
            contents: &payload[..k * SIZE],
            segment_size: (k > 1).then_some(SIZE),
            src_ip: None,
        };
        match state.try_send(tx.into(), &transmit) {
            Ok(()) => sent += k as u64,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// quinn-udp's `recv` into 8 buffers of 64 KiB until `WouldBlock`, counting datagrams by
/// stride.
fn quinn_recv(
    state: &quinn_udp::UdpSocketState,
    rx: &mio::net::UdpSocket,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<u64> {
    let mut got = 0;
    let mut meta = [quinn_udp::RecvMeta::default(); 8];
    loop {
        match state.recv(rx.into(), bufs, &mut meta) {
            Ok(n) => {
                for m in &meta[..n] {
                    got += m.len.div_ceil(m.stride.max(1)) as u64;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(got),
            Err(e) => return Err(e),
        }
    }
}

/// The loop every variant runs: a sender thread and a receiver thread, each with its own
/// `Poll` of implementation `I`, `n` datagrams, at most `WINDOW` in flight.
fn bulk<'a, I: Imp>(
    n: u64,
    rx_fd: i32,
    mut send: SendFn<'a>,
    mut recv: RecvFn<'a>,
) -> io::Result<Sample> {
    const RX: usize = 0;
    const WAKE: usize = 1;
    let received = AtomicU64::new(0);
    let sender_waiting = AtomicBool::new(false);
    let failed = AtomicBool::new(false);
    let ready = Gate::new(3);
    let mut sender_poll = I::new_poll()?;
    let waker = I::new_waker(&sender_poll, WAKE)?;
    thread::scope(|s| {
        let (received, sender_waiting, failed, ready, waker) =
            (&received, &sender_waiting, &failed, &ready, &waker);
        let receiver = s.spawn(move || -> io::Result<()> {
            let mut poll = I::new_poll()?;
            let mut events = I::new_events(16);
            I::register_fd(&poll, rx_fd, RX)?;
            ready.wait()?;
            let mut total = 0;
            let mut idle_since = Instant::now();
            while total < n && !failed.load(Ordering::Relaxed) {
                let got = recv()?;
                if got > 0 {
                    total += got;
                    idle_since = Instant::now();
                    received.store(total, Ordering::Release);
                    if sender_waiting.load(Ordering::Acquire) {
                        I::wake(waker)?;
                    }
                    continue;
                }
                if idle_since.elapsed() > Duration::from_secs(5) {
                    failed.store(true, Ordering::Relaxed);
                    return Err(io::Error::other(format!(
                        "{} of {n} datagrams arrived: lost on loopback",
                        total
                    )));
                }
                poll_wait::<I>(&mut poll, &mut events, Some(Duration::from_millis(100)))?;
            }
            Ok(())
        });
        let sender = s.spawn(move || -> io::Result<()> {
            let mut events = I::new_events(16);
            ready.wait()?;
            let mut sent = 0;
            while sent < n && !failed.load(Ordering::Relaxed) {
                let room = WINDOW.saturating_sub(sent - received.load(Ordering::Acquire));
                if room == 0 {
                    sender_waiting.store(true, Ordering::Release);
                    // Re-check after announcing: the receiver may have moved meanwhile.
                    if sent - received.load(Ordering::Acquire) >= WINDOW {
                        poll_wait::<I>(
                            &mut sender_poll,
                            &mut events,
                            Some(Duration::from_millis(100)),
                        )?;
                    }
                    sender_waiting.store(false, Ordering::Release);
                    continue;
                }
                let k = send(room.min(n - sent))?;
                if k == 0 {
                    // A full send buffer (loopback does not push back, but a send may):
                    // a moment, then again.
                    poll_wait::<I>(
                        &mut sender_poll,
                        &mut events,
                        Some(Duration::from_millis(1)),
                    )?;
                }
                sent += k;
            }
            Ok(())
        });
        ready.wait()?;
        let m = Measure::start();
        let r = receiver.join().expect("receiver panicked");
        let sample = m.finish(n as f64);
        failed.store(true, Ordering::Relaxed);
        let t = sender.join().expect("sender panicked");
        r?;
        t?;
        Ok(sample)
    })
}

/// Syscalls per datagram of `variant`: `strace -f -c` of `--udp-bulk-one variant --iters n`
/// and of `2n`, the difference over `n`.
pub fn syscalls_per_datagram(variant: &str, n: u64) -> Option<f64> {
    let a = strace_total(variant, n)?;
    let b = strace_total(variant, 2 * n)?;
    Some((b - a) / n as f64)
}

/// The total of `strace -f -c`'s table for one run.
fn strace_total(variant: &str, n: u64) -> Option<f64> {
    let exe = crate::self_exe().ok()?;
    let file = std::env::temp_dir().join(format!(
        "mio-bench-{}-udp-{variant}-{n}.out",
        std::process::id()
    ));
    let file_s = file.to_str()?.to_string();
    let n_s = n.to_string();
    crate::command(
        "strace",
        &[
            "-f",
            "-c",
            "-o",
            &file_s,
            exe.to_str()?,
            "--udp-bulk-one",
            variant,
            "--iters",
            &n_s,
        ],
    )?;
    let text = std::fs::read_to_string(&file).ok();
    let _ = std::fs::remove_file(&file);
    // The last line: "100.00 secs ... calls [errors] total".
    let total = text?
        .lines()
        .rev()
        .find(|l| l.trim_end().ends_with("total"))?
        .split_whitespace()
        .collect::<Vec<_>>()
        .get(3)?
        .parse()
        .ok()?;
    Some(total)
}

/// What the report shows for one variant.
pub struct Row {
    pub id: &'static str,
    pub label: &'static str,
    /// Datagrams per second of each round.
    pub rates: Vec<f64>,
    /// CPU microseconds (the process: both threads, user + system) per datagram, each round.
    pub cpu_us: Vec<f64>,
    pub syscalls: Option<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// Every variant, interleaved, `rounds` rounds of `n` datagrams, then the syscall counts.
pub fn measure(rounds: usize, n: u64, strace_n: u64) -> io::Result<Vec<Row>> {
    let mut rows: Vec<Row> = VARIANTS
        .iter()
        .map(|&(id, label)| Row {
            id,
            label,
            rates: Vec::new(),
            cpu_us: Vec::new(),
            syscalls: None,
        })
        .collect();
    for round in 0..rounds {
        for k in 0..rows.len() {
            let i = (round + k) % rows.len();
            let s =
                run(rows[i].id, n).map_err(|e| io::Error::other(format!("{}: {e}", rows[i].id)))?;
            let rate = s.work / s.secs;
            eprintln!(
                "  round {:>2}/{rounds} {:<16} {:>12.0} datagrams/s",
                round + 1,
                rows[i].id,
                rate
            );
            rows[i].rates.push(rate);
            rows[i].cpu_us.push(s.cpu * 1e6 / s.work);
        }
    }
    for row in &mut rows {
        row.syscalls = syscalls_per_datagram(row.id, strace_n);
    }
    Ok(rows)
}

/// The markdown section (kept in `bench/udp_bulk.md` and placed in `BENCHMARKS.md`).
pub fn section(rows: &[Row], rounds: usize, n: u64, strace_n: u64, when: &str) -> String {
    use std::fmt::Write;
    let rate = |id: &str| {
        rows.iter()
            .find(|r| r.id == id)
            .map(|r| median(&r.rates))
            .unwrap_or(f64::NAN)
    };
    let (ours_a, up_a) = (rate("ours_single"), rate("upstream_single"));
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "## UDP bulk over loopback (this crate's extension)\n");
    let _ = writeln!(
        w,
        "1200-byte datagrams from one sender thread to one receiver thread over loopback, each \
         on its own `Poll` (epoll), the sender at most {WINDOW} datagrams ahead of the receiver \
         (woken through a `Waker` when it waits), so nothing is lost; {n} datagrams a run, \
         {rounds} interleaved rounds, the median (and range) of datagrams per second. Syscalls \
         per datagram: `strace -f -c` (both threads) of runs of {strace_n} and {} datagrams, \
         the difference over {strace_n}. quinn-udp 0.6 is used as a black box on sockets made \
         by this crate. `bench/run --udp-bulk --write` rewrites this section ({when}).\n",
        2 * strace_n
    );
    let _ = writeln!(
        w,
        "| variant | datagrams/s (median) | range | × (a) ours | × (a) upstream | syscalls per datagram | CPU µs per datagram (median) |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    for row in rows {
        let m = median(&row.rates);
        let lo = row.rates.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = row.rates.iter().cloned().fold(0.0, f64::max);
        let sys = row
            .syscalls
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(
            w,
            "| {} | {:.0} | {:.0}–{:.0} | {:.2} | {:.2} | {sys} | {:.2} |",
            row.label,
            m,
            lo,
            hi,
            m / ours_a,
            m / up_a,
            median(&row.cpu_us)
        );
    }
    let check = |id: &str, factor: f64| {
        let r = rate(id) / ours_a;
        format!(
            "{:.2}× (target ≥ {factor}×: {})",
            r,
            if r >= factor { "met" } else { "**not met**" }
        )
    };
    let _ = writeln!(
        w,
        "\nTargets against (a) ours: (b) batched {}, (c) GSO+GRO {}. Against quinn-udp: (b) / \
         quinn plain {:.2}×, (c) / quinn GSO {:.2}×.\n",
        check("ours_batch", 2.0),
        check("ours_gso", 4.0),
        rate("ours_batch") / rate("quinn_plain"),
        rate("ours_gso") / rate("quinn_gso"),
    );
    let cpu = |id: &str| {
        rows.iter()
            .find(|r| r.id == id)
            .map(|r| median(&r.cpu_us))
            .unwrap_or(f64::NAN)
    };
    let _ = writeln!(
        w,
        "What bounds (b) on loopback: each datagram still makes the whole trip through the \
         kernel (IP output, the loopback device, the receive softirq (run on the \
         sending CPU), the socket queue and the receiver's wake-up); batching removes the \
         syscall entries only. The CPU column shows it: (a) costs {:.2} µs of CPU per datagram, \
         (b) {:.2} µs, though (b) makes {:.0}× fewer syscalls. Segmentation offload is what \
         removes the per-datagram trip (one buffer goes through the stack and is cut, or kept \
         whole for a receiver with `UDP_GRO`): (c) {:.2} µs. Where the CPU goes, from \
         `perf record`: the next section (bench/udp_profile.md).\n",
        cpu("ours_single"),
        cpu("ours_batch"),
        rows.iter()
            .find(|r| r.id == "ours_single")
            .and_then(|r| r.syscalls)
            .unwrap_or(f64::NAN)
            / rows
                .iter()
                .find(|r| r.id == "ours_batch")
                .and_then(|r| r.syscalls)
                .unwrap_or(f64::NAN),
        cpu("ours_gso"),
    );
    s
}

/// The heading `section` starts with, to find it in `BENCHMARKS.md`.
pub const HEADING: &str = "## UDP bulk over loopback (this crate's extension)";
