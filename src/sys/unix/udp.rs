//! Batched UDP on Unix (`UdpSocket::send_batch`/`recv_batch`, extras of this crate): which
//! mechanism runs, and the one-message pieces every mechanism shares.
//!
//! | OS | mechanism |
//! |---|---|
//! | Linux, Android, FreeBSD, NetBSD (`mio_mmsg_os`) | `udp_mmsg`: `sendmmsg(2)`/`recvmmsg(2)`, one syscall per batch |
//! | every other Unix, or forced by the test switch | `sys::udp_loop`: one `sendmsg(2)`/`recvmsg(2)` per datagram (below) |
//!
//! Both fill the same `msghdr` per datagram, built here: the destination (`msg_name`), one
//! `iovec`, and the control space (cmsg(3)) for the ancillary data. rustix has `sendmsg` and
//! `recvmsg` but only with the ancillary messages it knows (file descriptors, credentials),
//! and `sendmmsg` on Linux only, without `recvmmsg`: the calls here go through `libc`, each
//! marked.

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};

use super::udp_meta;
use crate::net::{RecvDatagram, SendDatagram};
use crate::sys::udp_loop;

/// `MSG_NOSIGNAL` where the OS has it, as every other send of this crate (see `net`).
pub(super) const SEND_FLAGS: libc::c_int = super::net::SEND_FLAGS.bits() as libc::c_int;

/// Sends with `sendmmsg(2)` (`mio_mmsg_os`: Linux, Android, FreeBSD, NetBSD; see build.rs)
/// unless the calling thread forces the loop; a loop of `sendmsg(2)` on the other Unixes.
pub(crate) fn send_batch(socket: &net::UdpSocket, msgs: &[SendDatagram<'_>]) -> io::Result<usize> {
    #[cfg(mio_mmsg_os)]
    if !udp_loop::forced() {
        return super::udp_mmsg::send(socket.as_raw_fd(), msgs);
    }
    udp_loop::send(msgs, |msg, seg| send_one(socket, msg, seg))
}

/// Receives with `recvmmsg(2)` where it exists unless the calling thread forces the loop; a
/// loop of `recvmsg(2)` on the other Unixes.
pub(crate) fn recv_batch(
    socket: &net::UdpSocket,
    slots: &mut [RecvDatagram<'_>],
) -> io::Result<usize> {
    #[cfg(mio_mmsg_os)]
    if !udp_loop::forced() {
        return super::udp_mmsg::recv(socket.as_raw_fd(), slots);
    }
    udp_loop::recv(slots, |slot| recv_one(socket, slot))
}

/// The family of the socket a batch is sent on, asked once (`getsockname`) and only if a
/// message needs it: an ECN mark on a message without destination (connected socket).
pub(super) struct Family {
    fd: RawFd,
    v4: Option<bool>,
}

impl Family {
    pub(super) fn new(fd: RawFd) -> Family {
        Family { fd, v4: None }
    }

    fn is_v4(&mut self) -> io::Result<bool> {
        if let Some(v4) = self.v4 {
            return Ok(v4);
        }
        // SAFETY: the fd is the batch's socket, open for the call that made this.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) };
        let v4 = udp_meta::is_v4(fd)?;
        self.v4 = Some(v4);
        Ok(v4)
    }
}

/// `IP_RECVTOS` / `IPV6_RECVTCLASS` (`udp_meta`).
pub(crate) fn set_recv_ecn(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    let v4 = udp_meta::is_v4(socket)?;
    udp_meta::set_recv_ecn(socket.as_raw_fd(), v4, on)
}

/// `IP_PKTINFO` or `IP_RECVDSTADDR` / `IPV6_RECVPKTINFO` (`udp_meta`).
pub(crate) fn set_recv_dst_addr(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    let v4 = udp_meta::is_v4(socket)?;
    udp_meta::set_recv_dst(socket.as_raw_fd(), v4, on)
}

/// Whether segmented messages go to the kernel in one piece (`udp_gso`, Linux and Android).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn send_offload(socket: &net::UdpSocket) -> bool {
    super::udp_gso::usable(socket.as_raw_fd())
}

/// Turns `UDP_GRO` on or off; whether it is on now.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn set_recv_offload(socket: &net::UdpSocket, on: bool) -> io::Result<bool> {
    if on && udp_loop::offload_forced_off() {
        return Ok(false);
    }
    super::udp_gso::set_gro(socket.as_raw_fd(), on)
}

/// Whether `UDP_GRO` is on.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn recv_offload(socket: &net::UdpSocket) -> io::Result<bool> {
    super::udp_gso::gro(socket.as_raw_fd())
}

// No segmentation offload on the other Unixes.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use crate::sys::udp_loop::no_offload::{recv_offload, send_offload, set_recv_offload};

/// An IPv4 or IPv6 socket address in the kernel's form, as small as it can be (28 bytes, not
/// `sockaddr_storage`'s 128): the batch keeps one per message on the stack.
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) union RawAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

impl RawAddr {
    /// The kernel form of `addr` and its length. rustix's conversion fills the fields each
    /// OS has (`sin_len` on the BSDs and Apple's); the bytes are copied into the small union.
    pub(super) fn new(addr: &SocketAddr) -> (RawAddr, libc::socklen_t) {
        let any = rustix::net::SocketAddrAny::from(*addr);
        let len = (any.addr_len() as usize).min(mem::size_of::<RawAddr>());
        let mut raw = MaybeUninit::<RawAddr>::zeroed();
        // SAFETY: `any` holds `addr_len()` initialised bytes (an IPv4 or IPv6 address, at most
        // `size_of::<sockaddr_in6>()`), copied into `raw`, which has room for `len` bytes; the
        // union is plain old data, so any bytes (zeroed, then these) are a valid value.
        let raw = unsafe {
            std::ptr::copy_nonoverlapping(
                any.as_ptr().cast::<u8>(),
                raw.as_mut_ptr().cast::<u8>(),
                len,
            );
            raw.assume_init()
        };
        (raw, len as libc::socklen_t)
    }

    /// Zeroed room for an address the kernel fills.
    pub(super) fn empty() -> RawAddr {
        // SAFETY: plain old data: all zeros is a valid value (family `AF_UNSPEC`).
        unsafe { mem::zeroed() }
    }

    /// Reads what the kernel wrote (`len` bytes) as a std address; `None` for another family.
    pub(super) fn read(&self, len: libc::socklen_t) -> Option<SocketAddr> {
        let len = len as usize;
        // SAFETY: every field of the union is plain old data and the union was zeroed before
        // the kernel wrote into it, so reading either view is reading initialised bytes; the
        // family field decides which view means something.
        unsafe {
            match libc::c_int::from(self.v4.sin_family) {
                libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
                    let a = &self.v4;
                    Some(SocketAddr::V4(SocketAddrV4::new(
                        Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                        u16::from_be(a.sin_port),
                    )))
                }
                libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
                    let a = &self.v6;
                    Some(SocketAddr::V6(SocketAddrV6::new(
                        Ipv6Addr::from(a.sin6_addr.s6_addr),
                        u16::from_be(a.sin6_port),
                        a.sin6_flowinfo,
                        a.sin6_scope_id,
                    )))
                }
                _ => None,
            }
        }
    }
}

/// The control space of one message: room for every ancillary message this crate sends or
/// asks for, aligned for `cmsghdr` (its fields are at most 8 bytes wide on every Unix).
#[repr(C, align(8))]
pub(super) struct Control([MaybeUninit<u8>; CONTROL_LEN]);

/// Bytes of control space per message (the sum of the `CMSG_SPACE`s used, rounded up).
pub(super) const CONTROL_LEN: usize = 128;

impl Control {
    pub(super) fn new() -> Control {
        Control([MaybeUninit::uninit(); CONTROL_LEN])
    }
}

/// What one message's `msghdr` points to: kept together so the pointers stay valid while the
/// batch is in the kernel.
pub(super) struct Parts {
    pub(super) addr: RawAddr,
    pub(super) iov: libc::iovec,
    pub(super) control: Control,
}

impl Parts {
    pub(super) fn new() -> Parts {
        Parts {
            addr: RawAddr::empty(),
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            control: Control::new(),
        }
    }

    /// The header of a datagram of `buf` (all or part of `msg`'s buffer) to `msg`'s
    /// destination (the connected peer when `None`), with its ECN mark if it has one. The
    /// returned header points into `self`, which must not move until the send is done.
    pub(super) fn send_header(
        &mut self,
        buf: &[u8],
        msg: &SendDatagram<'_>,
        family: &mut Family,
    ) -> io::Result<libc::msghdr> {
        let mut hdr = self.plain_send_header(buf, msg.addr.as_ref());
        if let Some(ecn) = msg.ecn {
            let v4 = match &msg.addr {
                Some(addr) => udp_meta::goes_v4(addr),
                None => family.is_v4()?,
            };
            udp_meta::push_ecn(self, &mut hdr, ecn, v4)?;
        }
        Ok(hdr)
    }

    /// The header of a datagram of `buf` to `addr`, without ancillary data.
    fn plain_send_header(&mut self, buf: &[u8], addr: Option<&SocketAddr>) -> libc::msghdr {
        // SAFETY: plain old data; the fields that matter are set below (musl has padding
        // fields, so no struct literal).
        let mut hdr: libc::msghdr = unsafe { mem::zeroed() };
        if let Some(addr) = addr {
            let (raw, len) = RawAddr::new(addr);
            self.addr = raw;
            hdr.msg_name = (&mut self.addr as *mut RawAddr).cast();
            hdr.msg_namelen = len;
        }
        // The kernel only reads from a send's iovec, whatever the `*mut`.
        self.iov = libc::iovec {
            iov_base: buf.as_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        hdr.msg_iov = &mut self.iov;
        hdr.msg_iovlen = 1;
        hdr
    }

    /// The header of a receive into `buf`, with room for the source address and the control
    /// space. The returned header points into `self` and `buf`.
    pub(super) fn recv_header(&mut self, buf: &mut [u8]) -> libc::msghdr {
        // SAFETY: as in `send_header`.
        let mut hdr: libc::msghdr = unsafe { mem::zeroed() };
        self.addr = RawAddr::empty();
        hdr.msg_name = (&mut self.addr as *mut RawAddr).cast();
        hdr.msg_namelen = mem::size_of::<RawAddr>() as libc::socklen_t;
        self.iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        hdr.msg_iov = &mut self.iov;
        hdr.msg_iovlen = 1;
        hdr.msg_control = self.control.0.as_mut_ptr().cast();
        hdr.msg_controllen = CONTROL_LEN as _;
        hdr
    }

    /// Appends one ancillary message (`level`, `ty`, `value`) to a send header made by
    /// [`send_header`](Parts::send_header), in this message's control space. cmsg(3): each
    /// message takes `CMSG_SPACE(len)` bytes, its header's `cmsg_len` is `CMSG_LEN(len)`, its
    /// data at `CMSG_DATA`; `msg_controllen` is the sum of the spaces.
    // Not every OS sends ancillary data.
    // `msg_controllen` is a `usize` on Linux with glibc, a `socklen_t` elsewhere.
    #[allow(dead_code, clippy::unnecessary_cast)]
    pub(super) fn push_cmsg<T: Copy>(
        &mut self,
        hdr: &mut libc::msghdr,
        level: libc::c_int,
        ty: libc::c_int,
        value: T,
    ) {
        let used = if hdr.msg_control.is_null() {
            0
        } else {
            hdr.msg_controllen as usize
        };
        let size = mem::size_of::<T>() as libc::c_uint;
        // SAFETY: `CMSG_SPACE`/`CMSG_LEN` are arithmetic.
        let (space, cmsg_len) = unsafe {
            (
                libc::CMSG_SPACE(size) as usize,
                libc::CMSG_LEN(size) as usize,
            )
        };
        // This crate's own ancillary messages always fit (`CONTROL_LEN` is their sum).
        assert!(used + space <= CONTROL_LEN, "control space too small");
        let base = self.control.0.as_mut_ptr().cast::<u8>();
        hdr.msg_control = base.cast();
        hdr.msg_controllen = (used + space) as _;
        // SAFETY: `used + space` bytes fit in the control space (checked above), which is
        // aligned for `cmsghdr`; `used` is a sum of `CMSG_SPACE`s, so `base + used` is where
        // `CMSG_NXTHDR` puts the next header. The bytes are zeroed first (padding included),
        // then the header fields and the data (possibly unaligned for `T`) written.
        unsafe {
            let at = base.add(used);
            std::ptr::write_bytes(at, 0, space);
            let cmsg = at.cast::<libc::cmsghdr>();
            (*cmsg).cmsg_len = cmsg_len as _;
            (*cmsg).cmsg_level = level;
            (*cmsg).cmsg_type = ty;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<T>(), value);
        }
    }
}

/// The ancillary messages of a received header: `(level, type, data)` for each, data as
/// the `CMSG_LEN` says (cmsg(3): `CMSG_FIRSTHDR`, `CMSG_NXTHDR`, `CMSG_DATA`).
// `msg_controllen` and `cmsg_len` are `usize` on Linux with glibc, narrower elsewhere.
#[allow(clippy::unnecessary_cast)]
fn for_each_cmsg(hdr: &libc::msghdr, mut f: impl FnMut(libc::c_int, libc::c_int, &[u8])) {
    if hdr.msg_control.is_null() || (hdr.msg_controllen as usize) < mem::size_of::<libc::cmsghdr>()
    {
        return;
    }
    // SAFETY: the kernel wrote `msg_controllen` bytes of well-formed ancillary messages into
    // the control space `hdr` points to (alive for the borrow of `hdr`); the macros walk
    // them within that length, and each data slice is within its message's `cmsg_len`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(hdr);
        while !cmsg.is_null() {
            let data = libc::CMSG_DATA(cmsg);
            let header = data.offset_from(cmsg.cast::<u8>()) as usize;
            let len = ((*cmsg).cmsg_len as usize).saturating_sub(header);
            f(
                (*cmsg).cmsg_level,
                (*cmsg).cmsg_type,
                std::slice::from_raw_parts(data, len),
            );
            cmsg = libc::CMSG_NXTHDR(hdr, cmsg);
        }
    }
}

/// An `int` (or, shorter, a byte) of ancillary data in native byte order.
// Haiku has no ECN option, the only other reader.
#[cfg_attr(target_os = "haiku", allow(dead_code))]
pub(super) fn cmsg_int(data: &[u8]) -> Option<libc::c_int> {
    match data.len() {
        1 => Some(libc::c_int::from(data[0])),
        n if n >= mem::size_of::<libc::c_int>() => {
            let mut bytes = [0u8; mem::size_of::<libc::c_int>()];
            bytes.copy_from_slice(&data[..mem::size_of::<libc::c_int>()]);
            Some(libc::c_int::from_ne_bytes(bytes))
        }
        _ => None,
    }
}

/// Fills `slot` from a receive that returned `len` bytes into its buffer with header `hdr`.
pub(super) fn finish_recv(
    slot: &mut RecvDatagram<'_>,
    hdr: &libc::msghdr,
    parts: &Parts,
    len: usize,
) {
    slot.len = len.min(slot.buf.len());
    slot.truncated = hdr.msg_flags & libc::MSG_TRUNC != 0;
    if let Some(addr) = parts.addr.read(hdr.msg_namelen) {
        slot.addr = addr;
    }
    for_each_cmsg(hdr, |level, ty, data| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if (level, ty) == (libc::SOL_UDP, libc::UDP_GRO) {
            // udp(7): the segment size of a coalesced receive, an `int`.
            if let Some(size) = cmsg_int(data) {
                slot.segment_size = size.max(0) as usize;
            }
        }
        udp_meta::parse(level, ty, data, slot);
    });
}

/// The result of a libc call returning a count, or -1 and `errno`.
pub(super) fn cvt(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// One `sendmsg(2)` of `msg`'s datagram number `seg` (the loop's step).
fn send_one(socket: &net::UdpSocket, msg: &SendDatagram<'_>, seg: usize) -> io::Result<()> {
    let mut parts = Parts::new();
    let mut family = Family::new(socket.as_raw_fd());
    let hdr = parts.send_header(msg.segment(seg), msg, &mut family)?;
    send_msg(socket.as_raw_fd(), &hdr).map(drop)
}

/// `sendmsg(2)` of one header (libc: rustix's `sendmsg` takes no foreign ancillary data).
fn send_msg(fd: RawFd, hdr: &libc::msghdr) -> io::Result<usize> {
    // SAFETY: `hdr` and everything it points to (`Parts`, the caller's buffer) are alive and
    // unmoved for the call; the kernel only reads them.
    cvt(unsafe { libc::sendmsg(fd, hdr, SEND_FLAGS) } as isize)
}

/// One `recvmsg(2)` into `slot` (the loop's step; libc, as `send_msg`).
fn recv_one(socket: &net::UdpSocket, slot: &mut RecvDatagram<'_>) -> io::Result<()> {
    let mut parts = Parts::new();
    let mut hdr = parts.recv_header(slot.buf);
    // SAFETY: `hdr` points to `parts` and the slot's buffer, both alive, unmoved and writable
    // for the lengths given during the call.
    let n = cvt(unsafe { libc::recvmsg(socket.as_raw_fd(), &mut hdr, 0) } as isize)?;
    finish_recv(slot, &hdr, &parts, n);
    Ok(())
}

/// `getsockopt` of an `int` (libc: rustix has no `UDP_SEGMENT`/`UDP_GRO` options).
// Read by the offload probe, on Linux and Android only.
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
pub(super) fn get_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are writable and `len` is `value`'s size.
    let ret = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// `setsockopt` of an `int` (libc, as `get_int`).
pub(super) fn set_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is readable and the length given is its size.
    let ret = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
