#![cfg(all(feature = "os-poll", feature = "net"))]
// Linux: what these tests assert is Linux's (ip(7), ipv6(7)); the other Unixes' options
// differ per OS (see `src/sys/unix/udp_meta.rs`) and cannot be run here. Windows (run under
// Wine here): the `windows` module, Winsock's options (`src/sys/windows/udp.rs`). WASI and
// Hermit have none (`Unsupported`, asserted in `unsupported_elsewhere`).
//! Per-datagram metadata on `UdpSocket` (extras of this crate): the ECN codepoint sent and
//! received (every codepoint, "not ECT" included, over IPv4, IPv6, a dual-stack socket, a
//! connected socket and segmented sends), and the destination address on a socket bound to a
//! wildcard address (IPv4 and IPv6). Every test runs with the OS's batch calls and with the
//! loop fallback.

#[cfg(target_os = "linux")]
mod linux {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    use mio::net::{Ecn, SendDatagram, UdpSocket};

    use crate::net_util::udp::{both_paths, recv_n};

    const ALL: [Ecn; 4] = [Ecn::NotEct, Ecn::Ect1, Ecn::Ect0, Ecn::Ce];

    fn bind(addr: &str) -> UdpSocket {
        UdpSocket::bind(addr.parse().unwrap()).unwrap()
    }

    /// Every codepoint, and a datagram without a mark (the socket's TOS, 0: not ECT), arrive
    /// with their codepoint, from `tx` to `to`.
    fn round_trip(tx: &UdpSocket, rx: &mut UdpSocket, to: SocketAddr, path: &str) {
        let mut batch: Vec<_> = ALL
            .iter()
            .map(|&ecn| SendDatagram::new(b"marked").to(to).ecn(ecn))
            .collect();
        batch.push(SendDatagram::new(b"unmarked").to(to));
        assert_eq!(tx.send_batch(&batch).unwrap(), 5, "{path}");
        let got = recv_n(rx, 5, 8, 64);
        let ecns: Vec<Ecn> = got.iter().map(|g| g.ecn).collect();
        assert_eq!(
            ecns,
            [ALL.as_slice(), &[Ecn::NotEct]].concat(),
            "{path} {to}"
        );
    }

    #[test]
    fn ecn_round_trip_ipv4_and_ipv6() {
        both_paths(|path| {
            for local in ["127.0.0.1:0", "[::1]:0"] {
                let tx = bind(local);
                let mut rx = bind(local);
                rx.set_recv_ecn(true).unwrap();
                let to = rx.local_addr().unwrap();
                round_trip(&tx, &mut rx, to, path);
            }
        });
    }

    /// IPv4 traffic to a dual-stack IPv6 socket carries its codepoint too (the IPv4 option
    /// is turned on beside the IPv6 one).
    #[test]
    fn ecn_of_ipv4_traffic_on_a_dual_stack_socket() {
        both_paths(|path| {
            let mut rx = bind("[::]:0");
            rx.set_recv_ecn(true).unwrap();
            let port = rx.local_addr().unwrap().port();
            let tx = bind("127.0.0.1:0");
            round_trip(
                &tx,
                &mut rx,
                SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                path,
            );
        });
    }

    /// Without `set_recv_ecn` (or after turning it off) every datagram reads "not ECT".
    #[test]
    fn ecn_not_reported_unless_asked() {
        both_paths(|path| {
            let tx = bind("127.0.0.1:0");
            let mut rx = bind("127.0.0.1:0");
            let to = rx.local_addr().unwrap();
            let batch = [SendDatagram::new(b"ce").to(to).ecn(Ecn::Ce)];
            assert_eq!(tx.send_batch(&batch).unwrap(), 1);
            assert_eq!(recv_n(&mut rx, 1, 1, 64)[0].ecn, Ecn::NotEct, "{path}");
            rx.set_recv_ecn(true).unwrap();
            rx.set_recv_ecn(false).unwrap();
            assert_eq!(tx.send_batch(&batch).unwrap(), 1);
            assert_eq!(recv_n(&mut rx, 1, 1, 64)[0].ecn, Ecn::NotEct, "{path}");
        });
    }

    /// A connected socket's messages have no destination: the family comes from the socket.
    #[test]
    fn ecn_on_a_connected_socket() {
        both_paths(|path| {
            for local in ["127.0.0.1:0", "[::1]:0"] {
                let tx = bind(local);
                let mut rx = bind(local);
                rx.set_recv_ecn(true).unwrap();
                tx.connect(rx.local_addr().unwrap()).unwrap();
                let batch = [
                    SendDatagram::new(b"a").ecn(Ecn::Ect1),
                    SendDatagram::new(b"b").ecn(Ecn::Ce),
                ];
                assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{path}");
                let got = recv_n(&mut rx, 2, 4, 64);
                assert_eq!((got[0].ecn, got[1].ecn), (Ecn::Ect1, Ecn::Ce), "{path}");
            }
        });
    }

    /// Each datagram of a segmented message carries its mark; a coalesced receive too.
    #[test]
    fn ecn_on_segmented_messages() {
        both_paths(|path| {
            let tx = bind("127.0.0.1:0");
            let mut rx = bind("127.0.0.1:0");
            rx.set_recv_ecn(true).unwrap();
            let to = rx.local_addr().unwrap();
            let data = vec![7u8; 2500];
            let batch = [SendDatagram::new(&data)
                .to(to)
                .segment_size(1000)
                .ecn(Ecn::Ect0)];
            assert_eq!(tx.send_batch(&batch).unwrap(), 1, "{path}");
            let got = recv_n(&mut rx, 3, 4, 2048);
            assert!(got.iter().all(|g| g.ecn == Ecn::Ect0), "{path}: {got:?}");

            assert!(rx.set_recv_offload(true).unwrap());
            assert_eq!(tx.send_batch(&batch).unwrap(), 1, "{path}");
            let got = crate::net_util::udp::recv_bytes(&mut rx, data.len(), 2, 65_535);
            assert!(got.iter().all(|g| g.ecn == Ecn::Ect0), "{path}: {got:?}");
        });
    }

    /// A socket bound to 0.0.0.0 reports which local address each datagram was sent to
    /// (Linux answers for the whole of 127.0.0.0/8 on loopback).
    #[test]
    fn destination_on_an_ipv4_wildcard_socket() {
        both_paths(|path| {
            let mut rx = bind("0.0.0.0:0");
            let port = rx.local_addr().unwrap().port();
            let tx = bind("127.0.0.1:0");
            let one = Ipv4Addr::new(127, 0, 0, 1);
            let two = Ipv4Addr::new(127, 0, 0, 2);
            let batch = [
                SendDatagram::new(b"1").to((one, port).into()),
                SendDatagram::new(b"2").to((two, port).into()),
            ];
            // Not asked for: none.
            assert_eq!(tx.send_batch(&batch[..1]).unwrap(), 1);
            assert_eq!(recv_n(&mut rx, 1, 1, 16)[0].dst, None, "{path}");

            rx.set_recv_dst_addr(true).unwrap();
            assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{path}");
            let got = recv_n(&mut rx, 2, 4, 16);
            assert_eq!(got[0].dst, Some(IpAddr::V4(one)), "{path}");
            assert_eq!(got[1].dst, Some(IpAddr::V4(two)), "{path}");
            assert_eq!(got[0].addr, tx.local_addr().unwrap(), "{path}");
        });
    }

    /// A socket bound to [::] (dual-stack) reports `::1` for IPv6 traffic and the IPv4
    /// address for IPv4 traffic, whose source it gives as IPv4-mapped.
    #[test]
    fn destination_on_an_ipv6_wildcard_socket() {
        both_paths(|path| {
            let mut rx = bind("[::]:0");
            rx.set_recv_dst_addr(true).unwrap();
            rx.set_recv_ecn(true).unwrap();
            let port = rx.local_addr().unwrap().port();
            let tx6 = bind("[::1]:0");
            let tx4 = bind("127.0.0.1:0");
            let to6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
            let to4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let batch6 = [SendDatagram::new(b"six").to(to6).ecn(Ecn::Ect1)];
            assert_eq!(tx6.send_batch(&batch6).unwrap(), 1, "{path}");
            let got = recv_n(&mut rx, 1, 2, 16);
            assert_eq!(got[0].dst, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)), "{path}");
            assert_eq!(got[0].ecn, Ecn::Ect1, "{path}");
            assert_eq!(got[0].addr, tx6.local_addr().unwrap(), "{path}");

            let batch4 = [SendDatagram::new(b"four").to(to4).ecn(Ecn::Ect0)];
            assert_eq!(tx4.send_batch(&batch4).unwrap(), 1, "{path}");
            let got = recv_n(&mut rx, 1, 2, 16);
            assert_eq!(got[0].dst, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), "{path}");
            assert_eq!(got[0].ecn, Ecn::Ect0, "{path}");
            let from = tx4.local_addr().unwrap();
            let mapped = SocketAddr::from((Ipv4Addr::LOCALHOST.to_ipv6_mapped(), from.port()));
            assert_eq!(got[0].addr, mapped, "{path}");
        });
    }
}

/// Where batches are `sendto`/`recvfrom` there is no metadata: asking for it, or sending a
/// mark, is `Unsupported` (never dropped silently).
#[test]
#[cfg(any(target_os = "wasi", target_os = "hermit"))]
fn unsupported_elsewhere() {
    use mio::net::{Ecn, SendDatagram, UdpSocket};
    use std::io;

    let socket = UdpSocket::bind(net_util::any_local_address()).unwrap();
    let to = socket.local_addr().unwrap();
    let kind = |r: io::Result<()>| r.unwrap_err().kind();
    assert_eq!(kind(socket.set_recv_ecn(true)), io::ErrorKind::Unsupported);
    assert_eq!(
        kind(socket.set_recv_dst_addr(true)),
        io::ErrorKind::Unsupported
    );
    let batch = [SendDatagram::new(b"x").to(to).ecn(Ecn::Ect0)];
    let err = socket.send_batch(&batch).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    assert!(!socket.set_recv_offload(true).unwrap());
    assert!(!socket.send_offload());
}

/// Windows: `WSARecvMsg` with `IP_PKTINFO`/`IPV6_PKTINFO` and the ECN (or TOS) control
/// messages, `WSASendMsg` with `IP_ECN`/`IPV6_ECN` (Winsock ECN, Windows 10 build 20348).
///
/// Under Wine 8 (where these run here) two things differ from Windows, each checked at run
/// time with `running_under_wine()` so that Windows keeps its own assertions:
/// - Wine refuses `IP_RECVECN`/`IPV6_RECVECN` (`WSAENOPROTOOPT`) and takes `IP_RECVTOS` /
///   `IPV6_RECVTCLASS`, passing Linux's `IP_TOS`/`IPV6_TCLASS` control messages through:
///   the crate falls back to those by itself, so `set_recv_ecn` succeeds on both;
/// - Wine's `WSASendMsg` returns success but sends without the control data (observed: the
///   datagram arrives with TOS 0), so a mark sent with `SendDatagram::ecn` arrives as "not
///   ECT" under Wine. The receive side is shown there with senders whose TOS / traffic class
///   is set with `setsockopt(IP_TOS / IPV6_TCLASS)`, which Wine passes to Linux (Windows
///   documents `IP_TOS` as "Do not use", so on Windows the marks come from `WSASendMsg`).
#[cfg(windows)]
mod windows {
    use std::io;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::os::windows::io::AsRawSocket;

    use mio::net::{Ecn, SendDatagram, UdpSocket};
    use windows_sys::Win32::Networking::WinSock as ws;

    use crate::net_util::running_under_wine;
    use crate::net_util::udp::{both_paths, recv_n};

    /// The codepoints an application may send on Windows (Winsock ECN: "Your application
    /// isn't allowed to specify the Congestion Encountered (CE) code point").
    const SENDABLE: [Ecn; 3] = [Ecn::NotEct, Ecn::Ect1, Ecn::Ect0];

    fn bind(addr: &str) -> UdpSocket {
        UdpSocket::bind(addr.parse().unwrap()).unwrap()
    }

    /// A sender whose every datagram carries `ecn` through its socket's TOS / traffic class
    /// (`setsockopt`), as Wine applies it (see the module notes). Wine 8 takes `IP_TOS` but
    /// answers `WSAENOPROTOOPT` for `IPV6_TCLASS` (observed), so an IPv6 sender there cannot
    /// mark its datagrams at all: its error is returned.
    fn tos_sender(local: &str, ecn: Ecn) -> io::Result<UdpSocket> {
        let socket = bind(local);
        let (level, name) = match socket.local_addr().unwrap() {
            SocketAddr::V4(_) => (ws::IPPROTO_IP, ws::IP_TOS),
            SocketAddr::V6(_) => (ws::IPPROTO_IPV6, ws::IPV6_TCLASS),
        };
        let value = ecn as i32;
        // SAFETY: a valid socket and an `int` option value of the size given.
        let ret = unsafe {
            ws::setsockopt(
                socket.as_raw_socket() as ws::SOCKET,
                level,
                name,
                (&value as *const i32).cast(),
                std::mem::size_of::<i32>() as i32,
            )
        };
        if ret != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(socket)
    }

    /// What a mark sent with `SendDatagram::ecn` arrives as (see the module notes).
    fn arrives_as(sent: Ecn) -> Ecn {
        if running_under_wine() {
            Ecn::NotEct
        } else {
            sent
        }
    }

    /// Marks sent with `send_batch` over IPv4 and IPv6, and an unmarked datagram: each
    /// arrives with its codepoint on Windows (as "not ECT" under Wine, which drops the mark:
    /// the sends succeed all the same).
    #[test]
    fn ecn_marks_sent_over_ipv4_and_ipv6() {
        both_paths(|path| {
            for local in ["127.0.0.1:0", "[::1]:0"] {
                let tx = bind(local);
                let mut rx = bind(local);
                rx.set_recv_ecn(true).unwrap();
                let to = rx.local_addr().unwrap();
                let mut batch: Vec<_> = SENDABLE
                    .iter()
                    .map(|&ecn| SendDatagram::new(b"marked").to(to).ecn(ecn))
                    .collect();
                batch.push(SendDatagram::new(b"unmarked").to(to));
                assert_eq!(tx.send_batch(&batch).unwrap(), 4, "{path}");
                let got = recv_n(&mut rx, 4, 8, 64);
                let ecns: Vec<Ecn> = got.iter().map(|g| g.ecn).collect();
                let want: Vec<Ecn> = SENDABLE.iter().map(|&e| arrives_as(e)).collect();
                assert_eq!(
                    ecns,
                    [want.as_slice(), &[Ecn::NotEct]].concat(),
                    "{path} {to}"
                );
            }
        });
    }

    /// Every codepoint, CE included, is read on receive over IPv4, and the IPv6 message
    /// too. Under Wine the IPv4 senders' TOS carries it; IPv6 senders cannot mark there
    /// (`IPV6_TCLASS` refused, see `tos_sender`), so the IPv6 receive shows "not ECT" read
    /// from its `IPV6_TCLASS` message. On Windows the marks carry it (CE cannot be sent).
    #[test]
    fn ecn_received_for_every_codepoint() {
        let wine = running_under_wine();
        for local in ["127.0.0.1:0", "[::1]:0"] {
            let v6 = local.starts_with('[');
            let mut rx = bind(local);
            rx.set_recv_ecn(true).unwrap();
            let to = rx.local_addr().unwrap();
            let codepoints: &[Ecn] = match (wine, v6) {
                (true, false) => &[Ecn::NotEct, Ecn::Ect1, Ecn::Ect0, Ecn::Ce],
                (true, true) => {
                    let err = tos_sender(local, Ecn::Ect0).unwrap_err();
                    assert_eq!(err.raw_os_error(), Some(ws::WSAENOPROTOOPT));
                    &[Ecn::NotEct]
                }
                (false, _) => &SENDABLE,
            };
            for &ecn in codepoints {
                let sent = if wine && !v6 {
                    tos_sender(local, ecn)
                        .unwrap()
                        .send_batch(&[SendDatagram::new(b"x").to(to)])
                } else {
                    bind(local).send_batch(&[SendDatagram::new(b"x").to(to).ecn(ecn)])
                };
                assert_eq!(sent.unwrap(), 1);
                let got = recv_n(&mut rx, 1, 2, 16);
                assert_eq!(got[0].ecn, ecn, "{to}");
            }
        }
    }

    /// CE is refused before anything is sent (`InvalidInput`): alone, the error; after
    /// another message, the count of those before it.
    #[test]
    fn ce_cannot_be_sent() {
        let tx = bind("127.0.0.1:0");
        let mut rx = bind("127.0.0.1:0");
        let to = rx.local_addr().unwrap();
        let err = tx
            .send_batch(&[SendDatagram::new(b"ce").to(to).ecn(Ecn::Ce)])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let batch = [
            SendDatagram::new(b"first").to(to).ecn(Ecn::Ect0),
            SendDatagram::new(b"ce").to(to).ecn(Ecn::Ce),
        ];
        assert_eq!(tx.send_batch(&batch).unwrap(), 1);
        let got = recv_n(&mut rx, 1, 2, 16);
        assert_eq!(got[0].data, b"first");
    }

    /// Without `set_recv_ecn` (or after turning it off) every datagram reads "not ECT".
    #[test]
    fn ecn_not_reported_unless_asked() {
        let tx = if running_under_wine() {
            tos_sender("127.0.0.1:0", Ecn::Ect0).unwrap()
        } else {
            bind("127.0.0.1:0")
        };
        let mut rx = bind("127.0.0.1:0");
        let to = rx.local_addr().unwrap();
        let batch = [SendDatagram::new(b"ect0").to(to).ecn(Ecn::Ect0)];
        assert_eq!(tx.send_batch(&batch).unwrap(), 1);
        assert_eq!(recv_n(&mut rx, 1, 1, 64)[0].ecn, Ecn::NotEct);
        rx.set_recv_ecn(true).unwrap();
        assert_eq!(tx.send_batch(&batch).unwrap(), 1);
        assert_eq!(recv_n(&mut rx, 1, 1, 64)[0].ecn, Ecn::Ect0, "asked");
        rx.set_recv_ecn(false).unwrap();
        assert_eq!(tx.send_batch(&batch).unwrap(), 1);
        assert_eq!(recv_n(&mut rx, 1, 1, 64)[0].ecn, Ecn::NotEct);
    }

    /// A connected socket's marked messages have no destination: the control message's
    /// level comes from the peer's family.
    #[test]
    fn ecn_on_a_connected_socket() {
        for local in ["127.0.0.1:0", "[::1]:0"] {
            let tx = bind(local);
            let mut rx = bind(local);
            rx.set_recv_ecn(true).unwrap();
            tx.connect(rx.local_addr().unwrap()).unwrap();
            let batch = [
                SendDatagram::new(b"a").ecn(Ecn::Ect1),
                SendDatagram::new(b"b").ecn(Ecn::Ect0),
            ];
            assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{local}");
            let got = recv_n(&mut rx, 2, 4, 64);
            assert_eq!(
                (got[0].ecn, got[1].ecn),
                (arrives_as(Ecn::Ect1), arrives_as(Ecn::Ect0)),
                "{local}"
            );
        }
    }

    /// Each datagram of a segmented marked message carries the mark (one send with USO, or
    /// separate `WSASendMsg`s where the stack has none, as under Wine), and its destination.
    #[test]
    fn ecn_and_destination_on_segmented_messages() {
        let tx = bind("127.0.0.1:0");
        let mut rx = bind("0.0.0.0:0");
        rx.set_recv_ecn(true).unwrap();
        rx.set_recv_dst_addr(true).unwrap();
        let to = SocketAddr::from((Ipv4Addr::LOCALHOST, rx.local_addr().unwrap().port()));
        let data = vec![7u8; 2500];
        let batch = [SendDatagram::new(&data)
            .to(to)
            .segment_size(1000)
            .ecn(Ecn::Ect0)];
        assert_eq!(tx.send_batch(&batch).unwrap(), 1);
        let got = crate::net_util::udp::recv_bytes(&mut rx, data.len(), 4, 65_535);
        let lens: Vec<usize> = got
            .iter()
            .flat_map(|g| match g.segment_size {
                Some(size) => g.data.chunks(size).map(<[u8]>::len).collect::<Vec<_>>(),
                None => vec![g.data.len()],
            })
            .collect();
        assert_eq!(lens, [1000, 1000, 500]);
        for g in &got {
            assert_eq!(g.ecn, arrives_as(Ecn::Ect0), "{got:?}");
            assert_eq!(g.dst, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)), "{got:?}");
        }
    }

    /// A socket bound to 0.0.0.0 reports which local address each datagram was sent to
    /// (both Windows and Linux, under Wine, answer for 127.0.0.0/8 on loopback).
    #[test]
    fn destination_on_an_ipv4_wildcard_socket() {
        both_paths(|path| {
            let mut rx = bind("0.0.0.0:0");
            let port = rx.local_addr().unwrap().port();
            let tx = bind("127.0.0.1:0");
            let one = Ipv4Addr::new(127, 0, 0, 1);
            let two = Ipv4Addr::new(127, 0, 0, 2);
            let batch = [
                SendDatagram::new(b"1").to((one, port).into()),
                SendDatagram::new(b"2").to((two, port).into()),
            ];
            // Not asked for: none.
            assert_eq!(tx.send_batch(&batch[..1]).unwrap(), 1);
            assert_eq!(recv_n(&mut rx, 1, 1, 16)[0].dst, None, "{path}");

            rx.set_recv_dst_addr(true).unwrap();
            assert_eq!(tx.send_batch(&batch).unwrap(), 2, "{path}");
            let got = recv_n(&mut rx, 2, 4, 16);
            assert_eq!(got[0].dst, Some(IpAddr::V4(one)), "{path}");
            assert_eq!(got[1].dst, Some(IpAddr::V4(two)), "{path}");
            assert_eq!(got[0].addr, tx.local_addr().unwrap(), "{path}");

            rx.set_recv_dst_addr(false).unwrap();
            assert_eq!(tx.send_batch(&batch[..1]).unwrap(), 1);
            assert_eq!(recv_n(&mut rx, 1, 1, 16)[0].dst, None, "{path}: off again");
        });
    }

    /// A socket bound to [::] reports `::1` for IPv6 traffic, with the codepoint (under Wine
    /// "not ECT": no IPv6 sender can mark there, see `tos_sender`). On Windows an IPv6
    /// socket is IPv6-only unless told otherwise (`IPV6_V6ONLY` defaults to true,
    /// "Dual-Stack Sockets" in Winsock's docs) and mio has no setter, so IPv4 traffic does
    /// not reach it (the Linux suite covers a dual-stack socket).
    #[test]
    fn destination_on_an_ipv6_wildcard_socket() {
        let mut rx = bind("[::]:0");
        assert!(rx.only_v6().unwrap());
        rx.set_recv_dst_addr(true).unwrap();
        rx.set_recv_ecn(true).unwrap();
        let port = rx.local_addr().unwrap().port();
        let to6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
        let tx6 = bind("[::1]:0");
        let batch6 = [SendDatagram::new(b"six").to(to6).ecn(Ecn::Ect1)];
        assert_eq!(tx6.send_batch(&batch6).unwrap(), 1);
        let got = recv_n(&mut rx, 1, 2, 16);
        assert_eq!(got[0].dst, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(got[0].ecn, arrives_as(Ecn::Ect1));
        assert_eq!(got[0].addr, tx6.local_addr().unwrap());
    }
}

mod net_util;
