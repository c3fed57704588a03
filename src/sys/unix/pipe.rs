//! Creating pipes and changing their blocking mode.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

/// `pipe2(O_CLOEXEC | O_NONBLOCK)`: returns `(read end, write end)`.
///
/// See [pipe2(2)](https://man7.org/linux/man-pages/man2/pipe2.2.html).
#[cfg(not(mio_fcntl_flags))]
#[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
pub(crate) fn new() -> io::Result<(OwnedFd, OwnedFd)> {
    use rustix::pipe::{pipe_with, PipeFlags};
    Ok(pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?)
}

/// `pipe(2)`, then close-on-exec and non-blocking on each end: Apple's systems have no
/// `pipe2`, and rustix has none for Haiku (see [`set_cloexec_nonblocking`](super::set_cloexec_nonblocking) for the race).
#[cfg(mio_fcntl_flags)]
#[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
pub(crate) fn new() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = rustix::pipe::pipe()?;
    super::set_cloexec_nonblocking(&read)?;
    super::set_cloexec_nonblocking(&write)?;
    Ok((read, write))
}

/// `ioctl(FIONBIO)`: one syscall, where `fcntl` needs a read and a write.
#[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
pub(crate) fn set_nonblocking(fd: impl AsFd, nonblocking: bool) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, nonblocking)?)
}
