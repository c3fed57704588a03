//! Batched, segmented and annotated datagrams on [`UdpSocket`]: **extras of this crate**, not in
//! upstream mio (code that calls them is tied to this crate).
//!
//! See the [table in `mio::net`](crate::net#batched-segmented-and-annotated-datagrams) for
//! what each OS does underneath; the public items are re-exported there.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use super::UdpSocket;
use crate::sys;

/// The largest batch [`UdpSocket::send_batch`] and [`UdpSocket::recv_batch`] take in one call.
pub(crate) const MAX_BATCH: usize = 64;

/// The most segments one [`SendDatagram`] may be cut into (Linux's `UDP_MAX_SEGMENTS` before
/// 6.9; newer kernels take more, older ones refuse more with `EINVAL`).
pub(crate) const MAX_SEGMENTS: usize = 64;

/// The largest UDP payload over IPv4 (65 535 - 8 bytes of UDP header - 20 of IPv4 header); an
/// IPv6 datagram without jumbograms carries at most 65 527 (udp(7), ipv6(7)), so 65 507 is the
/// bound this crate checks for either: larger is refused before any syscall.
pub(crate) const MAX_PAYLOAD: usize = 65_507;

/// The ECN codepoint of a datagram: the low two bits of the IPv4 TOS byte or the IPv6 traffic
/// class (RFC 3168, section 5).
///
/// An extra of this crate (not in upstream mio): set on send with [`SendDatagram::ecn`], read
/// on receive with [`RecvDatagram::ecn`] after [`UdpSocket::set_recv_ecn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Ecn {
    /// `00`: the sender does not do ECN.
    #[default]
    NotEct = 0b00,
    /// `01`: ECN-capable transport, ECT(1) (L4S uses it).
    Ect1 = 0b01,
    /// `10`: ECN-capable transport, ECT(0).
    Ect0 = 0b10,
    /// `11`: congestion experienced, set by a router on an ECN-capable datagram.
    Ce = 0b11,
}

impl Ecn {
    /// The codepoint of a TOS byte or traffic class (its low two bits).
    pub fn from_bits(tos: u8) -> Ecn {
        match tos & 0b11 {
            0b00 => Ecn::NotEct,
            0b01 => Ecn::Ect1,
            0b10 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }
}

/// One message for [`UdpSocket::send_batch`]: a buffer, where to send it, and (optionally) the
/// size of the datagrams to cut it into.
///
/// An extra of this crate (not in upstream mio).
///
/// # Examples
///
/// ```
/// use mio::net::SendDatagram;
///
/// let to = "127.0.0.1:4433".parse().unwrap();
/// let header = SendDatagram::new(b"hello").to(to);
/// // 3 000 bytes leaving as datagrams of 1 200, 1 200 and 600 bytes.
/// let payload = vec![0u8; 3000];
/// let bulk = SendDatagram::new(&payload).to(to).segment_size(1200);
/// # drop((header, bulk));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SendDatagram<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) addr: Option<SocketAddr>,
    /// 0: not segmented.
    pub(crate) segment_size: usize,
    /// `None`: the socket's own TOS / traffic class.
    pub(crate) ecn: Option<Ecn>,
}

impl<'a> SendDatagram<'a> {
    /// A message of `buf`, to the connected peer until [`to`](SendDatagram::to) names another
    /// destination.
    pub fn new(buf: &'a [u8]) -> SendDatagram<'a> {
        SendDatagram {
            buf,
            addr: None,
            segment_size: 0,
            ecn: None,
        }
    }

    /// Sends it to `addr` (needed on a socket that is not connected).
    pub fn to(mut self, addr: SocketAddr) -> SendDatagram<'a> {
        self.addr = Some(addr);
        self
    }

    /// Cuts the buffer into datagrams of `size` bytes, the last one possibly shorter. A buffer
    /// no longer than `size` leaves as one datagram. At most [`UdpSocket::MAX_SEGMENTS`]
    /// segments; `size` 0 is refused by the send (`InvalidInput`).
    pub fn segment_size(mut self, size: usize) -> SendDatagram<'a> {
        // 0 means "not segmented" inside; usize::MAX stands for the caller's 0, refused later.
        self.segment_size = if size == 0 { usize::MAX } else { size };
        self
    }

    /// Marks the datagram (each of them, when segmented) with an ECN codepoint: an `IP_TOS`
    /// or `IPV6_TCLASS` control message whose low two bits are `ecn` and whose DSCP bits are
    /// 0, replacing the socket's TOS for this message. Without it the socket's own TOS
    /// applies.
    ///
    /// Linux, Android, FreeBSD and Apple's send it over IPv4 and IPv6, the other Unixes but
    /// Haiku over IPv6 (RFC 3542); elsewhere (and over IPv4 on NetBSD, OpenBSD, DragonFly,
    /// illumos, Solaris) the send fails with `Unsupported`. WASI and Hermit: likewise
    /// `Unsupported`.
    ///
    /// Windows sends it with `WSASendMsg` and an `IP_ECN`/`IPV6_ECN` control message (Windows
    /// 10 build 20348 and later; an older stack that refuses the message makes the send fail
    /// with `Unsupported`). Windows does not let an application send [`Ecn::Ce`]: such a
    /// message fails with `InvalidInput` before anything is sent. Wine 8 sends the datagram
    /// without the mark.
    pub fn ecn(mut self, ecn: Ecn) -> SendDatagram<'a> {
        self.ecn = Some(ecn);
        self
    }

    /// The buffer.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// The destination, if one was given.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// How many datagrams this message leaves as: 1 unless segmented.
    pub(crate) fn segments(&self) -> usize {
        match self.segment_size {
            0 => 1,
            // `div_ceil` is newer than the MSRV.
            size => ((self.buf.len() + size - 1) / size).max(1),
        }
    }

    /// Refuses what no OS would send, before any syscall, with the reason.
    pub(crate) fn check(&self) -> io::Result<()> {
        match self.segment_size {
            0 if self.buf.len() > MAX_PAYLOAD => Err(invalid(
                "a datagram is larger than 65 507 bytes, the most one UDP datagram carries",
            )),
            0 => Ok(()),
            usize::MAX => Err(invalid("a segment size of 0")),
            size if size > MAX_PAYLOAD => Err(invalid(
                "a segment size larger than 65 507 bytes, the most one UDP datagram carries",
            )),
            _ if self.segments() > MAX_SEGMENTS => Err(invalid(
                "a segmented message of more than UdpSocket::MAX_SEGMENTS segments",
            )),
            // One segmented message is one IP packet to the kernel before it is cut.
            _ if self.buf.len() > MAX_PAYLOAD => Err(invalid(
                "a segmented message larger than 65 507 bytes in all",
            )),
            _ => Ok(()),
        }
    }

    /// The `i`th datagram of this message once cut (the whole buffer when not segmented).
    pub(crate) fn segment(&self, i: usize) -> &'a [u8] {
        match self.segment_size {
            0 => self.buf,
            size => {
                let start = (i * size).min(self.buf.len());
                &self.buf[start..(start + size).min(self.buf.len())]
            }
        }
    }
}

/// A receive slot for [`UdpSocket::recv_batch`]: a buffer of the caller's, and what the last
/// receive into it found.
///
/// Make the slots once and reuse them for every call: nothing is allocated per datagram.
///
/// An extra of this crate (not in upstream mio).
///
/// # Examples
///
/// ```
/// use mio::net::RecvDatagram;
///
/// let mut storage = vec![0u8; 8 * 1500];
/// let slots: Vec<RecvDatagram<'_>> = storage.chunks_mut(1500).map(RecvDatagram::new).collect();
/// assert_eq!(slots.len(), 8);
/// assert!(slots[0].data().is_empty());
/// ```
pub struct RecvDatagram<'a> {
    pub(crate) buf: &'a mut [u8],
    pub(crate) len: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) truncated: bool,
    /// 0: not coalesced.
    pub(crate) segment_size: usize,
    pub(crate) ecn: Ecn,
    pub(crate) dst: Option<IpAddr>,
}

impl<'a> RecvDatagram<'a> {
    /// A slot receiving into `buf`. A datagram longer than `buf` is cut to its length (see
    /// [`is_truncated`](RecvDatagram::is_truncated)).
    pub fn new(buf: &'a mut [u8]) -> RecvDatagram<'a> {
        RecvDatagram {
            buf,
            len: 0,
            addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            truncated: false,
            segment_size: 0,
            ecn: Ecn::NotEct,
            dst: None,
        }
    }

    /// The bytes received by the last call that filled this slot.
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// How many bytes were received (at most the buffer's length).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the last datagram was empty (or nothing was received yet).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where the datagram came from (`0.0.0.0:0` before the first receive).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the datagram was longer than the buffer, its end discarded (`MSG_TRUNC`).
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// The ECN codepoint the datagram arrived with, once [`UdpSocket::set_recv_ecn`] asked
    /// for it; [`Ecn::NotEct`] otherwise.
    pub fn ecn(&self) -> Ecn {
        self.ecn
    }

    /// The local address the datagram was sent to (its IP header's destination), once
    /// [`UdpSocket::set_recv_dst_addr`] asked for it: on a socket bound to a wildcard address,
    /// which of the host's addresses the peer used. An IPv4 datagram on an IPv6 socket gives
    /// an IPv4 address. `None` when not asked for.
    pub fn dst_addr(&self) -> Option<IpAddr> {
        self.dst
    }

    /// With receive offload on ([`UdpSocket::set_recv_offload`]): the size of the datagrams
    /// the kernel coalesced into this one receive (the last may be shorter), `None` for a
    /// datagram received alone. Always `None` where the OS does not coalesce.
    pub fn segment_size(&self) -> Option<usize> {
        match self.segment_size {
            0 => None,
            size => Some(size),
        }
    }

    /// The datagrams of the last receive: the coalesced ones one by one (see
    /// [`segment_size`](RecvDatagram::segment_size)), or the one datagram (possibly empty).
    ///
    /// ```
    /// use mio::net::RecvDatagram;
    ///
    /// let mut buf = [0u8; 16];
    /// let slot = RecvDatagram::new(&mut buf);
    /// // Nothing received yet: one empty datagram.
    /// assert_eq!(slot.datagrams().collect::<Vec<_>>(), [&[] as &[u8]]);
    /// ```
    pub fn datagrams(&self) -> Datagrams<'_> {
        Datagrams {
            rest: Some(self.data()),
            size: self.segment_size,
        }
    }

    /// The whole buffer, e.g. to reuse it for something else between receives.
    pub fn buf_mut(&mut self) -> &mut [u8] {
        self.buf
    }

    /// Clears what the last receive found, before a new one fills it.
    pub(crate) fn reset(&mut self) {
        self.len = 0;
        self.truncated = false;
        self.segment_size = 0;
        self.ecn = Ecn::NotEct;
        self.dst = None;
    }
}

/// The datagrams of one receive, from [`RecvDatagram::datagrams`]. An extra of this crate.
#[derive(Debug, Clone)]
pub struct Datagrams<'a> {
    /// `None` once done.
    rest: Option<&'a [u8]>,
    /// 0: the rest is one datagram.
    size: usize,
}

impl<'a> Iterator for Datagrams<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        if self.size == 0 || rest.len() <= self.size {
            self.rest = None;
            return Some(rest);
        }
        let (first, more) = rest.split_at(self.size);
        self.rest = Some(more);
        Some(first)
    }
}

impl fmt::Debug for RecvDatagram<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvDatagram")
            .field("capacity", &self.buf.len())
            .field("len", &self.len)
            .field("addr", &self.addr)
            .field("truncated", &self.truncated)
            .field("segment_size", &self.segment_size())
            .field("ecn", &self.ecn)
            .field("dst_addr", &self.dst)
            .finish()
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn check_batch_len(len: usize) -> io::Result<()> {
    if len > MAX_BATCH {
        return Err(invalid(
            "a batch of more than UdpSocket::MAX_BATCH (64) messages",
        ));
    }
    Ok(())
}

impl UdpSocket {
    /// The most messages [`send_batch`](UdpSocket::send_batch) and
    /// [`recv_batch`](UdpSocket::recv_batch) take in one call (64). An extra of this crate.
    pub const MAX_BATCH: usize = MAX_BATCH;

    /// The most datagrams one [`SendDatagram`] may be cut into (64, Linux's limit before 6.9).
    /// An extra of this crate.
    pub const MAX_SEGMENTS: usize = MAX_SEGMENTS;

    /// Sends several messages in one call, in order, and returns how many were sent.
    ///
    /// Each message is one datagram, or several when it has a
    /// [`segment_size`](SendDatagram::segment_size). Messages without a destination go to the
    /// connected peer.
    ///
    /// An extra of this crate (not in upstream mio). Linux, Android, FreeBSD and NetBSD send the
    /// batch with one `sendmmsg(2)`; elsewhere (the other Unixes, Windows, WASI preview 2,
    /// Hermit) it is a loop of single sends with the same result (on Windows `sendto`, or
    /// `WSASendMsg` for a marked datagram). See the
    /// [module table](crate::net#batched-segmented-and-annotated-datagrams).
    ///
    /// # Errors
    ///
    /// - `WouldBlock` only when **no** message was sent (the send buffer is full); when some
    ///   were, the call returns their count and the rest is for the next call.
    /// - Any other error of the first message is returned as is; an error on a later message
    ///   ends the batch early (the count of those before it is returned), and the next call,
    ///   which starts with that message, meets it again (unless it was a one-time error, such
    ///   as a `ConnectionRefused` left by an earlier datagram: sendmmsg(2) drops it).
    /// - `InvalidInput`, before anything is sent: more than [`MAX_BATCH`](Self::MAX_BATCH)
    ///   messages, a segment size of 0, more than [`MAX_SEGMENTS`](Self::MAX_SEGMENTS)
    ///   segments, or a datagram (or segmented message) over 65 507 bytes.
    ///
    /// A segmented message counts as sent once all its datagrams are. Where the OS does not
    /// segment, its datagrams are sent one by one: if the send buffer fills in the middle of
    /// one, the message counts as not sent and sending it again repeats its first datagrams
    /// (duplicates, which UDP allows; nothing is lost).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(feature = "os-poll")] {
    /// use mio::net::{SendDatagram, UdpSocket};
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let c = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let batch = [
    ///     SendDatagram::new(b"to b").to(b.local_addr()?),
    ///     SendDatagram::new(b"to c").to(c.local_addr()?),
    /// ];
    /// match a.send_batch(&batch) {
    ///     // How many went out, in order: the caller sends the rest later.
    ///     Ok(sent) => assert!(sent >= 1 && sent <= 2),
    ///     // None: the send buffer is full (rare for a fresh socket, seen under Wine); wait
    ///     // for a writable event, then send the batch again.
    ///     Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_batch(&self, msgs: &[SendDatagram<'_>]) -> io::Result<usize> {
        check_batch_len(msgs.len())?;
        for msg in msgs {
            msg.check()?;
        }
        if msgs.is_empty() {
            return Ok(0);
        }
        self.inner
            .do_write(|socket| sys::udp::send_batch(socket, msgs))
    }

    /// Receives up to `slots.len()` datagrams in one call and returns how many it received:
    /// slots `0..n` hold them, in arrival order, each with its length, source and truncation
    /// flag.
    ///
    /// An extra of this crate (not in upstream mio). Linux, Android, FreeBSD and NetBSD receive
    /// with one `recvmmsg(2)`; elsewhere it is a loop of single receives with the same result.
    ///
    /// # Errors
    ///
    /// `WouldBlock` only when no datagram was queued; `InvalidInput` for more than
    /// [`MAX_BATCH`](Self::MAX_BATCH) slots. An error after some datagrams were received ends
    /// the batch (their count is returned); the next call reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(feature = "os-poll")] {
    /// use std::time::Duration;
    /// use mio::net::{RecvDatagram, SendDatagram, UdpSocket};
    /// use mio::{Events, Interest, Poll, Token};
    ///
    /// let mut rx = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let tx = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// poll.registry().register(&mut rx, Token(0), Interest::READABLE)?;
    ///
    /// let to = rx.local_addr()?;
    /// tx.send_batch(&[SendDatagram::new(b"one").to(to), SendDatagram::new(b"two").to(to)])?;
    ///
    /// let mut storage = [0u8; 4 * 1500];
    /// let mut slots: Vec<_> = storage.chunks_mut(1500).map(RecvDatagram::new).collect();
    /// let mut got = Vec::new();
    /// while got.len() < 2 {
    ///     poll.poll(&mut events, Some(Duration::from_secs(5)))?;
    ///     // Edge-triggered: receive until `WouldBlock`.
    ///     loop {
    ///         match rx.recv_batch(&mut slots) {
    ///             Ok(n) => got.extend(slots[..n].iter().map(|s| s.data().to_vec())),
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    /// }
    /// assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv_batch(&self, slots: &mut [RecvDatagram<'_>]) -> io::Result<usize> {
        check_batch_len(slots.len())?;
        if slots.is_empty() {
            return Ok(0);
        }
        for slot in slots.iter_mut() {
            slot.reset();
        }
        self.inner
            .do_read(|socket| sys::udp::recv_batch(socket, slots))
    }
}

impl UdpSocket {
    /// Whether a [segmented](SendDatagram::segment_size) message sent on this socket now is
    /// handed to the kernel as one buffer, which cuts it into datagrams (segmentation offload,
    /// `UDP_SEGMENT`): Linux 4.18 and later, unless the kernel refused it on this socket
    /// before. When `false`, segmented messages still work: their datagrams are sent
    /// separately, in the same batch call.
    ///
    /// A kernel refuses offload at send time, per socket and route (for example `EIO` from a
    /// device that cannot checksum, `EINVAL` with checksums off, or a segment larger than the
    /// route's MTU allows); the send then falls back by itself and the socket remembers it.
    ///
    /// Windows: `UDP_SEND_MSG_SIZE` (USO, Windows 10 2004 and later), set around one send of
    /// the whole buffer; `true` when the stack knows the option on this socket and did not
    /// refuse a segmented send on it before (a refusal is remembered by socket handle value).
    /// Wine 8 does not have it: `false`.
    ///
    /// An extra of this crate (not in upstream mio); always `false` except on Linux, Android
    /// and Windows.
    pub fn send_offload(&self) -> bool {
        sys::udp::send_offload(&self.inner)
    }

    /// Asks the kernel to coalesce received datagrams of one flow (receive offload,
    /// `UDP_GRO`, Linux 5.0 and later; `UDP_RECV_MAX_COALESCED_SIZE`, Windows 10 2004 and
    /// later) and returns whether it is now in effect: `Ok(false)` where the OS has none
    /// (every OS but Linux, Android and Windows, an older kernel or Windows, or Wine), in
    /// which case datagrams keep arriving one by one.
    ///
    /// With it on, one [`RecvDatagram`] may hold several datagrams of the same size from the
    /// same source (the last one possibly shorter); its
    /// [`segment_size`](RecvDatagram::segment_size) says their size and
    /// [`datagrams`](RecvDatagram::datagrams) walks them. Give slots of 65 535 bytes: the
    /// kernel does not split a coalesced receive for a smaller buffer, it truncates it.
    ///
    /// An extra of this crate (not in upstream mio).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(feature = "os-poll")] {
    /// use mio::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let coalescing = socket.set_recv_offload(true)?;
    /// assert_eq!(coalescing, socket.recv_offload()?);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_recv_offload(&self, on: bool) -> io::Result<bool> {
        sys::udp::set_recv_offload(&self.inner, on)
    }

    /// Whether receive offload is on (see [`set_recv_offload`](UdpSocket::set_recv_offload)).
    /// An extra of this crate.
    pub fn recv_offload(&self) -> io::Result<bool> {
        sys::udp::recv_offload(&self.inner)
    }

    /// Asks the kernel to report each received datagram's ECN codepoint
    /// ([`RecvDatagram::ecn`]): `IP_RECVTOS` on an IPv4 socket, `IPV6_RECVTCLASS` on an IPv6
    /// one (and `IP_RECVTOS` too where the OS takes it there, as Linux does, for IPv4 traffic
    /// on a dual-stack socket).
    ///
    /// An extra of this crate (not in upstream mio).
    ///
    /// # Errors
    ///
    /// `Unsupported` where the OS has no such option: IPv4 on NetBSD, OpenBSD, DragonFly,
    /// illumos, Solaris and Haiku, IPv6 on Haiku, and WASI and Hermit.
    ///
    /// Windows: `IP_RECVECN`/`IPV6_RECVECN` (Windows 10 build 20348 and later), else
    /// `IP_RECVTOS`/`IPV6_RECVTCLASS` (whose whole TOS byte is read for its ECN bits), chosen
    /// by the stack's answer; both on a dual-stack socket. The datagrams are received with
    /// `WSARecvMsg`. `Unsupported` when the stack has neither.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(all(feature = "os-poll", target_os = "linux"))] {
    /// use std::time::Duration;
    /// use mio::net::{Ecn, RecvDatagram, SendDatagram, UdpSocket};
    /// use mio::{Events, Interest, Poll, Token};
    ///
    /// let mut rx = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// rx.set_recv_ecn(true)?;
    /// let tx = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// tx.send_batch(&[SendDatagram::new(b"marked").to(rx.local_addr()?).ecn(Ecn::Ect0)])?;
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(4);
    /// poll.registry().register(&mut rx, Token(0), Interest::READABLE)?;
    /// let mut buf = [0u8; 64];
    /// let mut slots = [RecvDatagram::new(&mut buf)];
    /// loop {
    ///     match rx.recv_batch(&mut slots) {
    ///         Ok(_) => break,
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
    ///             poll.poll(&mut events, Some(Duration::from_secs(5)))?;
    ///         }
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// assert_eq!(slots[0].ecn(), Ecn::Ect0);
    /// # }
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_recv_ecn(&self, on: bool) -> io::Result<()> {
        sys::udp::set_recv_ecn(&self.inner, on)
    }

    /// Asks the kernel to report each received datagram's destination address
    /// ([`RecvDatagram::dst_addr`]), for servers bound to a wildcard address that must answer
    /// from the address the peer used: `IP_PKTINFO` on Linux and Android, `IP_RECVDSTADDR` on
    /// the BSDs, Apple's, illumos, Solaris and Haiku; `IPV6_RECVPKTINFO` on an IPv6 socket
    /// (with the IPv4 option too where the OS takes it there, as Linux does).
    ///
    /// An extra of this crate (not in upstream mio).
    ///
    /// # Errors
    ///
    /// `Unsupported` where the OS has no such option (IPv6 on Haiku; WASI, Hermit). Windows
    /// has `IP_PKTINFO`/`IPV6_PKTINFO` (both set on a dual-stack socket, as Winsock's
    /// `IP_PKTINFO` page asks), read from `WSARecvMsg`'s control data.
    pub fn set_recv_dst_addr(&self, on: bool) -> io::Result<()> {
        sys::udp::set_recv_dst_addr(&self.inner, on)
    }
}

/// Test-only switches: **not part of the API**, for this crate's own tests.
#[doc(hidden)]
pub mod test_switch {
    /// Makes the calling thread's batched sends and receives take the portable loop of single
    /// calls (the path of the OSes without `sendmmsg`) while `on`.
    pub fn force_loop_fallback(on: bool) {
        crate::sys::udp_loop::force(on);
    }

    /// Makes the calling thread's sockets behave as if the kernel had no segmentation
    /// offload while `on`: segmented messages leave as separate datagrams,
    /// `set_recv_offload(true)` answers `Ok(false)`, `send_offload()` says `false`.
    pub fn force_offload_fallback(on: bool) {
        crate::sys::udp_loop::force_no_offload(on);
    }
}
