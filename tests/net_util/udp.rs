//! Helpers of the batched-UDP tests (`udp_batch`, `udp_offload`, `udp_meta`): both batch
//! paths, and receiving with a bounded wait.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use mio::net::{test_switch, Ecn, RecvDatagram, UdpSocket};
use mio::{Events, Interest, Poll, Token};

use super::TIMEOUT;

/// Runs `body` with the OS's batch calls, then with the loop fallback forced (on this thread).
pub fn both_paths(body: impl Fn(&str)) {
    body("native");
    test_switch::force_loop_fallback(true);
    body("loop");
    test_switch::force_loop_fallback(false);
}

/// What one receive slot got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub data: Vec<u8>,
    pub addr: SocketAddr,
    pub truncated: bool,
    pub segment_size: Option<usize>,
    pub ecn: Ecn,
    pub dst: Option<IpAddr>,
}

/// Receives with `recv_batch` (`slots` slots of `size` bytes) until `enough` says so, polling
/// with a bounded timeout; fails the test after `TIMEOUT`. Checks the contract on the way: a
/// call that returns a count received at least one datagram.
pub fn recv_until(
    socket: &mut UdpSocket,
    slots: usize,
    size: usize,
    enough: impl Fn(&[Got]) -> bool,
) -> Vec<Got> {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(socket, Token(0), Interest::READABLE)
        .unwrap();
    let mut storage = vec![0u8; slots * size];
    let mut slots: Vec<_> = storage.chunks_mut(size).map(RecvDatagram::new).collect();
    let mut got = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while !enough(&got) {
        match socket.recv_batch(&mut slots) {
            Ok(n) => {
                assert!(n > 0 && n <= slots.len(), "recv_batch returned {n}");
                got.extend(slots[..n].iter().map(|slot| Got {
                    data: slot.data().to_vec(),
                    addr: slot.addr(),
                    truncated: slot.is_truncated(),
                    segment_size: slot.segment_size(),
                    ecn: slot.ecn(),
                    dst: slot.dst_addr(),
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "timed out with {} received", got.len());
                poll.poll(&mut events, Some(left)).unwrap();
            }
            Err(e) => panic!("recv_batch: {e}"),
        }
    }
    poll.registry().deregister(socket).unwrap();
    got
}

/// `recv_until` `want` datagrams (or coalesced receives).
pub fn recv_n(socket: &mut UdpSocket, want: usize, slots: usize, size: usize) -> Vec<Got> {
    recv_until(socket, slots, size, |got| got.len() >= want)
}

/// `recv_until` `want` bytes in all.
pub fn recv_bytes(socket: &mut UdpSocket, want: usize, slots: usize, size: usize) -> Vec<Got> {
    recv_until(socket, slots, size, |got| {
        got.iter().map(|g| g.data.len()).sum::<usize>() >= want
    })
}
