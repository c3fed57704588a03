//! The calls the poll(2) selector (`sys::poll`) makes, on Hermit and WASI: the same names and
//! shapes as the Unix family's (rustix's `PollFd`, `PollFlags`, `Errno`), over libc.
//!
//! A peer's FIN: Hermit's poll(2) has `POLLRDHUP`, which is asked for and reported as
//! read-closed. WASI's has none, and no FIN is peeked for there: a stream socket whose peer
//! closed is reported readable (its read returns 0), read-closed only with `POLLHUP`; WASI's
//! sockets cannot peek (wasi-libc answers `recv(MSG_PEEK)` with `ENOTSUP`).

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::ops::{BitOr, BitOrAssign};
use std::os::fd::RawFd;
use std::time::Duration;

use super::cvt;

/// A `struct pollfd`. The lifetime only mirrors rustix's type: the slot holds an fd number.
#[repr(transparent)]
pub(crate) struct PollFd<'a> {
    raw: libc::pollfd,
    _fd: PhantomData<&'a ()>,
}

impl PollFd<'_> {
    #[inline]
    pub(crate) fn revents(&self) -> PollFlags {
        PollFlags(self.raw.revents)
    }
}

/// A `pollfd` slot for an fd number (poll(2) only looks the number up).
#[inline]
pub(crate) fn poll_fd(fd: RawFd, flags: PollFlags) -> PollFd<'static> {
    PollFd {
        raw: libc::pollfd {
            fd,
            events: flags.0,
            revents: 0,
        },
        _fd: PhantomData,
    }
}

/// `events`/`revents` bits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PollFlags(libc::c_short);

impl PollFlags {
    pub(crate) const IN: PollFlags = PollFlags(libc::POLLIN);
    pub(crate) const OUT: PollFlags = PollFlags(libc::POLLOUT);
    /// WASI has no priority data (no `POLLPRI`).
    #[cfg(target_os = "hermit")]
    pub(crate) const PRI: PollFlags = PollFlags(libc::POLLPRI);
    #[cfg(target_os = "wasi")]
    pub(crate) const PRI: PollFlags = PollFlags(0);
    pub(crate) const ERR: PollFlags = PollFlags(libc::POLLERR);
    pub(crate) const HUP: PollFlags = PollFlags(libc::POLLHUP);
    pub(crate) const NVAL: PollFlags = PollFlags(libc::POLLNVAL);

    #[inline]
    pub(crate) const fn empty() -> PollFlags {
        PollFlags(0)
    }

    #[inline]
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub(crate) fn intersects(self, other: PollFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// All of `other`'s bits are set. A flag this system lacks (`PRI` on WASI) is the empty
    /// set, which is never contained, so no report is read as carrying it.
    #[inline]
    pub(crate) fn contains(self, other: PollFlags) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }
}

impl BitOr for PollFlags {
    type Output = PollFlags;

    #[inline]
    fn bitor(self, other: PollFlags) -> PollFlags {
        PollFlags(self.0 | other.0)
    }
}

impl BitOrAssign for PollFlags {
    #[inline]
    fn bitor_assign(&mut self, other: PollFlags) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for PollFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (PollFlags::IN, "IN"),
            (PollFlags::OUT, "OUT"),
            (PollFlags::PRI, "PRI"),
            (PollFlags::ERR, "ERR"),
            (PollFlags::HUP, "HUP"),
            (PollFlags::NVAL, "NVAL"),
            (rdhup(), "RDHUP"),
        ];
        let bits = *self;
        let set = names
            .into_iter()
            .filter(move |&(flag, _)| !flag.is_empty() && bits.contains(flag))
            .map(|(_, name)| name);
        fmt::Debug::fmt(&crate::sys::FlagNames(set), f)
    }
}

/// An error code, as rustix's `Errno`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Errno(i32);

impl Errno {
    pub(crate) const AGAIN: Errno = Errno(libc::EAGAIN);
    pub(crate) const BADF: Errno = Errno(libc::EBADF);
    pub(crate) const EXIST: Errno = Errno(libc::EEXIST);
    pub(crate) const INVAL: Errno = Errno(libc::EINVAL);
    pub(crate) const NOENT: Errno = Errno(libc::ENOENT);
    pub(crate) const PERM: Errno = Errno(libc::EPERM);

    #[inline]
    pub(crate) fn raw_os_error(self) -> i32 {
        self.0
    }
}

impl From<Errno> for io::Error {
    fn from(errno: Errno) -> io::Error {
        io::Error::from_raw_os_error(errno.0)
    }
}

/// poll(2), with the timeout rounded up to whole milliseconds (never a busy spin) and clamped
/// to `c_int::MAX` ms; `None` blocks.
///
/// See [poll(2)](https://pubs.opengroup.org/onlinepubs/9799919799/functions/poll.html) (POSIX;
/// wasi-libc implements it over WASI's `poll_oneoff` / `wasi:io/poll`).
pub(crate) fn poll(fds: &mut [PollFd<'static>], timeout: Option<Duration>) -> Result<usize, Errno> {
    let ms = match timeout {
        None => -1,
        Some(d) => crate::sys::millis_rounded_up(d, i32::MAX as u64) as i32,
    };
    // SAFETY: `PollFd` is a `repr(transparent)` `struct pollfd`, so `fds` is `fds.len()`
    // valid, writable pollfds for the duration of the call.
    let ret = unsafe { libc::poll(fds.as_mut_ptr().cast(), fds.len() as _, ms) };
    cvt(ret as isize).map_err(|err| Errno(err.raw_os_error().unwrap_or(libc::EINVAL)))
}

/// `POLLRDHUP` (a peer's half-close): Hermit has it, WASI does not.
#[cfg(target_os = "hermit")]
#[inline]
pub(crate) fn rdhup() -> PollFlags {
    PollFlags(libc::POLLRDHUP)
}

#[cfg(target_os = "wasi")]
#[inline]
pub(crate) fn rdhup() -> PollFlags {
    PollFlags::empty()
}

/// Only asked for the fds [`check_pollable`] marks, and it marks none here: Hermit reports the
/// FIN itself (`POLLRDHUP`), and WASI's sockets cannot peek (see the module docs).
#[inline]
pub(crate) fn peek_fin(_fd: RawFd) -> bool {
    false
}

/// What epoll would refuse, refused the same way: a closed fd (`EBADF`), and regular files and
/// directories (`EPERM`: always "ready"); one
/// [fstat(2)](https://pubs.opengroup.org/onlinepubs/9799919799/functions/fstat.html). Answers
/// whether the fd's FIN must be peeked for: never here (see [`peek_fin`]).
pub(crate) fn check_pollable(fd: RawFd) -> io::Result<bool> {
    if fd < 0 {
        return Err(Errno::BADF.into());
    }
    // SAFETY: `stat` is plain data, for which all zeroes is a valid value.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is a valid, writable `struct stat` for the duration of the call; a number
    // that is not an open fd makes fstat fail with `EBADF`.
    cvt(unsafe { libc::fstat(fd, &mut stat) } as isize)?;
    match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFDIR => Err(Errno::PERM.into()),
        _ => Ok(false),
    }
}

/// Whether `fd` is an open fd: one `fcntl(F_GETFD)`.
///
/// See [fcntl(2)](https://pubs.opengroup.org/onlinepubs/9799919799/functions/fcntl.html).
#[cfg_attr(all(target_os = "wasi", target_env = "p1"), allow(dead_code))] // No `SourceFd`.
pub(crate) fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD takes no argument and touches no memory; a number that is not an open
    // fd only makes it fail.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD, 0) } >= 0
}
