//! The AFD driver's poll request: socket readiness delivered through a completion port.
//!
//! Winsock's sockets are files of the Ancillary Function Driver (`\Device\Afd`). Besides the
//! socket handles themselves, a process can open the driver directly and send it
//! `IOCTL_AFD_POLL`: an overlapped "tell me when any of these events happens on this socket"
//! request, the mechanism underneath `WSAPoll` and `select`. Sent on a handle associated with
//! a completion port, its completion arrives on that port like any other I/O, which is what
//! lets one `GetQueuedCompletionStatusEx` wait for sockets, pipes and wake-ups together.
//!
//! The request and its structures are not in the Windows SDK; their layout is the driver's
//! long-stable interface, described in public write-ups of `wepoll` and of ReactOS's
//! `afd.h` (`AFD_POLL_INFO`, `AFD_POLL_HANDLE_INFO`, the `AFD_POLL_*` bits, the
//! `IOCTL_AFD_POLL` code `FSCTL_AFD_BASE << 12 | 9 << 2 | METHOD_BUFFERED`).
//!
//! One driver handle carries the requests of many sockets ([`Afd`] is shared, see the
//! selector's pool); a request names its socket by its *base* handle (`SIO_BASE_HANDLE`), the
//! handle AFD knows even when a layered service provider wraps the socket.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Storage::FileSystem::{NtCancelIoFileEx, NtCreateFile, FILE_OPEN};
use windows_sys::Wdk::System::IO::NtDeviceIoControlFile;
use windows_sys::Win32::Foundation::{
    RtlNtStatusToDosError, HANDLE, NTSTATUS, STATUS_NOT_FOUND, STATUS_PENDING, UNICODE_STRING,
};
use windows_sys::Win32::Storage::FileSystem::{
    SetFileCompletionNotificationModes, FILE_SHARE_READ, FILE_SHARE_WRITE, SYNCHRONIZE,
};
use windows_sys::Win32::System::WindowsProgramming::FILE_SKIP_SET_EVENT_ON_HANDLE;
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;

use super::iocp::CompletionPort;

/// Data is waiting (`recv` would not block), or a datagram.
pub(crate) const POLL_RECEIVE: u32 = 0x0001;
/// Out-of-band data is waiting.
pub(crate) const POLL_RECEIVE_EXPEDITED: u32 = 0x0002;
/// `send` would not block (also: a non-blocking connect completed).
pub(crate) const POLL_SEND: u32 = 0x0004;
/// The peer shut down its sending side (a FIN): reads drain, then end.
pub(crate) const POLL_DISCONNECT: u32 = 0x0008;
/// The connection was reset or aborted.
pub(crate) const POLL_ABORT: u32 = 0x0010;
/// The socket handle was closed in this process.
pub(crate) const POLL_LOCAL_CLOSE: u32 = 0x0020;
/// A connection is waiting to be accepted.
pub(crate) const POLL_ACCEPT: u32 = 0x0080;
/// A non-blocking connect failed (`SO_ERROR` holds why).
pub(crate) const POLL_CONNECT_FAIL: u32 = 0x0100;

/// `IOCTL_AFD_POLL`.
const IOCTL_AFD_POLL: u32 = 0x0001_2024;

/// `AFD_POLL_HANDLE_INFO`: one socket of a poll request, and on completion what happened.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollHandleInfo {
    pub(crate) handle: HANDLE,
    pub(crate) events: u32,
    pub(crate) status: NTSTATUS,
}

/// `AFD_POLL_INFO` with room for one socket: the request's input and, on completion, output
/// (the driver writes back how many handles fired and their events).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollInfo {
    pub(crate) timeout: i64,
    pub(crate) number_of_handles: u32,
    pub(crate) exclusive: u32,
    pub(crate) handles: [PollHandleInfo; 1],
}

impl PollInfo {
    pub(crate) const fn zeroed() -> PollInfo {
        PollInfo {
            timeout: 0,
            number_of_handles: 0,
            exclusive: 0,
            handles: [PollHandleInfo {
                handle: std::ptr::null_mut(),
                events: 0,
                status: 0,
            }],
        }
    }
}

/// An open handle on `\Device\Afd`, associated with a `Poll`'s completion port.
#[derive(Debug)]
pub(crate) struct Afd {
    handle: OwnedHandle,
}

// The device's name: AFD accepts any name below `\Device\Afd\`; the suffix only labels the
// handle in tools that list them.
const AFD_NAME: &[u16] = &[
    b'\\' as u16,
    b'D' as u16,
    b'e' as u16,
    b'v' as u16,
    b'i' as u16,
    b'c' as u16,
    b'e' as u16,
    b'\\' as u16,
    b'A' as u16,
    b'f' as u16,
    b'd' as u16,
    b'\\' as u16,
    b'M' as u16,
    b'i' as u16,
    b'o' as u16,
];

impl Afd {
    /// Opens the driver (`NtCreateFile` on `\Device\Afd\Mio`, synchronize access, shared
    /// read/write, no create options: the handle is for overlapped requests only), associates
    /// the handle with `port` under `key`, and asks the kernel not to signal the handle itself
    /// on each completion (`FILE_SKIP_SET_EVENT_ON_HANDLE`), which nobody waits on.
    ///
    /// See [NtCreateFile](https://learn.microsoft.com/en-us/windows/win32/api/winternl/nf-winternl-ntcreatefile)
    /// and [SetFileCompletionNotificationModes](https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-setfilecompletionnotificationmodes).
    pub(crate) fn new(port: &CompletionPort, key: usize) -> io::Result<Afd> {
        let bytes = (AFD_NAME.len() * 2) as u16;
        let name = UNICODE_STRING {
            Length: bytes,
            MaximumLength: bytes,
            Buffer: AFD_NAME.as_ptr() as *mut u16,
        };
        let attributes = OBJECT_ATTRIBUTES {
            Length: std::mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: std::ptr::null_mut(),
            ObjectName: &name,
            Attributes: 0,
            SecurityDescriptor: std::ptr::null(),
            SecurityQualityOfService: std::ptr::null(),
        };
        let mut handle: HANDLE = std::ptr::null_mut();
        let mut iosb = IO_STATUS_BLOCK::default();
        // SAFETY: every pointer is to a live local for the duration of the call; `name`'s
        // buffer is a static UTF-16 string of `Length` bytes; no EA buffer.
        let status = unsafe {
            NtCreateFile(
                &mut handle,
                SYNCHRONIZE,
                &attributes,
                &mut iosb,
                std::ptr::null(),
                0,
                FILE_SHARE_READ | FILE_SHARE_WRITE,
                FILE_OPEN,
                0,
                std::ptr::null(),
                0,
            )
        };
        if status < 0 {
            return Err(nt_error(status));
        }
        // SAFETY: the call succeeded, so `handle` is a new handle that nothing else owns.
        let afd = Afd {
            handle: unsafe { OwnedHandle::from_raw_handle(handle) },
        };
        port.associate(afd.handle.as_raw_handle(), key)?;
        // SAFETY: the handle is valid; the call takes flags only.
        if unsafe {
            SetFileCompletionNotificationModes(afd.raw(), FILE_SKIP_SET_EVENT_ON_HANDLE as u8)
        } == 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(afd)
    }

    fn raw(&self) -> HANDLE {
        self.handle.as_raw_handle()
    }

    /// Sends `IOCTL_AFD_POLL` with `info` as both input and output. On `Ok` the request is
    /// in flight: its completion (even an immediate one) is queued on the port with `context`
    /// as the entry's `lpOverlapped`, and `iosb` receives its status. On `Err` nothing is
    /// queued.
    ///
    /// # Safety
    ///
    /// `info` and `iosb` must stay valid, and be neither read nor written by anyone else,
    /// until the completion for `context` has been dequeued from the port.
    pub(crate) unsafe fn poll(
        &self,
        info: *mut PollInfo,
        iosb: *mut IO_STATUS_BLOCK,
        context: *const c_void,
    ) -> io::Result<()> {
        #[cfg(test)]
        super::fault::check()?;
        // The status field doubles as "not completed yet" for anyone who looks.
        // SAFETY: the caller guarantees `iosb` is valid and unshared (see above).
        unsafe { (*iosb).Anonymous.Status = STATUS_PENDING };
        let len = std::mem::size_of::<PollInfo>() as u32;
        // SAFETY: the handle is valid; `info`/`iosb` outlive the request (caller's contract);
        // no event and no APC routine, so `context` is only handed back through the port.
        let status = unsafe {
            NtDeviceIoControlFile(
                self.raw(),
                std::ptr::null_mut(),
                None,
                context,
                iosb,
                IOCTL_AFD_POLL,
                info.cast::<c_void>(),
                len,
                info.cast::<c_void>(),
                len,
            )
        };
        // Success (done at once) and pending both queue a completion packet: the handle is
        // associated with the port and FILE_SKIP_COMPLETION_PORT_ON_SUCCESS is not set. An
        // error status queues nothing.
        if status >= 0 {
            Ok(())
        } else {
            Err(nt_error(status))
        }
    }

    /// `NtCancelIoFileEx` for the request whose status block is `iosb`. The request then
    /// completes (with `STATUS_CANCELLED`, or normally if it won the race) through the port
    /// as usual; an already completed request is not an error.
    ///
    /// # Safety
    ///
    /// `iosb` must be the status block of a request sent through this handle, still valid.
    pub(crate) unsafe fn cancel(&self, iosb: *mut IO_STATUS_BLOCK) -> io::Result<()> {
        #[cfg(test)]
        super::fault::check()?;
        let mut cancel_iosb = IO_STATUS_BLOCK::default();
        // SAFETY: the handle is valid; `iosb` identifies the request (only compared by the
        // kernel); `cancel_iosb` is a live local.
        let status = unsafe { NtCancelIoFileEx(self.raw(), iosb, &mut cancel_iosb) };
        if status >= 0 || status == STATUS_NOT_FOUND {
            Ok(())
        } else {
            Err(nt_error(status))
        }
    }
}

/// An `NTSTATUS` as the Win32 error it corresponds to.
pub(crate) fn nt_error(status: NTSTATUS) -> io::Error {
    // SAFETY: a pure translation function.
    let code = unsafe { RtlNtStatusToDosError(status) };
    io::Error::from_raw_os_error(code as i32)
}
