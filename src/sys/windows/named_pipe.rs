//! Named pipes on the completion port: overlapped I/O into internal buffers, readiness made
//! from completions.
//!
//! A pipe has no readiness to poll, only operations to start and finish, so readiness is
//! synthesised:
//!
//! - **read**: one overlapped `ReadFile` into an internal buffer ([`READ_BUF`] bytes) is kept
//!   in flight; its completion makes the pipe readable; `read` copies out of the buffer and
//!   starts the next `ReadFile` once it is empty. Reads larger and smaller than the buffer both
//!   work (a larger read returns what the buffer holds; a smaller one leaves the rest).
//! - **write**: `write` copies the data into an internal buffer (up to [`WRITE_MAX`] bytes,
//!   a short write beyond) and starts an overlapped `WriteFile`, returning at once; while it is
//!   in flight further writes answer `WouldBlock`; its completion makes the pipe writable. An
//!   error of a finished write (the reader went away) is returned by the next `write`.
//! - **connect**: an overlapped `ConnectNamedPipe`; `WouldBlock` until a client comes, then a
//!   writable event; calling `connect` again then answers `Ok`.
//! - **disconnect**: what the ended connection left behind (buffered data, its end of file or
//!   error, the results of its reads and writes still in flight) is dropped, never handed to
//!   the next client.
//! - **register / reregister**: a packet posted to the port reports what is ready right now
//!   (the new edge that registering gives on every backend). An end of file or error found
//!   when starting a read (no completion will come) is reported the same way.
//!
//! Each operation in flight owns one strong reference to the pipe's [`Inner`] (which holds the
//! buffers and the `OVERLAPPED`s the kernel writes), taken back by its completion callback;
//! dropping the pipe cancels its I/O and closes the handle, and the memory stays valid until
//! the cancelled completions are dequeued (or the `Poll` shuts down and drains them). A pipe
//! stays in its port's registrations from its first registration until it is dropped,
//! deregistered or not, so that a `Poll` shutting down cancels whatever it still has in flight.
//!
//! I/O before the pipe is first registered answers `NotFound` (as upstream) and starts
//! nothing: without a completion port, a completion would be lost. After a `deregister` the
//! port is still there: I/O goes on, without events.
//!
//! See [Named Pipe Operations](https://learn.microsoft.com/en-us/windows/win32/ipc/named-pipe-operations)
//! and [Synchronous and Overlapped I/O](https://learn.microsoft.com/en-us/windows/win32/sync/synchronous-and-asynchronous-i-o).

use std::cell::UnsafeCell;
use std::ffi::OsStr;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::RawHandle;
use std::sync::{Arc, Mutex, MutexGuard};

use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, ERROR_BROKEN_PIPE, ERROR_IO_PENDING, ERROR_MORE_DATA, ERROR_NO_DATA,
    ERROR_OPERATION_ABORTED, ERROR_PIPE_CONNECTED, ERROR_PIPE_LISTENING, ERROR_PIPE_NOT_CONNECTED,
    HANDLE, INVALID_HANDLE_VALUE, STATUS_BUFFER_OVERFLOW,
};
use windows_sys::Win32::Storage::FileSystem::{
    ReadFile, WriteFile, FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, PIPE_ACCESS_DUPLEX,
};
use windows_sys::Win32::System::Pipes::{
    ConnectNamedPipe, CreateNamedPipeW, DisconnectNamedPipe, PIPE_READMODE_BYTE,
    PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, PIPE_UNLIMITED_INSTANCES,
};
use windows_sys::Win32::System::IO::{CancelIoEx, OVERLAPPED, OVERLAPPED_ENTRY};

use super::afd;
use super::selector::{key, Event, Overlapped, Registration, Selector, Shared, WRITE_CLOSED};
use crate::{Interest, Token, Trigger};

/// The internal read buffer's size.
pub(crate) const READ_BUF: usize = 4096;
/// The most one `write` copies into the internal buffer.
pub(crate) const WRITE_MAX: usize = 1 << 20;
/// The size of each direction's kernel buffer for pipes made by `NamedPipe::new`.
const PIPE_BUF: u32 = 65536;

/// A pipe handle and its overlapped state. `#[repr(C)]` with the four `Overlapped`s first, in
/// this order: a completion callback finds the `Inner` from the `OVERLAPPED` it was given by
/// subtracting the field's fixed offset ([`container`]).
#[repr(C)]
pub(crate) struct Inner {
    connect: Overlapped,
    read: Overlapped,
    write: Overlapped,
    notify: Overlapped,
    handle: HANDLE,
    state: Mutex<State>,
}

// SAFETY: `handle` is a kernel handle value (usable from any thread); the `Overlapped`s are
// only written while their operation is not in flight, under `state`'s lock, and by the kernel
// while it is. Everything else is `Send + Sync`.
unsafe impl Send for Inner {}
// SAFETY: as above.
unsafe impl Sync for Inner {}

#[derive(Debug)]
enum ReadState {
    /// No `ReadFile` in flight, nothing buffered.
    Idle,
    Pending,
    /// `buf[pos..]` holds data not yet read.
    Ready {
        pos: usize,
    },
    Eof,
    Err(io::Error),
}

#[derive(Debug)]
enum WriteState {
    Idle,
    Pending,
    Err(io::Error),
}

struct Registered {
    token: Token,
    interests: Interest,
    /// Edge: an event per completion. Oneshot: the first event only, until `reregister`
    /// (`fired`). Level: after each event that leaves the pipe ready, a notify packet reports
    /// it again at the next poll.
    trigger: Trigger,
    fired: bool,
}

struct State {
    /// The port the handle is tied to, for its whole life, once first registered.
    port: Option<Arc<Shared>>,
    /// This pipe's slot in the port's registrations, from the first registration until the
    /// pipe is closed: deregistered or not, its I/O in flight completes on that port, so a
    /// `Poll` shutting down must be able to cancel it.
    slot: Option<usize>,
    registered: Option<Registered>,
    read: ReadState,
    read_buf: Vec<u8>,
    write: WriteState,
    write_buf: Vec<u8>,
    /// How much of `write_buf` the kernel has taken: a write that completes short is
    /// re-submitted for the rest (the caller was told all of it was written).
    write_pos: usize,
    connecting: bool,
    /// A pending connect completed with a client: the next `connect` answers `Ok` without
    /// asking again (the client may even be gone by then, and `ConnectNamedPipe` would answer
    /// `ERROR_NO_DATA` for a connection that did happen).
    connect_completed: bool,
    /// A server end with no client: reads and writes would fail with `ERROR_PIPE_LISTENING`.
    listening: bool,
    connect_error: Option<io::Error>,
    notify_pending: bool,
    /// The read / write in flight belongs to a connection `disconnect` ended: its result
    /// (data read, an error) is dropped when it completes.
    read_stale: bool,
    write_stale: bool,
    /// The `NamedPipe` was dropped: nothing new is started.
    closed: bool,
    /// The handle was closed: at the drop, or when the write still in flight then completes.
    handle_closed: bool,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `Inner` whose `index`-th `Overlapped` is at `overlapped`.
///
/// # Safety
///
/// `overlapped` must point at field number `index` of a live `Inner`.
unsafe fn container(overlapped: *const Overlapped, index: usize) -> *const Inner {
    // SAFETY: `Inner` is `#[repr(C)]` with four `Overlapped`s first: field `index` is at
    // `index * size_of::<Overlapped>()` (no padding between same-typed fields).
    unsafe {
        overlapped
            .cast::<u8>()
            .sub(index * std::mem::size_of::<Overlapped>())
            .cast()
    }
}

/// The `OVERLAPPED` of field `index` (0 connect, 1 read, 2 write, 3 notify), derived from the
/// pointer `Arc::into_raw` gave for the reference the operation hands to the kernel: its
/// completion turns that pointer back into the whole `Inner` ([`take_back`]), so it must carry
/// the whole `Inner`'s provenance, not a field reference's.
///
/// # Safety
///
/// `context` must come from `Arc::into_raw` of a live `Inner`.
unsafe fn overlapped_of(context: *const Inner, index: usize) -> *mut OVERLAPPED {
    // SAFETY: `context` points at a live `Inner` (the caller's contract); `addr_of!` makes no
    // reference. The kernel writes through the result: the `OVERLAPPED` is in an `UnsafeCell`.
    unsafe {
        let field = match index {
            0 => std::ptr::addr_of!((*context).connect),
            1 => std::ptr::addr_of!((*context).read),
            2 => std::ptr::addr_of!((*context).write),
            _ => std::ptr::addr_of!((*context).notify),
        };
        UnsafeCell::raw_get(std::ptr::addr_of!((*field).raw))
    }
}

/// Takes back the reference an operation started on field `index` gave away.
///
/// # Safety
///
/// `entry` must be the completion of an operation started on that field with
/// `Arc::into_raw` of its `Inner` given away.
unsafe fn take_back(entry: &OVERLAPPED_ENTRY, index: usize) -> Arc<Inner> {
    // SAFETY: per the contract, the `OVERLAPPED` is field `index` of an `Inner` kept alive by
    // the reference the operation gave away, which this takes back (once).
    unsafe { Arc::from_raw(container(entry.lpOverlapped as *const Overlapped, index)) }
}

/// The status of a finished operation (`OVERLAPPED.Internal` holds its `NTSTATUS`).
/// `STATUS_BUFFER_OVERFLOW` (`ERROR_MORE_DATA`: a read of part of a message, on a
/// message-mode pipe) is a warning, not a failure: the bytes it transferred are data, and the
/// rest of the message comes with the next read.
fn status(entry: &OVERLAPPED_ENTRY) -> Result<usize, io::Error> {
    // SAFETY: the completion was dequeued, so the kernel is done writing the `OVERLAPPED`.
    let status = unsafe { (*entry.lpOverlapped).Internal } as i32;
    if status >= 0 || status == STATUS_BUFFER_OVERFLOW {
        Ok(entry.dwNumberOfBytesTransferred as usize)
    } else {
        Err(afd::nt_error(status))
    }
}

fn last_error() -> u32 {
    // SAFETY: reads the calling thread's last error.
    unsafe { GetLastError() }
}

/// A failed write as the caller sees it: as the OS said it (`ERROR_NO_DATA`,
/// `ERROR_BROKEN_PIPE`: std reads both as `BrokenPipe`, and callers such as tokio compare the
/// raw code), except `ERROR_PIPE_NOT_CONNECTED` (after `disconnect`), which std leaves
/// uncategorised: `BrokenPipe` around it.
fn write_error(err: io::Error) -> io::Error {
    if err.raw_os_error() == Some(ERROR_PIPE_NOT_CONNECTED as i32) {
        io::Error::new(io::ErrorKind::BrokenPipe, err)
    } else {
        err
    }
}

/// The other end is gone (or was disconnected): end-of-file for reads, `BrokenPipe` for
/// writes.
fn is_broken(code: Option<i32>) -> bool {
    matches!(code, Some(c) if c == ERROR_BROKEN_PIPE as i32
        || c == ERROR_NO_DATA as i32
        || c == ERROR_PIPE_NOT_CONNECTED as i32)
}

/// I/O on a pipe never registered: `NotFound`, as upstream answers. Without a completion
/// port an operation's completion would have nowhere to go, so nothing is started.
fn not_registered_yet(st: &State) -> io::Result<()> {
    if st.port.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "named pipe not registered with a `Poll`: register it before any I/O",
        ));
    }
    Ok(())
}

impl Inner {
    /// Wraps an owned pipe handle opened for overlapped I/O.
    pub(crate) fn new(handle: RawHandle) -> Arc<Inner> {
        Arc::new(Inner {
            connect: Overlapped::new(connect_done),
            read: Overlapped::new(read_done),
            write: Overlapped::new(write_done),
            notify: Overlapped::new(notify_done),
            handle,
            state: Mutex::new(State {
                port: None,
                slot: None,
                registered: None,
                read: ReadState::Idle,
                read_buf: Vec::new(),
                write: WriteState::Idle,
                write_buf: Vec::new(),
                write_pos: 0,
                connecting: false,
                connect_completed: false,
                listening: false,
                connect_error: None,
                notify_pending: false,
                read_stale: false,
                write_stale: false,
                closed: false,
                handle_closed: false,
            }),
        })
    }

    /// `CreateNamedPipeW`: a duplex byte-mode server end, overlapped, first instance of its
    /// name, local clients only.
    ///
    /// See [CreateNamedPipeW](https://learn.microsoft.com/en-us/windows/win32/api/namedpipeapi/nf-namedpipeapi-createnamedpipew).
    pub(crate) fn create(name: &OsStr) -> io::Result<Arc<Inner>> {
        let mut wide: Vec<u16> = name.encode_wide().collect();
        if wide.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "pipe name contains a NUL",
            ));
        }
        wide.push(0);
        // SAFETY: `wide` is a NUL-terminated UTF-16 string; no security attributes.
        let handle = unsafe {
            CreateNamedPipeW(
                wide.as_ptr(),
                PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE | FILE_FLAG_OVERLAPPED,
                PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_REJECT_REMOTE_CLIENTS,
                PIPE_UNLIMITED_INSTANCES,
                PIPE_BUF,
                PIPE_BUF,
                0,
                std::ptr::null(),
            )
        };
        if handle == INVALID_HANDLE_VALUE {
            return Err(io::Error::last_os_error());
        }
        Ok(Inner::new(handle))
    }

    pub(crate) fn handle(&self) -> RawHandle {
        self.handle
    }

    /// Starts a `ReadFile` into the internal buffer if none is in flight and nothing is
    /// buffered. Synchronous failures set the read state directly.
    fn start_read(self: &Arc<Self>, st: &mut State) {
        if !matches!(st.read, ReadState::Idle) || st.registered.is_none() || st.closed {
            return;
        }
        let Some(port) = st.port.clone() else { return };
        if !port.begin_op() {
            return;
        }
        st.read_buf.clear();
        st.read_buf.reserve(READ_BUF);
        let context = Arc::into_raw(Arc::clone(self));
        // SAFETY: `context` is `Arc::into_raw` of this live `Inner`.
        let overlapped = unsafe { overlapped_of(context, 1) };
        // SAFETY: the read `OVERLAPPED` is not in flight (read state is Idle) and we hold the
        // lock; zero is its required initial state.
        unsafe { *overlapped = std::mem::zeroed() };
        // SAFETY: the buffer's spare capacity is writable for READ_BUF bytes and, like the
        // `OVERLAPPED`, lives in `self`, kept alive by `context` until the completion; nothing
        // touches it while the read is Pending.
        let ok = unsafe {
            ReadFile(
                self.handle,
                st.read_buf.as_mut_ptr(),
                READ_BUF as u32,
                std::ptr::null_mut(),
                overlapped,
            )
        };
        if ok != 0 || matches!(last_error(), ERROR_IO_PENDING | ERROR_MORE_DATA) {
            // A synchronous success queues a completion packet too (the handle is associated
            // with the port, without FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), and so does
            // `ERROR_MORE_DATA` (part of a message read at once: a warning status, which
            // completes through the port like a success).
            st.read = ReadState::Pending;
            return;
        }
        let err = io::Error::last_os_error();
        // SAFETY: the read failed at once: no packet, so the reference comes back here.
        drop(unsafe { Arc::from_raw(context) });
        port.end_op();
        st.read = match err.raw_os_error() {
            Some(c) if c == ERROR_PIPE_LISTENING as i32 => {
                st.listening = true;
                return;
            }
            c if is_broken(c) => ReadState::Eof,
            _ => ReadState::Err(err),
        };
        // No completion will report this end of file or error: a notification packet does,
        // so the edge is not lost (e.g. a reader that drained the buffer and then waits).
        self.post_notify(st);
    }

    /// Posts a packet that reports current readiness (at most one queued at a time).
    fn post_notify(self: &Arc<Self>, st: &mut State) {
        if st.notify_pending {
            return;
        }
        let Some(port) = st.port.clone() else { return };
        if !port.begin_op() {
            return;
        }
        let context = Arc::into_raw(Arc::clone(self));
        // SAFETY: `context` is `Arc::into_raw` of this live `Inner`.
        match port
            .port
            .post(key::OVERLAPPED, unsafe { overlapped_of(context, 3) })
        {
            Ok(()) => st.notify_pending = true,
            Err(_) => {
                // SAFETY: the packet was not queued: the reference comes back here.
                drop(unsafe { Arc::from_raw(context) });
                port.end_op();
            }
        }
    }

    /// The readiness bits of the pipe right now.
    fn readiness(st: &State) -> u32 {
        let mut flags = 0;
        match st.read {
            ReadState::Ready { .. } | ReadState::Err(_) => flags |= afd::POLL_RECEIVE,
            ReadState::Eof => flags |= afd::POLL_RECEIVE | afd::POLL_DISCONNECT,
            ReadState::Idle | ReadState::Pending => {}
        }
        if !st.listening && !st.connecting {
            match st.write {
                WriteState::Idle => flags |= afd::POLL_SEND,
                WriteState::Err(_) => flags |= afd::POLL_SEND | WRITE_CLOSED,
                WriteState::Pending => {}
            }
        }
        flags
    }

    /// Adds an event for `flags` if the pipe is registered for any of it.
    fn emit(self: &Arc<Self>, st: &mut State, flags: u32, events: Option<&mut Vec<Event>>) {
        let (Some(reg), Some(events)) = (&mut st.registered, events) else {
            return;
        };
        if reg.trigger == Trigger::Oneshot && reg.fired {
            return;
        }
        let mut wanted = 0;
        if reg.interests.is_readable() {
            wanted |= afd::POLL_RECEIVE | afd::POLL_DISCONNECT;
        }
        if reg.interests.is_writable() {
            wanted |= afd::POLL_SEND | WRITE_CLOSED;
        }
        if flags & wanted != 0 {
            events.push(Event {
                flags: flags & wanted,
                data: reg.token.0,
            });
            reg.fired = true;
            if reg.trigger == Trigger::Level && Self::readiness(st) & wanted != 0 {
                // Still ready: say so again at the next poll.
                self.post_notify(st);
            }
        }
    }

    pub(crate) fn read(self: &Arc<Self>, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let mut st = lock(&self.state);
        not_registered_yet(&st)?;
        if matches!(st.read, ReadState::Idle) {
            self.start_read(&mut st);
        }
        match std::mem::replace(&mut st.read, ReadState::Idle) {
            ReadState::Ready { mut pos } => {
                let mut n = 0;
                for buf in bufs.iter_mut() {
                    let take = buf.len().min(st.read_buf.len() - pos);
                    buf[..take].copy_from_slice(&st.read_buf[pos..pos + take]);
                    pos += take;
                    n += take;
                    if pos == st.read_buf.len() {
                        break;
                    }
                }
                if pos < st.read_buf.len() {
                    st.read = ReadState::Ready { pos };
                } else {
                    // Drained: the next read is under way before the caller asks again.
                    self.start_read(&mut st);
                }
                Ok(n)
            }
            ReadState::Eof => {
                st.read = ReadState::Eof;
                Ok(0)
            }
            ReadState::Err(err) => {
                self.start_read(&mut st);
                Err(err)
            }
            state @ (ReadState::Idle | ReadState::Pending) => {
                st.read = state;
                Err(io::ErrorKind::WouldBlock.into())
            }
        }
    }

    pub(crate) fn write(self: &Arc<Self>, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut st = lock(&self.state);
        not_registered_yet(&st)?;
        match std::mem::replace(&mut st.write, WriteState::Idle) {
            WriteState::Err(err) => return Err(err),
            WriteState::Pending => {
                st.write = WriteState::Pending;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            WriteState::Idle => {}
        }
        if st.registered.is_none() || st.closed || st.connecting {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let Some(port) = st.port.clone() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        st.write_buf.clear();
        for buf in bufs {
            let room = WRITE_MAX - st.write_buf.len();
            st.write_buf.extend_from_slice(&buf[..buf.len().min(room)]);
            if st.write_buf.len() == WRITE_MAX {
                break;
            }
        }
        let len = st.write_buf.len();
        if len == 0 {
            return Ok(0);
        }
        st.write_pos = 0;
        match self.submit_write(&mut st, &port) {
            Ok(true) => Ok(len),
            Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
            Err(err) => match err.raw_os_error() {
                Some(c) if c == ERROR_PIPE_LISTENING as i32 => {
                    st.listening = true;
                    Err(io::ErrorKind::WouldBlock.into())
                }
                _ => Err(write_error(err)),
            },
        }
    }

    /// Starts an overlapped `WriteFile` of `write_buf[write_pos..]`. `Ok(false)`: nothing
    /// started, the selector is shutting down.
    fn submit_write(self: &Arc<Self>, st: &mut State, port: &Shared) -> io::Result<bool> {
        if !port.begin_op() {
            return Ok(false);
        }
        let pos = st.write_pos;
        let len = st.write_buf.len() - pos;
        let context = Arc::into_raw(Arc::clone(self));
        // SAFETY: `context` is `Arc::into_raw` of this live `Inner`.
        let overlapped = unsafe { overlapped_of(context, 2) };
        // SAFETY: the write `OVERLAPPED` is not in flight (the state is not Pending), lock
        // held.
        unsafe { *overlapped = std::mem::zeroed() };
        // SAFETY: `write_buf` and the `OVERLAPPED` live in `self`, kept alive by `context`
        // until the completion; nothing touches them while the write is Pending. `pos` is
        // within the buffer (`write_pos <= write_buf.len()`).
        let ok = unsafe {
            WriteFile(
                self.handle,
                st.write_buf.as_ptr().add(pos),
                len as u32,
                std::ptr::null_mut(),
                overlapped,
            )
        };
        if ok != 0 || last_error() == ERROR_IO_PENDING {
            st.write = WriteState::Pending;
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        // SAFETY: the write failed at once: no packet, the reference comes back here.
        drop(unsafe { Arc::from_raw(context) });
        port.end_op();
        Err(err)
    }

    /// `ConnectNamedPipe`, overlapped.
    pub(crate) fn connect(self: &Arc<Self>) -> io::Result<()> {
        let mut st = lock(&self.state);
        if std::mem::take(&mut st.connect_completed) {
            return Ok(());
        }
        not_registered_yet(&st)?;
        if st.connecting || st.registered.is_none() || st.closed {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let Some(port) = st.port.clone() else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if !port.begin_op() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let context = Arc::into_raw(Arc::clone(self));
        // SAFETY: `context` is `Arc::into_raw` of this live `Inner`.
        let overlapped = unsafe { overlapped_of(context, 0) };
        // SAFETY: no connect is in flight (`connecting` is false), lock held.
        unsafe { *overlapped = std::mem::zeroed() };
        // SAFETY: the `OVERLAPPED` lives in `self`, kept alive by `context` until completion.
        let ok = unsafe { ConnectNamedPipe(self.handle, overlapped) };
        if ok != 0 || last_error() == ERROR_IO_PENDING {
            // Pending, or done at once with a success status: either way a completion packet
            // is queued (the handle is associated with the port, without
            // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) and owns `context`; it reports the
            // connection as a writable event, after which `connect` answers `Ok`.
            st.connecting = true;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let code = last_error();
        // Failed at once (an error status, `ERROR_PIPE_CONNECTED` included): no packet.
        // SAFETY: no packet will come for this call: the reference comes back here.
        drop(unsafe { Arc::from_raw(context) });
        port.end_op();
        match code {
            // A client is there already (`ERROR_PIPE_CONNECTED`), or came and already left
            // (`ERROR_NO_DATA`: a connection whose reads give end of file, see
            // ConnectNamedPipe's remarks). Either way it is a connection, and no completion
            // will say so: a notification packet reports the readiness it brings (writable;
            // readable with the end of file), as a completed connect does.
            ERROR_PIPE_CONNECTED | ERROR_NO_DATA => {
                self.connected(&mut st);
                self.post_notify(&mut st);
                Ok(())
            }
            _ => Err(io::Error::from_raw_os_error(code as i32)),
        }
    }

    /// A client is there: reads can start, writes can go.
    fn connected(self: &Arc<Self>, st: &mut State) {
        st.listening = false;
        if matches!(st.read, ReadState::Eof | ReadState::Err(_)) {
            st.read = ReadState::Idle;
        }
        if matches!(st.write, WriteState::Err(_)) {
            st.write = WriteState::Idle;
        }
        self.start_read(st);
    }

    pub(crate) fn disconnect(&self) -> io::Result<()> {
        // SAFETY: the handle is valid while `self` is (closed only by `close`).
        if unsafe { DisconnectNamedPipe(self.handle) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut st = lock(&self.state);
        st.listening = true;
        st.connect_completed = false;
        // What the old client sent and nobody read is lost, and its end of file or errors
        // are not the next client's: that includes the results of a read or write in flight
        // (even one that completed before the disconnect but is not dequeued yet).
        match st.read {
            ReadState::Pending => st.read_stale = true,
            ReadState::Ready { .. } | ReadState::Eof | ReadState::Err(_) => {
                st.read = ReadState::Idle
            }
            ReadState::Idle => {}
        }
        match st.write {
            WriteState::Pending => st.write_stale = true,
            WriteState::Err(_) => st.write = WriteState::Idle,
            WriteState::Idle => {}
        }
        Ok(())
    }

    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(lock(&self.state).connect_error.take())
    }

    pub(crate) fn register(
        self: &Arc<Self>,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let trigger = super::selector::socket_trigger(interests)?;
        let shared = selector.shared();
        let mut st = lock(&self.state);
        if st.registered.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a `Registry`",
            ));
        }
        match &st.port {
            Some(port) if !Arc::ptr_eq(port, shared) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "a named pipe stays tied to the first `Poll` it was registered with",
                ))
            }
            Some(_) => {}
            None => {
                shared.port.associate(self.handle, key::OVERLAPPED)?;
                st.port = Some(Arc::clone(shared));
                st.slot = Some(shared.add_registration(Arc::clone(self) as Arc<dyn Registration>));
            }
        }
        st.registered = Some(Registered {
            token,
            interests,
            trigger,
            fired: false,
        });
        self.start_read(&mut st);
        self.post_notify(&mut st);
        Ok(())
    }

    pub(crate) fn reregister(
        self: &Arc<Self>,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let trigger = super::selector::socket_trigger(interests)?;
        let mut st = lock(&self.state);
        self.check_registered(&st, selector)?;
        if let Some(reg) = &mut st.registered {
            reg.token = token;
            reg.interests = interests;
            reg.trigger = trigger;
            reg.fired = false;
        }
        self.post_notify(&mut st);
        Ok(())
    }

    pub(crate) fn deregister(self: &Arc<Self>, selector: &Selector) -> io::Result<()> {
        let mut st = lock(&self.state);
        self.check_registered(&st, selector)?;
        // I/O in flight finishes on the port, silently (no registration, no event); the
        // pipe keeps its slot there until it is closed, see `State::slot`.
        st.registered = None;
        Ok(())
    }

    fn check_registered(&self, st: &State, selector: &Selector) -> io::Result<()> {
        match (&st.registered, &st.port) {
            (Some(_), Some(port)) if Arc::ptr_eq(port, selector.shared()) => Ok(()),
            (Some(_), _) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a different `Registry`",
            )),
            (None, _) => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "I/O source not registered with `Registry`",
            )),
        }
    }

    /// The `NamedPipe` is dropped: deregister, cancel the read and the connect in flight,
    /// and close the handle, at once or, with a write in flight, when it completes: `write`
    /// told the caller the data was taken, so it is delivered, not cancelled. Buffers live on
    /// (in `self`) until the operations' completions are dequeued.
    pub(crate) fn close(&self) {
        let mut st = lock(&self.state);
        if st.closed {
            return;
        }
        st.closed = true;
        st.registered = None;
        if matches!(st.read, ReadState::Pending) {
            // SAFETY: the handle is open (closed only by `close_handle`, not yet: `closed`
            // was false); the read `OVERLAPPED` is the one in flight.
            unsafe { CancelIoEx(self.handle, self.read.as_ptr()) };
        }
        if st.connecting {
            // SAFETY: as above, for the connect in flight.
            unsafe { CancelIoEx(self.handle, self.connect.as_ptr()) };
        }
        if !matches!(st.write, WriteState::Pending) {
            self.close_handle(&mut st);
        }
        // Else `write_done` closes it. The pipe keeps its slot in the port's registrations
        // until then: a `Poll` dropped meanwhile cancels the write (`cancel_all`).
    }

    /// Closes the handle (once) and leaves the port's registrations.
    fn close_handle(&self, st: &mut State) {
        if std::mem::replace(&mut st.handle_closed, true) {
            return;
        }
        if let (Some(slot), Some(port)) = (st.slot.take(), &st.port) {
            port.remove_registration(slot);
        }
        // SAFETY: we own the handle and close it once (`handle_closed` guards); operations
        // still in flight complete (cancelled) through the port and keep `self` alive until
        // then.
        unsafe { CloseHandle(self.handle) };
    }
}

impl Registration for Inner {
    fn cancel_all(&self) {
        let mut st = lock(&self.state);
        st.registered = None;
        if !st.handle_closed {
            // SAFETY: the handle is open; a null `OVERLAPPED` cancels every operation this
            // process started on it (a write a dropped pipe left going included: its
            // completion then closes the handle).
            unsafe { CancelIoEx(self.handle, std::ptr::null()) };
        }
    }
}

fn connect_done(entry: &OVERLAPPED_ENTRY, events: Option<&mut Vec<Event>>) {
    // SAFETY: started by `Inner::connect` on field 0 with a reference given away.
    let inner = unsafe { take_back(entry, 0) };
    let mut st = lock(&inner.state);
    st.connecting = false;
    match status(entry) {
        Ok(_) => {
            st.connect_completed = true;
            inner.connected(&mut st);
        }
        Err(err) if err.raw_os_error() == Some(ERROR_OPERATION_ABORTED as i32) => {}
        Err(err) => st.connect_error = Some(err),
    }
    let flags = Inner::readiness(&st) | afd::POLL_SEND;
    inner.emit(&mut st, flags, events);
}

fn read_done(entry: &OVERLAPPED_ENTRY, events: Option<&mut Vec<Event>>) {
    // SAFETY: started by `Inner::start_read` on field 1 with a reference given away.
    let inner = unsafe { take_back(entry, 1) };
    let mut st = lock(&inner.state);
    if std::mem::take(&mut st.read_stale) {
        // A read of a connection `disconnect` ended: its data or error is not for anyone.
        st.read = ReadState::Idle;
        inner.start_read(&mut st);
        return;
    }
    st.read = match status(entry) {
        Ok(0) => ReadState::Idle,
        Ok(n) => {
            // SAFETY: the kernel wrote `n` bytes (at most READ_BUF, the capacity reserved)
            // into the buffer's spare capacity.
            let n = n.min(st.read_buf.capacity());
            // SAFETY: (see above)
            unsafe { st.read_buf.set_len(n) };
            ReadState::Ready { pos: 0 }
        }
        Err(err) if err.raw_os_error() == Some(ERROR_OPERATION_ABORTED as i32) => ReadState::Idle,
        Err(err) if is_broken(err.raw_os_error()) => ReadState::Eof,
        Err(err) => ReadState::Err(err),
    };
    if matches!(st.read, ReadState::Idle) {
        // An empty or cancelled read: keep one in flight if still registered.
        inner.start_read(&mut st);
    }
    let flags = Inner::readiness(&st) & (afd::POLL_RECEIVE | afd::POLL_DISCONNECT);
    inner.emit(&mut st, flags, events);
}

fn write_done(entry: &OVERLAPPED_ENTRY, events: Option<&mut Vec<Event>>) {
    // SAFETY: started by `Inner::submit_write` on field 2 with a reference given away.
    let inner = unsafe { take_back(entry, 2) };
    let mut st = lock(&inner.state);
    if st.closed {
        // The pipe was dropped with this write in flight: its data is delivered (or the
        // write failed or was cancelled by a `Poll` going away); the rest of a short write
        // follows, then the handle closes.
        st.write = WriteState::Idle;
        if let Ok(n) = status(entry) {
            st.write_pos += n;
            if n > 0 && st.write_pos < st.write_buf.len() && !st.write_stale {
                if let Some(port) = st.port.clone() {
                    if let Ok(true) = inner.submit_write(&mut st, &port) {
                        return;
                    }
                }
            }
        }
        inner.close_handle(&mut st);
        return;
    }
    if std::mem::take(&mut st.write_stale) {
        // A write of a connection `disconnect` ended: its result is not the next client's,
        // but a writer that got `WouldBlock` from the new connection meanwhile waits for
        // this slot to free up.
        st.write = WriteState::Idle;
        let flags = Inner::readiness(&st) & afd::POLL_SEND;
        inner.emit(&mut st, flags, events);
        return;
    }
    st.write = match status(entry) {
        Ok(n) => {
            st.write_pos += n;
            if n > 0 && st.write_pos < st.write_buf.len() {
                // A short write (the caller was told all of it was taken): the rest goes now.
                let port = st.port.clone();
                match port.map(|port| inner.submit_write(&mut st, &port)) {
                    Some(Ok(true)) => return,
                    Some(Err(err)) => WriteState::Err(write_error(err)),
                    None | Some(Ok(false)) => WriteState::Idle,
                }
            } else {
                WriteState::Idle
            }
        }
        Err(err) => WriteState::Err(write_error(err)),
    };
    let flags = Inner::readiness(&st) & (afd::POLL_SEND | WRITE_CLOSED);
    inner.emit(&mut st, flags | afd::POLL_SEND, events);
}

fn notify_done(entry: &OVERLAPPED_ENTRY, events: Option<&mut Vec<Event>>) {
    // SAFETY: posted by `Inner::post_notify` on field 3 with a reference given away.
    let inner = unsafe { take_back(entry, 3) };
    let mut st = lock(&inner.state);
    st.notify_pending = false;
    let flags = Inner::readiness(&st);
    inner.emit(&mut st, flags, events);
}
