//! The calls the poll(2) selector (`sys::poll`) makes, on Unix: rustix's typed wrappers.
//! Hermit and WASI have the same names over libc (`sys::hermit_wasi::pollsys`).

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

pub(crate) use rustix::event::{PollFd, PollFlags};
pub(crate) use rustix::io::Errno;

/// A `pollfd` slot for an fd number.
pub(crate) fn poll_fd(fd: RawFd, flags: PollFlags) -> PollFd<'static> {
    // SAFETY: the number comes from the selector's table (or its notifier, which lives as long
    // as the selector) and is never -1. poll(2) only looks the number up: if the source is
    // closed while a poll runs, the kernel reports `POLLNVAL` or watches whatever reuses the
    // number, and the selector drops every report whose (fd, generation) is no longer
    // registered. Nothing reads or writes through the fd.
    PollFd::from_borrowed_fd(unsafe { BorrowedFd::borrow_raw(fd) }, flags)
}

/// poll(2), or ppoll(2) where rustix has it (Linux): the wait is as precise as asked
/// (rustix rounds up to whole milliseconds where it has to use poll(2)).
///
/// See [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html).
#[inline]
pub(crate) fn poll(fds: &mut [PollFd<'static>], timeout: Option<Duration>) -> Result<usize, Errno> {
    let ts = super::timeout_timespec_precise(timeout);
    rustix::event::poll(fds, ts.as_ref())
}

/// `POLLRDHUP` (a peer's half-close) where poll(2) has it: Linux and Android.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_test_poll_no_rdhup)
))]
#[inline]
pub(crate) fn rdhup() -> PollFlags {
    PollFlags::RDHUP
}

/// No `POLLRDHUP` here (`--cfg mio_unsupported_test_poll_no_rdhup` pretends so on Linux).
#[cfg(not(all(
    any(target_os = "linux", target_os = "android"),
    not(mio_unsupported_test_poll_no_rdhup)
)))]
#[inline]
pub(crate) fn rdhup() -> PollFlags {
    PollFlags::empty()
}

/// Whether a stream socket's FIN is found by peeking: wherever there is no `POLLRDHUP`.
#[inline]
pub(crate) fn fin_by_peek() -> bool {
    rdhup().is_empty()
}

/// A one-byte `recv(MSG_PEEK)` on a stream socket that poll(2) reported readable, with no
/// error pending (recv(2) would report, and so clear, it): `Ok(0)` is the peer's FIN (recv(2):
/// "the return value will be 0 when the peer has performed an orderly shutdown"). Data,
/// `EAGAIN` (someone read it first) or any error: not a FIN.
///
/// `MSG_DONTWAIT` ("enables nonblocking operation", recv(2) on Linux and the BSDs), because a
/// fd registered through `SourceFd` may be blocking: if another thread read the data between
/// poll(2) and this peek, a blocking recv would hang the polling thread.
pub(crate) fn peek_fin(fd: RawFd) -> bool {
    let mut byte = [0u8; 1];
    // SAFETY: `fd` is a registered fd (not -1), borrowed for one recv(2); if it was closed and
    // its number reused meanwhile, the peek reads nothing (MSG_PEEK) and the report is dropped
    // by the generation check anyway.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let flags = rustix::net::RecvFlags::PEEK | rustix::net::RecvFlags::DONTWAIT;
    matches!(rustix::net::recv(fd, &mut byte, flags), Ok((0, _)))
}

/// What epoll would refuse, refused the same way: a closed fd (`EBADF`), and regular files and
/// directories (`EPERM`: they are always "ready", so waiting on them is a bug). Answers
/// whether the fd's FIN must be peeked for: a stream socket where there is no `POLLRDHUP`
/// ([`fin_by_peek`]; a datagram socket's empty datagram also reads as 0 bytes).
pub(crate) fn check_pollable(fd: RawFd) -> io::Result<bool> {
    if fd < 0 {
        return Err(Errno::BADF.into());
    }
    // SAFETY: `fd` is not -1, and the borrow lasts for this function's `fstat` and
    // `getsockopt` calls; a number that is not an open fd makes them fail with `EBADF` and
    // nothing else.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let stat = rustix::fs::fstat(fd)?;
    match rustix::fs::FileType::from_raw_mode(stat.st_mode) {
        rustix::fs::FileType::RegularFile | rustix::fs::FileType::Directory => {
            Err(Errno::PERM.into())
        }
        rustix::fs::FileType::Socket if fin_by_peek() => Ok(matches!(
            rustix::net::sockopt::socket_type(fd),
            Ok(rustix::net::SocketType::STREAM)
        )),
        _ => Ok(false),
    }
}

/// Whether `fd` is an open fd: one `fcntl(F_GETFD)`.
pub(crate) fn is_open(fd: RawFd) -> bool {
    // SAFETY: `fd` is not -1 (checked first) and the borrow lasts for one `fcntl` query; a
    // number that is not an open fd only makes it fail with `EBADF`.
    fd >= 0 && rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(fd) }).is_ok()
}
