//! # Cargo features
//!
//! The features are the same as upstream mio's, so any `Cargo.toml` that enables mio features
//! keeps working.
//!
//! | Feature | Default | What it adds |
//! |---|---|---|
//! | `log` | yes | `trace!` records through the [`log`](https://crates.io/crates/log) crate when sources are registered, reregistered and deregistered. Nothing else is logged, and nothing at all on I/O paths. |
//! | `os-poll` | no | The real OS backend and [`Poll::new`](crate::Poll::new). |
//! | `os-ext` | no | Implies `os-poll`. The [`unix`](crate::unix) module: `SourceFd` and `pipe`. |
//! | `net` | no | The `net` module: TCP, UDP and Unix-domain sockets. |
//!
//! ## Extras of this crate (not in upstream mio)
//!
//! Off by default, so a drop-in user builds exactly what upstream builds. Code that enables
//! them is tied to this crate. Each implies `os-poll`. On a target without an implementation the
//! feature compiles and the module is absent (a compile-time error where it is named).
//!
//! | Feature | What it adds | Where |
//! |---|---|---|
//! | `timer` | `mio::timer::Timer`: one-shot and periodic timers as event sources | Linux, Android (timerfd; tested with epoll and poll(2)), illumos (timerfd, compile-checked), macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD, DragonFly (`EVFILT_TIMER` on the `Poll`'s queue, with the kqueue selector: run over libkqueue, compile-checked for the real kernels); Windows (a waitable timer, high-resolution where the system has it, posted to the completion port by a thread-pool wait; tested under Wine); Solaris, Haiku, the other poll(2) targets, Hermit and WASI (deadlines kept by the poll(2) selector; run on Linux under a test-only cfg, compile-checked there) |
//! | `process` | `mio::process::Process`: a child process's exit as an event source, never reaping | Linux (pidfd; a `SIGCHLD` + `waitid(WNOWAIT)` fallback where pidfd_open(2) answers `ENOSYS`), Android, illumos, Solaris, Haiku (that fallback always), the kqueue family (`EVFILT_PROC` with `NOTE_EXIT` on the `Poll`'s queue, with the kqueue selector: run over libkqueue, compile-checked for the real kernels); Windows (a process handle, posted to the completion port by a thread-pool wait; tested under Wine); absent elsewhere |
//! | `signal` | `mio::signal::Signals`: Unix signals as an event source, through the shared handler registry `signal-hook-registry` (a dependency of these two features only) | every Unix; Windows: console control events (`SetConsoleCtrlHandler`; the delivery path tested under Wine, whose headless console cannot generate the events); absent on Hermit and WASI |
//!
//! The test-only switch `--cfg mio_unsupported_test_process_sigchld` makes `Process` use its
//! `SIGCHLD` fallback even where pidfd_open(2) exists, so the fallback is tested (CI runs the
//! suite so).
//!
//! See the [guide](crate::guide), section 9, for when to use them.
//!
//! Without `os-poll` the crate still compiles, as a "shell": every type exists, so a library
//! can name `mio::net::TcpStream` in its API without choosing a backend for its users, but any
//! operation that needs the OS panics with ``mio must be compiled with `os-poll` to run.``.
//! `Events::with_capacity`, `Interest` and `Token` work in the shell.
//!
//! `net` does not imply `os-poll`: an application enables both (tokio's `net` feature does).
//!
//! ## `--cfg` switches: the portable fallbacks
//!
//! Two `RUSTFLAGS` switches replace parts of the Linux backend with the portable ones that
//! Unix systems without epoll use. They exist to test those paths on Linux (CI runs the whole
//! test suite under each) and as an escape hatch; tokio reads the first one too.
//!
//! ```text
//! RUSTFLAGS='--cfg mio_unsupported_force_poll_poll' cargo test
//! RUSTFLAGS='--cfg mio_unsupported_force_waker_pipe' cargo test
//! ```
//!
//! ### `mio_unsupported_force_poll_poll`: the poll(2) selector
//!
//! What stays the same: the API, edge-triggered semantics for this crate's own types (an
//! event is reported once, and again only after an operation on the source returned
//! `WouldBlock`), tokens, timeouts (rounded up to milliseconds), `Interrupted` on signals,
//! the error kinds of register / reregister / deregister, and registrations from other
//! threads taking effect on a `poll` that is already blocked.
//!
//! What differs:
//! - `Poll` and `Registry` have no `AsRawFd`/`AsFd`: there is no selector fd.
//! - A raw fd registered through [`SourceFd`](crate::unix::SourceFd) does its I/O outside
//!   this crate, so no `WouldBlock` can re-arm it. Instead, each `poll` first checks (one
//!   non-blocking poll(2)) whether its reported readiness is gone: if so it is watched again
//!   at once; if it is still there (not drained, or drained and refilled in between) it is
//!   reported again after a back-off of 1 ms, doubling up to 128 ms. So readiness is never
//!   lost, and an fd nobody drains costs a spurious event per back-off period, not a spinning
//!   loop. An fd closed while still registered is reported once as an error event (the
//!   kernel's `POLLNVAL`) and then forgotten; epoll forgets it silently.
//! - A source is registered with one `Poll` at a time (`AlreadyExists` otherwise).
//! - The `Waker` has no fd of its own: it is folded into the selector.
//!
//! Its cost: each `poll` hands the kernel the whole list of armed fds (O(n) per call, where
//! epoll is O(ready)); the list is rebuilt, without allocating, only after registrations or
//! re-arms changed it. The selector keeps a table indexed by fd number behind a mutex, taken
//! once per registration change, once per re-arm, and once per `poll` that reports events
//! (never per event, never on an idle `poll`). Each registered source of this crate holds a
//! pointer to the selector, its fd number and a generation number (24 bytes more than on epoll).
//!
//! ### `mio_unsupported_force_waker_pipe`: the self-pipe waker
//!
//! `Waker` uses a non-blocking, close-on-exec pipe instead of an eventfd: two fds instead of
//! one, one byte written per wake (the pipe is emptied only when it fills up), otherwise the
//! same behaviour. With the poll(2) selector the pipe also becomes its internal notifier.
