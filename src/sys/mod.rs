//! Every OS call of the crate lives below this module, one folder per platform family:
//!
//! | folder | compiled on | what |
//! |---|---|---|
//! | [`unix`] | every Unix | the selectors (epoll, kqueue, poll(2)), wake-up fds, sockets, pipes |
//! | [`windows`] | Windows | the completion port, AFD poll requests, Winsock, named pipes |
//! | `hermit_wasi` | Hermit, WASI | libc's calls for the poll(2) selector, sockets, the eventfd waker (Hermit) |
//! | `poll.rs` (this folder) | the Unix fallback, Hermit, WASI | the poll(2) selector, over the family's `pollsys` |
//! | [`shell`] | any target without `os-poll` | the types only; operations panic |
//!
//! The backend is chosen here (the poll(2) selector's `cfg` is `cfg_poll_selector!`) and in
//! [`unix`]'s own table, in one place each.
//!
//! Each selector file exposes the same small shape: `Selector` (`new`, `try_clone`, `select`,
//! `register`, `reregister`, `deregister`), `Event` with the `event` accessor module, `Events`,
//! `Waker` (`new`, `wake`) and `IoSourceState` (per-source state and `do_io`).

#[cfg(not(feature = "os-poll"))]
mod shell;
#[cfg(not(feature = "os-poll"))]
pub(crate) use self::shell::*;

#[cfg(unix)]
pub(crate) mod unix;
// Empty (so unused) in a build with neither `os-poll` nor an I/O type.
#[cfg(unix)]
#[allow(unused_imports)]
pub(crate) use self::unix::*;

#[cfg(windows)]
pub(crate) mod windows;
/// Batched UDP on Windows: `WSARecvMsg`/`WSASendMsg` with metadata and offload.
#[cfg(all(windows, feature = "net"))]
pub(crate) use self::windows::udp;
#[cfg(windows)]
#[allow(unused_imports)]
pub(crate) use self::windows::*;

// Batched UDP as a loop of single calls: the mechanism of the OSes without `sendmmsg`.
#[cfg(all(feature = "net", not(all(target_os = "wasi", target_env = "p1"))))]
pub(crate) mod udp_loop;
/// Batched UDP on WASI preview 2 and Hermit: the loop of `send_to`/`recv_from`, without
/// metadata or offload. (The Unixes have `unix::udp`, Windows `windows::udp`.)
#[cfg(all(
    feature = "net",
    not(any(unix, windows)),
    not(all(target_os = "wasi", target_env = "p1"))
))]
pub(crate) mod udp {
    pub(crate) use super::udp_loop::no_meta::{set_recv_dst_addr, set_recv_ecn};
    pub(crate) use super::udp_loop::no_offload::{recv_offload, send_offload, set_recv_offload};
    pub(crate) use super::udp_loop::{recv_batch, send_batch};
}

#[cfg(any(target_os = "hermit", target_os = "wasi"))]
pub(crate) mod hermit_wasi;
#[cfg(any(target_os = "hermit", target_os = "wasi"))]
#[allow(unused_imports)]
pub(crate) use self::hermit_wasi::*;

#[cfg(all(
    feature = "os-poll",
    not(any(unix, windows, target_os = "hermit", target_os = "wasi"))
))]
compile_error!("this mio has no backend for this target");

/// The poll(2) selector's items, under the one `cfg` that selects it: the Unix fallback
/// (forced, or a Unix with neither epoll nor kqueue), and the backend of Hermit and WASI.
macro_rules! cfg_poll_selector {
    ($($item:item)*) => { $(
        #[cfg(all(
            feature = "os-poll",
            any(
                all(
                    unix,
                    any(mio_unsupported_force_poll_poll, not(any(mio_epoll_os, mio_kqueue_os)))
                ),
                target_os = "hermit",
                target_os = "wasi"
            )
        ))]
        $item
    )* };
}

// The expiration counts of the timers whose kernel object keeps none (kqueue, Windows, the
// poll(2) selector's deadlines); in every test build, for the kqueue timer's arithmetic, which
// is unit-tested on every host.
#[cfg(any(
    all(mio_timer_kqueue, not(mio_unsupported_force_poll_poll)),
    mio_timer_deadline,
    all(windows, mio_timer),
    test
))]
pub(crate) mod timer_count;
// Its OS calls come from the family's `pollsys`. Where it has no timerfd, it keeps the `timer`
// extra's deadlines itself (`timer_deadline`; build.rs decides: `mio_timer_deadline`).
#[cfg(mio_timer_deadline)]
mod timer_deadline;
#[cfg(mio_timer_deadline)]
pub(crate) use self::timer_deadline::Timer;
cfg_poll_selector! {
    mod poll;
    pub(crate) use self::poll::{event, Event, Events, Selector};
    // WASI has no `Waker` (as upstream): no threads to wake a poll from.
    #[cfg(not(target_os = "wasi"))]
    pub(crate) use self::poll::Waker;
    // As `cfg_io_source!`: where some type wraps an `IoSource`.
    #[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
    pub(crate) use self::poll::IoSourceState;
}

/// The `{:#?}` details of a backend's event: flag names joined with `|`, or `(empty)`.
#[cfg(feature = "os-poll")]
// Unused by the poll(2) backend on Unix, whose flags print as rustix's `PollFlags`.
#[allow(dead_code)]
pub(crate) struct FlagNames<I>(pub(crate) I);

#[cfg(feature = "os-poll")]
impl<I: Iterator<Item = &'static str> + Clone> std::fmt::Debug for FlagNames<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = self.0.clone();
        match names.next() {
            None => f.write_str("(empty)"),
            Some(first) => {
                f.write_str(first)?;
                names.try_for_each(|name| write!(f, "|{name}"))
            }
        }
    }
}

/// Panics in the shell build (no `os-poll`) with upstream's message; nothing otherwise.
#[cfg(any(feature = "net", all(windows, feature = "os-poll")))]
// WASI preview 1 creates no socket (no bind, connect or UDP).
#[cfg_attr(
    any(not(feature = "net"), all(target_os = "wasi", target_env = "p1")),
    allow(dead_code)
)]
#[inline(always)]
pub(crate) fn os_required() {
    #[cfg(not(feature = "os-poll"))]
    panic!("mio must be compiled with `os-poll` to run.");
}

/// A timeout in whole milliseconds for the calls that take no finer one (Windows'
/// `GetQueuedCompletionStatusEx`, Hermit's and WASI's poll(2)): rounded **up**, so 1 ns waits
/// 1 ms rather than spinning, and capped at `max`.
#[cfg(all(
    feature = "os-poll",
    any(windows, target_os = "hermit", target_os = "wasi", test)
))]
pub(crate) fn millis_rounded_up(timeout: std::time::Duration, max: u64) -> u64 {
    let ms = (timeout.subsec_nanos() + 999_999) / 1_000_000;
    timeout
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(ms))
        .min(max)
}

#[cfg(all(test, feature = "os-poll"))]
mod tests {
    use std::time::Duration;

    use super::millis_rounded_up;

    #[test]
    fn millis_round_up_and_cap() {
        let ms = |d| millis_rounded_up(d, i32::MAX as u64);
        assert_eq!(ms(Duration::ZERO), 0);
        assert_eq!(ms(Duration::from_nanos(1)), 1);
        assert_eq!(ms(Duration::from_micros(999)), 1);
        assert_eq!(ms(Duration::from_micros(1500)), 2);
        assert_eq!(ms(Duration::from_millis(7)), 7);
        assert_eq!(ms(Duration::new(1, 999_999_999)), 2000);
        assert_eq!(ms(Duration::new(0, 1_000_001)), 2);
        assert_eq!(
            ms(Duration::from_millis(i32::MAX as u64 + 5)),
            i32::MAX as u64
        );
        assert_eq!(ms(Duration::MAX), i32::MAX as u64);
        assert_eq!(millis_rounded_up(Duration::MAX, u64::MAX), u64::MAX);
    }
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
