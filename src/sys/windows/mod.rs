//! The Windows family: one I/O completion port per `Poll`.
//!
//! | file | what |
//! |---|---|
//! | [`iocp`] | the completion port: create, associate, post, dequeue in batches |
//! | [`afd`] | the AFD driver's poll request: socket readiness as completions |
//! | [`selector`] | `Selector`, `Events`, `Event`, `Waker`, `IoSourceState`: edge triggering on AFD |
//! | [`net`], [`io`] | Winsock: socket creation, accept, send/recv |
//! | [`named_pipe`] | overlapped named-pipe I/O behind `mio::windows::NamedPipe` |
//!
//! Without `os-poll` only the Winsock wrappers are compiled (their constructors panic, as
//! everything else in the shell build).

// With only some of the features, parts of the selector and of Winsock have no user (the
// socket calls without `net`, the overlapped machinery without `os-ext`).
#![cfg_attr(
    not(all(feature = "os-poll", feature = "net", feature = "os-ext")),
    allow(dead_code, unused_imports)
)]

cfg_os_poll! {
    mod afd;
    mod iocp;
    mod selector;
    pub(crate) use self::selector::{event, Event, Events, Selector, Waker};
    #[cfg(any(feature = "net", feature = "os-ext"))]
    pub(crate) use self::selector::IoSourceState;
}

#[cfg(feature = "os-ext")]
pub(crate) mod named_pipe;

#[cfg(feature = "net")]
pub(crate) mod io;
#[cfg(any(feature = "net", feature = "os-poll"))]
pub(crate) mod net;
