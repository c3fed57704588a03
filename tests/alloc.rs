//! No heap allocation on the hot paths: `poll` with ready events, `Waker::wake`, and
//! register/reregister/deregister of `SourceFd` and pipe ends, counted by a global allocator.
//!
//! Windows differs by design in one place: registering a socket allocates its state (an `Arc`
//! holding the AFD poll request's buffers, which the kernel writes while the request is in
//! flight, so it must outlive a deregister until the cancelled request completes). Polling,
//! waking, `reregister`, and I/O whose `WouldBlock` re-arms the socket (a new AFD request from
//! that state) do not allocate there either; `register` is checked to cost exactly its state.
#![cfg(all(feature = "os-poll", feature = "os-ext"))]
// Windows: the sockets are `mio::net::TcpStream`s there.
#![cfg(any(unix, feature = "net"))]

mod util;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::Write;
#[cfg(unix)]
use std::os::fd::AsRawFd;
use std::time::Duration;

#[cfg(unix)]
use mio::unix::{pipe, SourceFd};
use mio::{Events, Interest, Poll, Token, Waker};

/// Counts the allocations made by the current thread while counting is switched on. Per
/// thread, so that the test harness and the other tests running at the same time do not
/// disturb the count.
struct CountingAllocator;

// Already `const`: the lint misfires on the expansion of `thread_local!` for the
// x86_64-pc-windows-gnu target (Debian's clippy 1.96).
#[allow(clippy::missing_const_for_thread_local)]
mod counters {
    use std::cell::Cell;

    thread_local! {
        pub(super) static COUNTING: Cell<bool> = const { Cell::new(false) };
        pub(super) static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }
}
use counters::{ALLOCATIONS, COUNTING};

fn note_allocation() {
    // `try_with`: the allocator may run while thread-locals are being torn down. Both cells are
    // const-initialised without destructor, so touching them never allocates.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting
// only touches thread-local `Cell`s.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: as above; `ptr` was allocated by `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns the number of allocations it made on this thread.
fn count_allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let result = f();
    COUNTING.with(|on| on.set(false));
    (ALLOCATIONS.with(|n| n.get()), result)
}

const N: usize = 1000;

/// The counter itself works, so the zero results below mean something.
#[test]
fn counter_counts() {
    let (n, v) = count_allocations(|| black_box(Vec::<u8>::with_capacity(black_box(64))));
    assert!(n >= 1, "a Vec allocation was not counted");
    drop(v);
    let (n, b) = count_allocations(|| {
        let mut v = black_box(Vec::<u64>::new());
        for i in 0..100 {
            v.push(i);
        }
        black_box(Box::new(v))
    });
    assert!(n >= 2, "only {n} allocations counted");
    drop(b);
    let (n, ()) = count_allocations(|| {
        black_box(1 + 1);
    });
    assert_eq!(n, 0);
}

#[test]
fn poll_with_waker_events_does_not_allocate() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let waker = Waker::new(poll.registry(), Token(1)).unwrap();
    let round = |poll: &mut Poll, events: &mut Events| -> usize {
        waker.wake().unwrap();
        poll.poll(events, Some(Duration::from_secs(5))).unwrap();
        let mut seen = 0;
        for event in events.iter() {
            if event.token() == Token(1) && event.is_readable() {
                seen += 1;
            }
        }
        seen
    };
    for _ in 0..10 {
        round(&mut poll, &mut events);
    }
    let (allocations, seen) = count_allocations(|| {
        let mut seen = 0;
        for _ in 0..N {
            seen += round(&mut poll, &mut events);
        }
        seen
    });
    assert_eq!(seen, N, "not every poll returned the waker event");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} wake+poll rounds"
    );
}

/// The ends of an `IoSource` connection: a pipe on Unix, a loopback TCP connection of two
/// `mio::net::TcpStream`s on Windows (mio has no anonymous pipe there).
#[cfg(unix)]
fn io_pair() -> (pipe::Sender, pipe::Receiver) {
    pipe::new().unwrap()
}

#[cfg(windows)]
fn io_pair() -> (mio::net::TcpStream, mio::net::TcpStream) {
    let pair = util::Pair::new();
    (mio::net::TcpStream::from_std(pair.peer), pair.local)
}

#[test]
fn poll_with_a_pipe_kept_readable_does_not_allocate() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut sender, mut receiver) = io_pair();
    poll.registry()
        .register(&mut receiver, Token(2), Interest::READABLE)
        .unwrap();
    sender.write_all(b"never read").unwrap();
    let mut round = |poll: &mut Poll, events: &mut Events| -> usize {
        // Re-registering re-arms the edge: the unread data is reported again.
        poll.registry()
            .reregister(&mut receiver, Token(2), Interest::READABLE)
            .unwrap();
        poll.poll(events, Some(Duration::from_secs(5))).unwrap();
        events.iter().filter(|e| e.token() == Token(2)).count()
    };
    for _ in 0..10 {
        round(&mut poll, &mut events);
    }
    let (allocations, seen) = count_allocations(|| {
        let mut seen = 0;
        for _ in 0..N {
            seen += round(&mut poll, &mut events);
        }
        seen
    });
    assert_eq!(seen, N, "not every poll returned the pipe event");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} reregister+poll rounds"
    );
}

#[test]
fn poll_timing_out_does_not_allocate() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (allocations, ()) = count_allocations(|| {
        for _ in 0..N {
            poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
            assert!(events.is_empty());
        }
    });
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} empty polls"
    );
}

#[test]
#[cfg(unix)] // `SourceFd`: Unix only.
fn source_fd_registration_does_not_allocate() {
    let poll = Poll::new().unwrap();
    let (a, _b) = util::unix_pair();
    let fd = a.as_raw_fd();
    let registry = poll.registry();
    let round = || {
        registry
            .register(&mut SourceFd(&fd), Token(3), Interest::READABLE)
            .unwrap();
        registry
            .reregister(
                &mut SourceFd(&fd),
                Token(4),
                Interest::READABLE | Interest::WRITABLE,
            )
            .unwrap();
        registry.deregister(&mut SourceFd(&fd)).unwrap();
    };
    round();
    let (allocations, ()) = count_allocations(|| {
        for _ in 0..N {
            round();
        }
    });
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} SourceFd rounds"
    );
}

#[test]
#[cfg(unix)] // Registering allocates on Windows by design: see the next test.
fn pipe_registration_does_not_allocate() {
    let poll = Poll::new().unwrap();
    let (mut sender, mut receiver) = pipe::new().unwrap();
    let registry = poll.registry();
    let mut round = || {
        registry
            .register(&mut sender, Token(5), Interest::WRITABLE)
            .unwrap();
        registry
            .register(&mut receiver, Token(6), Interest::READABLE)
            .unwrap();
        registry
            .reregister(&mut sender, Token(7), Interest::WRITABLE)
            .unwrap();
        registry
            .reregister(&mut receiver, Token(8), Interest::READABLE)
            .unwrap();
        registry.deregister(&mut sender).unwrap();
        registry.deregister(&mut receiver).unwrap();
    };
    round();
    let (allocations, ()) = count_allocations(|| {
        for _ in 0..N {
            round();
        }
    });
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} pipe rounds"
    );
}

/// Windows: `reregister` and `deregister` do not allocate; `register` allocates exactly once
/// (the socket's state), never more however often it is repeated, as long as `poll` runs in
/// between. (A deregistered socket's state lives until its cancelled AFD request is dequeued
/// by a `poll`, and holds its share of an AFD handle meanwhile: without polls, every 32 such
/// states make the next `register` open, and allocate, one more AFD handle.)
#[test]
#[cfg(windows)]
fn registration_allocates_only_the_socket_state() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (mut sender, mut receiver) = io_pair();
    let registry = poll.registry();
    registry
        .register(&mut sender, Token(5), Interest::WRITABLE)
        .unwrap();
    registry
        .register(&mut receiver, Token(6), Interest::READABLE)
        .unwrap();
    let mut rereg = || {
        registry
            .reregister(&mut sender, Token(7), Interest::WRITABLE)
            .unwrap();
        registry
            .reregister(
                &mut receiver,
                Token(8),
                Interest::READABLE | Interest::WRITABLE,
            )
            .unwrap();
    };
    rereg();
    let (allocations, ()) = count_allocations(|| {
        for _ in 0..N {
            rereg();
        }
    });
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} reregister rounds"
    );

    registry.deregister(&mut sender).unwrap();
    registry.deregister(&mut receiver).unwrap();
    let mut cycle = |poll: &mut Poll, events: &mut Events| {
        poll.registry()
            .register(&mut sender, Token(5), Interest::WRITABLE)
            .unwrap();
        poll.registry().deregister(&mut sender).unwrap();
        poll.poll(events, Some(Duration::ZERO)).unwrap();
    };
    cycle(&mut poll, &mut events);
    let (allocations, ()) = count_allocations(|| {
        for _ in 0..N {
            cycle(&mut poll, &mut events);
        }
    });
    assert_eq!(
        allocations, N,
        "{allocations} allocations in {N} register+deregister rounds (one state each expected)"
    );
}

/// Windows: the re-arm path. Each round: the peer writes, `poll` reports readable, the read
/// takes the data, and a second read's `WouldBlock` submits a new AFD poll request (from the
/// socket's existing state). None of it allocates.
#[test]
#[cfg(windows)]
fn io_rearm_and_poll_do_not_allocate() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let (peer, mut receiver) = io_pair();
    poll.registry()
        .register(&mut receiver, Token(9), Interest::READABLE)
        .unwrap();
    let mut buf = [0u8; 64];
    let mut round = |poll: &mut Poll, events: &mut Events| -> bool {
        (&peer).write_all(b"ping").unwrap();
        // Bounded: the event is due; a few polls at most.
        let mut seen = false;
        for _ in 0..100 {
            poll.poll(events, Some(Duration::from_millis(100))).unwrap();
            if events
                .iter()
                .any(|e| e.token() == Token(9) && e.is_readable())
            {
                seen = true;
                break;
            }
        }
        let n = std::io::Read::read(&mut &receiver, &mut buf).unwrap();
        assert_eq!(n, 4);
        let err = std::io::Read::read(&mut &receiver, &mut buf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        seen
    };
    for _ in 0..10 {
        assert!(round(&mut poll, &mut events));
    }
    let (allocations, seen) = count_allocations(|| {
        let mut seen = 0;
        for _ in 0..N {
            seen += round(&mut poll, &mut events) as usize;
        }
        seen
    });
    assert_eq!(seen, N, "not every round got its readable event");
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} write+poll+read+WouldBlock rounds"
    );
}

#[test]
#[cfg(unix)] // `mio::unix::pipe`: Unix only (Windows: the re-arm test above).
fn pipe_io_does_not_allocate() {
    let (sender, receiver) = pipe::new().unwrap();
    let mut buf = [0u8; 64];
    let (allocations, ()) = count_allocations(|| {
        for _ in 0..N {
            (&sender).write_all(b"ping").unwrap();
            let n = std::io::Read::read(&mut &receiver, &mut buf).unwrap();
            assert_eq!(n, 4);
            // `WouldBlock` is an OS error: no allocation either.
            let err = std::io::Read::read(&mut &receiver, &mut buf).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
        }
    });
    assert_eq!(
        allocations, 0,
        "{allocations} allocations in {N} pipe I/O rounds"
    );
}
