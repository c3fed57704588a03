//! A TCP greeting + echo server: every client is greeted, then gets back what it sends.
//!
//! ```text
//! cargo run --example tcp_server --features "os-poll net"      # listens on 127.0.0.1:9000
//! nc 127.0.0.1 9000                                             # in another terminal
//! ```
//!
//! Pass another address as the first argument (`127.0.0.1:0` picks a free port; the chosen
//! address is printed). It shows the rules of a readiness loop:
//! - after an event, read/write/accept until `WouldBlock` (registrations are edge-triggered);
//! - `Interrupted` is retried, `WouldBlock` right after an event is normal;
//! - writes may be partial: unsent bytes are kept and sent when the socket is writable again;
//! - running out of file descriptors (`EMFILE`) on accept must not spin: a reserve fd is given
//!   up to accept-and-close the pending connection, and if even that fails the listener is
//!   paused until a connection closes.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};

const SERVER: Token = Token(0);
const GREETING: &[u8] = b"Hello from mio! Type something and it comes back.\n";

struct Connection {
    stream: TcpStream,
    /// Bytes accepted from the peer but not yet written back.
    pending: Vec<u8>,
    interest: Interest,
}

struct Server {
    listener: TcpListener,
    /// Whether the listener is registered; false while paused for lack of fds.
    listening: bool,
    /// An fd held in reserve, given up to get out of `EMFILE`.
    reserve: Option<File>,
    connections: HashMap<Token, Connection>,
    next_token: usize,
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;

    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut server = Server {
        listener: TcpListener::bind(addr)?,
        listening: true,
        reserve: File::open("/dev/null").ok(),
        connections: HashMap::new(),
        next_token: SERVER.0 + 1,
    };
    poll.registry()
        .register(&mut server.listener, SERVER, Interest::READABLE)?;
    println!("listening on {}", server.listener.local_addr()?);

    loop {
        if let Err(err) = poll.poll(&mut events, None) {
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        for event in events.iter() {
            match event.token() {
                SERVER => server.accept_all(poll.registry())?,
                token => server.connection_event(poll.registry(), token, event)?,
            }
        }
    }
}

/// `EMFILE` or `ENFILE`: this process or the whole system is out of file descriptors.
fn out_of_fds(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(24) | Some(23))
}

impl Server {
    fn accept_all(&mut self, registry: &Registry) -> io::Result<()> {
        loop {
            match self.listener.accept() {
                Ok((stream, addr)) => self.add(registry, stream, addr)?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A client gave up while queued: nothing to do but accept the next one
                // (ECONNABORTED on Linux, WSAECONNRESET on Windows).
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    continue
                }
                Err(e) if out_of_fds(&e) => {
                    if let Some(reserve) = self.reserve.take() {
                        // Free one fd, accept the connection and close it at once, so the
                        // client learns it was refused instead of waiting in the queue.
                        drop(reserve);
                        let queue_empty = match self.listener.accept() {
                            Ok((stream, addr)) => {
                                eprintln!("out of file descriptors: refused {}", addr);
                                drop(stream);
                                false
                            }
                            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                        };
                        self.reserve = File::open("/dev/null").ok();
                        if self.reserve.is_some() {
                            // accept(2) takes an fd before it looks at the queue, so with none
                            // free it says EMFILE even when nothing is queued: only the accept
                            // made with the reserve's fd can tell that the queue is empty.
                            if queue_empty {
                                return Ok(());
                            }
                            continue;
                        }
                    }
                    // Not even the reserve can be had: stop accepting until a connection
                    // closes, instead of spinning on an always-readable listener.
                    eprintln!("out of file descriptors: pausing accepts");
                    registry.deregister(&mut self.listener)?;
                    self.listening = false;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn add(
        &mut self,
        registry: &Registry,
        mut stream: TcpStream,
        addr: SocketAddr,
    ) -> io::Result<()> {
        let token = Token(self.next_token);
        self.next_token += 1;
        println!("accepted {} as {:?}", addr, token);
        let interest = Interest::READABLE | Interest::WRITABLE;
        registry.register(&mut stream, token, interest)?;
        self.connections.insert(
            token,
            Connection {
                stream,
                pending: GREETING.to_vec(),
                interest,
            },
        );
        Ok(())
    }

    fn connection_event(
        &mut self,
        registry: &Registry,
        token: Token,
        event: &Event,
    ) -> io::Result<()> {
        let done = match self.connections.get_mut(&token) {
            Some(conn) => conn.handle(registry, token, event)?,
            None => false, // a stale event for a connection closed earlier in this batch
        };
        if done {
            if let Some(mut conn) = self.connections.remove(&token) {
                registry.deregister(&mut conn.stream)?;
                println!("closed {:?}", token);
            }
            if !self.listening {
                // An fd was freed: accept again.
                registry.register(&mut self.listener, SERVER, Interest::READABLE)?;
                self.listening = true;
                self.accept_all(registry)?;
            }
        }
        Ok(())
    }
}

impl Connection {
    /// Handles one event; returns true when the connection is finished.
    fn handle(&mut self, registry: &Registry, token: Token, event: &Event) -> io::Result<bool> {
        if event.is_readable() {
            let mut buf = [0u8; 4096];
            loop {
                match self.stream.read(&mut buf) {
                    Ok(0) => {
                        // The peer is done sending: give back what is left, then close.
                        let _ = self.flush();
                        return Ok(true);
                    }
                    Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return Ok(true),
                }
            }
        }
        // Write whenever something is pending: the socket is usually writable.
        match self.flush() {
            Ok(false) => {}
            Ok(true) | Err(_) => return Ok(true),
        }
        // Only ask for WRITABLE while there is something left to send.
        let wanted = if self.pending.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if wanted != self.interest {
            registry.reregister(&mut self.stream, token, wanted)?;
            self.interest = wanted;
        }
        Ok(false)
    }

    /// Writes what is pending until done or `WouldBlock`; returns true if the peer is gone.
    fn flush(&mut self) -> io::Result<bool> {
        while !self.pending.is_empty() {
            match self.stream.write(&self.pending) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }
}
