#![cfg(all(feature = "os-poll", feature = "net"))]
//! Segmentation offload on `UdpSocket` (extras of this crate): a segmented `SendDatagram`
//! leaves as datagrams of its segment size, the last one short (`UDP_SEGMENT` on Linux), a
//! receiver with receive offload gets them coalesced with the segment size (`UDP_GRO`), and
//! the fallbacks: forced by the test switch, and a kernel refusal remembered per socket.
//!
//! On loopback the kernel only coalesces what was sent as one segmented buffer, so a
//! coalesced receive proves the send was offloaded.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::{test_switch, RecvDatagram, SendDatagram, UdpSocket};
use mio::{Events, Interest, Poll, Token};

mod net_util;
use net_util::udp::Got;
use net_util::{any_local_address, any_local_ipv6_address};

const WAIT: Duration = Duration::from_secs(5);
/// A receive slot large enough for a coalesced receive.
const SLOT: usize = 65_535;

/// Whether this OS offloads: Linux and Android (every kernel this runs on is newer than 5.0),
/// and Windows (USO and URO since Windows 10 2004, which every supported Windows is) but not
/// Wine 8, which answers `WSAENOPROTOOPT` to `UDP_SEND_MSG_SIZE` and
/// `UDP_RECV_MAX_COALESCED_SIZE` (observed), so the fallbacks are in effect there.
fn offloads() -> bool {
    cfg!(any(target_os = "linux", target_os = "android"))
        || (cfg!(windows) && !net_util::running_under_wine())
}

/// Whether loopback coalesces an offloaded train into one receive: Linux's GRO does (see
/// the file notes); Windows' URO is not asserted to on loopback (it could not be run here).
const COALESCES_ON_LOOPBACK: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// Receives until `want` bytes arrived, in slots big enough for a coalesced receive; none
/// may be truncated.
fn recv_bytes(socket: &mut UdpSocket, want: usize) -> Vec<Got> {
    let got = net_util::udp::recv_bytes(socket, want, 4, SLOT);
    assert!(got.iter().all(|g| !g.truncated));
    got
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect()
}

fn pair(addr: SocketAddr) -> (UdpSocket, UdpSocket, SocketAddr) {
    let rx = UdpSocket::bind(addr).unwrap();
    let to = rx.local_addr().unwrap();
    (UdpSocket::bind(addr).unwrap(), rx, to)
}

/// The datagram lengths of what arrived (coalesced receives split by their segment size).
fn lengths(got: &[Got]) -> Vec<usize> {
    let mut lens = Vec::new();
    for g in got {
        match g.segment_size {
            Some(size) => lens.extend(g.data.chunks(size).map(<[u8]>::len)),
            None => lens.push(g.data.len()),
        }
    }
    lens
}

/// 3 500 bytes in segments of 1 200: 1 200, 1 200 and a short 1 100, to a receiver without
/// receive offload (the kernel hands it the segments one by one), over IPv4 and IPv6.
#[test]
fn segmented_send_with_a_short_last_segment() {
    for addr in [any_local_address(), any_local_ipv6_address()] {
        let (tx, mut rx, to) = pair(addr);
        assert_eq!(tx.send_offload(), offloads());
        let data = payload(3500, 1);
        let batch = [SendDatagram::new(&data).to(to).segment_size(1200)];
        assert_eq!(tx.send_batch(&batch).unwrap(), 1);
        let got = recv_bytes(&mut rx, data.len());
        assert_eq!(lengths(&got), [1200, 1200, 1100], "{addr}");
        assert!(got.iter().all(|g| g.segment_size.is_none()), "{addr}");
        let joined: Vec<u8> = got.iter().flat_map(|g| g.data.clone()).collect();
        assert_eq!(joined, data, "{addr}");
        assert_eq!(tx.send_offload(), offloads(), "{addr}: still in effect");
    }
}

/// A receiver with receive offload gets an offloaded train as one receive with its segment
/// size; the next message of the batch (another size) arrives on its own.
#[test]
fn coalesced_receive_reports_the_segment_size() {
    let (tx, mut rx, to) = pair(any_local_address());
    assert_eq!(rx.set_recv_offload(true).unwrap(), offloads());
    assert_eq!(rx.recv_offload().unwrap(), offloads());
    let train = payload(5300, 2);
    let single = payload(700, 3);
    let batch = [
        SendDatagram::new(&train).to(to).segment_size(1000),
        SendDatagram::new(&single).to(to),
    ];
    assert_eq!(tx.send_batch(&batch).unwrap(), 2);
    let got = recv_bytes(&mut rx, train.len() + single.len());
    assert_eq!(lengths(&got), [1000, 1000, 1000, 1000, 1000, 300, 700]);
    if COALESCES_ON_LOOPBACK {
        assert_eq!(got.len(), 2, "the train coalesced into one receive");
        assert_eq!((&got[0].data, got[0].segment_size), (&train, Some(1000)));
        assert_eq!((&got[1].data, got[1].segment_size), (&single, None));
    }
    let joined: Vec<u8> = got.iter().flat_map(|g| g.data.clone()).collect();
    assert_eq!(joined, [train, single].concat());
    // Off again: trains arrive as their datagrams.
    assert!(!rx.set_recv_offload(false).unwrap());
    assert!(!rx.recv_offload().unwrap());
}

/// `RecvDatagram::datagrams` walks a coalesced receive.
#[test]
fn datagrams_of_a_coalesced_receive() {
    let (tx, mut rx, to) = pair(any_local_address());
    rx.set_recv_offload(true).unwrap();
    let train = payload(2500, 4);
    let batch = [SendDatagram::new(&train).to(to).segment_size(1000)];
    assert_eq!(tx.send_batch(&batch).unwrap(), 1);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(4);
    poll.registry()
        .register(&mut rx, Token(0), Interest::READABLE)
        .unwrap();
    let mut storage = vec![0u8; SLOT];
    let mut slots = [RecvDatagram::new(&mut storage)];
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let deadline = Instant::now() + WAIT;
    while parts.concat().len() < train.len() {
        match rx.recv_batch(&mut slots) {
            Ok(_) => parts.extend(slots[0].datagrams().map(<[u8]>::to_vec)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline, "timed out");
                poll.poll(&mut events, Some(WAIT)).unwrap();
            }
            Err(e) => panic!("{e}"),
        }
    }
    let lens: Vec<usize> = parts.iter().map(Vec::len).collect();
    assert_eq!(lens, [1000, 1000, 500]);
    assert_eq!(parts.concat(), train);
}

/// With the fallback forced, nothing is offloaded, yet the results are the same datagrams:
/// a receiver that asked for receive offload is told it has none, and gets them one by one.
/// Many segments in a batch need several `sendmmsg` calls (more datagrams than one call
/// takes); every one arrives, in order.
#[test]
fn forced_fallback_sends_the_same_datagrams() {
    test_switch::force_offload_fallback(true);
    let (tx, mut rx, to) = pair(any_local_address());
    assert!(!tx.send_offload());
    assert!(!rx.set_recv_offload(true).unwrap());
    let bufs: Vec<Vec<u8>> = (0..UdpSocket::MAX_BATCH as u8)
        .map(|i| payload(250, i))
        .collect();
    let batch: Vec<_> = bufs
        .iter()
        .map(|b| SendDatagram::new(b).to(to).segment_size(100))
        .collect();
    assert_eq!(tx.send_batch(&batch).unwrap(), batch.len());
    let got = recv_bytes(&mut rx, 250 * bufs.len());
    assert_eq!(lengths(&got), [100, 100, 50].repeat(bufs.len()));
    assert!(got.iter().all(|g| g.segment_size.is_none()));
    let joined: Vec<u8> = got.iter().flat_map(|g| g.data.clone()).collect();
    assert_eq!(joined, bufs.concat());
    test_switch::force_offload_fallback(false);
    assert_eq!(tx.send_offload(), offloads());
}

/// A kernel refusal: with UDP checksums off (`SO_NO_CHECK`), Linux refuses a segmented send
/// (`EINVAL`). The send falls back by itself (the datagrams arrive), the socket remembers
/// it, and another socket (even one that gets the same fd number later) is not affected.
#[test]
#[cfg(any(target_os = "linux", target_os = "android"))]
fn kernel_refusal_falls_back_and_is_remembered() {
    use std::os::fd::AsRawFd;

    let (tx, mut rx, to) = pair(any_local_address());
    let one: libc::c_int = 1;
    // SAFETY: a valid socket and an `int` option value of the size given.
    let ret = unsafe {
        libc::setsockopt(
            tx.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NO_CHECK,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(ret, 0, "{}", io::Error::last_os_error());
    assert!(tx.send_offload(), "not refused yet");
    let data = payload(2200, 5);
    let batch = [SendDatagram::new(&data).to(to).segment_size(1000)];
    assert_eq!(tx.send_batch(&batch).unwrap(), 1);
    assert!(!tx.send_offload(), "the refusal is remembered");
    assert_eq!(tx.send_batch(&batch).unwrap(), 1);
    let got = recv_bytes(&mut rx, 2 * data.len());
    assert_eq!(lengths(&got), [1000, 1000, 200, 1000, 1000, 200]);
    assert_eq!(
        got.iter().flat_map(|g| g.data.clone()).collect::<Vec<u8>>(),
        data.repeat(2)
    );

    // Another socket is not refused.
    let fresh = UdpSocket::bind(any_local_address()).unwrap();
    assert!(fresh.send_offload());
    // Nor is another socket on the refused one's fd number: dup2(2) puts `fresh`'s socket
    // there (closing the refused one atomically, so no other test's fd is touched).
    // SAFETY: both fds are open sockets owned by this test.
    let ret = unsafe { libc::dup2(fresh.as_raw_fd(), tx.as_raw_fd()) };
    assert_eq!(ret, tx.as_raw_fd(), "{}", io::Error::last_os_error());
    assert!(tx.send_offload(), "a new socket on a refused fd number");
}
