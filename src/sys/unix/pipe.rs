//! Creating pipes and changing their blocking mode.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::pipe::{pipe_with, PipeFlags};

/// `pipe2(O_CLOEXEC | O_NONBLOCK)`: returns `(read end, write end)`.
///
/// See [pipe2(2)](https://man7.org/linux/man-pages/man2/pipe2.2.html).
pub(crate) fn new() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?)
}

/// `ioctl(FIONBIO)`: one syscall, where `fcntl` needs a read and a write.
pub(crate) fn set_nonblocking(fd: impl AsFd, nonblocking: bool) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, nonblocking)?)
}
