//! A child process's exit as an event source: an extra of this crate, not in upstream mio
//! (feature `process`).
//!
//! A [`Process`] is registered with a [`Poll`](crate::Poll) under a
//! [`Token`](crate::Token) and becomes readable when the process exits. It never reaps the
//! process: `Child::try_wait` / `Child::wait` still give the exit status.
//!
//! # Platforms
//!
//! | Target | Mechanism |
//! |---|---|
//! | Linux | a pidfd (pidfd_open(2), Linux 5.3+); where the kernel answers `ENOSYS`, a `SIGCHLD` handler (through signal-hook-registry, as `mio::signal` uses) and `waitid(WNOHANG \| WNOWAIT)`, chosen by the first `Process` and remembered |
//! | Android | the `SIGCHLD` fallback always (rustix has no pidfd_open(2) for Android); compile-checked only |
//! | illumos, Solaris, Haiku | the `SIGCHLD` fallback always (no process-handle mechanism is implemented there: illumos's process contracts could be one); compile-checked only |
//! | macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD, DragonFly | an `EVFILT_PROC` knote with `NOTE_EXIT` on the `Poll`'s own kqueue (no fd of its own); a process that exited before its registration (the kernels answer `ESRCH`) is reported by a one-shot `EVFILT_TIMER` knote with the same token. [`has_exited`](Process::has_exited) asks waitid(2) with `WNOWAIT` (children) or kill(2) with signal 0 (others: exited once reaped by their parent); on OpenBSD (no waitid(2) in rustix) an `EVFILT_PROC` probe on a queue of its own, which `ESRCH` answers for an exited process. Compile-checked for the real kernels, run in CI on Linux over libkqueue (`--cfg mio_unsupported_test_libkqueue`) |
//! | Windows | the process handle (duplicated from the `Child`'s, opened from a pid, or given), its signalled state posted to the `Poll`'s completion port by a thread-pool wait; tested under Wine |
//! | the kqueue family under `--cfg mio_unsupported_force_poll_poll`, other Unix | absent: this module is not compiled (not yet implemented; see issue 17) |
//! | Hermit, WASI | absent: no child processes |
//!
//! Enabling the feature on a target without it compiles, without this module.
//!
//! # The `SIGCHLD` fallback
//!
//! On kernels without pidfd_open(2) a `Process` watches `SIGCHLD`: any child's exit makes every
//! `Process` readable, and [`has_exited`](Process::has_exited) tells whether it was this one.
//! Only children of this process can be watched then (`InvalidInput` otherwise), and, as with
//! any `SIGCHLD` handler, the signal's default action changes (it was to ignore it: nothing
//! visible changes).

use std::io;
use std::process::Child;

#[cfg(mio_process_pidfd)]
use crate::io_source::IoSource;
use crate::sys;

/// A process whose exit makes it readable.
///
/// Registered with [`Interest::READABLE`](crate::Interest::READABLE), it reports a readable
/// event once the process has exited (at once if it already had). Then
/// [`has_exited`](Process::has_exited) says `true`, and `Child::try_wait` gives the status:
/// this type never reaps. An event may be spurious (on the `SIGCHLD` fallback, another child's
/// exit): `has_exited` returning `false` is the `WouldBlock` of this source (on the poll(2)
/// selector it is what re-arms it).
///
/// Reaping the child (`Child::wait`) may be reported as one more event (newer Linux kernels
/// report a reaped process on its pidfd); deregister first when that matters.
///
/// Dropping it (registered or not) deregisters it and closes its fd; the process is not
/// affected. As for any fd, a copy held elsewhere (a `fork` in progress on another thread)
/// keeps an epoll registration alive: deregister before dropping when children are spawned
/// concurrently.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::process::Command;
/// use std::time::Duration;
/// use mio::process::Process;
/// use mio::{Events, Interest, Poll, Token};
///
/// // A child that exits at once.
/// let mut child = if cfg!(windows) {
///     Command::new("cmd").args(["/c", "exit 0"]).spawn()?
/// } else {
///     Command::new("true").spawn()?
/// };
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// let mut process = Process::from_child(&child)?;
/// poll.registry().register(&mut process, Token(0), Interest::READABLE)?;
///
/// while !process.has_exited()? {
///     match poll.poll(&mut events, Some(Duration::from_secs(5))) {
///         Ok(()) => {}
///         Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
///         Err(e) => return Err(e),
///     }
/// }
/// // Not reaped: the status is still there.
/// assert!(child.try_wait()?.expect("exited").success());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Process {
    #[cfg(mio_process_pidfd)]
    inner: IoSource<sys::Process>,
    // Elsewhere no `IoSource`: an `EVFILT_PROC` knote (src/sys/unix/process_kqueue.rs), a
    // process handle whose waits are posted to the port (src/sys/windows/process.rs).
    #[cfg(not(mio_process_pidfd))]
    inner: sys::Process,
}

impl Process {
    /// Watches `child`. Call it before reaping the child (`wait`, or a `try_wait` that
    /// returned the status): a reaped child's pid may already belong to another process.
    ///
    /// # Errors
    ///
    /// `NotFound` if the child was reaped already; otherwise what the OS answers (out of
    /// file descriptors).
    pub fn from_child(child: &Child) -> io::Result<Process> {
        #[cfg(unix)]
        return Process::from_pid(child.id());
        // Windows: a duplicate of the child's own handle (which stays the `Child`'s), valid
        // even after the child was waited for.
        #[cfg(windows)]
        return sys::Process::from_child(child).map(|inner| Process { inner });
    }

    /// Watches the process `pid`. With pidfd_open(2) any process can be watched; with the
    /// `SIGCHLD` fallback only a child of this process. The pid must not be reaped yet
    /// (a reaped pid may be reused by an unrelated process, which would then be watched).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0 or a number above `i32::MAX`, and on the fallback for a process
    /// that is not an unreaped child; `NotFound` for a process that does not exist (or was
    /// reaped); otherwise what the OS answers.
    ///
    /// On Windows the process is opened with `OpenProcess` (`SYNCHRONIZE` and
    /// `PROCESS_QUERY_LIMITED_INFORMATION` access): any process this one may open; `pid` 0 is
    /// `InvalidInput`, a pid no process has `NotFound`, no access `PermissionDenied`.
    pub fn from_pid(pid: u32) -> io::Result<Process> {
        #[cfg(mio_process_pidfd)]
        return sys::Process::new(pid).map(|process| Process {
            inner: IoSource::new(process),
        });
        #[cfg(mio_process_kqueue)]
        return sys::Process::new(pid).map(|inner| Process { inner });
        #[cfg(windows)]
        return sys::Process::from_pid(pid).map(|inner| Process { inner });
    }

    /// Watches the process behind `handle` (Windows), taking ownership of it. It needs the
    /// `SYNCHRONIZE` access right (to wait on it) and `PROCESS_QUERY_LIMITED_INFORMATION`
    /// (for its pid).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `handle` is not a process handle with query access.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::os::windows::io::OwnedHandle;
    /// use std::process::Command;
    /// use mio::process::Process;
    ///
    /// let mut child = Command::new("cmd").args(["/c", "exit 3"]).spawn()?;
    /// let handle: OwnedHandle = child.as_handle().try_clone_to_owned()?;
    /// # use std::os::windows::io::AsHandle;
    /// let process = Process::from_handle(handle)?;
    /// assert_eq!(process.pid(), child.id());
    /// child.wait()?;
    /// assert!(process.has_exited()?);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(windows)]
    #[cfg_attr(docsrs, doc(cfg(windows)))]
    pub fn from_handle(handle: std::os::windows::io::OwnedHandle) -> io::Result<Process> {
        sys::Process::from_handle(handle).map(|inner| Process { inner })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.inner.pid()
    }

    /// Whether the process has exited (without reaping it). One syscall with a pidfd; on the
    /// fallback, it also consumes the `SIGCHLD` notification.
    pub fn has_exited(&self) -> io::Result<bool> {
        #[cfg(not(mio_process_pidfd))]
        return self.inner.has_exited();
        #[cfg(mio_process_pidfd)]
        {
            let res = self.inner.do_read(|process| match process.has_exited() {
                Ok(true) => Ok(()),
                Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
                Err(err) => Err(err),
            });
            match res {
                Ok(()) => Ok(true),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(false),
                Err(err) => Err(err),
            }
        }
    }
}

#[cfg(unix)]
impl_io_source_traits!(@source Process);
// The pidfd (or the fallback's wake-up fd); the kqueue process has no fd.
#[cfg(mio_process_pidfd)]
impl_io_source_traits!(@borrow Process);

#[cfg(windows)]
impl_io_source_traits!(@wait Process);

#[cfg(windows)]
impl_io_source_traits!(@handle
    /// The process handle (this `Process`'s own): e.g. for `GetExitCodeProcess`.
    Process
);
