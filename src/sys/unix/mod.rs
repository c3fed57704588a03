//! The Unix family: one file per backend, chosen here.
//!
//! | build | selector | waker |
//! |---|---|---|
//! | no `os-poll` | `sys::shell`: types only, operations panic | shell |
//! | Linux, Android, illumos (`mio_epoll_os`) | [`epoll`] | eventfd ([`waker_eventfd`]; a pipe on illumos) registered with epoll |
//! | macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD, DragonFly (`mio_kqueue_os`) | [`kqueue`] | `EVFILT_USER`; a self-pipe on NetBSD and OpenBSD (no `EVFILT_USER` before NetBSD 10 and OpenBSD 7.8) |
//! | `--cfg mio_unsupported_force_poll_poll`, or another Unix | `sys::poll` (poll(2)), its calls in [`pollsys`] | folded into the selector |
//! | `--cfg mio_unsupported_force_waker_pipe` | unchanged | a self-pipe ([`waker_pipe`]) |
//! | test-only: Linux with `--cfg mio_unsupported_test_libkqueue` | [`kqueue`], its kevent(2) from libkqueue ([`libkqueue`]) | `EVFILT_USER` |
//!
//! The OS families (`mio_*_os`, `mio_apple`) are set by build.rs; this file is the one place
//! that turns them, the features and the `--cfg` switches into a backend.
//!
//! The extras (`timer`, `process`, `signal` features; not in upstream mio) have one file per
//! mechanism, chosen at the end of this file: `timer_timerfd` (Linux, Android, illumos),
//! `timer_kqueue` (the kqueue family, with the kqueue selector), `signal_handler` (every Unix),
//! `process_pidfd` (Linux, Android, illumos, Solaris, Haiku), `process_kqueue` (the kqueue
//! family, with the kqueue selector).
//!
//! The two wake-up files expose `WakerFd` (`new`, `wake`, `reset`, `AsFd`). [`net`], [`io`]
//! and [`pipe`] are plain syscall wrappers, independent of the selector.

/// Each backend's items, under the one `cfg` that selects it. The OS families (`mio_*_os`)
/// come from build.rs.
macro_rules! cfg_backend {
    (epoll: $($item:item)*) => { $(
        #[cfg(all(feature = "os-poll", mio_epoll_os, not(mio_unsupported_force_poll_poll)))]
        $item
    )* };
    (kqueue: $($item:item)*) => { $(
        #[cfg(all(feature = "os-poll", mio_kqueue_os, not(mio_unsupported_force_poll_poll)))]
        $item
    )* };
    (poll: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            any(mio_unsupported_force_poll_poll, not(any(mio_epoll_os, mio_kqueue_os)))
        ))]
        $item
    )* };
    // Kernel-kept registrations (epoll, kqueue): no per-source state.
    (stateless: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            any(mio_epoll_os, mio_kqueue_os),
            not(mio_unsupported_force_poll_poll)
        ))]
        $item
    )* };
    (eventfd: $($item:item)*) => { $(
        #[cfg(all(feature = "os-poll", mio_eventfd_os, not(mio_unsupported_force_waker_pipe)))]
        $item
    )* };
    // Wherever a wake-up fd is needed and there is no eventfd: not on kqueue builds whose
    // waker is `EVFILT_USER` (all but NetBSD and OpenBSD), unless forced or needed by the
    // signal handler of the `signal` or `process` extras.
    (pipe: $($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            any(mio_unsupported_force_waker_pipe, not(mio_eventfd_os)),
            any(
                mio_unsupported_force_waker_pipe,
                mio_unsupported_force_poll_poll,
                not(mio_kqueue_os),
                not(mio_evfilt_user),
                mio_signal,
                mio_process_pidfd
            )
        ))]
        $item
    )* };
}

// epoll on Linux, Android and illumos, unless the poll(2) fallback is forced.
cfg_backend! { epoll:
    mod epoll;
    pub(crate) use self::epoll::{event, Event, Events, Selector, Waker};
    #[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
    pub(crate) use self::epoll::IoSourceState;
}

// kqueue on Apple's systems and the BSDs, unless the poll(2) fallback is forced.
cfg_backend! { kqueue:
    mod kqueue;
    pub(crate) use self::kqueue::{event, Event, Events, Selector, Waker};
    #[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
    pub(crate) use self::kqueue::IoSourceState;
}
// Its pure half (kevent changes and results) is unit-tested on every host.
#[cfg(all(
    test,
    not(all(
        feature = "os-poll",
        mio_kqueue_os,
        not(mio_unsupported_force_poll_poll)
    ))
))]
#[allow(dead_code)]
mod kqueue;

// Test-only (`--cfg mio_unsupported_test_libkqueue`, Linux): libkqueue's kqueue(2)/kevent(2),
// which the kqueue selector then calls in place of libc's.
#[cfg(all(
    feature = "os-poll",
    mio_unsupported_test_libkqueue,
    mio_kqueue_os,
    not(mio_unsupported_force_poll_poll)
))]
mod libkqueue;

cfg_backend! { stateless:
    mod stateless;
}

// poll(2) everywhere else, or when forced: the selector is `sys::poll` (shared with Hermit and
// WASI), making its calls through `pollsys`.
cfg_backend! { poll:
    pub(crate) mod pollsys;
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
// Batched UDP (extras): the mechanism chosen per OS, and `sendmmsg`/`recvmmsg` where they exist.
#[cfg(feature = "net")]
pub(crate) mod udp;
#[cfg(all(feature = "net", mio_mmsg_os))]
mod udp_mmsg;
// ECN and destination address as ancillary data.
#[cfg(feature = "net")]
mod udp_meta;
// Segmentation offload (UDP_SEGMENT, UDP_GRO): Linux and Android.
#[cfg(all(feature = "net", any(target_os = "linux", target_os = "android")))]
mod udp_gso;
// Also the self-pipe waker's (which the `pipe` arm of `cfg_backend!` selects).
#[cfg(any(
    feature = "os-ext",
    all(
        feature = "os-poll",
        any(mio_unsupported_force_waker_pipe, not(mio_eventfd_os))
    )
))]
pub(crate) mod pipe;

#[cfg(feature = "os-poll")]
mod timeout;
#[cfg(mio_timer_timerfd)]
use self::timeout::duration_timespec;
#[cfg(feature = "os-poll")]
// Each backend uses one or both.
#[allow(unused_imports)]
pub(crate) use self::timeout::{timeout_timespec, timeout_timespec_precise};

// The extras of this crate (not in upstream mio), where their feature is on and the target has
// them (build.rs decides: `mio_timer`, `mio_process`, `mio_signal`), one file per mechanism.
// The timer: a timerfd on Linux, Android and illumos, whatever the selector; an `EVFILT_TIMER`
// knote on the `Poll`'s queue with the kqueue selector.
#[cfg(mio_timer_timerfd)]
mod timer_timerfd;
#[cfg(mio_timer_timerfd)]
pub(crate) use self::timer_timerfd::Timer;
#[cfg(all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)))]
mod timer_kqueue;
#[cfg(all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)))]
pub(crate) use self::timer_kqueue::Timer;
// Its pure half (the expiration arithmetic) is unit-tested on every host.
#[cfg(all(test, not(all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)))))]
#[allow(dead_code)]
mod timer_kqueue;
// Signals: actions in signal-hook-registry's shared handler, each `Signals` waking its own
// wake-up fd (eventfd or pipe), on every Unix. Also the SIGCHLD fallback of `process`.
#[cfg(any(mio_signal, mio_process_pidfd))]
mod signal_handler;
#[cfg(mio_signal)]
pub(crate) use self::signal_handler::SignalBits;
#[cfg(any(mio_signal, mio_process_pidfd))]
pub(crate) use self::signal_handler::Signals;
// A child's exit: a pidfd on Linux and Android, or the SIGCHLD fallback where pidfd_open(2)
// is missing (`ENOSYS`, kernels before 5.3).
/// A `process` extra's pid: 1 to 2^31 - 1 (`pid_t` is an `i32`; 0 and the negative values
/// name process groups), `InvalidInput` otherwise.
#[cfg(any(
    mio_process_pidfd,
    all(mio_process_kqueue, not(mio_unsupported_force_poll_poll))
))]
fn process_pid(pid: u32) -> std::io::Result<rustix::process::Pid> {
    i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{pid} is not a process id (1 to 2^31 - 1)"),
            )
        })
}
#[cfg(mio_process_pidfd)]
mod process_pidfd;
#[cfg(mio_process_pidfd)]
pub(crate) use self::process_pidfd::Process;
// The kqueue family (with the kqueue selector): an `EVFILT_PROC` knote on the `Poll`'s queue.
#[cfg(all(mio_process_kqueue, not(mio_unsupported_force_poll_poll)))]
mod process_kqueue;
#[cfg(all(mio_process_kqueue, not(mio_unsupported_force_poll_poll)))]
pub(crate) use self::process_kqueue::Process;

/// Makes a new fd close-on-exec and non-blocking, on the systems whose socket(2), accept(2),
/// socketpair(2) or pipe(2) take no flag for it (`mio_fcntl_flags`: Apple's systems and Haiku;
/// see `net` and `pipe`):
/// `fcntl(F_SETFD, FD_CLOEXEC)` and `ioctl(FIONBIO)`, see fcntl(2) and ioctl(2).
///
/// There is a window between the fd's creation and the `fcntl` in which another thread's
/// `fork` + `exec` inherits it. std has the same window on these systems and upstream mio
/// accepts it: the only fix is a process-wide lock around every fd creation and `fork`.
#[cfg(all(mio_fcntl_flags, any(feature = "os-poll", feature = "net")))]
pub(crate) fn set_cloexec_nonblocking(fd: &std::os::fd::OwnedFd) -> std::io::Result<()> {
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(fd, true)?;
    Ok(())
}
