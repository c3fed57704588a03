//! The Windows family: one I/O completion port per `Poll`.
//!
//! | file | what |
//! |---|---|
//! | [`iocp`] | the completion port: create, associate, post, dequeue in batches |
//! | [`afd`] | the AFD driver's poll request: socket readiness as completions |
//! | [`selector`] | `Selector`, `Events`, `Event`, `Waker`, `IoSourceState`: edge triggering on AFD |
//! | [`net`], [`io`] | Winsock: socket creation, accept, send/recv |
//! | [`udp`] | batched UDP with metadata (`WSARecvMsg`, `WSASendMsg`) and offload (USO/URO) |
//! | [`named_pipe`] | overlapped named-pipe I/O behind `mio::windows::NamedPipe` |
//! | [`wait`] | a kernel object's signalled state posted to the port (thread-pool waits): the extras' plumbing |
//! | [`timer`] | the `timer` extra: a waitable timer |
//! | [`process`] | the `process` extra: a process handle |
//! | [`signal`] | the `signal` extra: console control events |
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

// The extras (build.rs sets `mio_timer`/`mio_process`/`mio_signal` on Windows when their feature is on;
// both imply `os-poll`).
#[cfg(mio_timer)]
mod timer;
#[cfg(any(mio_timer, mio_process, mio_signal))]
mod wait;
#[cfg(mio_timer)]
pub(crate) use self::timer::Timer;
#[cfg(mio_process)]
mod process;
#[cfg(mio_process)]
pub(crate) use self::process::Process;
#[cfg(mio_signal)]
pub(crate) mod signal;
#[cfg(mio_signal)]
pub(crate) use self::signal::{SignalBits, Signals};

#[cfg(feature = "os-ext")]
pub(crate) mod named_pipe;

#[cfg(feature = "net")]
pub(crate) mod io;
#[cfg(any(feature = "net", feature = "os-poll"))]
pub(crate) mod net;
#[cfg(feature = "net")]
pub(crate) mod udp;

/// Fault injection for the unit tests: while a thread has `FAIL` set, the calls that check it
/// fail there (as an invalid handle would make them): AFD poll requests and cancels, and
/// `SetHandleInformation` after `accept`.
#[cfg(test)]
pub(crate) mod fault {
    use std::io;
    use std::sync::Mutex;
    use std::thread::ThreadId;

    /// The thread whose calls fail, if any: only that test's own thread, so other tests
    /// running in parallel are never affected.
    static FAILING: Mutex<Option<ThreadId>> = Mutex::new(None);

    /// Held by the test injecting faults: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// Runs `f` with this thread's checked calls failing.
    pub(crate) fn failing<T>(f: impl FnOnce() -> T) -> T {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        *FAILING.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::thread::current().id());
        let out = f();
        *FAILING.lock().unwrap_or_else(|e| e.into_inner()) = None;
        out
    }

    pub(crate) fn check() -> io::Result<()> {
        let failing = *FAILING.lock().unwrap_or_else(|e| e.into_inner());
        if failing == Some(std::thread::current().id()) {
            // ERROR_INVALID_HANDLE
            Err(io::Error::from_raw_os_error(6))
        } else {
            Ok(())
        }
    }
}
