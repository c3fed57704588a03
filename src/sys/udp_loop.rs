//! The portable batch: `UdpSocket::send_batch`/`recv_batch` as a loop of single sends and
//! receives, with the contract of `sendmmsg(2)`/`recvmmsg(2)` (how many went through, in
//! order; `WouldBlock` only when none did).
//!
//! It is the mechanism of every OS without those calls: the Unixes other than Linux, Android,
//! FreeBSD and NetBSD (each step a `sendmsg`/`recvmsg`, see `unix::udp`), Windows (each step
//! a `WSARecvMsg`/`WSASendMsg` or `sendto`, see `windows::udp`), and WASI preview 2 and
//! Hermit (each step the family's `send_to`/`recv_from`, below). A thread can
//! force it where `sendmmsg` exists ([`force`]), so the Linux tests cover it too.

use std::cell::Cell;
use std::io;

use crate::net::{RecvDatagram, SendDatagram};

// Clippy 1.96 (Debian's, which builds the Windows target) reports `missing_const_for_thread_local`
// on these initializers although they are `const { .. }` already, for x86_64-pc-windows-gnu
// only; host clippy 1.95 is silent.
#[allow(clippy::missing_const_for_thread_local)]
mod switches {
    use std::cell::Cell;

    thread_local! {
        /// Set by the test switch (`mio::net::test_switch::force_loop_fallback`): per thread, so
        /// one test forcing it leaves the tests running beside it alone.
        pub(super) static FORCED: Cell<bool> = const { Cell::new(false) };
        /// Set by `mio::net::test_switch::force_offload_fallback`: segmented messages leave as
        /// separate datagrams and receive offload is refused, as on a kernel without them.
        pub(super) static NO_OFFLOAD: Cell<bool> = const { Cell::new(false) };
    }
}
use switches::{FORCED, NO_OFFLOAD};

/// Makes this thread's sockets behave as if the kernel had no segmentation offload while `on`.
pub(crate) fn force_no_offload(on: bool) {
    NO_OFFLOAD.with(|forced| forced.set(on));
}

/// Whether this thread forced the offload off.
// Read only where offload exists.
#[allow(dead_code)]
pub(crate) fn offload_forced_off() -> bool {
    NO_OFFLOAD.with(Cell::get)
}

/// Makes this thread's batches take the loop while `on`.
pub(crate) fn force(on: bool) {
    FORCED.with(|forced| forced.set(on));
}

/// Whether this thread forced the loop.
// Read only where another mechanism exists.
#[allow(dead_code)]
pub(crate) fn forced() -> bool {
    FORCED.with(Cell::get)
}

/// How a batch that stopped at message `done` ends: the count when some went through, the
/// error itself when none did.
pub(crate) fn partial(done: usize, err: io::Error) -> io::Result<usize> {
    if done == 0 {
        Err(err)
    } else {
        Ok(done)
    }
}

/// Sends each datagram of each message with `send_one(message, datagram index)`. A segmented
/// message is its datagrams in order, and counts once all of them are sent.
// Windows has its own loop (a segmented message may go in one send there, see `windows::udp`).
#[cfg_attr(windows, allow(dead_code))]
pub(crate) fn send<F>(msgs: &[SendDatagram<'_>], mut send_one: F) -> io::Result<usize>
where
    F: FnMut(&SendDatagram<'_>, usize) -> io::Result<()>,
{
    for (done, msg) in msgs.iter().enumerate() {
        for seg in 0..msg.segments() {
            if let Err(err) = send_one(msg, seg) {
                return partial(done, err);
            }
        }
    }
    Ok(msgs.len())
}

/// Receives into each slot in turn with `recv_one` until one has nothing (or fails).
pub(crate) fn recv<F>(slots: &mut [RecvDatagram<'_>], mut recv_one: F) -> io::Result<usize>
where
    F: FnMut(&mut RecvDatagram<'_>) -> io::Result<()>,
{
    let count = slots.len();
    for (done, slot) in slots.iter_mut().enumerate() {
        if let Err(err) = recv_one(slot) {
            return partial(done, err);
        }
    }
    Ok(count)
}

/// WASI preview 2 and Hermit: the loop over the family's `send_to`/`recv_from`.
#[cfg(not(any(unix, windows)))]
mod portable {
    use std::io;
    use std::net;

    use crate::net::{RecvDatagram, SendDatagram};
    use crate::sys::net as sys_net;

    /// One `send_to` (or `send` to the connected peer) per datagram.
    pub(crate) fn send_batch(
        socket: &net::UdpSocket,
        msgs: &[SendDatagram<'_>],
    ) -> io::Result<usize> {
        super::send(msgs, |msg, seg| {
            if msg.ecn.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "sending an ECN mark is not supported on this OS",
                ));
            }
            let buf = msg.segment(seg);
            match msg.addr {
                Some(addr) => sys_net::send_to(socket, buf, addr).map(drop),
                None => sys_net::send(socket, buf).map(drop),
            }
        })
    }

    /// One `recv_from` per datagram; a datagram longer than the buffer is reported truncated.
    pub(crate) fn recv_batch(
        socket: &net::UdpSocket,
        slots: &mut [RecvDatagram<'_>],
    ) -> io::Result<usize> {
        super::recv(slots, |slot| {
            let (n, addr, truncated) = sys_net::recv_from_truncated(socket, slot.buf)?;
            slot.len = n;
            slot.addr = addr;
            slot.truncated = truncated;
            Ok(())
        })
    }
}
#[cfg(not(any(unix, windows)))]
pub(crate) use self::portable::{recv_batch, send_batch};

/// No segmentation offload where batches are a loop (the offload paths are Linux's).
// Unused on the Unixes without offload, which answer from `unix::udp`.
#[allow(dead_code)]
pub(crate) mod no_offload {
    use std::io;

    pub(crate) fn send_offload<S>(_: &S) -> bool {
        false
    }

    pub(crate) fn set_recv_offload<S>(_: &S, _: bool) -> io::Result<bool> {
        Ok(false)
    }

    pub(crate) fn recv_offload<S>(_: &S) -> io::Result<bool> {
        Ok(false)
    }
}

/// No per-datagram metadata where batches are `sendto`/`recvfrom` (WASI, Hermit).
#[cfg(not(any(unix, windows)))]
pub(crate) mod no_meta {
    use std::io;

    pub(crate) fn set_recv_ecn<S>(_: &S, _: bool) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "receiving the ECN codepoint is not supported on this OS",
        ))
    }

    pub(crate) fn set_recv_dst_addr<S>(_: &S, _: bool) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "receiving the destination address is not supported on this OS",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use crate::net::{RecvDatagram, SendDatagram};

    fn would_block() -> io::Error {
        io::ErrorKind::WouldBlock.into()
    }

    /// The contract, with a send buffer that fills after `room` datagrams (which loopback
    /// never does, so the integration tests cannot show it): the count of whole messages, and
    /// `WouldBlock` only when none went through; a segmented message cut short counts as not
    /// sent.
    #[test]
    fn send_stops_at_a_full_buffer() {
        let run = |room: usize, msgs: &[SendDatagram<'_>]| {
            let mut left = room;
            super::send(msgs, |_, _| {
                if left == 0 {
                    return Err(would_block());
                }
                left -= 1;
                Ok(())
            })
        };
        let buf = [0u8; 10];
        let plain = [SendDatagram::new(&buf); 4];
        assert_eq!(run(4, &plain).unwrap(), 4);
        assert_eq!(run(2, &plain).unwrap(), 2);
        let err = run(0, &plain).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        // A message of 4 segments of 3 bytes (3+3+3+1), then a plain one.
        let cut = [
            SendDatagram::new(&buf).segment_size(3),
            SendDatagram::new(&buf),
        ];
        assert_eq!(run(5, &cut).unwrap(), 2);
        assert_eq!(run(4, &cut).unwrap(), 1);
        assert_eq!(run(3, &cut).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn recv_stops_at_an_empty_queue() {
        let mut storage = [0u8; 4 * 8];
        let mut slots: Vec<_> = storage.chunks_mut(8).map(RecvDatagram::new).collect();
        let run = |queued: usize, slots: &mut [RecvDatagram<'_>]| {
            let mut left = queued;
            super::recv(slots, |slot| {
                if left == 0 {
                    return Err(would_block());
                }
                left -= 1;
                slot.len = 1;
                Ok(())
            })
        };
        assert_eq!(run(9, &mut slots).unwrap(), 4);
        assert_eq!(run(3, &mut slots).unwrap(), 3);
        assert_eq!(
            run(0, &mut slots).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        // Another error before anything: returned as is.
        let err = super::recv(&mut slots, |_| Err(io::ErrorKind::ConnectionRefused.into()));
        assert_eq!(err.unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    }
}
