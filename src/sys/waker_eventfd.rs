//! The eventfd(2) waker, used with epoll on Linux and Android.
//!
//! The eventfd is registered (edge-triggered, readable) under the caller's token. `wake` adds 1
//! to its counter; each write after the last `epoll_wait` makes one new edge, so any number of
//! wakes between two polls merge into one event. The counter is never drained on the normal
//! path: edge triggering does not need it, and it saves a syscall per wake-up.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use rustix::event::{eventfd, EventfdFlags};

use super::Selector;
use crate::{Interest, Token};

#[derive(Debug)]
pub(crate) struct Waker {
    fd: OwnedFd,
}

impl Waker {
    /// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`, registered readable under `token`.
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        selector.register(fd.as_raw_fd(), token, Interest::READABLE)?;
        Ok(Waker { fd })
    }

    /// Adds 1 to the counter. If the counter is about to overflow (`u64::MAX - 1`, after some
    /// 2^64 wakes without a read) the write would block: reset it by reading, then write again.
    pub(crate) fn wake(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        loop {
            match rustix::io::write(&self.fd, &one) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => self.reset()?,
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Reads (and so zeroes) the counter; `WouldBlock` means it was already zero.
    fn reset(&self) -> io::Result<()> {
        let mut buf = [0u8; 8];
        match rustix::io::read(&self.fd, &mut buf) {
            Ok(_) | Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
