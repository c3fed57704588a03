//! The `process` extra on the kqueue family (macOS, iOS, tvOS, visionOS, watchOS, FreeBSD,
//! NetBSD, OpenBSD, DragonFly), with the kqueue selector: an `EVFILT_PROC` knote with
//! `NOTE_EXIT` on the `Poll`'s own queue. References are to kqueue(2) (FreeBSD's unless
//! named otherwise).
//!
//! EVFILT_PROC "takes the process ID to monitor as the identifier and the events to watch
//! for in fflags, and returns when the process performs one or more of the requested
//! events"; NOTE_EXIT: "The process has exited". The knote is added to the queue of the `Poll`
//! the process is registered with, `ident` the pid and `udata` the token, as every
//! registration of the selector; nothing is reaped (the exit status stays for
//! `Child::try_wait`).
//!
//! A process that exited before its registration (a zombie: not reaped yet) has no knote to
//! attach to: the BSDs answer `EV_ADD` with `ESRCH` (ERRORS: "The specified process to attach
//! to does not exist"). It must still be reported, so then a one-shot `EVFILT_TIMER` knote
//! (`EV_ONESHOT`, the shortest time of the default unit, a millisecond) with the same token
//! is added instead: the event comes from the queue like any other. libkqueue accepts the
//! `EV_ADD` on a zombie (see `libkqueue.rs`): under its test cfg a process that has exited is
//! answered `ESRCH` here, as the BSDs do, so the timer path is the one tested.
//!
//! A queue holds one `EVFILT_PROC` knote per pid: two `Process`es of one pid registered with
//! one `Poll` share it (the later token wins, and deregistering either removes it).
//!
//! [`Process::has_exited`] asks waitid(2) with `WEXITED | WNOHANG | WNOWAIT` ("Leave the child
//! in a waitable state"), which answers for children; for another process (`ECHILD`) it asks
//! kill(2) with signal 0, which answers `ESRCH` once the process is gone (reaped by its
//! parent: a zombie that is not this process's child still counts as running). On OpenBSD
//! (no waitid(2) in rustix) it adds `EVFILT_PROC` to a probe queue of its own, closed at once:
//! `ESRCH` is an exited process (compile-checked only).

use std::io;
use std::sync::{Mutex, MutexGuard};

use rustix::io::Errno;
use rustix::process::{test_kill_process, Pid};
#[cfg(not(target_os = "openbsd"))]
use rustix::process::{waitid, WaitId, WaitIdOptions};

use super::kqueue::translate::{Filter, EV_ADD, EV_CLEAR, EV_DELETE, EV_ONESHOT, EV_RECEIPT};
use super::kqueue::{next_timer_ident, Kev};
use super::Selector;
use crate::{event, Interest, Registry, Token};

/// EVFILT_PROC: "The process has exited" (the same value on every BSD, Apple's and libkqueue).
const NOTE_EXIT: u32 = 0x8000_0000;

#[derive(Debug)]
pub(crate) struct Process {
    pid: Pid,
    registration: Mutex<Option<Registration>>,
}

#[derive(Debug)]
struct Registration {
    /// The registry's queue, shared (`Selector::share`), so it stays open while registered.
    selector: Selector,
    token: Token,
    knote: Knote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Knote {
    /// Not readable interest: nothing on the queue.
    None,
    /// `EVFILT_PROC` on the pid.
    Proc,
    /// The one-shot `EVFILT_TIMER` knote of an exit before the registration, by its ident.
    Exited(usize),
}

impl Process {
    /// Watches the process `pid`: it must exist (a zombie does).
    pub(crate) fn new(pid: u32) -> io::Result<Process> {
        let pid = super::process_pid(pid)?;
        // kill(2) with signal 0: "error checking is performed but no signal is actually
        // sent"; ESRCH: "No process or process group can be found" (a zombie is found). EPERM
        // is a process this one may not signal, which exists.
        match test_kill_process(pid) {
            Ok(()) | Err(Errno::PERM) => {}
            Err(Errno::SRCH) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "no process {} (it exited and was reaped already, or never existed)",
                        pid.as_raw_nonzero()
                    ),
                ))
            }
            Err(err) => return Err(err.into()),
        }
        Ok(Process {
            pid,
            registration: Mutex::new(None),
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// OpenBSD has no waitid(2) in rustix: a probe queue instead. `EV_ADD` of `EVFILT_PROC`
    /// answers `ESRCH` for a process that exited (a zombie or reaped, any process's), and
    /// succeeds for one that runs; the queue is closed at once.
    #[cfg(target_os = "openbsd")]
    pub(crate) fn has_exited(&self) -> io::Result<bool> {
        let probe = Selector::new()?;
        let proc = Kev {
            ident: self.pid() as usize,
            filter: Filter::Proc,
            flags: EV_ADD | EV_RECEIPT,
            fflags: NOTE_EXIT,
            data: 0,
            udata: 0,
        };
        match probe.submit_kevents([proc])? {
            [0] => Ok(false),
            [errno] if errno == libc::ESRCH => Ok(true),
            [errno] => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    /// See the module docs.
    #[cfg(not(target_os = "openbsd"))]
    pub(crate) fn has_exited(&self) -> io::Result<bool> {
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        loop {
            match waitid(WaitId::Pid(self.pid), options) {
                Ok(status) => return Ok(status.is_some()),
                Err(Errno::INTR) => continue,
                // Not a child (or a child reaped meanwhile): gone once kill(2) finds nothing.
                Err(Errno::CHILD) => {
                    return match test_kill_process(self.pid) {
                        Ok(()) | Err(Errno::PERM) => Ok(false),
                        Err(Errno::SRCH) => Ok(true),
                        Err(err) => Err(err.into()),
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Registration>> {
        // Plain values: a panic while locked cannot leave them torn.
        self.registration.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the knote for readable interest: `EVFILT_PROC`, or on `ESRCH` (exited already)
    /// the one-shot timer.
    fn add(&self, registration: &mut Registration, interests: Interest) -> io::Result<()> {
        registration.knote = Knote::None;
        if !interests.is_readable() {
            return Ok(());
        }
        let token = registration.token;
        let proc = Kev {
            ident: self.pid() as usize,
            filter: Filter::Proc,
            flags: EV_ADD | EV_CLEAR | EV_RECEIPT,
            fflags: NOTE_EXIT,
            data: 0,
            udata: token.0,
        };
        // Test-only: libkqueue accepts a zombie (pidfd_open(2) succeeds on one, `linux_proc_arm`
        // in src/linux/proc.c) where the BSDs answer `ESRCH`: answer as they do, so that the
        // path below is the one that runs over libkqueue too.
        #[cfg(mio_unsupported_test_libkqueue)]
        let zombie = self.has_exited()?;
        #[cfg(not(mio_unsupported_test_libkqueue))]
        let zombie = false;
        let errno = if zombie {
            libc::ESRCH
        } else {
            let [errno] = registration.selector.submit_kevents([proc])?;
            errno
        };
        match errno {
            0 => {
                registration.knote = Knote::Proc;
                return Ok(());
            }
            libc::ESRCH => {}
            errno => return Err(io::Error::from_raw_os_error(errno)),
        }
        let ident = next_timer_ident();
        let exited = Kev {
            ident,
            filter: Filter::Timer,
            // "The timer will be periodic unless EV_ONESHOT is specified"; `data` 1 in the
            // default unit (milliseconds) on every kernel.
            flags: EV_ADD | EV_ONESHOT | EV_RECEIPT,
            fflags: 0,
            data: 1,
            udata: token.0,
        };
        match registration.selector.submit_kevents([exited])? {
            [0] => {
                registration.knote = Knote::Exited(ident);
                Ok(())
            }
            [errno] => Err(io::Error::from_raw_os_error(errno)),
        }
    }

    /// Deletes the knote, if any: `ENOENT` (an exit event delivered, which removes the knote,
    /// or the one-shot timer's) and `ESRCH` (the process gone) say there is none.
    fn delete(&self, registration: &mut Registration) -> io::Result<()> {
        let (ident, filter) = match registration.knote {
            Knote::None => return Ok(()),
            Knote::Proc => (self.pid() as usize, Filter::Proc),
            Knote::Exited(ident) => (ident, Filter::Timer),
        };
        registration.knote = Knote::None;
        let delete = Kev {
            ident,
            filter,
            flags: EV_DELETE | EV_RECEIPT,
            fflags: 0,
            data: 0,
            udata: 0,
        };
        match registration.selector.submit_kevents([delete])? {
            [0] => Ok(()),
            [errno] if errno == libc::ENOENT || errno == libc::ESRCH => Ok(()),
            [errno] => Err(io::Error::from_raw_os_error(errno)),
        }
    }
}

impl event::Source for Process {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let mut slot = self.lock();
        if slot.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the process is already registered with a `Registry`",
            ));
        }
        let mut registration = Registration {
            selector: registry.selector().share(),
            token,
            knote: Knote::None,
        };
        self.add(&mut registration, interests)?;
        *slot = Some(registration);
        Ok(())
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let mut slot = self.lock();
        let Some(mut old) = slot.take() else {
            return Err(not_registered());
        };
        let _ = self.delete(&mut old);
        let mut registration = Registration {
            selector: registry.selector().share(),
            token,
            knote: Knote::None,
        };
        let res = self.add(&mut registration, interests);
        *slot = Some(registration);
        res
    }

    fn deregister(&mut self, _: &Registry) -> io::Result<()> {
        let mut slot = self.lock();
        let Some(mut registration) = slot.take() else {
            return Err(not_registered());
        };
        self.delete(&mut registration)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut registration) = self.lock().take() {
            // Nothing to do on failure: the queue goes with its last holder anyway.
            let _ = self.delete(&mut registration);
        }
    }
}

fn not_registered() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "the process is not registered with a `Registry`",
    )
}
