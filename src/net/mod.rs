//! Non-blocking networking: TCP, UDP and Unix-domain sockets (feature `net`).
//!
//! Each type wraps the matching std type and differs from it in three ways: it is created
//! non-blocking and close-on-exec, it implements [`event::Source`](crate::event::Source) so it
//! can be registered with a [`Poll`](crate::Poll), and every operation that can block returns
//! [`ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock) instead.
//!
//! Converting from std (`from_std`, `FromRawFd`, `From<OwnedFd>`) does not change the blocking
//! mode: call `set_nonblocking(true)` on the std value first.
//!
//! The non-blocking rule that matters most: after an event, repeat the operation until it
//! returns `WouldBlock` (see [`Poll`](crate::Poll#edge-triggered-readiness)).
//!
//! # Batched, segmented and annotated datagrams
//!
//! Extras of this crate, not in upstream mio (code that calls them is tied to this crate):
//!
//! - **Batches**: [`UdpSocket::send_batch`] sends several datagrams in one call, each a
//!   [`SendDatagram`] with its own destination; [`UdpSocket::recv_batch`] receives several,
//!   each into a [`RecvDatagram`] slot that reports its length, source and truncation.
//! - **Segmentation offload**: a [`SendDatagram`] may carry a
//!   [segment size](SendDatagram::segment_size): its buffer leaves as datagrams of that size,
//!   the last one possibly shorter, cut by the kernel where it can ([`UdpSocket::send_offload`]
//!   says whether it does); [`UdpSocket::set_recv_offload`] lets the kernel hand several
//!   datagrams of one flow over in one slot ([`RecvDatagram::segment_size`],
//!   [`RecvDatagram::datagrams`]).
//! - **Metadata**: the [ECN codepoint](Ecn) on send ([`SendDatagram::ecn`]) and on receive
//!   ([`UdpSocket::set_recv_ecn`], [`RecvDatagram::ecn`]), and the local address a datagram
//!   was sent to ([`UdpSocket::set_recv_dst_addr`], [`RecvDatagram::dst_addr`]) for servers
//!   bound to a wildcard address.
//!
//! What each OS does underneath:
//!
//! | OS | batch | segmented message | coalesced receive | ECN, destination |
//! |---|---|---|---|---|
//! | Linux, Android | `sendmmsg(2)` / `recvmmsg(2)`: one syscall per batch | one buffer with `UDP_SEGMENT` (Linux 4.18+); where the kernel refuses it, its datagrams in the same call, and the socket remembers | `UDP_GRO` (Linux 5.0+) | `IP_TOS`/`IPV6_TCLASS`, `IP_PKTINFO`/`IPV6_PKTINFO` |
//! | FreeBSD, NetBSD | `sendmmsg(2)` / `recvmmsg(2)` | its datagrams, each its own header in the same call | no | FreeBSD: as Linux but `IP_RECVDSTADDR`; NetBSD: IPv6 ECN only, destination both |
//! | Apple's | a loop of `sendmsg(2)` / `recvmsg(2)` | its datagrams, one call each | no | ECN both, `IP_RECVDSTADDR`/`IPV6_PKTINFO` |
//! | OpenBSD, DragonFly, illumos, Solaris, Haiku | a loop of `sendmsg(2)` / `recvmsg(2)` | its datagrams, one call each | no | IPv6 ECN (not Haiku), destination both (IPv4 only on Haiku) |
//! | Windows | a loop of `WSARecvMsg` / `sendto` (`WSASendMsg` for a marked datagram) | one send with `UDP_SEND_MSG_SIZE` (USO, Windows 10 2004+); where refused, its datagrams, one call each, and the socket remembers | `UDP_RECV_MAX_COALESCED_SIZE` (URO, Windows 10 2004+), the size from `UDP_COALESCED_INFO` | receive: `IP_RECVECN`/`IPV6_RECVECN` (Windows 10 build 20348+), else `IP_RECVTOS`/`IPV6_RECVTCLASS`; `IP_PKTINFO`/`IPV6_PKTINFO`. Send: `IP_ECN`/`IPV6_ECN` (build 20348+; CE is refused, `InvalidInput`, as Winsock refuses it) |
//! | WASI preview 2, Hermit | a loop of `sendto` / `recvfrom` | its datagrams, one call each | no | `Unsupported` |
//!
//! Linux is run here (both backends), and Windows under Wine 8; the other rows follow each
//! OS's manual and are compiled for, not run. Where an option is missing, asking for it
//! fails with `Unsupported` and an ECN mark on send fails the same way: nothing is dropped
//! silently by this crate. What Windows lacks is found at run time from its answers, so one
//! binary does what each version allows. Under Wine 8 (not Windows) the ECN codepoint is
//! received through the `IP_RECVTOS` fallback, USO and URO are refused (`send_offload()` and
//! `set_recv_offload(true)` say `false`), and Wine's `WSASendMsg` sends a marked datagram
//! without its mark (Wine drops the control data without an error, so this crate cannot
//! tell).
//!
//! The contract is the same everywhere: the call returns how many messages went through, in
//! order, and fails with `WouldBlock` only when none did. As with a single `recv_from`, a
//! readable event means "receive until `WouldBlock`". On WASI and Hermit a truncated datagram
//! is not reported as such (std's `recv_from` there does not say).
//!
//! Nothing is allocated per call: the messages, buffers and slots are the caller's, and the
//! kernel's headers and control space for one batch (at most [`UdpSocket::MAX_BATCH`]
//! messages) live on the stack.
//!
//! # On Windows
//!
//! `TcpListener`, `TcpStream` and `UdpSocket` exist with the same methods; the Unix-domain
//! types do not. What differs:
//!
//! - The raw-handle traits are the socket ones: `AsRawSocket`, `AsSocket`, `FromRawSocket`,
//!   `IntoRawSocket`, `From<OwnedSocket>` and `From<T> for OwnedSocket`.
//! - Sockets are created with `WSA_FLAG_NO_HANDLE_INHERIT` (not inherited by child processes)
//!   instead of close-on-exec, and made non-blocking with `FIONBIO`.
//! - A socket's registration lives in the mio type, not in the kernel: it can be registered
//!   with one `Poll` at a time (a second `register` fails with `AlreadyExists` in release builds
//!   too), and a socket converted out of the mio type (`into_raw_socket`, `From`) leaves its
//!   registration behind.
//! - Readiness is re-armed by the mio type's own operations: after an event, an operation on
//!   the socket that returns `WouldBlock` asks the kernel again. I/O done on the raw socket
//!   outside mio must go through `try_io` for the same effect.
//! - Error codes are Winsock's (`WSAE*`), mapped by std to the same `ErrorKind`s where one
//!   exists.
//!
//! # On WASI
//!
//! `TcpListener`, `TcpStream` and (preview 2 only) `UdpSocket` exist; preview 1 has no
//! `TcpListener::bind`, `TcpStream::connect` or `UdpSocket` (the host hands sockets over).
//! What WASI's sockets (through wasi-libc) do differently, measured under a preview 2 host
//! (`.ci/wasi-tests`):
//!
//! - `peek`/`peek_from` fail with `Unsupported`: WASI sockets cannot peek.
//! - Vectored reads and writes move the first buffer only (a short read or write).
//! - A peer's FIN is reported as readable, not read-closed: read to `Ok(0)`.
//! - A connection finishes a moment after the peer accepted it: wait for the writable event
//!   before `peer_addr`. A refused one is reported writable too; the next operation fails.
//! - `take_error` and the socket options behind `getsockopt` may be unavailable.

/// `Debug` by delegating to the wrapped std type, and `From<$t> for $std`.
macro_rules! impl_std_conversions {
    ($t:ty, $std:ty) => {
        impl ::std::fmt::Debug for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&*self.inner, f)
            }
        }

        impl ::std::convert::From<$t> for $std {
            /// Unwraps the std value; the fd keeps its non-blocking mode.
            fn from(io: $t) -> Self {
                io.inner.into_inner()
            }
        }
    };
}

mod tcp;
pub use self::tcp::{TcpListener, TcpStream};

// Not on WASI preview 1, which has no UDP.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
mod udp;
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub use self::udp::UdpSocket;
// Batched, segmented and annotated datagrams: extras of this crate.
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub(crate) mod udp_batch;
#[cfg(not(all(target_os = "wasi", target_env = "p1")))]
pub use self::udp_batch::{test_switch, Datagrams, Ecn, RecvDatagram, SendDatagram};

#[cfg(unix)]
mod uds;
#[cfg(unix)]
pub use self::uds::{UnixDatagram, UnixListener, UnixStream};
