//! A TCP greeting server that takes its listening socket from the environment, as systemd
//! socket activation (and `systemfd`, `catflap` and friends) hand it over: the socket is fd 3,
//! `LISTEN_FDS` is at least 1 and `LISTEN_PID` (when set) is this process's pid.
//!
//! ```text
//! systemfd --no-pid -s http::9000 -- cargo run --example tcp_listenfd_server --features "os-poll net"
//! ```
//!
//! Without such a socket it says so and exits with status 2. Socket activation is a Unix
//! convention: on other platforms the example only says so (status 2).

#[cfg(not(unix))]
fn main() {
    eprintln!("tcp_listenfd_server: socket activation (an inherited fd 3) exists on Unix only");
    std::process::exit(2);
}

#[cfg(unix)]
use std::io::{self, Write};
#[cfg(unix)]
use std::net;
#[cfg(unix)]
use std::os::fd::{BorrowedFd, FromRawFd};

#[cfg(unix)]
use mio::net::TcpListener;
#[cfg(unix)]
use mio::{Events, Interest, Poll, Token};

#[cfg(unix)]
/// The first fd passed by socket activation (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: i32 = 3;
#[cfg(unix)]
const SERVER: Token = Token(0);

#[cfg(unix)]
fn listener_from_env() -> Option<TcpListener> {
    let fds: i32 = std::env::var("LISTEN_FDS").ok()?.parse().ok()?;
    if fds < 1 {
        return None;
    }
    if let Ok(pid) = std::env::var("LISTEN_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None; // meant for another process
        }
    }
    // Make sure fd 3 is open before taking ownership of it: closing a number that is not
    // ours would be an I/O-safety violation (and aborts in debug builds).
    // SAFETY: the borrow lives for one `fcntl(F_GETFD)` query, and 3 is not -1.
    rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(LISTEN_FDS_START) }).ok()?;
    // SAFETY: the socket-activation protocol hands this process ownership of fd 3 (checked
    // open above); nothing else in this program opens or owns it.
    let std_listener = unsafe { net::TcpListener::from_raw_fd(LISTEN_FDS_START) };
    // The fd is shared with whoever passed it, who may have left it blocking.
    std_listener.set_nonblocking(true).ok()?;
    Some(TcpListener::from_std(std_listener))
}

#[cfg(unix)]
fn main() -> io::Result<()> {
    let mut listener = match listener_from_env() {
        Some(listener) => listener,
        None => {
            eprintln!("no listening socket in the environment (LISTEN_FDS/LISTEN_PID); run under systemfd or systemd");
            std::process::exit(2);
        }
    };
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(128);
    poll.registry()
        .register(&mut listener, SERVER, Interest::READABLE)?;
    println!(
        "listening on {} (socket from the environment)",
        listener.local_addr()?
    );

    loop {
        if let Err(err) = poll.poll(&mut events, None) {
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        for _ in events.iter() {
            loop {
                match listener.accept() {
                    Ok((mut stream, addr)) => {
                        // A short greeting fits in an empty socket buffer; a partial or failed
                        // write only shortens the greeting of this one client.
                        let _ = stream.write(b"Hello from a socket-activated mio server!\n");
                        println!("greeted {}", addr);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                    Err(e) if matches!(e.raw_os_error(), Some(23) | Some(24)) => {
                        // Out of fds: the connection stays queued. Retrying now would spin;
                        // the next incoming connection's event retries it (see tcp_server for
                        // the reserve-fd strategy that refuses it at once instead).
                        eprintln!("accept: {}", e);
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}
