//! Unix pipes, non-blocking and registrable.
//!
//! [`new`] creates a pipe whose two ends are ready for use with a [`Poll`](crate::Poll). The
//! ends can also be built from a child process's standard streams, to drive a child's I/O from
//! an event loop.
//!
//! Events, on Linux:
//! - the [`Receiver`] is readable when data is waiting; when every [`Sender`] is gone it gets
//!   read-closed (and write-closed: a bare hang-up);
//! - the [`Sender`] is writable when there is room; when every [`Receiver`] is gone it gets
//!   writable, error and write-closed, and writes fail with `BrokenPipe` (Rust programs ignore
//!   `SIGPIPE` by default; a program that restores it is killed by such a write, as with any
//!   pipe).
//!
//! # Examples
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use mio::unix::pipe;
//! use mio::{Events, Interest, Poll, Token};
//!
//! const SENDER: Token = Token(0);
//! const RECEIVER: Token = Token(1);
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(8);
//!
//! let (mut sender, mut receiver) = pipe::new()?;
//! poll.registry().register(&mut sender, SENDER, Interest::WRITABLE)?;
//! poll.registry().register(&mut receiver, RECEIVER, Interest::READABLE)?;
//!
//! let msg = b"hello";
//! let mut sent = false;
//! let mut got = Vec::new();
//! while got.len() < msg.len() {
//!     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
//!     for event in events.iter() {
//!         match event.token() {
//!             SENDER if !sent => {
//!                 sender.write_all(msg)?;
//!                 sent = true;
//!             }
//!             RECEIVER => {
//!                 let mut buf = [0; 64];
//!                 loop {
//!                     match receiver.read(&mut buf) {
//!                         Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
//!                         Ok(_) => break,
//!                         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
//!                         Err(e) => return Err(e),
//!                     }
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(got, msg);
//! # Ok(())
//! # }
//! ```

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::process::{ChildStderr, ChildStdin, ChildStdout};

use crate::io_source::IoSource;
use crate::sys;

/// Creates a pipe, as `pipe2(O_CLOEXEC | O_NONBLOCK)`: both ends are non-blocking and
/// close-on-exec. Note the order: `(Sender, Receiver)`.
///
/// # Errors
///
/// Fails when the process or the system is out of file descriptors.
pub fn new() -> io::Result<(Sender, Receiver)> {
    let (read, write) = sys::pipe::new()?;
    Ok((Sender::from(write), Receiver::from(read)))
}

/// The writing end of a pipe.
///
/// Dropping it closes the fd, which removes it from every `Poll` (unless the fd was
/// duplicated) and makes the [`Receiver`] read-closed once the data is read.
#[derive(Debug)]
pub struct Sender {
    inner: IoSource<File>,
}

impl Sender {
    /// Sets or clears non-blocking mode (`ioctl(FIONBIO)`; `fcntl(O_NONBLOCK)` on illumos and
    /// Solaris). Needed after converting a [`ChildStdin`], which is blocking.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        sys::pipe::set_nonblocking(&*self.inner, nonblocking)
    }

    try_io_method!();
}

impl From<ChildStdin> for Sender {
    /// Wraps a child's stdin. Its blocking mode is **not** changed: call
    /// [`set_nonblocking(true)`](Sender::set_nonblocking) before registering it.
    fn from(stdin: ChildStdin) -> Sender {
        Sender::from(OwnedFd::from(stdin))
    }
}

impl_io_source_traits!(Sender, File);
impl_write!(Sender, sys::io::write, sys::io::write_vectored);

/// The reading end of a pipe.
///
/// Dropping it closes the fd, which removes it from every `Poll` (unless the fd was
/// duplicated) and makes writes to the [`Sender`] fail with `BrokenPipe`.
#[derive(Debug)]
pub struct Receiver {
    inner: IoSource<File>,
}

impl Receiver {
    /// Sets or clears non-blocking mode (`ioctl(FIONBIO)`; `fcntl(O_NONBLOCK)` on illumos and
    /// Solaris). Needed after converting a [`ChildStdout`] or [`ChildStderr`], which are
    /// blocking.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        sys::pipe::set_nonblocking(&*self.inner, nonblocking)
    }

    try_io_method!();
}

impl From<ChildStdout> for Receiver {
    /// Wraps a child's stdout. Its blocking mode is **not** changed: call
    /// [`set_nonblocking(true)`](Receiver::set_nonblocking) before registering it.
    fn from(stdout: ChildStdout) -> Receiver {
        Receiver::from(OwnedFd::from(stdout))
    }
}

impl From<ChildStderr> for Receiver {
    /// Wraps a child's stderr. Its blocking mode is **not** changed: call
    /// [`set_nonblocking(true)`](Receiver::set_nonblocking) before registering it.
    fn from(stderr: ChildStderr) -> Receiver {
        Receiver::from(OwnedFd::from(stderr))
    }
}

impl_io_source_traits!(Receiver, File);
impl_read!(Receiver);
