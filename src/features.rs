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
//! Without `os-poll` the crate still compiles, as a "shell": every type exists, so a library
//! can name `mio::net::TcpStream` in its API without choosing a backend for its users, but any
//! operation that needs the OS panics with ``mio must be compiled with `os-poll` to run.``.
//! `Events::with_capacity`, `Interest` and `Token` work in the shell.
//!
//! `net` does not imply `os-poll`: an application enables both (tokio's `net` feature does).
//!
//! ## `--cfg` switches
//!
//! Two `RUSTFLAGS` switches replace parts of the Linux backend with portable ones, for
//! testing or for systems without epoll:
//!
//! - `--cfg mio_unsupported_force_poll_poll`: the poll(2) selector.
//! - `--cfg mio_unsupported_force_waker_pipe`: a self-pipe instead of an eventfd for `Waker`.
