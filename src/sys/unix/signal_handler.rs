//! The `signal` extra on every Unix, and the SIGCHLD fallback of the `process` extra: each
//! `Signals` adds one action per signal to the process's shared handler, kept by
//! [signal-hook-registry](https://docs.rs/signal-hook-registry) (the registry tokio,
//! signal-hook and ctrlc use, so their handlers and ours all run, in registration order, and
//! a handler installed before any of them is chained). Never `sigaction` directly, never
//! `signalfd` nor a process-wide signal mask (which would take the signal from everyone else).
//!
//! The action runs in the signal handler, so it only does async-signal-safe things (signal-safety(7)):
//! it sets the signal's bit in an atomic set (lock-free) and writes to the `Signals`' own
//! wake-up fd (eventfd on Linux and Android, a pipe elsewhere: `WakerFd`) with one write(2).
//! The wake-up fd is what the `Poll` watches; `take` empties it, then swaps the set with zero,
//! so a signal that comes after the swap writes again and makes a new event. Signals are
//! coalesced, as the kernel coalesces them: the set says which arrived, not how often.
//!
//! `errno`: on Linux and Android rustix makes raw syscalls, so the action leaves `errno` alone.
//! Elsewhere a failed write (a full pipe, already readable) sets it; signal-hook-registry 1.4.8
//! (the version required) saves and restores `errno` around the actions it runs.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::raw::c_int;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use signal_hook_registry::SigId;

use super::WakerFd;

/// Signal numbers this set holds: 1 to 127 (Linux has 64, the BSDs and illumos fewer than 128).
pub(crate) const MAX_SIGNAL: c_int = 127;

/// A set of signal numbers 1..=127, bit `n % 32` of word `n / 32` for signal `n` (32-bit
/// words: every target has 32-bit atomics, not all have 64-bit ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct SignalBits([u32; 4]);

impl SignalBits {
    pub(crate) fn insert(&mut self, signal: c_int) {
        debug_assert!((1..=MAX_SIGNAL).contains(&signal));
        self.0[signal as usize / 32] |= 1 << (signal % 32);
    }

    pub(crate) fn contains(&self, signal: c_int) -> bool {
        (1..=MAX_SIGNAL).contains(&signal)
            && self.0[signal as usize / 32] & (1 << (signal % 32)) != 0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    /// The lowest signal in the set after `after` (0: the lowest of all).
    // `SignalSet`'s iterator; the `process` fallback only looks at the child.
    #[cfg_attr(not(mio_signal), allow(dead_code))]
    pub(crate) fn next_after(&self, after: c_int) -> Option<c_int> {
        ((after.max(0) + 1)..=MAX_SIGNAL).find(|&s| self.contains(s))
    }
}

/// What the handler's actions share with the `Signals`: the pending set and the wake-up fd.
struct Shared {
    pending: [AtomicU32; 4],
    notify: WakerFd,
}

impl Shared {
    /// Runs in the signal handler: async-signal-safe only (an atomic `or`, one write(2)).
    fn on_signal(&self, signal: c_int) {
        self.pending[signal as usize / 32].fetch_or(1 << (signal % 32), Ordering::SeqCst);
        self.notify.wake_from_signal_handler();
    }
}

pub(crate) struct Signals {
    shared: Arc<Shared>,
    /// The signals with an action, and the actions' ids (for `unregister` on drop).
    set: SignalBits,
    ids: Vec<SigId>,
}

impl std::fmt::Debug for Signals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signals")
            .field("fd", &self.as_raw_fd())
            .finish_non_exhaustive()
    }
}

impl Signals {
    /// A `Signals` with no signal yet: one wake-up fd.
    pub(crate) fn new() -> io::Result<Signals> {
        Ok(Signals {
            shared: Arc::new(Shared {
                pending: Default::default(),
                notify: WakerFd::new()?,
            }),
            set: SignalBits::default(),
            ids: Vec::new(),
        })
    }

    /// Adds an action for `signal` to the shared handler (installing it if this is the first
    /// action for that signal in the process). Already in the set: nothing.
    pub(crate) fn add(&mut self, signal: c_int) -> io::Result<()> {
        check_signal(signal)?;
        if self.set.contains(signal) {
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        // SAFETY: `register` requires the action to be async-signal-safe: `on_signal` does an
        // atomic `fetch_or` (lock-free: `AtomicU32` exists only where it is) and one write(2)
        // (async-signal-safe, signal-safety(7)); it neither allocates, locks nor panics. The
        // `Arc` it holds is only read in the handler and dropped with the action after
        // `unregister`, a safe function of the registry, which so cannot free an action that
        // a handler is running. `check_signal` excluded the signals for which `register`
        // panics (`FORBIDDEN`).
        let id =
            unsafe { signal_hook_registry::register(signal, move || shared.on_signal(signal)) }?;
        self.ids.push(id);
        self.set.insert(signal);
        Ok(())
    }

    /// The signals that arrived since the last call, or `WouldBlock` if none did. Empties the
    /// wake-up fd first, then takes the set: a signal after the take writes again.
    pub(crate) fn take(&self) -> io::Result<SignalBits> {
        self.shared.notify.reset()?;
        let mut bits = SignalBits::default();
        for (word, pending) in bits.0.iter_mut().zip(&self.shared.pending) {
            *word = pending.swap(0, Ordering::SeqCst);
        }
        if bits.is_empty() {
            Err(io::ErrorKind::WouldBlock.into())
        } else {
            Ok(bits)
        }
    }

    /// Makes the wake-up fd readable without a signal (the `process` fallback, for a child that
    /// exited before its SIGCHLD action existed).
    #[cfg(mio_process_pidfd)]
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.shared.notify.wake()
    }

    /// Empties the wake-up fd and the set, whatever they held (the `process` fallback, which
    /// looks at the child instead).
    #[cfg(mio_process_pidfd)]
    pub(crate) fn clear(&self) -> io::Result<()> {
        match self.take() {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            // The shared handler stays installed (the registry never uninstalls it): the
            // signal's default action does not come back.
            signal_hook_registry::unregister(id);
        }
    }
}

impl AsRawFd for Signals {
    /// The wake-up fd's readable end.
    fn as_raw_fd(&self) -> RawFd {
        self.shared.notify.as_fd().as_raw_fd()
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.shared.notify.as_fd()
    }
}

/// Refuses what is not a signal one can catch, before signal-hook-registry sees it (it panics
/// on its `FORBIDDEN` list: SIGKILL and SIGSTOP cannot be caught, sigaction(2); SIGILL, SIGFPE
/// and SIGSEGV are synchronous faults that a flag and a write cannot handle).
fn check_signal(signal: c_int) -> io::Result<()> {
    if !(1..=MAX_SIGNAL).contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signal} is not a signal number"),
        ));
    }
    if signal_hook_registry::FORBIDDEN.contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signal} cannot be watched: SIGKILL and SIGSTOP cannot be caught, \
                 SIGILL, SIGFPE and SIGSEGV are faults of the thread that raised them"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{SignalBits, MAX_SIGNAL};

    #[test]
    fn signal_bits() {
        let mut bits = SignalBits::default();
        assert!(bits.is_empty());
        for s in [1, 2, 63, 64, 65, MAX_SIGNAL] {
            bits.insert(s);
        }
        assert!(!bits.contains(0) && !bits.contains(-1) && !bits.contains(128));
        let mut all = Vec::new();
        let mut s = 0;
        while let Some(next) = bits.next_after(s) {
            all.push(next);
            s = next;
        }
        assert_eq!(all, [1, 2, 63, 64, 65, MAX_SIGNAL]);
    }
}
