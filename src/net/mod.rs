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

mod udp;
pub use self::udp::UdpSocket;

#[cfg(unix)]
mod uds;
#[cfg(unix)]
pub use self::uds::{UnixDatagram, UnixListener, UnixStream};
