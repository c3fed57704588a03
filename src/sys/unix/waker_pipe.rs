//! The self-pipe wake-up primitive (`--cfg mio_unsupported_force_waker_pipe`): the `Waker` of
//! the epoll backend, and the internal notifier of the poll(2) backend.
//!
//! `wake` writes one byte. With epoll the read end is only drained when the pipe is full, so a
//! burst of wakes between two polls still makes one event; the level-triggered poll(2) backend
//! drains it with `reset` once it has fired.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::io::Errno;

#[derive(Debug)]
pub(crate) struct WakerFd {
    sender: OwnedFd,
    receiver: OwnedFd,
}

impl WakerFd {
    /// A non-blocking, close-on-exec pipe ([`super::pipe::new`]).
    pub(crate) fn new() -> io::Result<WakerFd> {
        let (receiver, sender) = super::pipe::new()?;
        Ok(WakerFd { sender, receiver })
    }

    /// Writes one byte; when the pipe is full, empties it and writes again (a fresh byte makes
    /// a fresh edge). `EINTR` is retried.
    // Unused where the pipe serves only the `signal` extra's handler (kqueue builds whose
    // waker is `EVFILT_USER`, without the `process` fallback that calls it).
    #[cfg_attr(
        all(
            mio_kqueue_os,
            mio_evfilt_user,
            not(any(mio_unsupported_force_waker_pipe, mio_unsupported_force_poll_poll)),
        ),
        allow(dead_code)
    )]
    pub(crate) fn wake(&self) -> io::Result<()> {
        loop {
            match rustix::io::write(&self.sender, &[1]) {
                Ok(_) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => self.reset()?,
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// From a signal handler: writes one byte with one write(2) (async-signal-safe). A failure
    /// is ignored: the only one possible, `EAGAIN`, means the pipe is full, so already readable.
    /// That failure sets `errno` where rustix goes through libc (not on Linux): see
    /// `signal_handler` for why that is safe.
    #[cfg(any(mio_signal, mio_process_pidfd))]
    pub(crate) fn wake_from_signal_handler(&self) {
        let _ = rustix::io::write(&self.sender, &[1]);
    }

    /// Reads the pipe until it is empty.
    pub(crate) fn reset(&self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match rustix::io::read(&self.receiver, &mut buf) {
                Ok(n) if n == buf.len() => continue,
                Ok(_) | Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }
}

impl AsFd for WakerFd {
    /// The fd to watch for readability: the read end.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.receiver.as_fd()
    }
}
