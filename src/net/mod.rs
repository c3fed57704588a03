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

#[cfg(unix)]
mod uds;
#[cfg(unix)]
pub use self::uds::{UnixDatagram, UnixListener, UnixStream};
