//! `mio-bench --exclusive`: wake-ups per accepted connection with one `Poll` per thread on one
//! listener, edge against exclusive (`Interest::exclusive`, `EPOLLEXCLUSIVE`). Not a time: a
//! count of `poll` calls that returned the listener's event. Only this crate has exclusive
//! registrations, so upstream is not measured; edge is upstream's only mode.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

/// Wake-ups (polls that returned the listener's event) per accepted connection, with
/// `threads` polls and `connections` connections made one at a time, each once every poller
/// is back in its wait.
pub fn wakeups_per_connection(
    interest: Interest,
    threads: usize,
    connections: usize,
) -> io::Result<f64> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let fd = listener.as_raw_fd();
    let woken = Arc::new(AtomicUsize::new(0));
    let waiting = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let mut poll = Poll::new()?;
        poll.registry()
            .register(&mut SourceFd(&fd), Token(0), interest)?;
        let (woken, waiting, stop) = (woken.clone(), waiting.clone(), stop.clone());
        handles.push(thread::spawn(move || {
            let mut events = Events::with_capacity(4);
            while !stop.load(Ordering::SeqCst) {
                waiting.fetch_add(1, Ordering::SeqCst);
                let res = poll.poll(&mut events, Some(Duration::from_millis(20)));
                waiting.fetch_sub(1, Ordering::SeqCst);
                if res.is_ok() && !events.is_empty() {
                    woken.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "exclusive scenario stalled");
    for _ in 0..connections {
        while waiting.load(Ordering::SeqCst) < threads {
            if Instant::now() > deadline {
                return Err(timed_out());
            }
            thread::yield_now();
        }
        let before = woken.load(Ordering::SeqCst);
        let _client = std::net::TcpStream::connect(addr)?;
        while woken.load(Ordering::SeqCst) == before {
            if Instant::now() > deadline {
                return Err(timed_out());
            }
            thread::yield_now();
        }
        // Give every poller that the kernel woke time to count itself: until all are back in
        // their wait (bounded by the 20 ms poll timeout).
        let settle = Instant::now() + Duration::from_millis(30);
        while waiting.load(Ordering::SeqCst) < threads && Instant::now() < settle {
            thread::yield_now();
        }
        while listener.accept().is_err() {
            if Instant::now() > deadline {
                return Err(timed_out());
            }
            thread::yield_now();
        }
    }
    stop.store(true, Ordering::SeqCst);
    for h in handles {
        let _ = h.join();
    }
    Ok(woken.load(Ordering::SeqCst) as f64 / connections as f64)
}

/// Prints the table (`--exclusive`).
pub fn report(threads: usize, connections: usize) -> io::Result<String> {
    let edge = wakeups_per_connection(Interest::READABLE, threads, connections)?;
    let exclusive = wakeups_per_connection(Interest::READABLE.exclusive(), threads, connections)?;
    Ok(format!(
        "| registration | wake-ups per connection ({threads} threads, {connections} connections) |\n\
         |---|---|\n\
         | edge (upstream's only mode) | {edge:.2} |\n\
         | exclusive (`Interest::READABLE.exclusive()`) | {exclusive:.2} |\n"
    ))
}

/// The BENCHMARKS.md section around the table.
pub fn section(table: &str) -> String {
    format!(
        "## Exclusive registrations (this crate's extension)\n\n\
         One `Poll` per thread (4 threads) on one listening socket; connections are made one at \
         a time, each once every poller is back in its wait, and accepted by the main thread. \
         A wake-up is a `poll` that returned the listener's event. With edge registrations \
         (upstream's only mode) every poller is woken by each connection (up to 4; fewer when \
         one was not back in its wait yet); with `Interest::READABLE.exclusive()` \
         (`EPOLLEXCLUSIVE`) the kernel wakes one. `mio-bench --exclusive` prints it.\n\n{table}\n"
    )
}
