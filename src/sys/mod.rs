//! Every OS call of the crate lives below this module, one folder per platform family:
//!
//! | folder | compiled on | what |
//! |---|---|---|
//! | [`unix`] | every Unix | the selectors (epoll, kqueue, poll(2)), wake-up fds, sockets, pipes |
//! | [`windows`] | Windows | the completion port, AFD poll requests, Winsock, named pipes |
//! | [`shell`] | any target without `os-poll` | the types only; operations panic |
//!
//! The backend is chosen here and in [`unix`]'s own table, in one place each.
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
#[cfg(windows)]
#[allow(unused_imports)]
pub(crate) use self::windows::*;

#[cfg(all(feature = "os-poll", not(any(unix, windows))))]
compile_error!("this mio has no backend for this target");

/// The `{:#?}` details of a backend's event: flag names joined with `|`, or `(empty)`.
#[cfg(feature = "os-poll")]
#[allow(dead_code)] // Unused by the poll(2) backend, whose flags print as rustix's `PollFlags`.
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
#[cfg_attr(not(feature = "net"), allow(dead_code))]
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
