//! The Unix family: one file per backend, chosen here.
//!
//! | build | selector | waker |
//! |---|---|---|
//! | no `os-poll` | `sys::shell`: types only, operations panic | shell |
//! | Linux/Android (default) | [`epoll`] | eventfd ([`waker_eventfd`]) registered with epoll |
//! | `--cfg mio_unsupported_force_poll_poll`, or another Unix | `poll` (poll(2)) | folded into the selector |
//! | `--cfg mio_unsupported_force_waker_pipe` | unchanged | a self-pipe ([`waker_pipe`]) |
//!
//! The two wake-up files expose `WakerFd` (`new`, `wake`, `reset`, `AsFd`). [`net`], [`io`]
//! and [`pipe`] are plain syscall wrappers, independent of the selector.

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
            any(mio_unsupported_force_waker_pipe, not(any(target_os = "linux", target_os = "android")))
        ))]
        $item
    )* };
}

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
#[cfg(any(feature = "net", feature = "os-ext"))]
pub(crate) mod io;
#[cfg(feature = "net")]
pub(crate) mod net;
#[cfg(feature = "os-ext")]
pub(crate) mod pipe;

#[cfg(feature = "os-poll")]
mod timeout;
#[cfg(feature = "os-poll")]
pub(crate) use self::timeout::timeout_timespec;
