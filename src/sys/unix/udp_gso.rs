//! UDP segmentation offload on Linux and Android: `UDP_SEGMENT` on send (Linux 4.18), `UDP_GRO`
//! on receive (Linux 5.0). See udp(7) ("UDP_SEGMENT ... Enables UDP segmentation offload
//! ... the kernel splits a large buffer into multiple datagrams of gso_size bytes; the last
//! one may be shorter"; "UDP_GRO ... Enables UDP receive offload. If enabled, the socket may
//! receive multiple datagrams coalesced ... the size of the segments is passed in a
//! `UDP_GRO` control message") and the kernel's Documentation/networking/segmentation-offloads.
//!
//! **When offload is used.** A segmented message leaves as one `mmsghdr` with a `UDP_SEGMENT`
//! control message when (1) the kernel knows `UDP_SEGMENT` (probed once per process with
//! `getsockopt(SOL_UDP, UDP_SEGMENT)`: a kernel before 4.18 answers `ENOPROTOOPT` to it, and
//! would silently ignore the control message on send, sending one large datagram), (2) this
//! socket has not been refused before, and (3) the calling thread has not forced the
//! fallback (the test switch). Otherwise its datagrams are separate `mmsghdr`s.
//!
//! **Refusal.** The kernel refuses a segmented send at send time, per socket and route: `EIO`
//! when the device cannot checksum (no `CHECKSUM_PARTIAL`), `EINVAL` when the socket has
//! checksums off (`SO_NO_CHECK`) or the segment is larger than the route's MTU allows. The
//! message is then sent again as separate datagrams in the same call, and the refusal is
//! remembered for the socket: later sends go straight to separate datagrams, and
//! `UdpSocket::send_offload` says `false`.
//!
//! **Where the memory lives.** A `UdpSocket` is one fd (as upstream mio, and this crate's
//! `sizes_are_one_fd_in_release` test), so the refusals are kept in a process-wide list of
//! `(fd, socket cookie)`: `SO_COOKIE` (Linux 4.6; socket(7): "a unique 64-bit number ...
//! assigned to the socket") tells a later socket that reuses the fd number from the one that
//! was refused. The list is only read once a refusal happened in the process (an atomic flag
//! guards it), and it grows by one entry per refused socket at most (an entry is replaced when
//! its fd number comes back with another cookie).

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::BorrowedFd;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Mutex;

use super::udp::{get_int, set_int, Parts};
use crate::sys::udp_loop;

/// `UDP_SEGMENT` probe: not yet asked.
const UNKNOWN: u8 = 0;
const KNOWN: u8 = 1;
const MISSING: u8 = 2;
static KERNEL: AtomicU8 = AtomicU8::new(UNKNOWN);

/// Whether any socket of the process was refused (guards `REFUSED`).
static ANY_REFUSED: AtomicBool = AtomicBool::new(false);
/// The refused sockets: fd number and `SO_COOKIE`.
static REFUSED: Mutex<Vec<(RawFd, u64)>> = Mutex::new(Vec::new());

/// Whether a segmented message on this socket should go to the kernel as one buffer.
pub(super) fn usable(fd: RawFd) -> bool {
    !udp_loop::offload_forced_off() && kernel_knows(fd) && !refused(fd)
}

/// Probes the kernel once for `UDP_SEGMENT` (on the first socket that asks).
fn kernel_knows(fd: RawFd) -> bool {
    match KERNEL.load(Ordering::Relaxed) {
        KNOWN => true,
        MISSING => false,
        _ => {
            let known = get_int(fd, libc::SOL_UDP, libc::UDP_SEGMENT).is_ok();
            KERNEL.store(if known { KNOWN } else { MISSING }, Ordering::Relaxed);
            known
        }
    }
}

/// Whether this socket (this fd with this cookie) was refused before.
fn refused(fd: RawFd) -> bool {
    if !ANY_REFUSED.load(Ordering::Acquire) {
        return false;
    }
    let mut list = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
    let Some(at) = list.iter().position(|&(f, _)| f == fd) else {
        return false;
    };
    match cookie(fd) {
        Some(c) if c == list[at].1 => true,
        // Another socket on a reused fd number: forget the old one.
        _ => {
            list.swap_remove(at);
            false
        }
    }
}

/// Remembers that the kernel refused a segmented send on this socket.
pub(super) fn remember_refused(fd: RawFd) {
    let Some(c) = cookie(fd) else {
        return;
    };
    let mut list = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
    match list.iter_mut().find(|(f, _)| *f == fd) {
        Some(entry) => entry.1 = c,
        None => list.push((fd, c)),
    }
    ANY_REFUSED.store(true, Ordering::Release);
}

/// Adds the `UDP_SEGMENT` control message (a `u16`, udp(7)) to a send header.
pub(super) fn push_segment_size(parts: &mut Parts, hdr: &mut libc::msghdr, size: usize) {
    // `SendDatagram::check` keeps sizes within 65 507.
    parts.push_cmsg(hdr, libc::SOL_UDP, libc::UDP_SEGMENT, size as u16);
}

/// Whether `err`, from a segmented send, is the kernel refusing the offload (see the file
/// notes) rather than a problem of the datagram.
pub(super) fn is_refusal(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
    )
}

/// `SO_COOKIE` (rustix, which has it on Linux).
#[cfg(target_os = "linux")]
fn cookie(fd: RawFd) -> Option<u64> {
    // SAFETY: the fd is the caller's open socket, borrowed for this call only.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    rustix::net::sockopt::socket_cookie(fd).ok()
}

/// `SO_COOKIE` on Android, where rustix does not offer it: libc's `getsockopt` with the
/// option's number, 57 on every Android architecture (the kernel's
/// `include/uapi/asm-generic/socket.h`, which arm, arm64, x86 and x86-64 use).
#[cfg(target_os = "android")]
fn cookie(fd: RawFd) -> Option<u64> {
    const SO_COOKIE: libc::c_int = 57;
    let mut value: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: `value` and `len` are writable and `len` is `value`'s size.
    let ret = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_COOKIE,
            (&mut value as *mut u64).cast(),
            &mut len,
        )
    };
    (ret == 0).then_some(value)
}

/// Turns receive offload (`UDP_GRO`) on or off; `Ok(false)` when the kernel does not have it
/// (before 5.0: `ENOPROTOOPT`).
pub(crate) fn set_gro(fd: RawFd, on: bool) -> io::Result<bool> {
    match set_int(fd, libc::SOL_UDP, libc::UDP_GRO, libc::c_int::from(on)) {
        Ok(()) => Ok(on),
        Err(err) if err.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Whether receive offload (`UDP_GRO`) is on; `false` on kernels without it.
pub(crate) fn gro(fd: RawFd) -> io::Result<bool> {
    match get_int(fd, libc::SOL_UDP, libc::UDP_GRO) {
        Ok(v) => Ok(v != 0),
        Err(err) if err.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(false),
        Err(err) => Err(err),
    }
}
