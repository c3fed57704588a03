//! A UDP echo server: every datagram is sent back to where it came from.
//!
//! ```text
//! cargo run --example udp_server --features "os-poll net"   # listens on 127.0.0.1:9000
//! nc -u 127.0.0.1 9000                                       # in another terminal
//! ```
//!
//! Pass another address as the first argument (`127.0.0.1:0` picks a free port). Receives
//! until `WouldBlock` after each readable event; a datagram that cannot be sent back because
//! the send buffer is full is queued and sent on the next writable event.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

const SOCKET: Token = Token(0);
/// Datagrams queued for sending, at most; more are dropped (UDP may drop anyway).
const MAX_QUEUED: usize = 1024;

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(64);
    let mut socket = UdpSocket::bind(addr)?;
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE | Interest::WRITABLE)?;
    println!("listening on {}", socket.local_addr()?);

    let mut queue: VecDeque<(Vec<u8>, SocketAddr)> = VecDeque::new();
    let mut buf = [0u8; 65536];
    loop {
        if let Err(err) = poll.poll(&mut events, None) {
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        for event in events.iter() {
            if event.token() != SOCKET {
                continue;
            }
            // Whatever the event says, try both directions until WouldBlock.
            loop {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        if queue.len() < MAX_QUEUED {
                            queue.push_back((buf[..n].to_vec(), from));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    // An ICMP error from an earlier send (e.g. the peer's port closed).
                    Err(e) => eprintln!("recv_from: {}", e),
                }
            }
            while let Some((data, to)) = queue.front() {
                match socket.send_to(data, *to) {
                    Ok(_) => {
                        queue.pop_front();
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        eprintln!("send_to {}: {}", to, e);
                        queue.pop_front();
                    }
                }
            }
        }
    }
}
