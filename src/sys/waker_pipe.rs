//! The self-pipe waker (`--cfg mio_unsupported_force_waker_pipe`).
//!
//! The read end is registered (edge-triggered, readable) under the caller's token; `wake` writes
//! one byte to the write end. The read end is only drained when the pipe is full, so a burst of
//! wakes between two polls still produces one event.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use rustix::pipe::{pipe_with, PipeFlags};

use super::Selector;
use crate::{Interest, Token};

#[derive(Debug)]
pub(crate) struct Waker {
    sender: OwnedFd,
    receiver: OwnedFd,
}

impl Waker {
    /// `pipe2(O_CLOEXEC | O_NONBLOCK)`, read end registered readable under `token`.
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let (receiver, sender) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        selector.register(receiver.as_raw_fd(), token, Interest::READABLE)?;
        Ok(Waker { sender, receiver })
    }

    /// Writes one byte; when the pipe is full, empties it and writes again (a fresh byte makes a
    /// fresh edge). `EINTR` is retried.
    pub(crate) fn wake(&self) -> io::Result<()> {
        loop {
            match rustix::io::write(&self.sender, &[1]) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => self.empty()?,
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Reads the pipe until it is empty.
    fn empty(&self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match rustix::io::read(&self.receiver, &mut buf) {
                Ok(n) if n > 0 => continue,
                Ok(_) | Err(rustix::io::Errno::AGAIN) => return Ok(()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }
}
