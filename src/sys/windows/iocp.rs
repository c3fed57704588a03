//! An I/O completion port: the one kernel queue a `Poll` waits on.
//!
//! Everything that can wake a `Poll` arrives here as a completion packet: the AFD poll
//! requests of sockets, the overlapped reads and writes of named pipes, and the `Waker`'s
//! posted packets. See [I/O Completion Ports](https://learn.microsoft.com/en-us/windows/win32/fileio/i-o-completion-ports).

use std::io;
use std::mem::MaybeUninit;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
use windows_sys::Win32::System::IO::{
    CreateIoCompletionPort, GetQueuedCompletionStatusEx, PostQueuedCompletionStatus, OVERLAPPED,
    OVERLAPPED_ENTRY,
};

/// `INFINITE` (`Win32_System_Threading`'s constant, repeated to avoid the feature).
const INFINITE: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct CompletionPort {
    handle: OwnedHandle,
}

impl CompletionPort {
    /// `CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0)`: a new port, as many
    /// concurrent threads as processors (only one thread ever waits on it here).
    ///
    /// See [CreateIoCompletionPort](https://learn.microsoft.com/en-us/windows/win32/fileio/createiocompletionport).
    pub(crate) fn new() -> io::Result<CompletionPort> {
        // SAFETY: with `INVALID_HANDLE_VALUE` the call only creates a port; no pointer is read.
        let handle =
            unsafe { CreateIoCompletionPort(INVALID_HANDLE_VALUE, std::ptr::null_mut(), 0, 0) };
        if handle.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `handle` is a new, valid handle that nothing else owns.
        Ok(CompletionPort {
            handle: unsafe { OwnedHandle::from_raw_handle(handle) },
        })
    }

    pub(crate) fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle()
    }

    /// Associates `handle` with this port: its overlapped completions are queued here with
    /// `key`. A handle can be associated with one port only, once, for its whole life.
    pub(crate) fn associate(&self, handle: RawHandle, key: usize) -> io::Result<()> {
        // SAFETY: both handles are valid for the call (the caller owns `handle`); the call
        // keeps no pointer.
        let res = unsafe { CreateIoCompletionPort(handle, self.raw(), key, 0) };
        if res.is_null() {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// `PostQueuedCompletionStatus`: queues a packet carrying `key` and `overlapped`, which
    /// the port hands back untouched (it is never dereferenced by the kernel).
    pub(crate) fn post(&self, key: usize, overlapped: *const OVERLAPPED) -> io::Result<()> {
        // SAFETY: the port handle is valid; `overlapped` is only carried, not read.
        if unsafe { PostQueuedCompletionStatus(self.raw(), 0, key, overlapped) } == 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// `GetQueuedCompletionStatusEx` into `entries`: waits up to `timeout` (`None`: forever)
    /// for at least one packet, then dequeues as many as fit. A timeout is an empty slice.
    ///
    /// See [GetQueuedCompletionStatusEx](https://learn.microsoft.com/en-us/windows/win32/fileio/getqueuedcompletionstatusex-func).
    pub(crate) fn get_many<'a>(
        &self,
        entries: &'a mut [MaybeUninit<OVERLAPPED_ENTRY>],
        timeout: Option<Duration>,
    ) -> io::Result<&'a [OVERLAPPED_ENTRY]> {
        let count = u32::try_from(entries.len()).unwrap_or(u32::MAX);
        let mut removed = 0u32;
        // SAFETY: `entries` is writable for `count` entries (at most its length); `removed`
        // is a valid out-pointer. Non-alertable: no APC runs inside.
        let ok = unsafe {
            GetQueuedCompletionStatusEx(
                self.raw(),
                entries.as_mut_ptr().cast::<OVERLAPPED_ENTRY>(),
                count,
                &mut removed,
                timeout_ms(timeout),
                0,
            )
        };
        if ok == 0 {
            let err = io::Error::last_os_error();
            return if err.raw_os_error() == Some(WAIT_TIMEOUT as i32) {
                Ok(&[])
            } else {
                Err(err)
            };
        }
        let n = (removed as usize).min(entries.len());
        // SAFETY: the kernel initialised the first `removed` entries.
        Ok(unsafe { std::slice::from_raw_parts(entries.as_ptr().cast::<OVERLAPPED_ENTRY>(), n) })
    }
}

/// The wait in milliseconds: `None` is `INFINITE`; anything else is rounded **up** (so 1 ns
/// waits 1 ms instead of spinning) and capped just below `INFINITE` (about 49.7 days).
pub(crate) fn timeout_ms(timeout: Option<Duration>) -> u32 {
    match timeout {
        None => INFINITE,
        Some(to) => crate::sys::millis_rounded_up(to, u64::from(INFINITE - 1)) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_and_clamp() {
        assert_eq!(timeout_ms(None), INFINITE);
        assert_eq!(timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(timeout_ms(Some(Duration::from_nanos(1))), 1);
        assert_eq!(timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(timeout_ms(Some(Duration::from_secs(3))), 3000);
        assert_eq!(timeout_ms(Some(Duration::MAX)), INFINITE - 1);
    }
}
