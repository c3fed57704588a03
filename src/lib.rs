//! A fast, low-level I/O library: non-blocking sockets and pipes, and readiness events from
//! the operating system's selector (epoll on Linux, I/O completion ports on Windows), with the API of [mio] 1.x.
//!
//! This crate is a from-scratch, drop-in replacement for mio 1.2: same module paths, types,
//! method signatures, trait impls, Cargo features and `--cfg` switches. A project (tokio
//! included) switches to it with one line:
//!
//! ```toml
//! [patch.crates-io]
//! mio = { path = "../path/to/this/crate" }
//! ```
//!
//! # Overview
//!
//! - [`Poll`] waits for readiness; [`Registry`] registers [`event::Source`]s with it.
//! - [`Events`] is the reusable buffer `poll` fills with [`event::Event`]s; each carries the
//!   [`Token`] the source was registered with.
//! - [`Interest`] says which readiness to report; every registration is edge-triggered.
//! - [`Waker`] wakes a blocked `Poll` from another thread.
//! - `mio::net` (feature `net`): non-blocking TCP, UDP and Unix-domain sockets.
//! - `mio::unix` (feature `os-ext`): [`SourceFd`](unix::SourceFd) for any fd, and pipes.
//! - Extras of this crate, not in upstream mio, each behind its own feature (off by default):
//!   `mio::timer::Timer` (feature `timer`), `mio::signal::Signals` (feature `signal`),
//!   `mio::process::Process` (feature `process`). See the [`guide`] (section 9) for when to use them.
//!
//! See the [`guide`] for a walk-through and [`features`] for the Cargo features.
//!
//! # Example
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(feature = "os-poll")] {
//! use std::sync::Arc;
//! use std::thread;
//! use std::time::Duration;
//! use mio::{Events, Poll, Token, Waker};
//!
//! const WAKER: Token = Token(0);
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(64);
//! // Events are only delivered while the Waker lives: keep it, share it with an Arc.
//! let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
//!
//! let waker2 = Arc::clone(&waker);
//! let handle = thread::spawn(move || waker2.wake());
//!
//! let mut woken = false;
//! while !woken {
//!     match poll.poll(&mut events, Some(Duration::from_secs(5))) {
//!         Ok(()) => {}
//!         Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
//!         Err(e) => return Err(e),
//!     }
//!     for event in events.iter() {
//!         if event.token() == WAKER {
//!             woken = true;
//!         }
//!     }
//! }
//! handle.join().unwrap()?;
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! [mio]: https://crates.io/crates/mio

#![deny(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unused_imports,
    dead_code
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The docs name Unix-only items (`mio::unix`, `Interest::PRIORITY`); built for another target
// those names stay plain text. The Unix build of the docs checks every link.
#![cfg_attr(not(unix), allow(rustdoc::broken_intra_doc_links))]

#[macro_use]
mod macros;

mod interest;
mod poll;
mod sys;
mod token;
mod trigger;
// No `Waker` on WASI (as upstream): without threads there is nobody to wake a poll.
#[cfg(not(target_os = "wasi"))]
mod waker;

pub mod event;

cfg_io_source! {
    mod io_source;
}

cfg_net! {
    pub mod net;
}

cfg_os_ext! {
    pub mod unix;
}

// `SourceFd`: the same type in `mio::unix`, `mio::hermit` and `mio::wasi` (not on WASI
// preview 1, as upstream).
#[cfg(all(
    feature = "os-ext",
    any(
        unix,
        target_os = "hermit",
        all(target_os = "wasi", not(target_env = "p1"))
    )
))]
mod source_fd;

/// Hermit-only extensions: [`SourceFd`](hermit::SourceFd) to register any file descriptor.
#[cfg(all(target_os = "hermit", feature = "os-ext"))]
#[cfg_attr(docsrs, doc(cfg(all(target_os = "hermit", feature = "os-ext"))))]
pub mod hermit {
    pub use crate::source_fd::SourceFd;
}

/// WASI-only extensions: [`SourceFd`](wasi::SourceFd) to register any file descriptor (not on
/// WASI preview 1).
#[cfg(all(target_os = "wasi", not(target_env = "p1"), feature = "os-ext"))]
#[cfg_attr(
    docsrs,
    doc(cfg(all(target_os = "wasi", not(target_env = "p1"), feature = "os-ext")))
)]
pub mod wasi {
    pub use crate::source_fd::SourceFd;
}

#[cfg(all(windows, feature = "os-ext"))]
#[cfg_attr(docsrs, doc(cfg(all(windows, feature = "os-ext"))))]
pub mod windows;

pub mod features;
pub mod guide;

// The extras of this crate (not in upstream mio), each behind its own feature and present where
// build.rs found an implementation for the target (`mio_timer`, ...). The kqueue ones need the
// kqueue selector, which `--cfg mio_unsupported_force_poll_poll` replaces: build.rs sees that
// switch in RUSTFLAGS, not when it is handed to rustc alone (`cargo rustc -- --cfg ...`), so it
// is checked here too.
#[cfg(any(
    mio_process_pidfd,
    all(mio_process_kqueue, not(mio_unsupported_force_poll_poll)),
    all(windows, mio_process)
))]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
pub mod process;
#[cfg(mio_signal)]
#[cfg_attr(docsrs, doc(cfg(feature = "signal")))]
pub mod signal;
#[cfg(any(
    mio_timer_timerfd,
    all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)),
    mio_timer_deadline,
    all(windows, mio_timer)
))]
#[cfg_attr(docsrs, doc(cfg(feature = "timer")))]
pub mod timer;

/// The README's quick start, compiled and run as a doctest so it cannot rot.
#[cfg(all(doctest, feature = "os-poll", feature = "net"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[doc(no_inline)]
pub use event::Events;
pub use interest::Interest;
pub use poll::{Poll, Registry};
pub use token::Token;
pub use trigger::Trigger;
#[cfg(not(target_os = "wasi"))]
pub use waker::Waker;
