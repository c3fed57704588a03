//! The `process` extra on Linux, Android, illumos, Solaris and Haiku: a child's exit as
//! readability (a pidfd on Linux, the `SIGCHLD` fallback on the others).
//!
//! - **pidfd** (Linux 5.3+): pidfd_open(2) gives an fd that "becomes readable" when the
//!   process terminates (pidfd_open(2), "Use cases for PID file descriptors"). Nothing is
//!   reaped: the exit status stays for `Child::try_wait` / waitid(2).
//! - **The SIGCHLD fallback**, where pidfd_open(2) answers `ENOSYS` (older kernels, some
//!   sandboxes): a `Signals` for `SIGCHLD` (the shared handler of `signal_handler`), whose
//!   wake-up fd is what the `Poll` watches, and waitid(2) with `WEXITED | WNOHANG | WNOWAIT`
//!   on the child's pid to tell whether that child is the one that exited ("WNOWAIT: Leave
//!   the child in a waitable state; a later wait call can be used to again retrieve the
//!   child status information", wait(2)). A SIGCHLD of another child is a spurious event.
//!   Only children can be watched this way (waitid(2) answers `ECHILD` for anything else).
//!
//! The choice is made by the first `Process` and remembered for the process (`MODE`): one
//! failed syscall at most. Android always takes the fallback: rustix has no pidfd_open(2)
//! there; illumos, Solaris and Haiku too (no process-handle mechanism is implemented there). `--cfg mio_unsupported_test_process_sigchld` (test-only) forces the
//! fallback, so that the tests run it on kernels that have pidfd_open.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicU8, Ordering};

use rustix::io::Errno;
#[cfg(target_os = "linux")]
use rustix::process::{pidfd_open, PidfdFlags};
use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};

use super::Signals;

/// Which mechanism this process uses: not known yet, pidfd, or the SIGCHLD fallback. Android
/// always uses the fallback: rustix has no pidfd_open(2) there.
#[cfg(target_os = "linux")]
static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);
#[cfg(target_os = "linux")]
const UNKNOWN: u8 = 0;
#[cfg(target_os = "linux")]
const PIDFD: u8 = 1;
#[cfg(target_os = "linux")]
const SIGCHLD: u8 = 2;

#[derive(Debug)]
pub(crate) struct Process {
    pid: Pid,
    how: How,
}

#[derive(Debug)]
enum How {
    #[cfg(target_os = "linux")]
    Pidfd(OwnedFd),
    Sigchld(Signals),
}

impl Process {
    /// Watches the process `pid`.
    pub(crate) fn new(pid: u32) -> io::Result<Process> {
        let pid = super::process_pid(pid)?;
        #[cfg(target_os = "linux")]
        if mode() != SIGCHLD {
            // pidfd_open(2): flags 0 gives a close-on-exec fd ("the close-on-exec flag is set
            // on the file descriptor").
            match pidfd_open(pid, PidfdFlags::empty()) {
                Ok(fd) => {
                    MODE.store(PIDFD, Ordering::Relaxed);
                    return Ok(Process {
                        pid,
                        how: How::Pidfd(fd),
                    });
                }
                Err(Errno::NOSYS) => MODE.store(SIGCHLD, Ordering::Relaxed),
                Err(Errno::SRCH) => return Err(no_such_process(pid)),
                Err(err) => return Err(err.into()),
            }
        }
        Process::with_sigchld(pid)
    }

    /// The fallback: the SIGCHLD action first, then a look at the child, so an exit is either
    /// seen now (and the wake-up fd made readable) or signalled after.
    fn with_sigchld(pid: Pid) -> io::Result<Process> {
        let mut signals = Signals::new()?;
        signals.add(rustix::process::Signal::CHILD.as_raw())?;
        match waitid_exited(pid) {
            Ok(true) => signals.notify()?,
            Ok(false) => {}
            Err(Errno::CHILD) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "process {} is not a child of this process, or was reaped already \
                         (without pidfd_open(2), only children can be watched)",
                        pid.as_raw_nonzero()
                    ),
                ))
            }
            Err(err) => return Err(err.into()),
        }
        Ok(Process {
            pid,
            how: How::Sigchld(signals),
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// Whether the process has exited. pidfd: one poll(2) of the pidfd with a zero timeout.
    /// Fallback: waitid(2) without reaping, and while the child runs, the wake-up fd emptied
    /// (the `SIGCHLD` was another child's); once it exited the fd stays readable, as a pidfd.
    pub(crate) fn has_exited(&self) -> io::Result<bool> {
        match &self.how {
            #[cfg(target_os = "linux")]
            How::Pidfd(fd) => {
                let mut fds = [rustix::event::PollFd::new(fd, rustix::event::PollFlags::IN)];
                let zero = rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                loop {
                    match rustix::event::poll(&mut fds, Some(&zero)) {
                        Ok(n) => return Ok(n > 0),
                        Err(Errno::INTR) => continue,
                        Err(err) => return Err(err.into()),
                    }
                }
            }
            How::Sigchld(signals) => {
                // Exited: the wake-up fd is left as it is, readable, as a pidfd stays.
                if self.exited_or_reaped()? {
                    return Ok(true);
                }
                // Not yet: this event (if any) was another child's. Empty the wake-up fd, then
                // look again: an exit in between is seen now, and one after has its SIGCHLD.
                signals.clear()?;
                if self.exited_or_reaped()? {
                    // The exit's own write may have been emptied above: readable again.
                    signals.notify()?;
                    return Ok(true);
                }
                Ok(false)
            }
        }
    }

    /// [`waitid_exited`], where a child reaped meanwhile by its owner (`ECHILD`) has
    /// exited too.
    fn exited_or_reaped(&self) -> io::Result<bool> {
        match waitid_exited(self.pid) {
            Ok(exited) => Ok(exited),
            Err(Errno::CHILD) => Ok(true),
            Err(err) => Err(err.into()),
        }
    }
}

/// `waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT)`: whether the child exited, leaving it
/// waitable.
fn waitid_exited(pid: Pid) -> Result<bool, Errno> {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    loop {
        match waitid(WaitId::Pid(pid), options) {
            Ok(status) => return Ok(status.is_some()),
            Err(Errno::INTR) => continue,
            Err(err) => return Err(err),
        }
    }
}

/// The mechanism to try: forced to the fallback by the test-only cfg.
#[cfg(target_os = "linux")]
fn mode() -> u8 {
    if cfg!(mio_unsupported_test_process_sigchld) {
        SIGCHLD
    } else {
        MODE.load(Ordering::Relaxed)
    }
}

#[cfg(target_os = "linux")]
fn no_such_process(pid: Pid) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "no process {} (it exited and was reaped already, or never existed)",
            pid.as_raw_nonzero()
        ),
    )
}

impl AsRawFd for Process {
    /// The pidfd, or the fallback's wake-up fd.
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl AsFd for Process {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.how {
            #[cfg(target_os = "linux")]
            How::Pidfd(fd) => fd.as_fd(),
            How::Sigchld(signals) => signals.as_fd(),
        }
    }
}
