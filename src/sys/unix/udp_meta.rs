//! Per-datagram metadata on Unix (extras): the ECN codepoint on send and receive, and the
//! local destination address on receive, as ancillary data (cmsg(3)).
//!
//! | what | IPv4 | IPv6 (RFC 3542) |
//! |---|---|---|
//! | ECN on send | `IP_TOS` control message: an `int` on Linux and Android (ip(7)), a byte on FreeBSD and Apple's (FreeBSD ip(4)) | `IPV6_TCLASS`, an `int` |
//! | ECN on receive | option `IP_RECVTOS`; Linux answers an `IP_TOS` message, FreeBSD and Apple's an `IP_RECVTOS` one, a byte each | option `IPV6_RECVTCLASS`; message `IPV6_TCLASS`, an `int` |
//! | destination on receive | Linux, Android: option and message `IP_PKTINFO` (`struct in_pktinfo`, its `ipi_addr`: the header's destination, ip(7)); the BSDs, Apple's, illumos, Solaris, Haiku: `IP_RECVDSTADDR` (a `struct in_addr`) | option `IPV6_RECVPKTINFO`, message `IPV6_PKTINFO` (`struct in6_pktinfo`) |
//!
//! The ECN codepoint is the low two bits of the TOS byte / traffic class (RFC 3168). On an
//! IPv6 socket, the IPv4 options are turned on too where the OS takes them (Linux does), so
//! IPv4 traffic on a dual-stack wildcard socket is annotated as well.
//!
//! Where an OS lacks one (IPv4 ECN on NetBSD, OpenBSD, DragonFly, illumos, Solaris, Haiku;
//! IPv6 on Haiku) turning it on fails with `Unsupported`, and an ECN mark on send over that
//! family fails the same way: nothing is dropped silently.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, RawFd};

use super::udp::{cmsg_int, set_int, Parts};
use crate::net::{Ecn, RecvDatagram};

fn unsupported(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, what)
}

/// Whether the socket is IPv4 (`getsockname`).
pub(super) fn is_v4(fd: impl AsFd) -> io::Result<bool> {
    let addr = rustix::net::getsockname(fd)?;
    Ok(addr.address_family() == rustix::net::AddressFamily::INET)
}

/// Whether a datagram to `addr` leaves as IPv4 (an IPv4 or IPv4-mapped address).
pub(super) fn goes_v4(addr: &SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
    }
}

/// Turns an IPv4 and an IPv6 option on or off, as the socket's family needs: the IPv4 one on
/// an IPv4 socket; the IPv6 one on an IPv6 socket, plus the IPv4 one where the OS takes it.
fn set_pair(
    fd: RawFd,
    v4_socket: bool,
    v4: Option<(libc::c_int, libc::c_int)>,
    v6: Option<(libc::c_int, libc::c_int)>,
    on: bool,
    what: &'static str,
) -> io::Result<()> {
    let value = libc::c_int::from(on);
    if v4_socket {
        let (level, name) = v4.ok_or_else(|| unsupported(what))?;
        return set_int(fd, level, name, value);
    }
    let (level, name) = v6.ok_or_else(|| unsupported(what))?;
    set_int(fd, level, name, value)?;
    if let Some((level, name)) = v4 {
        // IPv4 traffic on a dual-stack socket: taken by Linux, refused by some OSes (then
        // that traffic is not annotated).
        let _ = set_int(fd, level, name, value);
    }
    Ok(())
}

/// `IP_RECVTOS` / `IPV6_RECVTCLASS`.
pub(crate) fn set_recv_ecn(fd: RawFd, v4_socket: bool, on: bool) -> io::Result<()> {
    set_pair(
        fd,
        v4_socket,
        RECV_TOS,
        RECV_TCLASS,
        on,
        "receiving the ECN codepoint is not supported on this OS",
    )
}

/// `IP_PKTINFO` or `IP_RECVDSTADDR` / `IPV6_RECVPKTINFO`.
pub(crate) fn set_recv_dst(fd: RawFd, v4_socket: bool, on: bool) -> io::Result<()> {
    set_pair(
        fd,
        v4_socket,
        RECV_DST_V4,
        RECV_PKTINFO_V6,
        on,
        "receiving the destination address is not supported on this OS",
    )
}

// The options, `None` where the OS has none (the `return`s are cfg'd per OS, so on some
// OSes the final `None` is unreachable).

/// `IP_RECVTOS`: Linux, Android, FreeBSD, Apple's.
#[allow(unreachable_code)]
const fn recv_tos() -> Option<(libc::c_int, libc::c_int)> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        mio_apple
    ))]
    return Some((libc::IPPROTO_IP, libc::IP_RECVTOS));
    None
}
const RECV_TOS: Option<(libc::c_int, libc::c_int)> = recv_tos();

/// `IP_PKTINFO` on Linux and Android, `IP_RECVDSTADDR` where the OS has it.
#[allow(unreachable_code)]
const fn recv_dst_v4() -> Option<(libc::c_int, libc::c_int)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return Some((libc::IPPROTO_IP, libc::IP_PKTINFO));
    #[cfg(any(
        mio_apple,
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "illumos",
        target_os = "solaris",
        target_os = "haiku"
    ))]
    return Some((libc::IPPROTO_IP, libc::IP_RECVDSTADDR));
    None
}
const RECV_DST_V4: Option<(libc::c_int, libc::c_int)> = recv_dst_v4();

/// `IPV6_RECVTCLASS` and `IPV6_RECVPKTINFO` (RFC 3542): every Unix here but Haiku.
#[allow(unreachable_code)]
const fn recv_v6() -> [Option<(libc::c_int, libc::c_int)>; 2] {
    #[cfg(not(target_os = "haiku"))]
    return [
        Some((libc::IPPROTO_IPV6, libc::IPV6_RECVTCLASS)),
        Some((libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)),
    ];
    [None, None]
}
const RECV_TCLASS: Option<(libc::c_int, libc::c_int)> = recv_v6()[0];
const RECV_PKTINFO_V6: Option<(libc::c_int, libc::c_int)> = recv_v6()[1];

/// Adds the ECN mark of a datagram leaving as IPv4 (`v4`) or IPv6 to its send header: the
/// whole TOS byte / traffic class, its DSCP bits 0.
#[allow(unreachable_code)]
pub(super) fn push_ecn(
    parts: &mut Parts,
    hdr: &mut libc::msghdr,
    ecn: Ecn,
    v4: bool,
) -> io::Result<()> {
    let bits = ecn as u8;
    if v4 {
        // `IP_TOS`: an `int` on Linux and Android (ip(7)), a byte on FreeBSD (ip(4)) and
        // Apple's.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            parts.push_cmsg(hdr, libc::IPPROTO_IP, libc::IP_TOS, libc::c_int::from(bits));
            return Ok(());
        }
        #[cfg(any(target_os = "freebsd", mio_apple))]
        {
            parts.push_cmsg(hdr, libc::IPPROTO_IP, libc::IP_TOS, bits);
            return Ok(());
        }
        return Err(unsupported(
            "sending an ECN mark over IPv4 is not supported on this OS",
        ));
    }
    // `IPV6_TCLASS`, an `int` (RFC 3542).
    #[cfg(not(target_os = "haiku"))]
    {
        parts.push_cmsg(
            hdr,
            libc::IPPROTO_IPV6,
            libc::IPV6_TCLASS,
            libc::c_int::from(bits),
        );
        return Ok(());
    }
    let _ = (parts, hdr, bits);
    Err(unsupported(
        "sending an ECN mark over IPv6 is not supported on this OS",
    ))
}

/// Reads one received ancillary message into the slot, if it is one of the above.
pub(super) fn parse(level: libc::c_int, ty: libc::c_int, data: &[u8], slot: &mut RecvDatagram<'_>) {
    match (level, ty) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (libc::IPPROTO_IP, libc::IP_TOS) => set_ecn(slot, data),
        #[cfg(any(target_os = "freebsd", mio_apple))]
        (libc::IPPROTO_IP, libc::IP_RECVTOS) => set_ecn(slot, data),
        #[cfg(not(target_os = "haiku"))]
        (libc::IPPROTO_IPV6, libc::IPV6_TCLASS) => set_ecn(slot, data),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
            // `struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }`
            if let Some(addr) = read::<libc::in_pktinfo>(data) {
                slot.dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    addr.ipi_addr.s_addr,
                ))));
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        (libc::IPPROTO_IP, libc::IP_RECVDSTADDR) => {
            if let Some(addr) = read::<libc::in_addr>(data) {
                slot.dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(addr.s_addr))));
            }
        }
        #[cfg(not(target_os = "haiku"))]
        (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
            if let Some(info) = read::<libc::in6_pktinfo>(data) {
                slot.dst = Some(IpAddr::V6(std::net::Ipv6Addr::from(info.ipi6_addr.s6_addr)));
            }
        }
        _ => {}
    }
}

// Haiku has no ECN option to read.
#[cfg_attr(target_os = "haiku", allow(dead_code))]
fn set_ecn(slot: &mut RecvDatagram<'_>, data: &[u8]) {
    if let Some(v) = cmsg_int(data) {
        slot.ecn = Ecn::from_bits(v as u8);
    }
}

/// A plain-old-data struct from ancillary data, if there are enough bytes.
fn read<T: Copy>(data: &[u8]) -> Option<T> {
    if data.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: `data` holds at least `size_of::<T>()` bytes, read unaligned; `T` is one of the
    // libc address structs above, for which any bytes are a valid value.
    Some(unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<T>()) })
}
