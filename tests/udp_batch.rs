#![cfg(all(feature = "os-poll", feature = "net"))]
//! `UdpSocket::send_batch`/`recv_batch` (extras of this crate): mixed sizes and destinations,
//! partial batches, `WouldBlock` in the middle, truncation, bad input, and a loss-free run of
//! 1 000 000 sequenced datagrams over loopback. Every behaviour test runs twice: with the OS's
//! batch call (`sendmmsg`/`recvmmsg` on Linux) and with the portable loop forced by the
//! test-only switch (the path of the OSes without them).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::{test_switch, RecvDatagram, SendDatagram, UdpSocket};
use mio::{Events, Interest, Poll, Token};

mod net_util;
use net_util::udp::{both_paths, recv_n, Got};
use net_util::{any_local_address, any_local_ipv6_address};

/// How long a test waits for datagrams that were sent before it gives up.
const WAIT: Duration = Duration::from_secs(5);

fn bind(addr: SocketAddr) -> UdpSocket {
    UdpSocket::bind(addr).unwrap()
}

/// A sender, a receiver, and the receiver's address, on IPv4 loopback.
fn pair() -> (UdpSocket, UdpSocket, SocketAddr) {
    let rx = bind(any_local_address());
    let to = rx.local_addr().unwrap();
    (bind(any_local_address()), rx, to)
}

#[test]
fn mixed_sizes_and_destinations() {
    both_paths(|path| {
        let tx = bind(any_local_address());
        let mut rx: Vec<UdpSocket> = (0..3).map(|_| bind(any_local_address())).collect();
        let to: Vec<SocketAddr> = rx.iter().map(|s| s.local_addr().unwrap()).collect();
        // Sizes from empty to the largest a datagram carries, round-robin over 3 receivers.
        let sizes = [0usize, 1, 100, 1200, 1500, 9000, 65_507, 7, 1200, 3];
        let bufs: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| (i * 31 + j) as u8).collect())
            .collect();
        let msgs: Vec<SendDatagram<'_>> = bufs
            .iter()
            .enumerate()
            .map(|(i, b)| SendDatagram::new(b).to(to[i % 3]))
            .collect();
        assert_eq!(tx.send_batch(&msgs).unwrap(), msgs.len(), "{path}");
        let from = tx.local_addr().unwrap();
        for (r, socket) in rx.iter_mut().enumerate() {
            let expected: Vec<&Vec<u8>> = bufs.iter().skip(r).step_by(3).collect();
            let got = recv_n(socket, expected.len(), 4, 65_536);
            assert_eq!(got.len(), expected.len(), "{path}");
            for (
                Got {
                    data,
                    addr,
                    truncated,
                    ..
                },
                want,
            ) in got.iter().zip(expected)
            {
                assert_eq!(data, want, "{path}: receiver {r}");
                assert_eq!(*addr, from, "{path}");
                assert!(!truncated, "{path}");
            }
        }
    });
}

#[test]
fn ipv6_batch() {
    both_paths(|path| {
        let tx = bind(any_local_ipv6_address());
        let mut rx = bind(any_local_ipv6_address());
        let to = rx.local_addr().unwrap();
        let msgs: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; usize::from(i) * 50]).collect();
        let batch: Vec<_> = msgs.iter().map(|m| SendDatagram::new(m).to(to)).collect();
        assert_eq!(tx.send_batch(&batch).unwrap(), 20, "{path}");
        let got = recv_n(&mut rx, 20, 8, 2048);
        for (Got { data, addr, .. }, want) in got.iter().zip(&msgs) {
            assert_eq!(data, want, "{path}");
            assert_eq!(*addr, tx.local_addr().unwrap(), "{path}");
        }
    });
}

#[test]
fn connected_socket_sends_without_addresses() {
    both_paths(|path| {
        let tx = bind(any_local_address());
        let mut rx = bind(any_local_address());
        tx.connect(rx.local_addr().unwrap()).unwrap();
        let batch = [SendDatagram::new(b"a"), SendDatagram::new(b"bb")];
        assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{path}");
        let got = recv_n(&mut rx, 2, 4, 64);
        assert_eq!(got[0].data, b"a", "{path}");
        assert_eq!(got[1].data, b"bb", "{path}");
    });
}

/// Fewer datagrams queued than slots: the call returns what there was (the batch call met
/// `EAGAIN` after them), and the next call, with nothing left, is `WouldBlock`.
#[test]
fn partial_receive_then_would_block() {
    both_paths(|path| {
        let (tx, mut rx, to) = pair();
        let batch = [
            SendDatagram::new(b"1").to(to),
            SendDatagram::new(b"22").to(to),
            SendDatagram::new(b"333").to(to),
        ];
        assert_eq!(tx.send_batch(&batch).unwrap(), 3, "{path}");
        // Wait until all three are queued: a peek-free way is to receive them with one slot
        // each time after the first arrives; instead poll until readable, then take them in
        // one call with room for 8.
        let mut storage = [0u8; 8 * 64];
        let mut slots: Vec<_> = storage.chunks_mut(64).map(RecvDatagram::new).collect();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        poll.registry()
            .register(&mut rx, Token(1), Interest::READABLE)
            .unwrap();
        let mut got = Vec::new();
        let deadline = Instant::now() + WAIT;
        while got.len() < 3 {
            match rx.recv_batch(&mut slots) {
                Ok(n) => {
                    assert!(n <= 3 - got.len(), "{path}: {n} slots filled");
                    got.extend(slots[..n].iter().map(|s| s.data().to_vec()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "{path}: timed out");
                    poll.poll(&mut events, Some(WAIT)).unwrap();
                }
                Err(e) => panic!("{path}: {e}"),
            }
        }
        assert_eq!(
            got,
            [b"1".to_vec(), b"22".to_vec(), b"333".to_vec()],
            "{path}"
        );
        let err = rx.recv_batch(&mut slots).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{path}");
        // Slots past the count are left empty by the call.
        assert!(slots.iter().all(|s| s.is_empty()), "{path}");
        // Drained to `WouldBlock`: a new datagram is a new readable event (edge-triggered).
        tx.send_to(b"again", to).unwrap();
        let deadline = Instant::now() + WAIT;
        loop {
            poll.poll(&mut events, Some(WAIT)).unwrap();
            if events
                .iter()
                .any(|e| e.token() == Token(1) && e.is_readable())
            {
                break;
            }
            assert!(Instant::now() < deadline, "{path}: no readable event");
        }
        assert_eq!(rx.recv_batch(&mut slots).unwrap(), 1, "{path}");
        assert_eq!(slots[0].data(), b"again", "{path}");
    });
}

/// A message the kernel refuses in the middle of a batch ends the batch there: the messages
/// before it count as sent, and the next call, starting with it, reports its error.
#[test]
fn error_in_the_middle_of_a_send_ends_the_batch() {
    both_paths(|path| {
        let (tx, mut rx, to) = pair();
        // An IPv6 destination from an IPv4 socket: refused by the kernel, per message.
        let bad: SocketAddr = "[::1]:9".parse().unwrap();
        let batch = [
            SendDatagram::new(b"first").to(to),
            SendDatagram::new(b"second").to(to),
            SendDatagram::new(b"refused").to(bad),
            SendDatagram::new(b"after").to(to),
        ];
        assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{path}");
        let err = tx.send_batch(&batch[2..]).unwrap_err();
        assert_ne!(err.kind(), io::ErrorKind::WouldBlock, "{path}: {err}");
        assert_eq!(tx.send_batch(&batch[3..]).unwrap(), 1, "{path}");
        let got = recv_n(&mut rx, 3, 4, 64);
        let data: Vec<&[u8]> = got.iter().map(|g| &g.data[..]).collect();
        assert_eq!(data, [&b"first"[..], b"second", b"after"], "{path}");
    });
}

/// A datagram longer than its slot fills the slot, is flagged truncated (`MSG_TRUNC`), and
/// leaves the next datagram in the batch whole.
#[test]
fn truncation_is_reported_per_datagram() {
    both_paths(|path| {
        let (tx, mut rx, to) = pair();
        let long: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
        let batch = [
            SendDatagram::new(&long).to(to),
            SendDatagram::new(b"short").to(to),
            SendDatagram::new(&long[..100]).to(to),
        ];
        assert_eq!(tx.send_batch(&batch).unwrap(), 3, "{path}");
        let got = recv_n(&mut rx, 3, 3, 100);
        assert_eq!(got[0].data, long[..100], "{path}");
        assert!(
            got[0].truncated,
            "{path}: a 2000-byte datagram in 100 bytes is truncated"
        );
        assert_eq!(got[1].data, b"short", "{path}");
        assert!(!got[1].truncated, "{path}");
        // Exactly the buffer's size: whole, not truncated.
        assert_eq!(got[2].data, long[..100], "{path}");
        assert!(!got[2].truncated, "{path}");
    });
}

/// Segmented messages without offload in effect (the loop) leave as separate datagrams,
/// the last one short.
#[test]
fn segmented_message_arrives_as_its_segments() {
    both_paths(|path| {
        let (tx, mut rx, to) = pair();
        let payload: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
        let batch = [
            SendDatagram::new(&payload).to(to).segment_size(1000),
            SendDatagram::new(b"tail").to(to),
        ];
        assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{path}");
        // Up to 4 datagrams (or fewer, coalesced, if the receiver asked for it: not here).
        let got = recv_n(&mut rx, 4, 8, 4096);
        let lens: Vec<usize> = got.iter().map(|g| g.data.len()).collect();
        assert_eq!(lens, [1000, 1000, 500, 4], "{path}");
        let joined: Vec<u8> = got[..3].iter().flat_map(|g| g.data.clone()).collect();
        assert_eq!(joined, payload, "{path}");
    });
}

#[test]
fn bad_input_is_refused_before_sending() {
    both_paths(|path| {
        let (tx, rx, to) = pair();
        let one = [0u8; 1];
        let big = vec![0u8; 65_508];
        let many_segments = vec![0u8; UdpSocket::MAX_SEGMENTS + 1];
        let msg = |buf| SendDatagram::new(buf).to(to);
        let bad: [(&str, Vec<SendDatagram<'_>>); 6] = [
            ("too many", vec![msg(&one); UdpSocket::MAX_BATCH + 1]),
            ("over 65 507 bytes", vec![msg(&big)]),
            ("segment size 0", vec![msg(&one).segment_size(0)]),
            (
                "too many segments",
                vec![msg(&many_segments).segment_size(1)],
            ),
            (
                "segmented, over 65 507 bytes",
                vec![msg(&big).segment_size(1200)],
            ),
            // A good message before a bad one: nothing is sent (checked before any syscall).
            ("good then bad", vec![msg(&one), msg(&one).segment_size(0)]),
        ];
        for (what, msgs) in &bad {
            let err = tx.send_batch(msgs).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path}: {what}");
        }
        // The largest batch and an empty one are fine.
        let full = vec![msg(&one); UdpSocket::MAX_BATCH];
        assert_eq!(
            tx.send_batch(&full).unwrap(),
            UdpSocket::MAX_BATCH,
            "{path}"
        );
        assert_eq!(tx.send_batch(&[]).unwrap(), 0, "{path}");

        let mut storage = vec![0u8; (UdpSocket::MAX_BATCH + 1) * 8];
        let mut slots: Vec<_> = storage.chunks_mut(8).map(RecvDatagram::new).collect();
        let err = rx.recv_batch(&mut slots).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{path}");
        assert_eq!(rx.recv_batch(&mut []).unwrap(), 0, "{path}");
    });
}

/// Sequence numbers over loopback, in lock-step windows (a window is sent, then received in
/// full before the next, so the receive queue never overflows): every datagram arrives,
/// once, in order. See `LOSS_FREE_COUNT`; the loop fallback (one syscall per datagram) runs a
/// tenth of it.
fn loss_free(count: u64) {
    const WINDOW: usize = UdpSocket::MAX_BATCH;
    let (tx, mut rx, to) = pair();
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut rx, Token(0), Interest::READABLE)
        .unwrap();
    let mut out = [[0u8; 8]; WINDOW];
    let mut storage = vec![0u8; WINDOW * 16];
    let mut slots: Vec<_> = storage.chunks_mut(16).map(RecvDatagram::new).collect();
    let (mut next_send, mut next_recv) = (0u64, 0u64);
    while next_recv < count {
        let n = (count - next_send).min(WINDOW as u64) as usize;
        for (i, buf) in out[..n].iter_mut().enumerate() {
            *buf = (next_send + i as u64).to_le_bytes();
        }
        let msgs: [SendDatagram<'_>; WINDOW] =
            std::array::from_fn(|i| SendDatagram::new(&out[i]).to(to));
        let mut sent = 0;
        while sent < n {
            match tx.send_batch(&msgs[sent..n]) {
                Ok(k) => sent += k,
                // Loopback UDP does not push back, but the contract allows it.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("send_batch: {e}"),
            }
        }
        next_send += n as u64;
        let deadline = Instant::now() + WAIT;
        while next_recv < next_send {
            match rx.recv_batch(&mut slots) {
                Ok(k) => {
                    for slot in &slots[..k] {
                        let seq = u64::from_le_bytes(slot.data().try_into().unwrap());
                        assert_eq!(seq, next_recv, "lost or reordered");
                        next_recv += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    assert!(!left.is_zero(), "datagram {next_recv} never arrived");
                    poll.poll(&mut events, Some(left)).unwrap();
                }
                Err(e) => panic!("recv_batch: {e}"),
            }
        }
    }
    assert_eq!(next_recv, count);
    let err = rx.recv_batch(&mut slots).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "a datagram too many");
}

/// Release builds run the full million (about 3 s here); debug builds, which CI runs under
/// every backend, a quarter (the million takes about 4 s in a debug build). Windows (run
/// under Wine) has only the loop, a Winsock call per datagram through Wine (about 80 µs per
/// datagram sent and received here, debug): 40 000, about 3 s.
const LOSS_FREE_COUNT: u64 = if cfg!(windows) {
    40_000
} else if cfg!(debug_assertions) {
    250_000
} else {
    1_000_000
};

#[test]
fn loss_free_sequenced_datagrams() {
    loss_free(LOSS_FREE_COUNT);
}

#[test]
fn loss_free_sequenced_datagrams_loop_fallback() {
    test_switch::force_loop_fallback(true);
    loss_free(LOSS_FREE_COUNT / 10);
    test_switch::force_loop_fallback(false);
}
