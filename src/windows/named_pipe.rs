use std::ffi::OsStr;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::windows::io::{AsRawHandle, FromRawHandle, RawHandle};
use std::sync::Arc;

use crate::sys::windows::named_pipe::Inner;
use crate::{event, Interest, Registry, Token};

/// A non-blocking Windows named pipe, either end, driven by the [`Poll`](crate::Poll) it is
/// registered with.
///
/// Windows pipes have no readiness to wait for, only overlapped operations, so this type keeps
/// them in flight itself and turns their completions into events:
///
/// - **Reading**: one overlapped read into an internal 4 KiB buffer is always under way; its
///   completion is a readable event, and `read` returns what the buffer holds (the next read
///   starts once it is empty). `read` returns `WouldBlock` while the buffer is empty. On a
///   message-mode pipe (one handed over with `from_raw_handle`), a message larger than the
///   buffer comes out over several reads; message boundaries are not reported.
/// - **Writing**: `write` copies the data (up to 1 MiB, a short write beyond) into an internal
///   buffer, starts an overlapped write and returns at once; until that write completes
///   (a writable event), further writes return `WouldBlock`. If a completed write failed (the
///   reader went away), the next `write` returns the error
///   ([`BrokenPipe`](io::ErrorKind::BrokenPipe)).
/// - **Connecting** (server end): [`connect`](NamedPipe::connect) returns `WouldBlock` until a
///   client arrives, then a writable event is delivered and `connect` returns `Ok(())`. A
///   client that connected before `connect` was called makes it return `Ok(())` at once, and
///   a writable event follows; so does a client that connected and already left (its reads
///   then give end of file, with a readable event).
///
/// **Differences from the Unix types**: the pipe must be registered before any I/O (before
/// that every operation returns [`NotFound`](io::ErrorKind::NotFound) and starts nothing,
/// because a completion would have nowhere to go), and it stays tied to the first `Poll` it
/// was registered with (a handle belongs to one completion port for life). Dropping a pipe
/// cancels its read and its wait for a client; a write in flight is finished first (the data
/// `write` accepted is delivered), then the handle is closed. The buffers are freed once the
/// completions have been collected by the `Poll` (or when it is dropped, which cancels
/// everything still in flight).
///
/// # Examples
///
/// A server and a client on one `Poll`:
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use std::io::{Read, Write};
/// use std::os::windows::io::FromRawHandle;
/// use std::time::Duration;
/// use mio::windows::NamedPipe;
/// use mio::{Events, Interest, Poll, Token};
///
/// const SERVER: Token = Token(0);
/// let name = r"\\.\pipe\mio-example";
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(8);
/// let mut server = NamedPipe::new(name)?;
/// poll.registry().register(&mut server, SERVER, Interest::READABLE | Interest::WRITABLE)?;
/// match server.connect() {
///     Ok(()) => {}
///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {} // a writable event follows
///     Err(e) => return Err(e),
/// }
///
/// // The client end: any handle opened with FILE_FLAG_OVERLAPPED, e.g. with
/// // `std::fs::OpenOptions` and `custom_flags(FILE_FLAG_OVERLAPPED)`, then
/// // `unsafe { NamedPipe::from_raw_handle(file.into_raw_handle()) }`.
/// # Ok(())
/// # }
/// ```
pub struct NamedPipe {
    inner: Arc<Inner>,
}

impl NamedPipe {
    /// Creates the server end of a new pipe named `addr` (e.g. `\\.\pipe\my-pipe`): duplex,
    /// byte mode, overlapped, the first instance of that name (creating a second one fails
    /// with `PermissionDenied`), local clients only.
    pub fn new<A: AsRef<OsStr>>(addr: A) -> io::Result<NamedPipe> {
        Ok(NamedPipe {
            inner: Inner::create(addr.as_ref())?,
        })
    }

    /// Waits for a client (server end). `Ok(())` when one is connected (also when it
    /// connected before this call, even if it already left: reads then give end of file);
    /// `WouldBlock` while waiting: a writable event follows when a client arrives, and calling
    /// `connect` again then returns `Ok(())`. A failed wait is reported by
    /// [`take_error`](NamedPipe::take_error). `NotFound` before the pipe is registered.
    pub fn connect(&self) -> io::Result<()> {
        self.inner.connect()
    }

    /// Disconnects the server end from its client (`DisconnectNamedPipe`); the client's
    /// further I/O fails, unread data is lost. [`connect`](NamedPipe::connect) can then wait
    /// for a new client.
    pub fn disconnect(&self) -> io::Result<()> {
        self.inner.disconnect()
    }

    /// The error of a failed [`connect`](NamedPipe::connect) wait, once.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl Read for NamedPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl Read for &NamedPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(&mut [IoSliceMut::new(buf)])
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.inner.read(bufs)
    }
}

impl Write for NamedPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self).flush()
    }
}

impl Write for &NamedPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.inner.write(bufs)
    }

    /// Nothing to do: data handed to `write` is already on its way (its failure, if any, is
    /// reported by the next `write`).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl event::Source for NamedPipe {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.inner.register(registry.selector(), token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.inner.reregister(registry.selector(), token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.inner.deregister(registry.selector())
    }
}

impl FromRawHandle for NamedPipe {
    /// Takes ownership of `handle`: either end of a named pipe, opened for overlapped I/O
    /// (`FILE_FLAG_OVERLAPPED`) and not yet associated with a completion port.
    unsafe fn from_raw_handle(handle: RawHandle) -> NamedPipe {
        NamedPipe {
            inner: Inner::new(handle),
        }
    }
}

impl AsRawHandle for NamedPipe {
    fn as_raw_handle(&self) -> RawHandle {
        self.inner.handle()
    }
}

impl fmt::Debug for NamedPipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedPipe")
            .field("handle", &self.inner.handle())
            .finish()
    }
}

impl Drop for NamedPipe {
    /// Cancels the pipe's I/O in flight and closes the handle.
    fn drop(&mut self) {
        self.inner.close();
    }
}
