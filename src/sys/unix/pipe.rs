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
#[cfg(not(any(target_os = "illumos", target_os = "solaris")))]
#[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
pub(crate) fn set_nonblocking(fd: impl AsFd, nonblocking: bool) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, nonblocking)?)
}

/// `fcntl(F_SETFL, O_NONBLOCK)`: on illumos and Solaris `FIONBIO` sets `FNDELAY` on a pipe,
/// whose empty reads then return 0 (end of file) instead of failing with `EAGAIN` (read(2):
/// "If O_NDELAY is set, the read will return 0"; "If O_NONBLOCK is set, the read will return
/// -1 and set errno to EAGAIN").
#[cfg(any(target_os = "illumos", target_os = "solaris"))]
#[cfg_attr(not(feature = "os-ext"), allow(dead_code))]
pub(crate) fn set_nonblocking(fd: impl AsFd, nonblocking: bool) -> io::Result<()> {
    use rustix::fs::OFlags;
    let flags = rustix::fs::fcntl_getfl(&fd)?;
    let new = if nonblocking {
        flags | OFlags::NONBLOCK
    } else {
        flags & !OFlags::NONBLOCK
    };
    if new != flags {
        rustix::fs::fcntl_setfl(&fd, new)?;
    }
    Ok(())
}
