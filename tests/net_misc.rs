#![cfg(all(feature = "os-poll", feature = "net"))]
//! What all `mio::net` types share: sizes, `Send`/`Sync`/`Debug`, use as `dyn Source`,
//! registration errors and conversions into the std types.

use std::fmt::Debug;
use std::io;
use std::net;
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::os::linux::net::SocketAddrExt;
#[cfg(unix)]
use std::os::unix::net as unix;

use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use mio::net::{UnixDatagram, UnixListener, UnixStream};
use mio::{Events, Interest, Poll, Token};

mod net_util;
#[cfg(any(target_os = "linux", target_os = "android"))]
use net_util::abstract_name;
#[cfg(unix)]
use net_util::TempDir;
use net_util::{
    any_local_address, assert_send, assert_sync, expect_events, is_nonblocking, raw_handle,
    until_ready, Readiness,
};

#[test]
// Windows: a source also holds its AFD registration state, so it is bigger than a `SOCKET`.
#[cfg(all(not(debug_assertions), unix))]
fn sizes_are_one_fd_in_release() {
    use std::mem::size_of;
    use std::os::fd::RawFd;
    assert_eq!(size_of::<TcpStream>(), size_of::<RawFd>());
    assert_eq!(size_of::<TcpListener>(), size_of::<RawFd>());
    assert_eq!(size_of::<UdpSocket>(), size_of::<RawFd>());
    assert_eq!(size_of::<UnixStream>(), size_of::<RawFd>());
    assert_eq!(size_of::<UnixListener>(), size_of::<RawFd>());
    assert_eq!(size_of::<UnixDatagram>(), size_of::<RawFd>());
}

fn assert_send_sync_debug<T: Send + Sync + Debug>() {
    assert_send::<T>();
    assert_sync::<T>();
}

#[test]
fn net_types_are_send_sync_debug() {
    assert_send_sync_debug::<TcpListener>();
    assert_send_sync_debug::<TcpStream>();
    assert_send_sync_debug::<UdpSocket>();
    #[cfg(unix)]
    {
        assert_send_sync_debug::<UnixListener>();
        assert_send_sync_debug::<UnixStream>();
        assert_send_sync_debug::<UnixDatagram>();
    }
}

#[test]
fn net_types_are_sources() {
    fn assert_source<T: Source>() {}
    assert_source::<TcpListener>();
    assert_source::<TcpStream>();
    assert_source::<UdpSocket>();
    #[cfg(unix)]
    {
        assert_source::<UnixListener>();
        assert_source::<UnixStream>();
        assert_source::<UnixDatagram>();
    }
}

#[test]
fn debug_output_of_every_type_names_it() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let udp = UdpSocket::bind(any_local_address()).unwrap();
    #[allow(unused_mut)] // not mutated on Windows (no Unix sockets)
    let mut debugs = vec![
        (format!("{listener:?}"), "TcpListener"),
        (format!("{stream:?}"), "TcpStream"),
        (format!("{udp:?}"), "UdpSocket"),
    ];
    #[cfg(unix)]
    let dir = TempDir::new();
    #[cfg(unix)]
    {
        let unix_listener = UnixListener::bind(dir.join("l")).unwrap();
        let (unix_stream, _) = UnixStream::pair().unwrap();
        let unix_datagram = UnixDatagram::unbound().unwrap();
        debugs.extend([
            (format!("{unix_listener:?}"), "UnixListener"),
            (format!("{unix_stream:?}"), "UnixStream"),
            (format!("{unix_datagram:?}"), "UnixDatagram"),
        ]);
    }
    for (debug, name) in debugs {
        assert!(debug.contains(name), "{debug} should name {name}");
    }
}

#[test]
fn boxed_dyn_source_registers() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let mut source: Box<dyn Source> = Box::new(stream);
    poll.registry()
        .register(&mut source, Token(3), Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(3), Readiness::WRITABLE)],
    );
    poll.registry()
        .reregister(&mut source, Token(4), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut source).unwrap();

    // `&mut dyn Source` works too.
    let mut udp = UdpSocket::bind(any_local_address()).unwrap();
    let dyn_source: &mut dyn Source = &mut udp;
    poll.registry()
        .register(dyn_source, Token(5), Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(5), Readiness::WRITABLE)],
    );
}

#[test]
fn register_twice_same_poll_is_already_exists() {
    let poll = Poll::new().unwrap();
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(&mut stream, Token(0), Interest::READABLE)
        .unwrap();
    let err = poll
        .registry()
        .register(&mut stream, Token(1), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err:?}");
    #[cfg(debug_assertions)]
    assert_eq!(
        err.to_string(),
        "I/O source already registered with a `Registry`"
    );
    // The first registration is intact.
    poll.registry()
        .reregister(&mut stream, Token(2), Interest::WRITABLE)
        .unwrap();
    poll.registry().deregister(&mut stream).unwrap();
}

#[test]
// Windows: a socket's registration lives in the mio type, so this holds in release builds too.
#[cfg(any(debug_assertions, windows))]
fn register_with_second_poll_is_already_exists_in_debug_and_on_windows() {
    let mut poll1 = Poll::new().unwrap();
    let poll2 = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll1
        .registry()
        .register(&mut stream, Token(0), Interest::READABLE)
        .unwrap();
    let err = poll2
        .registry()
        .register(&mut stream, Token(1), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err:?}");
    assert_eq!(
        err.to_string(),
        "I/O source already registered with a `Registry`"
    );
    // Other registries are told so.
    let err = poll2
        .registry()
        .reregister(&mut stream, Token(1), Interest::READABLE)
        .unwrap_err();
    assert!(err.to_string().contains("already registered"), "{err}");

    // Still registered with the first poll.
    poll1
        .registry()
        .reregister(&mut stream, Token(2), Interest::WRITABLE)
        .unwrap();
    expect_events(
        &mut poll1,
        &mut events,
        vec![(Token(2), Readiness::WRITABLE)],
    );
    poll1.registry().deregister(&mut stream).unwrap();
}

#[test]
// Windows refuses it in release builds too (the test above).
#[cfg(all(not(debug_assertions), unix))]
fn register_with_second_poll_is_ok_in_release() {
    let mut poll1 = Poll::new().unwrap();
    let mut poll2 = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let listener = net::TcpListener::bind(any_local_address()).unwrap();
    let mut stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll1
        .registry()
        .register(&mut stream, Token(0), Interest::WRITABLE)
        .unwrap();
    poll2
        .registry()
        .register(&mut stream, Token(1), Interest::WRITABLE)
        .unwrap();
    // epoll lets one fd sit in several epoll sets: both deliver.
    expect_events(
        &mut poll1,
        &mut events,
        vec![(Token(0), Readiness::WRITABLE)],
    );
    expect_events(
        &mut poll2,
        &mut events,
        vec![(Token(1), Readiness::WRITABLE)],
    );
}

#[test]
fn reregister_or_deregister_unregistered_is_not_found() {
    let poll = Poll::new().unwrap();
    let mut udp = UdpSocket::bind(any_local_address()).unwrap();
    let err = poll
        .registry()
        .reregister(&mut udp, Token(0), Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err:?}");
    let err = poll.registry().deregister(&mut udp).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err:?}");
    #[cfg(debug_assertions)]
    assert!(err.to_string().contains("not registered"), "{err}");

    // Register, deregister, deregister again.
    poll.registry()
        .register(&mut udp, Token(0), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut udp).unwrap();
    let err = poll.registry().deregister(&mut udp).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err:?}");
}

#[test]
fn every_type_registers_with_every_interest() {
    let poll = Poll::new().unwrap();
    // `Interest::PRIORITY` exists on Linux and Android only.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let all = Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let all = Interest::READABLE | Interest::WRITABLE;
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let udp = UdpSocket::bind(any_local_address()).unwrap();
    #[allow(unused_mut)] // not mutated on Windows (no Unix sockets)
    let mut sources: Vec<Box<dyn Source>> =
        vec![Box::new(listener), Box::new(stream), Box::new(udp)];
    #[cfg(unix)]
    let dir = TempDir::new();
    #[cfg(unix)]
    sources.extend([
        Box::new(UnixListener::bind(dir.join("l")).unwrap()) as Box<dyn Source>,
        Box::new(UnixStream::pair().unwrap().0),
        Box::new(UnixDatagram::unbound().unwrap()),
    ]);
    for (i, source) in sources.iter_mut().enumerate() {
        poll.registry().register(source, Token(i), all).unwrap();
        poll.registry()
            .reregister(source, Token(i + 100), Interest::READABLE)
            .unwrap();
        poll.registry().deregister(source).unwrap();
    }
}

#[test]
fn into_std_conversions() {
    let listener = TcpListener::bind(any_local_address()).unwrap();
    let addr = listener.local_addr().unwrap();
    let fd = raw_handle(&listener);
    let std_listener: net::TcpListener = listener.into();
    assert_eq!(
        (
            raw_handle(&std_listener),
            std_listener.local_addr().unwrap()
        ),
        (fd, addr)
    );

    let stream = TcpStream::connect(addr).unwrap();
    let fd = raw_handle(&stream);
    let std_stream: net::TcpStream = stream.into();
    assert_eq!(raw_handle(&std_stream), fd);
    // Windows probes the mode with a peek (see `is_nonblocking`), which needs the connection
    // established: the server has accepted it once the final ACK is in.
    #[cfg(windows)]
    let _accepted = {
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(4);
        until_ready(&mut poll, &mut events, || std_listener.accept())
    };
    assert!(is_nonblocking(&std_stream));

    let udp = UdpSocket::bind(any_local_address()).unwrap();
    let (fd, addr) = (raw_handle(&udp), udp.local_addr().unwrap());
    let std_udp: net::UdpSocket = udp.into();
    assert_eq!(
        (raw_handle(&std_udp), std_udp.local_addr().unwrap()),
        (fd, addr)
    );
}

#[test]
#[cfg(unix)]
fn into_std_conversions_unix() {
    use std::os::fd::AsRawFd;

    let dir = TempDir::new();

    let path = dir.join("l");
    let unix_listener = UnixListener::bind(&path).unwrap();
    let fd = unix_listener.as_raw_fd();
    let std_unix_listener: unix::UnixListener = unix_listener.into();
    assert_eq!(std_unix_listener.as_raw_fd(), fd);
    assert_eq!(
        std_unix_listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );

    let (a, _b) = UnixStream::pair().unwrap();
    let fd = a.as_raw_fd();
    let std_a: unix::UnixStream = a.into();
    assert_eq!(std_a.as_raw_fd(), fd);

    // Abstract names are Linux/Android only.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let name = abstract_name("misc");
        let datagram =
            UnixDatagram::bind_addr(&unix::SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        let fd = datagram.as_raw_fd();
        let std_datagram: unix::UnixDatagram = datagram.into();
        assert_eq!(std_datagram.as_raw_fd(), fd);
        assert_eq!(
            std_datagram.local_addr().unwrap().as_abstract_name(),
            Some(&name[..])
        );
    }
}

#[test]
fn tcp_stream_between_two_mio_ends() {
    use net_util::{read_polling, TIMEOUT};
    use std::io::{Read, Write};

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    let mut listener = TcpListener::bind(any_local_address()).unwrap();
    poll.registry()
        .register(&mut listener, Token(0), Interest::READABLE)
        .unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    poll.registry()
        .register(
            &mut client,
            Token(1),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    let (mut server, _) = until_ready(&mut poll, &mut events, || listener.accept());
    poll.registry()
        .register(
            &mut server,
            Token(2),
            Interest::READABLE | Interest::WRITABLE,
        )
        .unwrap();
    expect_events(
        &mut poll,
        &mut events,
        vec![
            (Token(1), Readiness::WRITABLE),
            (Token(2), Readiness::WRITABLE),
        ],
    );
    client.write_all(b"mio to mio").unwrap();
    assert_eq!(
        read_polling(&mut poll, &mut events, &server, 10),
        b"mio to mio"
    );
    drop(client);
    expect_events(
        &mut poll,
        &mut events,
        vec![(Token(2), Readiness::READ_CLOSED)],
    );
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        match server.read(&mut [0; 8]) {
            Ok(0) => break,
            Ok(n) => panic!("unexpected {n} bytes"),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(std::time::Instant::now() < deadline);
                let _ = net_util::poll_once(&mut poll, &mut events, TIMEOUT / 50);
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}
