//! The `process` extra on Windows: a process handle, signalled when the process exits
//! ("When a process terminates, ... the state of the process object becomes signaled",
//! [Terminating a Process]), delivered to the `Poll`'s port by [`Wait`].
//!
//! The handle is this source's own: duplicated from a `Child`'s ([DuplicateHandle]), so the
//! `Child` keeps its own and `Child::try_wait`/`wait` still work, or opened from a pid
//! ([OpenProcess] with `SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION`), or given. Waiting on
//! a process handle reaps nothing (Windows has no zombies: the exit code stays readable
//! through any handle).
//!
//! [Terminating a Process]: https://learn.microsoft.com/en-us/windows/win32/procthread/terminating-a-process
//! [DuplicateHandle]: https://learn.microsoft.com/en-us/windows/win32/api/handleapi/nf-handleapi-duplicatehandle
//! [OpenProcess]: https://learn.microsoft.com/en-us/windows/win32/api/processthreadsapi/nf-processthreadsapi-openprocess

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::process::Child;

use windows_sys::Win32::Foundation::{
    DuplicateHandle, DUPLICATE_SAME_ACCESS, ERROR_INVALID_PARAMETER, HANDLE,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetProcessId, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION,
    PROCESS_SYNCHRONIZE,
};

use super::selector::Selector;
use super::wait::Wait;
use crate::{Interest, Token};

#[derive(Debug)]
pub(crate) struct Process {
    wait: Wait,
    pid: u32,
}

impl Process {
    /// A duplicate of `child`'s handle (same access: std opens children with all access).
    pub(crate) fn from_child(child: &Child) -> io::Result<Process> {
        let source = child.as_raw_handle() as HANDLE;
        let mut dup: HANDLE = std::ptr::null_mut();
        // SAFETY: both process handles are the pseudo-handle of this process; `source` is
        // open (borrowed from `child` for the call); `dup` is a valid out-pointer.
        let ok = unsafe {
            DuplicateHandle(
                GetCurrentProcess(),
                source,
                GetCurrentProcess(),
                &mut dup,
                0,
                0,
                DUPLICATE_SAME_ACCESS,
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a new handle nothing else owns.
        let handle = unsafe { OwnedHandle::from_raw_handle(dup as RawHandle) };
        Ok(Process {
            wait: Wait::new(handle),
            pid: child.id(),
        })
    }

    /// `OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid)`.
    pub(crate) fn from_pid(pid: u32) -> io::Result<Process> {
        if pid == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "0 is the System Idle Process, which never exits",
            ));
        }
        // SAFETY: plain values; the call returns a new handle or null.
        let handle = unsafe {
            OpenProcess(
                PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
                0,
                pid,
            )
        };
        if handle.is_null() {
            let err = io::Error::last_os_error();
            // OpenProcess answers ERROR_INVALID_PARAMETER for a pid no process has.
            return Err(
                if err.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) {
                    io::Error::new(io::ErrorKind::NotFound, format!("no process {pid}"))
                } else {
                    err
                },
            );
        }
        // SAFETY: a new handle nothing else owns.
        let handle = unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) };
        Ok(Process {
            wait: Wait::new(handle),
            pid,
        })
    }

    /// Takes `handle`, which must be a process handle with `SYNCHRONIZE` access.
    pub(crate) fn from_handle(handle: OwnedHandle) -> io::Result<Process> {
        // SAFETY: the handle is open (owned); the call only reads it.
        let pid = unsafe { GetProcessId(handle.as_raw_handle() as HANDLE) };
        if pid == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "not a process handle with query access: {}",
                    io::Error::last_os_error()
                ),
            ));
        }
        Ok(Process {
            wait: Wait::new(handle),
            pid,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// A process handle is signalled once the process exited.
    pub(crate) fn has_exited(&self) -> io::Result<bool> {
        self.wait.is_signalled()
    }

    /// Every (re)registration arms a wait: a process that already exited is reported at once.
    pub(crate) fn register(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.wait.register(selector, token, interests, true)
    }

    pub(crate) fn reregister(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.wait.reregister(selector, token, interests, true)
    }

    pub(crate) fn deregister(&self, selector: &Selector) -> io::Result<()> {
        self.wait.deregister(selector)
    }

    pub(crate) fn handle(&self) -> &OwnedHandle {
        self.wait.handle()
    }
}
