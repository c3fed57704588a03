//! `sendmmsg(2)` and `recvmmsg(2)`: a whole batch of datagrams in one syscall (Linux 3.0,
//! Android, FreeBSD 11, NetBSD 7).
//!
//! sendmmsg(2): "The return value is the number of messages sent from msgvec; if this is less
//! than vlen, the caller can retry with a further sendmmsg() call to send the remaining
//! messages. On error, -1 is returned" — an error after the first datagram ends the batch
//! early and is not reported; the next call, starting at that datagram, meets it again.
//! recvmmsg(2) likewise returns how many messages it filled; with a non-blocking socket it
//! stops at the first `EAGAIN` once one datagram was received. Each `mmsghdr`'s `msg_len`
//! holds the bytes of its datagram.
//!
//! The headers and everything they point to for one call (at most `MAX_BATCH` datagrams) live
//! on the stack: nothing is allocated. rustix has `sendmmsg` on Linux only and no
//! `recvmmsg`, so both go through `libc`.
//!
//! A segmented message is one `mmsghdr` with a `UDP_SEGMENT` control message where offload is
//! in effect (`udp_gso`), else its separate datagrams (one `mmsghdr` each); a batch with more
//! datagrams than fit in one call is sent in several calls, stopping at the first short one.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

use super::udp::{cvt, finish_recv, Family, Parts, SEND_FLAGS};
#[cfg(any(target_os = "linux", target_os = "android"))]
use super::udp_gso as gso;
use crate::net::{RecvDatagram, SendDatagram};
use crate::sys::udp_loop::partial;

/// The most datagrams handed to the kernel in one call (the batch limit; `UIO_MAXIOV`, 1024, is
/// the kernel's).
const CALL_MAX: usize = crate::net::udp_batch::MAX_BATCH;

/// A zeroed `mmsghdr` array and the parts its headers point to, for one call.
struct Batch {
    hdrs: [libc::mmsghdr; CALL_MAX],
    parts: [MaybeUninit<Parts>; CALL_MAX],
}

impl Batch {
    fn new() -> Batch {
        Batch {
            // SAFETY: plain old data; every header used is overwritten before the call.
            hdrs: unsafe { std::mem::zeroed() },
            // SAFETY: an array of `MaybeUninit` needs no initialisation.
            parts: unsafe { MaybeUninit::uninit().assume_init() },
        }
    }
}

/// `sendmmsg(2)`: sends each message (one `mmsghdr`, or one per datagram of a segmented
/// message sent without offload); returns how many messages were sent in full.
pub(super) fn send(fd: RawFd, msgs: &[SendDatagram<'_>]) -> io::Result<usize> {
    let mut batch = Batch::new();
    let mut family = Family::new(fd);
    let mut offload = gso::usable(fd);
    // The next datagram to hand over: message `msg`, its datagram `seg`.
    let (mut msg, mut seg) = (0, 0);
    // Messages whose datagrams were all sent.
    let mut done = 0;
    while msg < msgs.len() {
        // Fill one call's worth, remembering which message each header belongs to and
        // whether it is a whole segmented message (offloaded).
        let mut owner = [0usize; CALL_MAX];
        let mut whole = [false; CALL_MAX];
        let mut n = 0;
        // A message whose header cannot be made (an ECN mark this OS cannot send): the batch
        // ends before it.
        let mut stop = None;
        while n < CALL_MAX && msg < msgs.len() {
            let m = &msgs[msg];
            let parts = batch.parts[n].write(Parts::new());
            let offloaded = offload && seg == 0 && m.segments() > 1;
            let buf = if offloaded { m.buf } else { m.segment(seg) };
            let mut hdr = match parts.send_header(buf, m, &mut family) {
                Ok(hdr) => hdr,
                Err(err) => {
                    stop = Some(err);
                    break;
                }
            };
            if offloaded {
                gso::push_segment_size(parts, &mut hdr, m.segment_size);
            }
            batch.hdrs[n] = libc::mmsghdr {
                msg_hdr: hdr,
                msg_len: 0,
            };
            (owner[n], whole[n]) = (msg, offloaded);
            n += 1;
            seg += 1;
            if offloaded || seg == m.segments() {
                msg += 1;
                seg = 0;
            }
        }
        // SAFETY: the first `n` headers are initialised and point into `batch.parts` and the
        // caller's buffers, all alive and unmoved during the call; the kernel reads them and
        // writes only `msg_len`. The count and flag types differ between the OSes (`as _`).
        let res =
            cvt(
                unsafe { libc::sendmmsg(fd, batch.hdrs.as_mut_ptr(), n as _, SEND_FLAGS as _) }
                    as isize,
            );
        match res {
            Ok(sent) if sent == n => done = msg,
            // A short call: the messages before the first unsent datagram's are done. An
            // offloaded message there may have been refused: the next call starts with it
            // and finds out.
            Ok(sent) => return partial(owner[sent], io::ErrorKind::WouldBlock.into()),
            // The first header failed. An offloaded message refused: remember it for the
            // socket and send the same messages again, as separate datagrams.
            Err(err) if whole[0] && gso::is_refusal(&err) => {
                gso::remember_refused(fd);
                offload = false;
                (msg, seg) = (owner[0], 0);
            }
            Err(err) => return partial(done, err),
        }
        if let Some(err) = stop {
            return partial(done, err);
        }
    }
    Ok(done)
}

/// `recvmmsg(2)` into the slots; returns how many were filled.
pub(super) fn recv(fd: RawFd, slots: &mut [RecvDatagram<'_>]) -> io::Result<usize> {
    let mut batch = Batch::new();
    let n = slots.len().min(CALL_MAX);
    for (i, slot) in slots[..n].iter_mut().enumerate() {
        let parts = batch.parts[i].write(Parts::new());
        batch.hdrs[i] = libc::mmsghdr {
            msg_hdr: parts.recv_header(slot.buf),
            msg_len: 0,
        };
    }
    // SAFETY: the first `n` headers point into `batch.parts` and the slots' buffers, alive,
    // unmoved and writable for the lengths given during the call. No timeout (null): the
    // socket is non-blocking. The count, flag and timeout types differ between the OSes.
    let got = cvt(unsafe {
        libc::recvmmsg(
            fd,
            batch.hdrs.as_mut_ptr(),
            n as _,
            0 as _,
            std::ptr::null_mut::<libc::timespec>(),
        )
    } as isize)?;
    for (i, slot) in slots[..got].iter_mut().enumerate() {
        // SAFETY: the first `n` (>= `got`) parts were written above.
        let parts = unsafe { batch.parts[i].assume_init_ref() };
        let hdr = &batch.hdrs[i];
        finish_recv(slot, &hdr.msg_hdr, parts, hdr.msg_len as usize);
    }
    Ok(got)
}

/// FreeBSD and NetBSD: no segmentation offload.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod gso {
    use std::io;
    use std::os::fd::RawFd;

    use super::Parts;

    pub(super) fn usable(_: RawFd) -> bool {
        false
    }

    pub(super) fn push_segment_size(_: &mut Parts, _: &mut libc::msghdr, _: usize) {}

    pub(super) fn is_refusal(_: &io::Error) -> bool {
        false
    }

    pub(super) fn remember_refused(_: RawFd) {}
}
