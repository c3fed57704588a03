//! Every OS call of the crate lives below this module.
//!
//! The backend is chosen here, in one place:
//!
//! | build | selector | waker |
//! |---|---|---|
//! | no `os-poll` | [`shell`]: types only, operations panic | shell |
//! | Linux/Android (default) | [`epoll`] | [`waker_eventfd`] |
//! | `--cfg mio_unsupported_force_poll_poll` | `poll` (poll(2)) | folded into the selector |
//! | `--cfg mio_unsupported_force_waker_pipe` | unchanged | [`waker_pipe`] |
//!
//! Each backend file exposes the same small shape: `Selector` (`new`, `try_clone`, `select`,
//! `register`, `reregister`, `deregister`), `Event` with the `event` accessor module, `Events`,
//! `Waker` (`new`, `wake`) and `IoSourceState` (per-source state and `do_io`).

#[cfg(not(feature = "os-poll"))]
mod shell;
#[cfg(not(feature = "os-poll"))]
pub(crate) use self::shell::*;

#[cfg(all(feature = "os-poll", not(unix)))]
compile_error!("this mio only has Unix backends (epoll on Linux/Android, poll(2) elsewhere)");

#[cfg(all(
    feature = "os-poll",
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_force_poll_poll)
))]
mod epoll;
#[cfg(all(
    feature = "os-poll",
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_force_poll_poll),
    any(feature = "net", feature = "os-ext")
))]
pub(crate) use self::epoll::IoSourceState;
#[cfg(all(
    feature = "os-poll",
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_force_poll_poll)
))]
pub(crate) use self::epoll::{event, Event, Events, Selector};

#[cfg(all(
    feature = "os-poll",
    unix,
    any(
        mio_unsupported_force_poll_poll,
        not(any(target_os = "linux", target_os = "android"))
    )
))]
compile_error!("the poll(2) selector is not written yet");

#[cfg(all(
    feature = "os-poll",
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_force_waker_pipe),
    not(mio_unsupported_force_poll_poll)
))]
mod waker_eventfd;
#[cfg(all(
    feature = "os-poll",
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_force_waker_pipe),
    not(mio_unsupported_force_poll_poll)
))]
pub(crate) use self::waker_eventfd::Waker;

#[cfg(all(
    feature = "os-poll",
    unix,
    mio_unsupported_force_waker_pipe,
    not(mio_unsupported_force_poll_poll)
))]
mod waker_pipe;
#[cfg(all(
    feature = "os-poll",
    unix,
    mio_unsupported_force_waker_pipe,
    not(mio_unsupported_force_poll_poll)
))]
pub(crate) use self::waker_pipe::Waker;

// Plain syscall wrappers, independent of the selector. In the shell build the constructors
// among them panic (see `os_required`), like everything else that needs the OS.
#[cfg(any(feature = "net", all(unix, feature = "os-ext")))]
pub(crate) mod io;
#[cfg(feature = "net")]
pub(crate) mod net;
#[cfg(all(unix, feature = "os-ext"))]
pub(crate) mod pipe;

/// Panics in the shell build (no `os-poll`) with upstream's message; nothing otherwise.
#[cfg(feature = "net")]
#[inline(always)]
pub(crate) fn os_required() {
    #[cfg(not(feature = "os-poll"))]
    panic!("mio must be compiled with `os-poll` to run.");
}

#[cfg(feature = "os-poll")]
mod timeout;
#[cfg(feature = "os-poll")]
pub(crate) use self::timeout::timeout_timespec;
