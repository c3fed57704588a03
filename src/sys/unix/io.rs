//! Reading and writing any fd: the syscalls behind `Read`/`Write` of the pipe ends, and the
//! read side of the sockets.

use std::io::{self, IoSliceMut};
use std::os::fd::AsFd;

/// `read(2)`. Only writes into `buf` (never reads it), so a view of uninitialised memory is
/// fine.
#[inline]
pub(crate) fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::read(fd, buf)?)
}

/// `readv(2)`.
#[inline]
pub(crate) fn read_vectored(fd: impl AsFd, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
    Ok(rustix::io::readv(fd, bufs)?)
}

/// `write(2)`. On a pipe whose readers are gone this raises `SIGPIPE`, which Rust programs
/// ignore by default (the call then fails with `BrokenPipe`); sockets use [`super::net::send`].
#[cfg(all(unix, feature = "os-ext"))]
#[inline]
pub(crate) fn write(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::io::write(fd, buf)?)
}

/// `writev(2)`.
#[cfg(all(unix, feature = "os-ext"))]
#[inline]
pub(crate) fn write_vectored(fd: impl AsFd, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    Ok(rustix::io::writev(fd, bufs)?)
}
