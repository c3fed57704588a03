//! Batched, segmented and annotated UDP on Windows (`UdpSocket::send_batch`/`recv_batch` and
//! the metadata and offload methods, extras of this crate).
//!
//! Winsock has no `sendmmsg`/`recvmmsg`: a batch is a loop of one call per datagram with the
//! contract of `sys::udp_loop` (the count of whole messages; `WouldBlock` only when none).
//! The loop is thus the native path, and the test switch forcing the loop
//! (`mio::net::test_switch::force_loop_fallback`) changes nothing here; the offload switch
//! (`force_offload_fallback`) does.
//!
//! | what | how | Windows | Wine 8 (what the tests run on) |
//! |---|---|---|---|
//! | receive with metadata | `WSARecvMsg` ([LPFN_WSARECVMSG]), from `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER, WSAID_WSARECVMSG)` once per process | XP and later | yes |
//! | destination address | `IP_PKTINFO` / `IPV6_PKTINFO` options, `in_pktinfo`/`in6_pktinfo` control messages ([IP_PKTINFO]) | XP and later | yes |
//! | ECN codepoint received | `IP_RECVECN` / `IPV6_RECVECN`, `IP_ECN`/`IPV6_ECN` control messages, an `INT` ([Winsock ECN], [WSASetRecvIPEcn]) | Windows 10 build 20348 and later; before, `IP_RECVTOS` / `IPV6_RECVTCLASS` with `IP_TOS`/`IPV6_TCLASS` messages ([IPPROTO_IP options]) | the `IP_RECVTOS` fallback (`IP_RECVECN` answered `WSAENOPROTOOPT`) |
//! | ECN codepoint sent | `WSASendMsg` with an `IP_ECN`/`IPV6_ECN` control message ([Winsock ECN]); CE may not be sent ("The send will return with error WSAEINVAL") | Windows 10 build 20348 and later; an older stack's `WSAENOPROTOOPT` makes marked sends `Unsupported` (remembered for the process, `SEND_ECN_REFUSED`) | `WSASendMsg` succeeds but the datagram leaves without the mark (Wine drops the control data; observed, and not detectable here) |
//! | send offload (USO) | the `UDP_SEND_MSG_SIZE` socket option around one send of the whole buffer ([IPPROTO_UDP options]) | Windows 10 2004 (build 19041) and later | refused: segmented messages leave as separate datagrams |
//! | receive offload (URO) | `UDP_RECV_MAX_COALESCED_SIZE`; the segment size in a `UDP_COALESCED_INFO` control message (a `DWORD`) | Windows 10 2004 and later | refused: `set_recv_offload` answers `false` |
//!
//! What the OS lacks is found at run time from its answer (`WSAENOPROTOOPT`, `WSAEINVAL`),
//! never by `cfg`, so one binary does the best each Windows (or Wine) allows.
//!
//! Control buffers live on the stack (one [`Control`] per call): nothing is allocated per
//! datagram.
//!
//! [LPFN_WSARECVMSG]: https://learn.microsoft.com/en-us/windows/win32/api/mswsock/nc-mswsock-lpfn_wsarecvmsg
//! [IP_PKTINFO]: https://learn.microsoft.com/en-us/windows/win32/winsock/ip-pktinfo
//! [Winsock ECN]: https://learn.microsoft.com/en-us/windows/win32/winsock/winsock-ecn
//! [WSASetRecvIPEcn]: https://learn.microsoft.com/en-us/windows/win32/api/ws2tcpip/nf-ws2tcpip-wsasetrecvipecn
//! [IPPROTO_IP options]: https://learn.microsoft.com/en-us/windows/win32/winsock/ipproto-ip-socket-options
//! [IPPROTO_UDP options]: https://learn.microsoft.com/en-us/windows/win32/winsock/ipproto-udp-socket-options

use std::io;
use std::mem::{self, size_of, MaybeUninit};
use std::net::{self, IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::windows::io::AsRawSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::Networking::WinSock::{
    CMSGHDR, IN6_PKTINFO, IN_PKTINFO, SOCKADDR, SOCKADDR_STORAGE, SOCKET, SOCKET_ERROR, WSABUF,
    WSAMSG,
};

use super::net as sys_net;
use crate::net::{Ecn, RecvDatagram, SendDatagram};
use crate::sys::udp_loop;

/// `WSARecvMsg`'s signature (mswsock.h's `LPFN_WSARECVMSG` without the `Option`).
type RecvMsg = unsafe extern "system" fn(
    SOCKET,
    *mut WSAMSG,
    *mut u32,
    *mut windows_sys::Win32::System::IO::OVERLAPPED,
    ws::LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32;

/// `WSARecvMsg`, looked up once per process on the first socket that needs it: an extension
/// function, reached only through `WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)` (the
/// pointer is the same for every socket of the Microsoft provider). `None` when the
/// provider has none: receives are then `recvfrom`, without metadata.
fn recv_msg_fn(socket: SOCKET) -> Option<RecvMsg> {
    static RECV_MSG: OnceLock<Option<RecvMsg>> = OnceLock::new();
    *RECV_MSG.get_or_init(|| {
        let guid = ws::WSAID_WSARECVMSG;
        let mut f: ws::LPFN_WSARECVMSG = None;
        let mut returned = 0u32;
        // SAFETY: the in-buffer is the GUID (its size given), the out-buffer room for one
        // function pointer (its size given); synchronous call (no overlapped, no routine).
        let res = unsafe {
            ws::WSAIoctl(
                socket,
                ws::SIO_GET_EXTENSION_FUNCTION_POINTER,
                (&guid as *const windows_sys::core::GUID).cast(),
                size_of::<windows_sys::core::GUID>() as u32,
                (&mut f as *mut ws::LPFN_WSARECVMSG).cast(),
                size_of::<ws::LPFN_WSARECVMSG>() as u32,
                &mut returned,
                std::ptr::null_mut(),
                None,
            )
        };
        if res == SOCKET_ERROR {
            None
        } else {
            f
        }
    })
}

fn raw(socket: &net::UdpSocket) -> SOCKET {
    socket.as_raw_socket() as SOCKET
}

// ---------------------------------------------------------------------------------------
// Control messages (ws2def.h's WSA_CMSG_* macros, as functions).

/// Alignment of control messages and of their data: `TYPE_ALIGNMENT(WSACMSGHDR)` and
/// `MAX_NATURAL_ALIGNMENT`, both the pointer size (8 on 64-bit Windows, 4 on 32-bit).
const CMSG_ALIGN: usize = mem::align_of::<CMSGHDR>();

const fn align(len: usize) -> usize {
    (len + CMSG_ALIGN - 1) & !(CMSG_ALIGN - 1)
}

/// `WSA_CMSG_DATA`'s offset: the header, aligned.
const CMSG_DATA_OFFSET: usize = align(size_of::<CMSGHDR>());

/// `WSA_CMSG_SPACE(len)`.
const fn cmsg_space(len: usize) -> usize {
    CMSG_DATA_OFFSET + align(len)
}

/// Bytes of control space per call: room for every message asked for (`in6_pktinfo` and
/// `in_pktinfo`, two ECN or TOS `INT`s, `UDP_COALESCED_INFO`), with margin.
const CONTROL_LEN: usize = 256;

/// One call's control space, aligned for `WSACMSGHDR`.
#[repr(C, align(8))]
struct Control([MaybeUninit<u8>; CONTROL_LEN]);

impl Control {
    fn new() -> Control {
        Control([MaybeUninit::uninit(); CONTROL_LEN])
    }

    fn ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr().cast()
    }

    /// Writes one control message (`level`, `ty`, an `INT`-sized `value`) at the start; its
    /// length (`WSA_CMSG_SPACE`).
    fn put_int(&mut self, level: i32, ty: i32, value: i32) -> usize {
        let space = cmsg_space(size_of::<i32>());
        let base = self.ptr();
        // SAFETY: `space` (24 or 20 bytes) fits in the control space, which is aligned for
        // `CMSGHDR`; the bytes are zeroed first (padding included), then the header and the
        // data written at `WSA_CMSG_DATA`'s offset.
        unsafe {
            std::ptr::write_bytes(base, 0, space);
            base.cast::<CMSGHDR>().write(CMSGHDR {
                cmsg_len: CMSG_DATA_OFFSET + size_of::<i32>(),
                cmsg_level: level,
                cmsg_type: ty,
            });
            base.add(CMSG_DATA_OFFSET)
                .cast::<i32>()
                .write_unaligned(value);
        }
        space
    }
}

/// Calls `f(level, type, data)` for each control message in the first `len` bytes of
/// `control` (`WSA_CMSG_FIRSTHDR`/`WSA_CMSG_NXTHDR`/`WSA_CMSG_DATA`).
fn for_each_cmsg(control: &Control, len: usize, mut f: impl FnMut(i32, i32, &[u8])) {
    let len = len.min(CONTROL_LEN);
    let base = control.0.as_ptr().cast::<u8>();
    let mut at = 0usize;
    while at + size_of::<CMSGHDR>() <= len {
        // SAFETY: the header lies within the `len` bytes Winsock wrote (checked above), at an
        // offset that is a sum of aligned lengths; read unaligned all the same.
        let hdr = unsafe { base.add(at).cast::<CMSGHDR>().read_unaligned() };
        if hdr.cmsg_len < CMSG_DATA_OFFSET || at + hdr.cmsg_len > len {
            return;
        }
        // SAFETY: the data (`cmsg_len` minus the header) is within the written bytes, checked
        // just above.
        let data = unsafe {
            std::slice::from_raw_parts(
                base.add(at + CMSG_DATA_OFFSET),
                hdr.cmsg_len - CMSG_DATA_OFFSET,
            )
        };
        f(hdr.cmsg_level, hdr.cmsg_type, data);
        at += align(hdr.cmsg_len);
    }
}

/// An `INT` (or a single byte) of control data.
fn cmsg_int(data: &[u8]) -> Option<i32> {
    match data.len() {
        1 => Some(i32::from(data[0])),
        n if n >= 4 => Some(i32::from_ne_bytes([data[0], data[1], data[2], data[3]])),
        _ => None,
    }
}

/// Fills `slot`'s metadata from one control message.
fn parse(level: i32, ty: i32, data: &[u8], slot: &mut RecvDatagram<'_>) {
    match (level, ty) {
        // `in_pktinfo`: the IPv4 destination address first (IP_PKTINFO).
        (ws::IPPROTO_IP, ws::IP_PKTINFO) if data.len() >= size_of::<IN_PKTINFO>() => {
            slot.dst = Some(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            )));
        }
        // `in6_pktinfo`: the IPv6 destination address first (IPV6_PKTINFO). An IPv4-mapped
        // one (IPv4 traffic on a dual-stack socket) is given as IPv4, as on the Unixes.
        (ws::IPPROTO_IPV6, ws::IPV6_PKTINFO) if data.len() >= size_of::<IN6_PKTINFO>() => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&data[..16]);
            let ip = Ipv6Addr::from(octets);
            // An `IP_PKTINFO` of the same datagram wins (it is the IPv4 form already).
            if slot.dst.is_none() {
                slot.dst = Some(match ip.to_ipv4_mapped() {
                    Some(v4) => IpAddr::V4(v4),
                    None => IpAddr::V6(ip),
                });
            }
        }
        // The ECN bits (IP_ECN / IPV6_ECN, an INT), or the whole TOS / traffic class
        // (IP_TOS / IPV6_TCLASS, from the IP_RECVTOS / IPV6_RECVTCLASS fallback).
        (ws::IPPROTO_IP, ws::IP_ECN | ws::IP_TOS)
        | (ws::IPPROTO_IPV6, ws::IPV6_ECN | ws::IPV6_TCLASS) => {
            if let Some(v) = cmsg_int(data) {
                slot.ecn = Ecn::from_bits(v as u8);
            }
        }
        // The size of the datagrams coalesced into this receive (URO), a DWORD.
        (ws::IPPROTO_UDP, ty) if ty == ws::UDP_COALESCED_INFO as i32 => {
            if let Some(size) = cmsg_int(data) {
                slot.segment_size = size.max(0) as usize;
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Receive.

/// A loop of `WSARecvMsg` (or of `recvfrom` where the provider has no `WSARecvMsg`).
pub(crate) fn recv_batch(
    socket: &net::UdpSocket,
    slots: &mut [RecvDatagram<'_>],
) -> io::Result<usize> {
    match recv_msg_fn(raw(socket)) {
        Some(f) => udp_loop::recv(slots, |slot| recv_one(socket, f, slot)),
        None => udp_loop::recv(slots, |slot| {
            let (n, addr, truncated) = sys_net::recv_from_truncated(socket, slot.buf)?;
            slot.len = n;
            slot.addr = addr;
            slot.truncated = truncated;
            Ok(())
        }),
    }
}

/// One non-overlapped `WSARecvMsg` into `slot`. On the non-blocking socket an empty queue is
/// `WSAEWOULDBLOCK` (`WouldBlock`); a datagram longer than the buffer is cut, reported with
/// `MSG_TRUNC` in the returned flags, or as `WSAEMSGSIZE` ("the datagram was too large to fit
/// into the specified buffer and was truncated", LPFN_WSARECVMSG): either way, truncated.
fn recv_one(socket: &net::UdpSocket, f: RecvMsg, slot: &mut RecvDatagram<'_>) -> io::Result<()> {
    let mut storage = MaybeUninit::<SOCKADDR_STORAGE>::zeroed();
    let mut control = Control::new();
    let mut data = WSABUF {
        len: sys_net::clamp_len(slot.buf.len()) as u32,
        buf: slot.buf.as_mut_ptr(),
    };
    let mut msg = WSAMSG {
        name: storage.as_mut_ptr().cast::<SOCKADDR>(),
        namelen: size_of::<SOCKADDR_STORAGE>() as i32,
        lpBuffers: &mut data,
        dwBufferCount: 1,
        Control: WSABUF {
            len: CONTROL_LEN as u32,
            buf: control.ptr(),
        },
        dwFlags: 0,
    };
    let mut n = 0u32;
    // SAFETY: `msg` points to the address storage, one WSABUF over the slot's buffer and the
    // control space, all alive, writable for the lengths given and unmoved during this
    // synchronous call (no overlapped structure, no completion routine).
    let res = unsafe { f(raw(socket), &mut msg, &mut n, std::ptr::null_mut(), None) };
    let (len, truncated) = if res == SOCKET_ERROR {
        let err = sys_net::last_error();
        if err.raw_os_error() != Some(ws::WSAEMSGSIZE) {
            return Err(err);
        }
        (slot.buf.len(), true)
    } else {
        (n as usize, msg.dwFlags & ws::MSG_TRUNC != 0)
    };
    slot.len = len.min(slot.buf.len());
    slot.truncated = truncated;
    // SAFETY: zeroed storage is a valid `SOCKADDR_STORAGE`; Winsock only wrote an address.
    let storage = unsafe { storage.assume_init() };
    if let Ok(addr) = sys_net::std_addr(&storage, msg.namelen) {
        slot.addr = addr;
    }
    let control_len = msg.Control.len as usize;
    for_each_cmsg(&control, control_len, |level, ty, data| {
        parse(level, ty, data, slot)
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Options.

/// `setsockopt` of a `DWORD`.
fn set_dword(socket: SOCKET, level: i32, name: i32, value: u32) -> io::Result<()> {
    // SAFETY: `value` is readable and the length given is its size.
    sys_net::check(unsafe {
        ws::setsockopt(
            socket,
            level,
            name,
            (&value as *const u32).cast(),
            size_of::<u32>() as i32,
        )
    })
    .map(drop)
}

/// `getsockopt` of a `DWORD`.
fn get_dword(socket: SOCKET, level: i32, name: i32) -> io::Result<u32> {
    let mut value = 0u32;
    let mut len = size_of::<u32>() as i32;
    // SAFETY: `value` and `len` are writable and `len` is `value`'s size.
    sys_net::check(unsafe {
        ws::getsockopt(
            socket,
            level,
            name,
            (&mut value as *mut u32).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// Whether `err` is Winsock not knowing an option (Wine answers `WSAENOPROTOOPT` for the
/// options it does not implement; Windows `WSAENOPROTOOPT` or `WSAEINVAL`).
fn is_unknown_option(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(ws::WSAENOPROTOOPT | ws::WSAEINVAL | ws::WSAEOPNOTSUPP)
    )
}

fn unsupported(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, what)
}

/// The socket's family: `(is IPv4, is dual-stack IPv6)`.
fn family(socket: &net::UdpSocket) -> io::Result<(bool, bool)> {
    match socket.local_addr()? {
        SocketAddr::V4(_) => Ok((true, false)),
        SocketAddr::V6(_) => Ok((false, !sys_net::only_v6(socket)?)),
    }
}

/// Sets an option at the IPv4 level, the IPv6 level or both, as the socket's family needs:
/// each level tries `names` in order (the first the OS knows is used). On a dual-stack
/// socket the IPv4 option is what reports IPv4 traffic ([IP_PKTINFO]: "If only the
/// IPV6_PKTINFO option is set to true on the socket, packet information will be provided
/// for datagrams received over IPv6 but may not be provided for datagrams received over
/// IPv4"); it is set too, and its refusal is not an error when the IPv6 one was taken.
///
/// [IP_PKTINFO]: https://learn.microsoft.com/en-us/windows/win32/winsock/ip-pktinfo
fn set_levels(
    socket: &net::UdpSocket,
    v4_names: &[i32],
    v6_names: &[i32],
    on: bool,
    what: &'static str,
) -> io::Result<()> {
    let s = raw(socket);
    let value = u32::from(on);
    let set_first = |level: i32, names: &[i32]| -> io::Result<()> {
        let mut last = None;
        for (i, &name) in names.iter().enumerate() {
            match set_dword(s, level, name, value) {
                Ok(()) => {
                    // Turning off: the fallback options off as well (they may be on from an
                    // earlier call on an OS that knows both).
                    if !on {
                        for &other in &names[i + 1..] {
                            let _ = set_dword(s, level, other, 0);
                        }
                    }
                    return Ok(());
                }
                Err(err) if is_unknown_option(&err) => last = Some(err),
                Err(err) => return Err(err),
            }
        }
        match last {
            Some(_) => Err(unsupported(what)),
            None => Ok(()),
        }
    };
    let (v4, dual) = family(socket)?;
    if v4 {
        return set_first(ws::IPPROTO_IP, v4_names);
    }
    set_first(ws::IPPROTO_IPV6, v6_names)?;
    if dual {
        match set_first(ws::IPPROTO_IP, v4_names) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Unsupported => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// `IP_RECVECN` / `IPV6_RECVECN` (Windows 10 build 20348), else `IP_RECVTOS` /
/// `IPV6_RECVTCLASS`, whose messages carry the whole TOS / traffic class.
pub(crate) fn set_recv_ecn(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    if recv_msg_fn(raw(socket)).is_none() {
        return Err(unsupported("receiving the ECN codepoint needs WSARecvMsg"));
    }
    set_levels(
        socket,
        &[ws::IP_RECVECN, ws::IP_RECVTOS],
        &[ws::IPV6_RECVECN, ws::IPV6_RECVTCLASS],
        on,
        "receiving the ECN codepoint is not supported by this Windows \
         (IP_RECVECN and IP_RECVTOS refused)",
    )
}

/// `IP_PKTINFO` / `IPV6_PKTINFO` (both on a dual-stack socket).
pub(crate) fn set_recv_dst_addr(socket: &net::UdpSocket, on: bool) -> io::Result<()> {
    if recv_msg_fn(raw(socket)).is_none() {
        return Err(unsupported(
            "receiving the destination address needs WSARecvMsg",
        ));
    }
    set_levels(
        socket,
        &[ws::IP_PKTINFO],
        &[ws::IPV6_PKTINFO],
        on,
        "receiving the destination address is not supported by this Windows (IP_PKTINFO refused)",
    )
}

// ---------------------------------------------------------------------------------------
// Send.

/// Whether ECN marks can be sent with `WSASendMsg`: `true` until the OS refuses an `IP_ECN`
/// control message once (then every marked send is `Unsupported` at once, without a call).
static SEND_ECN_REFUSED: AtomicBool = AtomicBool::new(false);

/// A loop of single sends: `sendto`/`send` for an unmarked datagram, `WSASendMsg` with an
/// `IP_ECN`/`IPV6_ECN` control message for a marked one; a segmented message as one send
/// with `UDP_SEND_MSG_SIZE` where the stack segments (USO), else as its datagrams.
pub(crate) fn send_batch(socket: &net::UdpSocket, msgs: &[SendDatagram<'_>]) -> io::Result<usize> {
    let mut peer_v4: Option<bool> = None;
    let mut uso: Option<bool> = None;
    for (done, msg) in msgs.iter().enumerate() {
        let level = match msg.ecn {
            None => None,
            Some(ecn) => match ecn_level(socket, msg, &mut peer_v4) {
                Ok(level) => Some((level, ecn)),
                Err(err) => return udp_loop::partial(done, err),
            },
        };
        let result = if msg.segments() > 1 && *uso.get_or_insert_with(|| send_offload(socket)) {
            send_segmented(socket, msg, level)
        } else {
            (0..msg.segments()).try_for_each(|seg| send_one(socket, msg.segment(seg), msg, level))
        };
        if let Err(err) = result {
            return udp_loop::partial(done, err);
        }
    }
    Ok(msgs.len())
}

/// The control-message level of a marked message: IPv4 for an IPv4 (or IPv4-mapped)
/// destination, IPv6 otherwise; a connected socket's peer decides when there is none.
fn ecn_level(
    socket: &net::UdpSocket,
    msg: &SendDatagram<'_>,
    peer_v4: &mut Option<bool>,
) -> io::Result<i32> {
    if msg.ecn == Some(Ecn::Ce) {
        // Winsock ECN: "Your application isn't allowed to specify the Congestion
        // Encountered (CE) code point when sending datagrams. The send will return with
        // error WSAEINVAL." Refused here, the same on every Windows and on Wine.
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Windows does not send the CE (congestion experienced) codepoint",
        ));
    }
    if SEND_ECN_REFUSED.load(Ordering::Relaxed) {
        return Err(send_ecn_unsupported());
    }
    let v4 = match msg.addr {
        Some(addr) => goes_v4(&addr),
        None => match *peer_v4 {
            Some(v4) => v4,
            None => {
                let v4 = goes_v4(&socket.peer_addr()?);
                *peer_v4 = Some(v4);
                v4
            }
        },
    };
    Ok(if v4 { ws::IPPROTO_IP } else { ws::IPPROTO_IPV6 })
}

fn goes_v4(addr: &SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(_) => true,
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
    }
}

fn send_ecn_unsupported() -> io::Error {
    unsupported(
        "sending an ECN mark is not supported by this Windows (the IP_ECN control message \
         was refused; Windows 10 build 20348 and later take it)",
    )
}

/// One datagram of `buf`: plain `sendto`/`send` without a mark, `WSASendMsg` with one.
fn send_one(
    socket: &net::UdpSocket,
    buf: &[u8],
    msg: &SendDatagram<'_>,
    mark: Option<(i32, Ecn)>,
) -> io::Result<()> {
    let Some((level, ecn)) = mark else {
        return match msg.addr {
            Some(addr) => sys_net::send_to(socket, buf, addr).map(drop),
            None => sys_net::send(socket, buf).map(drop),
        };
    };
    // IP_ECN and IPV6_ECN are both 50 (ws2ipdef.h).
    let ty = if level == ws::IPPROTO_IP {
        ws::IP_ECN
    } else {
        ws::IPV6_ECN
    };
    let mut control = Control::new();
    let control_len = control.put_int(level, ty, ecn as i32);
    match send_msg(socket, buf, msg.addr.as_ref(), &mut control, control_len) {
        // Only the answers that name the option as unknown: a `WSAEINVAL` may be the
        // datagram's own fault and is returned as is.
        Err(err)
            if matches!(
                err.raw_os_error(),
                Some(ws::WSAENOPROTOOPT | ws::WSAEOPNOTSUPP)
            ) =>
        {
            // The stack does not take the control message (before Windows 10 build 20348).
            SEND_ECN_REFUSED.store(true, Ordering::Relaxed);
            Err(send_ecn_unsupported())
        }
        other => other.map(drop),
    }
}

/// `WSASendMsg` of `buf` to `addr` (the connected peer when `None`) with `control_len` bytes
/// of control messages.
fn send_msg(
    socket: &net::UdpSocket,
    buf: &[u8],
    addr: Option<&SocketAddr>,
    control: &mut Control,
    control_len: usize,
) -> io::Result<usize> {
    let mut name = addr.map(sys_net::raw_addr);
    let (name_ptr, name_len) = match &mut name {
        Some((raw, len)) => ((raw as *mut sys_net::RawAddr).cast::<SOCKADDR>(), *len),
        None => (std::ptr::null_mut(), 0),
    };
    let mut data = WSABUF {
        len: sys_net::clamp_len(buf.len()) as u32,
        // Winsock only reads a send's buffers, whatever the `*mut`.
        buf: buf.as_ptr() as *mut u8,
    };
    let msg = WSAMSG {
        name: name_ptr,
        namelen: name_len,
        lpBuffers: &mut data,
        dwBufferCount: 1,
        Control: WSABUF {
            len: control_len as u32,
            buf: if control_len == 0 {
                std::ptr::null_mut()
            } else {
                control.ptr()
            },
        },
        dwFlags: 0,
    };
    let mut sent = 0u32;
    // SAFETY: `msg` points to the destination (or none), one WSABUF over `buf` and the
    // control space, all alive and unmoved for this synchronous call; Winsock only reads
    // them.
    sys_net::check(unsafe {
        ws::WSASendMsg(raw(socket), &msg, 0, &mut sent, std::ptr::null_mut(), None)
    })?;
    Ok(sent as usize)
}

// ---------------------------------------------------------------------------------------
// Segmentation offload.

/// Whether any socket of the process was refused USO at send time (guards `USO_REFUSED`).
static ANY_USO_REFUSED: AtomicBool = AtomicBool::new(false);
/// The sockets whose segmented sends the stack refused. Keyed by handle value: a later
/// socket given the same handle value inherits the refusal (Winsock has no socket identity
/// beyond the handle), which only costs it the offload, never a datagram.
static USO_REFUSED: Mutex<Vec<SOCKET>> = Mutex::new(Vec::new());

fn uso_refused(s: SOCKET) -> bool {
    ANY_USO_REFUSED.load(Ordering::Acquire)
        && USO_REFUSED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&s)
}

fn remember_uso_refused(s: SOCKET) {
    let mut list = USO_REFUSED.lock().unwrap_or_else(|e| e.into_inner());
    if !list.contains(&s) {
        list.push(s);
    }
    ANY_USO_REFUSED.store(true, Ordering::Release);
}

/// Whether this socket hands segmented messages to the stack in one piece: the stack knows
/// `UDP_SEND_MSG_SIZE` (a `getsockopt` of it succeeds on this socket: Windows 10 2004 and
/// later; Wine 8 answers `WSAENOPROTOOPT`), it did not refuse a segmented send on this
/// socket before, and the thread did not force the fallback.
pub(crate) fn send_offload(socket: &net::UdpSocket) -> bool {
    let s = raw(socket);
    !udp_loop::offload_forced_off()
        && get_dword(s, ws::IPPROTO_UDP, ws::UDP_SEND_MSG_SIZE).is_ok()
        && !uso_refused(s)
}

/// A segmented message as one send: `UDP_SEND_MSG_SIZE` set to the segment size, the whole
/// buffer sent, the option back to 0 ([IPPROTO_UDP options]: "buffers sent by your
/// application are broken down into multiple messages by the networking stack ... The last
/// segment's size may be less"). When the stack refuses the send ("Your application should
/// set a value that is lower than the MTU of the path ... otherwise the send will fail"),
/// the message leaves as separate datagrams and the socket is remembered.
///
/// [IPPROTO_UDP options]: https://learn.microsoft.com/en-us/windows/win32/winsock/ipproto-udp-socket-options
fn send_segmented(
    socket: &net::UdpSocket,
    msg: &SendDatagram<'_>,
    mark: Option<(i32, Ecn)>,
) -> io::Result<()> {
    let s = raw(socket);
    let separately =
        || (0..msg.segments()).try_for_each(|seg| send_one(socket, msg.segment(seg), msg, mark));
    // `SendDatagram::check` keeps sizes within 65 507.
    if let Err(err) = set_dword(
        s,
        ws::IPPROTO_UDP,
        ws::UDP_SEND_MSG_SIZE,
        msg.segment_size as u32,
    ) {
        if is_unknown_option(&err) {
            remember_uso_refused(s);
            return separately();
        }
        return Err(err);
    }
    let result = send_one(socket, msg.buf, msg, mark);
    let reset = set_dword(s, ws::IPPROTO_UDP, ws::UDP_SEND_MSG_SIZE, 0);
    match result {
        Err(err) if is_uso_refusal(&err) => {
            remember_uso_refused(s);
            reset?;
            separately()
        }
        Err(err) => Err(err),
        Ok(()) => reset,
    }
}

/// Whether `err`, from a segmented send, is the stack refusing the offload rather than a
/// problem of the datagrams.
fn is_uso_refusal(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(ws::WSAEINVAL | ws::WSAEMSGSIZE | ws::WSAENOPROTOOPT | ws::WSAEOPNOTSUPP)
    )
}

/// The coalesced size asked for with receive offload on: the largest UDP payload.
const MAX_COALESCED: u32 = 65_507;

/// `UDP_RECV_MAX_COALESCED_SIZE`: on with [`MAX_COALESCED`], off with 0; whether it is on
/// now. `Ok(false)` where the stack does not have it (before Windows 10 2004; Wine 8), or
/// where WSARecvMsg is missing (the segment size could not be read).
pub(crate) fn set_recv_offload(socket: &net::UdpSocket, on: bool) -> io::Result<bool> {
    if on && (udp_loop::offload_forced_off() || recv_msg_fn(raw(socket)).is_none()) {
        return Ok(false);
    }
    let value = if on { MAX_COALESCED } else { 0 };
    match set_dword(
        raw(socket),
        ws::IPPROTO_UDP,
        ws::UDP_RECV_MAX_COALESCED_SIZE,
        value,
    ) {
        Ok(()) => Ok(on),
        Err(err) if is_unknown_option(&err) => Ok(false),
        Err(err) => Err(err),
    }
}

/// Whether `UDP_RECV_MAX_COALESCED_SIZE` is non-zero; `false` where the stack lacks it.
pub(crate) fn recv_offload(socket: &net::UdpSocket) -> io::Result<bool> {
    match get_dword(
        raw(socket),
        ws::IPPROTO_UDP,
        ws::UDP_RECV_MAX_COALESCED_SIZE,
    ) {
        Ok(v) => Ok(v != 0),
        Err(err) if is_unknown_option(&err) => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The control-message layout of ws2def.h: on 64-bit Windows a 16-byte header and data
    /// at 16, an `INT` taking `WSA_CMSG_SPACE(4)` = 24 bytes.
    #[test]
    fn cmsg_layout() {
        #[cfg(target_pointer_width = "64")]
        {
            assert_eq!(CMSG_DATA_OFFSET, 16);
            assert_eq!(cmsg_space(4), 24);
            assert_eq!(cmsg_space(size_of::<IN6_PKTINFO>()), 40);
        }
        let mut control = Control::new();
        let len = control.put_int(ws::IPPROTO_IP, ws::IP_ECN, 2);
        let mut seen = Vec::new();
        for_each_cmsg(&control, len, |level, ty, data| {
            seen.push((level, ty, cmsg_int(data)))
        });
        assert_eq!(seen, [(ws::IPPROTO_IP, ws::IP_ECN, Some(2))]);
        // A length cut short of the header: nothing.
        for_each_cmsg(&control, 8, |_, _, _| panic!("no message in 8 bytes"));
    }
}
