//! Every OS call of the crate lives below this module.
//!
//! The backend is chosen here, in one place:
//!
//! | build | selector | waker |
//! |---|---|---|
//! | no `os-poll` | [`shell`]: types only, operations panic | shell |
//! | Linux/Android (default) | [`epoll`] | eventfd ([`waker_eventfd`]) registered with epoll |
//! | `--cfg mio_unsupported_force_poll_poll`, or another Unix | `poll` (poll(2)) | folded into the selector |
//! | `--cfg mio_unsupported_force_waker_pipe` | unchanged | a self-pipe ([`waker_pipe`]) |
//!
//! Each selector file exposes the same small shape: `Selector` (`new`, `try_clone`, `select`,
//! `register`, `reregister`, `deregister`), `Event` with the `event` accessor module, `Events`,
//! `Waker` (`new`, `wake`) and `IoSourceState` (per-source state and `do_io`). The two wake-up
//! files expose `WakerFd` (`new`, `wake`, `reset`, `AsFd`).

/// Each backend's items, under the one `cfg` that selects it.
macro_rules! cfg_backend {
    (epoll: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            any(target_os = "linux", target_os = "android"),
            not(mio_unsupported_force_poll_poll)
        ))]
        $item
    )* };
    (poll: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            unix,
            any(mio_unsupported_force_poll_poll, not(any(target_os = "linux", target_os = "android")))
        ))]
        $item
    )* };
    (eventfd: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            any(target_os = "linux", target_os = "android"),
            not(mio_unsupported_force_waker_pipe)
        ))]
        $item
    )* };
    (pipe: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            unix,
            any(mio_unsupported_force_waker_pipe, not(any(target_os = "linux", target_os = "android")))
        ))]
        $item
    )* };
}

#[cfg(not(feature = "os-poll"))]
mod shell;
#[cfg(not(feature = "os-poll"))]
pub(crate) use self::shell::*;

#[cfg(all(feature = "os-poll", not(unix)))]
compile_error!("this mio only has Unix backends (epoll on Linux/Android, poll(2) elsewhere)");

// epoll on Linux and Android, unless the poll(2) fallback is forced.
cfg_backend! { epoll:
    mod epoll;
    pub(crate) use self::epoll::{event, Event, Events, Selector, Waker};
    #[cfg(any(feature = "net", feature = "os-ext"))]
    pub(crate) use self::epoll::IoSourceState;
}

// poll(2) everywhere else, or when forced.
cfg_backend! { poll:
    mod poll;
    pub(crate) use self::poll::{event, Event, Events, Selector, Waker};
    #[cfg(any(feature = "net", feature = "os-ext"))]
    pub(crate) use self::poll::IoSourceState;
}

// The wake-up fd: eventfd where there is one, a self-pipe when forced or elsewhere.
cfg_backend! { eventfd:
    mod waker_eventfd;
    pub(crate) use self::waker_eventfd::WakerFd;
}
cfg_backend! { pipe:
    mod waker_pipe;
    pub(crate) use self::waker_pipe::WakerFd;
}

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

/// Which interests a `WouldBlock` re-arms, for backends that emulate edge triggering: the
/// direction of the operation that proved the source drained (`All` when unknown: `try_io`).
// Unused (as is `IoSourceState`) when no source type is compiled, and read only by poll(2).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rearm {
    All,
    Read,
    Write,
}

#[cfg(feature = "os-poll")]
mod timeout;
#[cfg(feature = "os-poll")]
pub(crate) use self::timeout::timeout_timespec;
