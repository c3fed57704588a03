#![cfg(all(feature = "os-poll", feature = "net"))]
// Linux: what these tests assert is Linux's (ip(7), ipv6(7)); the other Unixes' options
// differ per OS (see `src/sys/unix/udp_meta.rs`) and cannot be run here. Windows, WASI and
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
#[cfg(any(windows, target_os = "wasi", target_os = "hermit"))]
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

mod net_util;
