//! The eventfd(2) wake-up primitive: the `Waker` of the epoll backend, and the internal
//! notifier of the poll(2) backend.
//!
//! `wake` adds 1 to the counter. With epoll (edge-triggered) each write after the last
//! `epoll_wait` makes one new edge, so any number of wakes between two polls merge into one
//! event, and the counter is never drained on the normal path: that saves a syscall per
//! wake-up. The level-triggered poll(2) backend drains it with `reset` once it has fired.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{eventfd, EventfdFlags};
use rustix::io::Errno;

#[derive(Debug)]
pub(crate) struct WakerFd {
    fd: OwnedFd,
}

impl WakerFd {
    /// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`.
    ///
    /// See [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html).
    pub(crate) fn new() -> io::Result<WakerFd> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(WakerFd { fd })
    }

    /// Adds 1 to the counter, making the fd readable. If the counter is about to overflow
    /// (after some 2^64 wakes without a read) the write would block: reset it, write again.
    pub(crate) fn wake(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        loop {
            match rustix::io::write(&self.fd, &one) {
                Ok(_) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => self.reset()?,
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// From a signal handler: adds 1 to the counter with one write(2) (async-signal-safe, and on
    /// Linux rustix makes it a raw syscall that touches no `errno`). A failure is ignored: the
    /// only one possible, `EAGAIN`, means the counter is at its maximum, so already readable.
    #[cfg(any(mio_signal, mio_process_pidfd))]
    pub(crate) fn wake_from_signal_handler(&self) {
        let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
    }

    /// Reads (and so zeroes) the counter, making the fd not readable. Already zero is fine.
    #[cfg_attr(not(mio_unsupported_force_poll_poll), allow(dead_code))]
    pub(crate) fn reset(&self) -> io::Result<()> {
        let mut buf = [0u8; 8];
        loop {
            match rustix::io::read(&self.fd, &mut buf) {
                Ok(_) | Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }
}

impl AsFd for WakerFd {
    /// The fd to watch for readability.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
