//! What the backends whose kernel keeps every registration (epoll, kqueue) share: no per-source
//! state, and borrowing a caller's raw fd for one syscall.

use std::io;
use std::os::fd::{BorrowedFd, RawFd};

#[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
use super::Selector;
#[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
use crate::{Interest, Token};

/// Borrows a caller-supplied raw fd for the duration of one selector call.
///
/// `-1` (and any negative number) is rejected with `EBADF` here, because `BorrowedFd` uses
/// `-1` as a niche and may not hold it; any other closed or bogus number is passed to the
/// kernel, which answers `EBADF` itself.
#[allow(dead_code)] // kqueue passes fds as kevent idents instead.
#[inline]
pub(crate) fn borrow<'a>(fd: RawFd) -> io::Result<BorrowedFd<'a>> {
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(
            rustix::io::Errno::BADF.raw_os_error(),
        ));
    }
    // SAFETY: `fd` is not -1 (checked above), and the `BorrowedFd` only lives for one
    // selector call made while the caller holds the source that owns the fd. A number that
    // is not an open fd only makes that syscall fail with `EBADF`; nothing reads or writes
    // through it.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Per-source state: none, the kernel keeps it all.
#[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
#[derive(Debug)]
pub(crate) struct IoSourceState;

#[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
impl IoSourceState {
    #[inline]
    pub(crate) fn new() -> IoSourceState {
        IoSourceState
    }

    /// Runs one I/O operation; an edge-triggered kernel selector needs no bookkeeping around it.
    #[inline]
    pub(crate) fn do_io<T, F, R>(&self, f: F, io: &T, _: crate::sys::Rearm) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        f(io)
    }

    #[inline]
    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        fd: RawFd,
    ) -> io::Result<()> {
        selector.register(fd, token, interests)
    }

    #[inline]
    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        fd: RawFd,
    ) -> io::Result<()> {
        selector.reregister(fd, token, interests)
    }

    #[inline]
    pub(crate) fn deregister(&mut self, selector: &Selector, fd: RawFd) -> io::Result<()> {
        selector.deregister(fd)
    }
}
