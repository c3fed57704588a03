//! # A short guide to event-driven I/O with this crate
//!
//! ## 1. Create a `Poll` and an `Events` buffer
//!
//! A [`Poll`](crate::Poll) owns the OS selector. An [`Events`](crate::Events) buffer is
//! allocated once and reused by every call to `poll`; its capacity is how many events one call
//! can return (more stay queued for the next call).
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(feature = "os-poll")] {
//! let poll = mio::Poll::new()?;
//! let events = mio::Events::with_capacity(1024);
//! # drop((poll, events));
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! ## 2. Register sources
//!
//! Anything that implements [`event::Source`](crate::event::Source) can be registered with
//! the [`Registry`](crate::Registry): the `mio::net` sockets, the `mio::unix::pipe` ends, any
//! raw fd through `mio::unix::SourceFd`, or your own type delegating to one of those. Pick a
//! [`Token`](crate::Token) to recognise the source by, and an [`Interest`](crate::Interest).
//!
//! ## 3. Poll and handle events
//!
//! Call [`Poll::poll`](crate::Poll::poll) in a loop. For each event, look the source up by its
//! token and perform I/O **until it returns `WouldBlock`**: registrations are edge-triggered,
//! so an event means "something changed", and the next event comes only after the source ran
//! dry and then became ready again. A `WouldBlock` right after an event is normal (spurious
//! events happen). Handle `ErrorKind::Interrupted` from `poll` by polling again.
//!
//! ## 4. Wake from other threads
//!
//! A [`Waker`](crate::Waker) makes a blocked `poll` return; use it to hand work to the event
//! loop from other threads. One `Waker` per `Poll`.
//!
//! ## 5. Clean up
//!
//! Deregister a source before dropping it when it may have been duplicated; dropping the last
//! fd removes it from the selector anyway.
//!
//! ## 6. Platforms
//!
//! The same API on every Unix, with the OS's own selector where there is one:
//!
//! | Target | Selector | `Waker` | Differences from Linux |
//! |---|---|---|---|
//! | Linux, Android | epoll (`EPOLLET`) | eventfd | none: the reference |
//! | illumos | epoll (`EPOLLET`) | self-pipe | no `Interest::PRIORITY` |
//! | macOS, iOS, tvOS, visionOS, watchOS | kqueue (`EV_CLEAR`) | `EVFILT_USER` | `Interest::AIO`; no `PRIORITY`; sockets made non-blocking and close-on-exec by `fcntl` right after creation, `SO_NOSIGPIPE` instead of `MSG_NOSIGNAL` |
//! | FreeBSD | kqueue | `EVFILT_USER` | `Interest::AIO`, `Interest::LIO`; no `PRIORITY` |
//! | DragonFly | kqueue | `EVFILT_USER` | `Interest::AIO`; no `PRIORITY` |
//! | NetBSD, OpenBSD | kqueue | `EVFILT_USER` | no `PRIORITY` |
//! | Solaris | poll(2) | folded into the selector | no `PRIORITY`; no `AsRawFd for Poll`, no `AsFd`/`AsRawFd for Registry` (upstream has them there: it uses event ports) |
//! | Haiku, and any other Unix | poll(2) | folded into the selector | no `PRIORITY`, no `AsRawFd for Poll` nor `AsFd`/`AsRawFd for Registry` (as upstream) |
//! | Hermit | poll(2) | folded into the selector (an eventfd interrupts the poll) | no `PRIORITY`, no `mio::unix` but `mio::hermit::SourceFd`; no Unix-domain sockets (as upstream) |
//! | WASI preview 2 (`wasm32-wasip2`) | poll(2) (wasi-libc) | none | no `Waker` (as upstream); `mio::wasi::SourceFd`; a peer's FIN is reported readable, not read-closed (no `POLLRDHUP`) |
//! | WASI preview 1 (`wasm32-wasip1`) | poll(2) (wasi-libc) | none | as preview 2, and (as upstream) no `UdpSocket`, `TcpListener::bind`, `TcpStream::connect` or `SourceFd`: the host hands sockets over, already bound or connected |
//!
//! On every kqueue system:
//! - a source ready to read and write is reported as two events, one per direction (kqueue
//!   has one filter per direction); both carry the source's token;
//! - `is_read_closed`/`is_write_closed` come from `EV_EOF` on the matching filter, and
//!   `is_error` from `EV_EOF` carrying a socket error (or `EV_ERROR`); a peer that closed
//!   cleanly is read-closed, not an error;
//! - `register` and `reregister` cost two `kevent` calls (one to learn whether the fd is
//!   already registered, so the answers are epoll's: `AlreadyExists` for a second
//!   `register`, `NotFound` for a `reregister` or `deregister` of an unknown fd);
//!   `reregister` deletes and re-adds the filters, because the kernels apply a trigger
//!   (`EV_CLEAR`, `EV_DISPATCH`) only to a new knote;
//! - a second `register` refused with `AlreadyExists` leaves the registration as it was on
//!   FreeBSD (its probe carries `EV_KEEPUDATA`); the other kqueue kernels store the `udata`
//!   of any change to an existing kevent and have no such flag, so there later events of
//!   that fd carry the refused call's token (epoll keeps the first);
//! - a registration with neither direction (`Interest::AIO` or `LIO` alone) holds a disabled
//!   read filter, which reports nothing but lets `reregister` and `deregister` find the fd;
//! - a regular file can be registered (FreeBSD's `ufs_kqfilter` reports it readable while
//!   not at end of file and always writable) where epoll refuses it with `PermissionDenied`;
//! - registering the write end of a pipe whose reader is gone succeeds, as on epoll (the
//!   kernels answer `EPIPE` and add no write filter; `write` then reports the broken pipe);
//! - timeouts are passed as a `timespec`, but NetBSD and OpenBSD round them to clock ticks;
//! - a kqueue is not inherited by a child created with `fork`: create a new `Poll` there;
//! - a `Waker` is a user event (`EVFILT_USER`) on the queue itself, with no fd of its own, on
//!   Apple's systems, FreeBSD and DragonFly; NetBSD and OpenBSD get a self-pipe, since
//!   `EVFILT_USER` arrived only in NetBSD 10 and OpenBSD 7.8; each `Waker` has its own user
//!   event, so dropping one of two (release builds allow two) leaves the other working;
//! - a `UnixListener` listens with a backlog of -1 (the largest the system allows) on FreeBSD,
//!   OpenBSD and Apple's systems, whose kernels clamp it, and of 128 (`SOMAXCONN`) on NetBSD
//!   and DragonFly (NetBSD turns a negative backlog into 0), as on every other Unix but Linux.
//!
//! An unnamed Unix socket address (`std::os::unix::net::SocketAddr` with neither a path nor
//! an abstract name) can be bound or connected to only on Linux and Android (autobind);
//! elsewhere `bind_addr`/`connect_addr` refuse it with `InvalidInput`.
//!
//! With the poll(2) selector on a system without `POLLRDHUP` (every one but Linux and
//! Android), a stream socket's peer shutdown is found by a one-byte `MSG_PEEK` when poll(2)
//! reports it readable; after a readable event that was not read to `WouldBlock`, it is
//! looked for again at each `poll` with a back-off of 1 to 128 ms, so it is reported within
//! that delay.
//!
//! Windows has its own backend: an I/O completion port per `Poll`, socket readiness from the
//! AFD driver's poll requests (edge-triggered as on Linux), overlapped I/O for
//! `mio::windows::NamedPipe`; see the `mio::net` docs for what differs there.
//!
//! Hermit and WASI are not Unix, and rustix supports neither (no Hermit at all, no sockets on
//! WASI), so their calls go through libc. They share the poll(2) selector with the Unix
//! fallback; their sockets are std's, made non-blocking, with a non-blocking `connect`. On
//! WASI a registration changed by another thread (only `wasm32-wasip1-threads` has threads)
//! takes effect when the poll that is blocked returns: there is nothing to interrupt it with.
//! Both are checked by compiling (every feature set) and against upstream's API; WASI preview
//! 2 also by running the TCP, trigger and `Interest` tests under a WASI host (`.ci/wasi-tests`);
//! `mio::net`'s docs list what its sockets do differently.
//!
//! ### Against upstream's API, per target
//!
//! Checked item by item against mio 1.2.5 built for the same target (`api-diff --target`):
//! nothing is missing on macOS (aarch64-apple-darwin), iOS, FreeBSD, NetBSD, illumos, Android
//! and Haiku, nor on Linux (x86_64, i686, musl), nor on Windows (x86_64-pc-windows-gnu), nor on
//! Hermit (257 of 257 items), WASI preview 2 (246 of 246) and WASI preview 1 (189 of 189). The
//! other Apple and BSD targets build the same code as their family. The differences:
//!
//! | Target | Missing | Why |
//! |---|---|---|
//! | Solaris | `impl AsRawFd for Poll`, `impl AsRawFd for Registry`, `impl AsFd for Registry` | upstream uses event ports there, whose port is an fd; this crate uses poll(2), which has none |
//!
//! ## 7. Triggers: oneshot, level, exclusive (this crate's extension)
//!
//! Upstream mio registers everything edge-triggered. This crate also offers three other
//! [`Trigger`](crate::Trigger)s, carried by the [`Interest`](crate::Interest) itself, so they
//! pass through every `Source` impl (the net types, pipes, `SourceFd`, `NamedPipe`, and your
//! own delegating types) unchanged. Code that uses them builds only against this crate. A
//! trigger a backend cannot give is refused with `ErrorKind::Unsupported`, never downgraded.
//!
//! ### Oneshot: one event, then silence until `reregister`
//!
//! For handing one readiness to exactly one worker of a pool: whoever takes the event owns
//! the source until it re-arms it.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(all(feature = "os-poll", feature = "net"))] {
//! use std::io::Write;
//! use std::time::Duration;
//! use mio::net::TcpStream;
//! use mio::{Events, Interest, Poll, Token};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let mut peer = std::net::TcpStream::connect(listener.local_addr()?)?;
//! let (stream, _) = listener.accept()?;
//! stream.set_nonblocking(true)?;
//! let mut stream = TcpStream::from_std(stream);
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//! poll.registry().register(&mut stream, Token(7), Interest::READABLE.oneshot())?;
//! peer.write_all(b"job")?;
//! while events.is_empty() {
//!     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//! }
//! // ... a worker reads the job; more data comes meanwhile, but no second event:
//! peer.write_all(b"more")?;
//! poll.poll(&mut events, Some(Duration::from_millis(50)))?;
//! assert!(events.is_empty());
//! // The worker is done: re-arm. Still ready, so reported at once.
//! poll.registry().reregister(&mut stream, Token(7), Interest::READABLE.oneshot())?;
//! poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//! assert!(!events.is_empty());
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! ### Level: reported on every `poll` while ready
//!
//! What ports of select(2)/poll(2) event loops expect: no need to read until `WouldBlock`,
//! a source not drained is simply reported again.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(all(feature = "os-poll", feature = "net"))] {
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use mio::net::TcpStream;
//! use mio::{Events, Interest, Poll, Token};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let mut peer = std::net::TcpStream::connect(listener.local_addr()?)?;
//! let (stream, _) = listener.accept()?;
//! stream.set_nonblocking(true)?;
//! let mut stream = TcpStream::from_std(stream);
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//! poll.registry().register(&mut stream, Token(1), Interest::READABLE.level())?;
//! peer.write_all(b"0123456789")?;
//! let mut got = Vec::new();
//! while got.len() < 10 {
//!     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//!     if !events.is_empty() {
//!         // One byte per event: the rest is reported by the next poll.
//!         let mut byte = [0; 1];
//!         if let Ok(1) = stream.read(&mut byte) {
//!             got.push(byte[0]);
//!         }
//!     }
//! }
//! assert_eq!(got, b"0123456789");
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! ### Exclusive: one `Poll` per thread, one listener, no thundering herd
//!
//! With one `Poll` per thread all watching the same listening socket, an edge registration
//! wakes every thread for each new connection (all but one then find nothing to accept).
//! An exclusive registration (`EPOLLEXCLUSIVE`, Linux 4.5+) wakes one of them (more only when
//! none is waiting). Each `Poll` registers the same fd, e.g. through `SourceFd`:
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(all(feature = "os-ext", target_os = "linux"))] {
//! use std::os::fd::AsRawFd;
//! use mio::unix::SourceFd;
//! use mio::{Interest, Poll, Token};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! listener.set_nonblocking(true)?;
//! let fd = listener.as_raw_fd();
//! let polls: Vec<Poll> = (0..4).map(|_| Poll::new()).collect::<Result<_, _>>()?;
//! for poll in &polls {
//!     let exclusive = Interest::READABLE.exclusive();
//!     match poll.registry().register(&mut SourceFd(&fd), Token(0), exclusive) {
//!         Ok(()) => {}
//!         // Not on the poll(2) fallback (`--cfg mio_unsupported_force_poll_poll`).
//!         Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
//!         Err(e) => return Err(e),
//!     }
//! }
//! // ... move each `Poll` to its own thread, accept on whichever is woken.
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! epoll never modifies an exclusive registration: `reregister` answers `InvalidInput`
//! (deregister and register again). The poll(2) fallback, kqueue and Windows answer
//! `Unsupported` for exclusive registrations.
//!
//! ## 8. Differences from upstream mio, found by running both
//!
//! `tests/differential.rs` runs the same small scripts (create, register, connect, write,
//! drop, poll with a bounded timeout, …) against upstream mio 1.2.5 and this crate and
//! compares what a caller sees. Every difference it found was either fixed (to upstream's
//! behaviour) or is kept for the reason given here, each with a test that shows it.
//!
//! | Where | This crate | Upstream 1.2.5 | Why kept |
//! |---|---|---|---|
//! | Windows `NamedPipe`: the client closed its end | readable **and** read-closed | readable only | the same flags as a socket's end of file, as epoll and kqueue report for pipes; a loop that checks `is_read_closed` learns it without another read |
//! | Windows `NamedPipe`: `read` on a server end before `connect`, after a client came and went | end of file (`Ok(0)`), as the OS answers | `WouldBlock` if it was registered before the client came, end of file if after | one answer whatever the order; `connect` then answers `Ok`, as upstream's |
//! | Windows sockets: a reset (AFD's abort) | `is_error()` true (and read- and write-closed) | `is_error()` false (read- and write-closed) | the same answer as epoll and kqueue give for a reset (`EPOLLERR`); code written on Linux that checks `is_error` behaves the same on Windows |
//! | Windows sockets: a poll request that itself fails (e.g. the socket was closed under it) | reported as AFD's abort | as a failed connect | with the row above, both are error + read-closed + write-closed here, so what a caller sees is the same |
//! | Windows `NamedPipe::new` | `PIPE_REJECT_REMOTE_CLIENTS` | remote clients accepted | a pipe made by `new` is local IPC; accepting SMB clients from other machines is a security choice a caller should make explicitly (create the pipe with `CreateNamedPipeW` and hand it over with `from_raw_handle`) |
//! | poll(2) fallback (`--cfg mio_unsupported_force_poll_poll`): a `Waker` woken, then dropped before any poll | the wake is dropped with the `Waker` | the wake is still reported | events of a source that is gone carry a token the program may already have reused; epoll reports it in both crates, as the wake was made while the `Waker` lived |
//! | poll(2) fallback: a connected UDP socket's second `recv` after its ICMP error | `WouldBlock` | `NotFound` | nothing failed: the error was reported by the first `recv`, and there is no datagram |
//!
//! With `--cfg mio_unsupported_test_poll_no_rdhup` (this crate's own switch: its poll(2)
//! selector as on a system without `POLLRDHUP`) the comparison does not run: upstream has no
//! such switch, so the two would not run the same platform.
//!
//! ## 9. Timers, child processes and signals (extras of this crate)
//!
//! Not in upstream mio: each is behind its own Cargo feature, off by default (see
//! [`features`](crate::features) for where each exists; where one is absent its module is not
//! compiled). Each is an ordinary
//! [`event::Source`](crate::event::Source), registered with a [`Token`](crate::Token) on the
//! same `Poll` as the sockets, reporting readable.
//!
//! ### Timers (`timer`): `mio::timer::Timer`
//!
//! Use a `Timer` when the loop has **a few** deadlines that must fire on time even while other
//! events keep `poll` busy, when a deadline is set or moved from another thread (every method
//! takes `&self`), or for a periodic tick whose missed periods must be counted (`read` says how
//! many passed). Each `Timer` is a kernel object: an fd on Linux (a timerfd), a knote on the
//! `Poll`'s own queue on macOS and the BSDs (`EVFILT_TIMER`, no fd; nanoseconds on Apple's
//! systems and FreeBSD, milliseconds rounded up on NetBSD, OpenBSD and DragonFly), a waitable
//! timer on Windows (whose expiration reaches the completion port through a thread-pool wait,
//! so arming or re-arming one also costs a wait registration there). Where the selector is
//! poll(2) and there is no timerfd (Solaris, Haiku, Hermit, WASI, the BSDs under the poll(2)
//! switch) the selector keeps the deadlines itself: no kernel object, no syscall to set one,
//! but every `poll` looks at every registered timer.
//!
//! Keep a timer wheel (or a heap) in the loop instead, its earliest deadline passed as `poll`'s
//! timeout, when there are **many** timeouts that are mostly cancelled before they fire
//! (per-connection idle timeouts): setting a `Timer` is a syscall, a wheel entry is not. The
//! two combine well: one `Timer` armed for the wheel's earliest deadline.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(all(feature = "timer", any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "freebsd", windows)))] {
//! use std::time::Duration;
//! use mio::timer::Timer;
//! use mio::{Events, Interest, Poll, Token};
//!
//! const TICK: Token = Token(1);
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(16);
//! let mut tick = Timer::new()?;
//! poll.registry().register(&mut tick, TICK, Interest::READABLE)?;
//! tick.set_interval(Duration::from_millis(5))?;
//!
//! let mut ticks = 0;
//! while ticks < 3 {
//!     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//!     for event in events.iter() {
//!         if event.token() == TICK {
//!             // Edge-triggered; one successful read drains the timer.
//!             if let Ok(n) = tick.read() {
//!                 ticks += n;
//!             }
//!         }
//!     }
//! }
//! tick.cancel()?;
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! ### Child processes (`process`): `mio::process::Process`
//!
//! Use a `Process` to learn in the loop that a child exited, without a thread blocked in
//! `wait` and without reaping behind the owner's back: after the event, `Child::try_wait`
//! gives the status. With a pidfd (Linux 5.3+) each `Process` costs one fd and exactly its
//! own events. On the `SIGCHLD` fallback (older kernels) every child's exit wakes every
//! `Process` and each checks its child with one `waitid`: fine for tens of children; for
//! thousands on such kernels, one `Signals` for `SIGCHLD` and a `try_wait` sweep is cheaper.
//! On macOS and the BSDs a `Process` is an `EVFILT_PROC` knote on the `Poll`'s queue (no fd,
//! exactly its own events; a child that exited before it was registered is reported too).
//! On Windows a `Process` holds its own process handle (duplicated from the `Child`'s, opened
//! from a pid, or given to `Process::from_handle`) and one thread-pool wait while registered;
//! Windows has nothing to reap, so any process this one may open can be watched.
//!
//! ### Signals (`signal`): `mio::signal::Signals`
//!
//! Use `Signals` for `SIGINT`, `SIGTERM`, `SIGHUP`, `SIGWINCH`, `SIGUSR1`... handled in the
//! loop like any event: the handler itself only sets a bit and writes to an fd, the loop gets
//! the set of signals that arrived. It is coalesced (how often a signal came is lost, as with
//! the kernel's own pending set), and it coexists with tokio's `signal`, signal-hook and
//! ctrlc in the same process (all of them go through signal-hook-registry's one handler; CI
//! runs `compat/tokio-signals.sh`: a storm of 10 000 `SIGUSR1` seen by two `Signals` and by
//! tokio's stream, then one more seen by all three). Do not use it to wait for a child: `Process` says which child
//! exited, a `SIGCHLD` does not. Once watched, a signal's default action (terminating the
//! process) does not come back after the `Signals` is dropped. On Windows the same type
//! watches console control events instead (`mio::signal::CTRL_C`, `CTRL_BREAK`, `CTRL_CLOSE`,
//! ...): a graceful shutdown on Ctrl-C is written the same way on both.
//!
//! ## 10. UDP at line rate: batches, segmentation offload, ECN (this crate's extension)
//!
//! One `send_to` per datagram is a syscall per datagram; at QUIC's 1200 bytes the syscalls,
//! not the wire, set the rate. [`UdpSocket`](crate::net::UdpSocket) has extras for that
//! (code that uses them builds only against this crate; the table of what each OS does is in
//! [`mio::net`](crate::net#batched-segmented-and-annotated-datagrams)):
//!
//! - `send_batch(&[SendDatagram])` / `recv_batch(&mut [RecvDatagram])`: up to 64 datagrams a
//!   call (`sendmmsg`/`recvmmsg` on Linux, a loop elsewhere). The count is returned;
//!   `WouldBlock` only when none went through. Edge-triggered as ever: receive until
//!   `WouldBlock`.
//! - `SendDatagram::segment_size(n)`: one buffer, several datagrams of `n` bytes, cut by the
//!   kernel (`UDP_SEGMENT`) where it can; `send_offload()` says whether it does.
//!   `set_recv_offload(true)`: the kernel may coalesce a flow's datagrams into one slot
//!   (`UDP_GRO`), `RecvDatagram::segment_size()` and `datagrams()` take it apart.
//! - `SendDatagram::ecn(..)`, `set_recv_ecn(true)` + `RecvDatagram::ecn()`,
//!   `set_recv_dst_addr(true)` + `RecvDatagram::dst_addr()`.
//!
//! A receive loop that reuses its slots (no allocation per datagram) and answers each
//! datagram from the address it was sent to, echoing its ECN codepoint:
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(all(feature = "os-poll", feature = "net", target_os = "linux"))] {
//! use std::io::ErrorKind;
//! use std::time::Duration;
//! use mio::net::{RecvDatagram, SendDatagram, UdpSocket};
//! use mio::{Events, Interest, Poll, Token};
//!
//! let mut server = UdpSocket::bind("0.0.0.0:0".parse().unwrap())?;
//! server.set_recv_dst_addr(true)?;
//! server.set_recv_ecn(true)?;
//! let port = server.local_addr()?.port();
//! let client = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
//! let to = ([127, 0, 0, 1], port).into();
//! let bulk = vec![1u8; 3000];
//! // Three datagrams of 1200, 1200 and 600 bytes, and one more, in one call.
//! client.send_batch(&[
//!     SendDatagram::new(&bulk).to(to).segment_size(1200),
//!     SendDatagram::new(b"last").to(to),
//! ])?;
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(16);
//! poll.registry().register(&mut server, Token(0), Interest::READABLE)?;
//! let mut storage = vec![0u8; 8 * 1500];
//! let mut slots: Vec<_> = storage.chunks_mut(1500).map(RecvDatagram::new).collect();
//! let mut received = 0;
//! while received < 4 {
//!     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//!     loop {
//!         let n = match server.recv_batch(&mut slots) {
//!             Ok(n) => n,
//!             Err(e) if e.kind() == ErrorKind::WouldBlock => break,
//!             Err(e) => return Err(e),
//!         };
//!         for slot in &slots[..n] {
//!             assert_eq!(slot.dst_addr(), Some([127, 0, 0, 1].into()));
//!             // A real server would answer from `dst_addr()` with `slot.ecn()` in mind.
//!             received += slot.datagrams().count();
//!         }
//!     }
//! }
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! On Linux the batch calls, offload and metadata are tested under epoll and the poll(2)
//! fallback (`tests/udp_batch.rs`, `tests/udp_offload.rs`, `tests/udp_meta.rs`), each also
//! with the portable loop and the offload fallback forced by test-only switches
//! (`mio::net::test_switch`, hidden from the docs).
//!
//! On Windows a batch is a loop of `WSARecvMsg` (for the metadata) and `sendto` (`WSASendMsg`
//! for an ECN mark); the destination address comes from `IP_PKTINFO`/`IPV6_PKTINFO`, the ECN
//! codepoint from `IP_RECVECN` (Windows 10 build 20348+) or else `IP_RECVTOS`, offload from
//! `UDP_SEND_MSG_SIZE`/`UDP_RECV_MAX_COALESCED_SIZE` (Windows 10 2004+), each chosen by what
//! the stack answers at run time. Windows refuses to send the CE codepoint (`InvalidInput`).
//! The same tests run under Wine 8, which receives the codepoint through `IP_RECVTOS`, has
//! no offload (the fallbacks are in effect) and sends marked datagrams without their mark;
//! the tests assert Wine's answers there and Windows' on Windows (see the table in
//! `mio::net`).
