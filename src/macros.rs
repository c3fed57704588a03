//! Internal macros: feature gates and optional logging.

/// Items that exist only with the real OS backend (`os-poll`).
macro_rules! cfg_os_poll {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "os-poll")]
            #[cfg_attr(docsrs, doc(cfg(feature = "os-poll")))]
            $item
        )*
    }
}

/// Items that need `mio::net`.
macro_rules! cfg_net {
    ($($item:item)*) => {
        $(
            #[cfg(feature = "net")]
            #[cfg_attr(docsrs, doc(cfg(feature = "net")))]
            $item
        )*
    }
}

/// Items of the Unix extension module (`os-ext` on a Unix target).
macro_rules! cfg_os_ext {
    ($($item:item)*) => {
        $(
            #[cfg(all(unix, feature = "os-ext"))]
            #[cfg_attr(docsrs, doc(cfg(all(unix, feature = "os-ext"))))]
            $item
        )*
    }
}

/// Items needed by any type that wraps an OS handle in an `IoSource`.
macro_rules! cfg_io_source {
    ($($item:item)*) => {
        $(
            #[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
            $item
        )*
    }
}

/// `log::trace!` when the `log` feature is on; otherwise the arguments are only type-checked.
#[cfg(feature = "log")]
macro_rules! trace {
    ($($t:tt)*) => { log::trace!($($t)*) };
}

#[cfg(not(feature = "log"))]
macro_rules! trace {
    ($($t:tt)*) => {
        if false {
            let _ = format_args!($($t)*);
        }
    };
}

/// The handle plumbing shared by every `IoSource`-backed type (`$t { inner: IoSource<$std> }`):
/// `event::Source`, and on Unix, Hermit and WASI `AsRawFd`, `AsFd`, `IntoRawFd`, `FromRawFd`,
/// `From<OwnedFd>` and `From<$t> for OwnedFd` (on Windows the `*Socket` equivalents). Conversions *into* the
/// type never change the descriptor's flags: the caller is responsible for non-blocking mode.
///
/// `@source $t` is the `event::Source` impl alone and `@borrow $t` the `AsRawFd`/`AsFd` impls
/// alone, for the extras (`timer`, ...), whose fds are not convertible from any fd. On Windows
/// the extras are not `IoSource`s but handles whose waits are posted to the port
/// (`sys::windows::wait`): `@wait $t` is their `event::Source` (the sys type registers with the
/// selector itself) and `@handle $t` their `AsRawHandle`/`AsHandle` (`inner.handle()`).
#[allow(unused_macros)]
macro_rules! impl_io_source_traits {
    (@wait $t:ty) => {
        impl $crate::event::Source for $t {
            fn register(
                &mut self,
                registry: &$crate::Registry,
                token: $crate::Token,
                interests: $crate::Interest,
            ) -> ::std::io::Result<()> {
                self.inner.register(registry.selector(), token, interests)
            }

            fn reregister(
                &mut self,
                registry: &$crate::Registry,
                token: $crate::Token,
                interests: $crate::Interest,
            ) -> ::std::io::Result<()> {
                self.inner.reregister(registry.selector(), token, interests)
            }

            fn deregister(&mut self, registry: &$crate::Registry) -> ::std::io::Result<()> {
                self.inner.deregister(registry.selector())
            }
        }
    };
    (@handle $(#[$doc:meta])* $t:ty) => {
        $(#[$doc])*
        impl ::std::os::windows::io::AsRawHandle for $t {
            fn as_raw_handle(&self) -> ::std::os::windows::io::RawHandle {
                ::std::os::windows::io::AsRawHandle::as_raw_handle(self.inner.handle())
            }
        }

        impl ::std::os::windows::io::AsHandle for $t {
            fn as_handle(&self) -> ::std::os::windows::io::BorrowedHandle<'_> {
                ::std::os::windows::io::AsHandle::as_handle(self.inner.handle())
            }
        }
    };
    ($t:ty, $std:ty) => {
        impl_io_source_traits!(@source $t);
        impl_io_source_traits!(@os $t, $std);
    };
    (@source $t:ty) => {
        impl $crate::event::Source for $t {
            fn register(
                &mut self,
                registry: &$crate::Registry,
                token: $crate::Token,
                interests: $crate::Interest,
            ) -> ::std::io::Result<()> {
                $crate::event::Source::register(&mut self.inner, registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &$crate::Registry,
                token: $crate::Token,
                interests: $crate::Interest,
            ) -> ::std::io::Result<()> {
                $crate::event::Source::reregister(&mut self.inner, registry, token, interests)
            }

            fn deregister(&mut self, registry: &$crate::Registry) -> ::std::io::Result<()> {
                $crate::event::Source::deregister(&mut self.inner, registry)
            }
        }
    };
    (@os $t:ty, $std:ty) => {
        #[cfg(any(unix, target_os = "hermit", target_os = "wasi"))]
        impl_io_source_traits!(@fd $t, $std);
        #[cfg(windows)]
        impl_io_source_traits!(@windows $t, $std);
    };
    (@fd $t:ty, $std:ty) => {
        impl_io_source_traits!(@borrow $t);

        impl ::std::os::fd::IntoRawFd for $t {
            fn into_raw_fd(self) -> ::std::os::fd::RawFd {
                ::std::os::fd::IntoRawFd::into_raw_fd(self.inner.into_inner())
            }
        }

        impl ::std::os::fd::FromRawFd for $t {
            /// Takes ownership of `fd`, which must be an open fd of the right kind, already in
            /// non-blocking mode (this does not change it).
            unsafe fn from_raw_fd(fd: ::std::os::fd::RawFd) -> Self {
                // SAFETY: the caller upholds `FromRawFd`'s contract: `fd` is open and owned.
                Self::from(unsafe {
                    <::std::os::fd::OwnedFd as ::std::os::fd::FromRawFd>::from_raw_fd(fd)
                })
            }
        }

        impl ::std::convert::From<::std::os::fd::OwnedFd> for $t {
            /// Wraps `fd`, which must be of the right kind and already non-blocking.
            fn from(fd: ::std::os::fd::OwnedFd) -> Self {
                Self {
                    inner: $crate::io_source::IoSource::new(<$std>::from(fd)),
                }
            }
        }

        impl ::std::convert::From<$t> for ::std::os::fd::OwnedFd {
            fn from(io: $t) -> Self {
                io.inner.into_inner().into()
            }
        }
    };
    (@borrow $t:ty) => {
        impl ::std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(&*self.inner)
            }
        }

        impl ::std::os::fd::AsFd for $t {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(&*self.inner)
            }
        }
    };
    (@windows $t:ty, $std:ty) => {
        impl ::std::os::windows::io::AsRawSocket for $t {
            fn as_raw_socket(&self) -> ::std::os::windows::io::RawSocket {
                ::std::os::windows::io::AsRawSocket::as_raw_socket(&*self.inner)
            }
        }

        impl ::std::os::windows::io::AsSocket for $t {
            fn as_socket(&self) -> ::std::os::windows::io::BorrowedSocket<'_> {
                ::std::os::windows::io::AsSocket::as_socket(&*self.inner)
            }
        }

        impl ::std::os::windows::io::IntoRawSocket for $t {
            fn into_raw_socket(self) -> ::std::os::windows::io::RawSocket {
                ::std::os::windows::io::IntoRawSocket::into_raw_socket(self.inner.into_inner())
            }
        }

        impl ::std::os::windows::io::FromRawSocket for $t {
            /// Takes ownership of `socket`, which must be an open socket of the right kind,
            /// already in non-blocking mode (this does not change it).
            unsafe fn from_raw_socket(socket: ::std::os::windows::io::RawSocket) -> Self {
                // SAFETY: the caller upholds `FromRawSocket`'s contract: `socket` is open and
                // owned.
                Self::from(unsafe {
                    <::std::os::windows::io::OwnedSocket as ::std::os::windows::io::FromRawSocket>::from_raw_socket(socket)
                })
            }
        }

        impl ::std::convert::From<::std::os::windows::io::OwnedSocket> for $t {
            /// Wraps `socket`, which must be of the right kind and already non-blocking.
            fn from(socket: ::std::os::windows::io::OwnedSocket) -> Self {
                Self {
                    inner: $crate::io_source::IoSource::new(<$std>::from(socket)),
                }
            }
        }

        impl ::std::convert::From<$t> for ::std::os::windows::io::OwnedSocket {
            fn from(io: $t) -> Self {
                io.inner.into_inner().into()
            }
        }
    };
}

/// `Read` for `$t` and `&$t` (vectored too): `read(2)`/`readv(2)` through `do_read`. The buffer
/// is only written to, never read, so callers may pass uninitialised memory viewed as bytes
/// (tokio does).
#[allow(unused_macros)]
macro_rules! impl_read {
    ($t:ty) => {
        impl ::std::io::Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                ::std::io::Read::read(&mut &*self, buf)
            }

            fn read_vectored(
                &mut self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                ::std::io::Read::read_vectored(&mut &*self, bufs)
            }
        }

        impl ::std::io::Read for &$t {
            fn read(&mut self, buf: &mut [u8]) -> ::std::io::Result<usize> {
                self.inner.do_read(|io| $crate::sys::io::read(io, buf))
            }

            fn read_vectored(
                &mut self,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::io::Result<usize> {
                self.inner
                    .do_read(|io| $crate::sys::io::read_vectored(io, bufs))
            }
        }
    };
}

/// `Write` for `$t` and `&$t` (vectored too), through `do_write`, with the given syscall
/// wrappers: for sockets `send(2)`/`sendmsg(2)` with `MSG_NOSIGNAL`, so a closed peer is
/// `BrokenPipe`, never `SIGPIPE`. The path takes no lock, allocates nothing and logs nothing,
/// so it is async-signal-safe. `flush` has nothing to do.
#[allow(unused_macros)]
macro_rules! impl_write {
    ($t:ty, $write:path, $write_vectored:path) => {
        impl ::std::io::Write for $t {
            fn write(&mut self, buf: &[u8]) -> ::std::io::Result<usize> {
                ::std::io::Write::write(&mut &*self, buf)
            }

            fn write_vectored(
                &mut self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                ::std::io::Write::write_vectored(&mut &*self, bufs)
            }

            fn flush(&mut self) -> ::std::io::Result<()> {
                ::std::io::Write::flush(&mut &*self)
            }
        }

        impl ::std::io::Write for &$t {
            fn write(&mut self, buf: &[u8]) -> ::std::io::Result<usize> {
                self.inner.do_write(|io| $write(io, buf))
            }

            fn write_vectored(
                &mut self,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::io::Result<usize> {
                self.inner.do_write(|io| $write_vectored(io, bufs))
            }

            fn flush(&mut self) -> ::std::io::Result<()> {
                Ok(())
            }
        }
    };
}

/// `try_io`, identical on every I/O type.
#[allow(unused_macros)]
macro_rules! try_io_method {
    () => {
        /// Runs `f`, an I/O operation on this source's fd (socket, on Windows) done by the
        /// caller (a raw syscall, another crate's wrapper), the way mio's own methods run
        /// theirs.
        ///
        /// `f` must return [`ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock) when the
        /// operation would block (for a raw syscall, map `EAGAIN`/`WSAEWOULDBLOCK` with
        /// `io::Error::last_os_error()`). Backends that emulate edge triggering (the poll(2)
        /// fallback, and Windows, where AFD poll requests are one-shot) re-arm the registration
        /// on that error; on epoll this is a plain call.
        pub fn try_io<F, T>(&self, f: F) -> ::std::io::Result<T>
        where
            F: FnOnce() -> ::std::io::Result<T>,
        {
            self.inner.do_io(|_| f())
        }
    };
}

/// Items that exist only where the selector is one fd (epoll, kqueue): `AsRawFd for Poll`,
/// `AsRawFd`/`AsFd for Registry`. Not with the poll(2) selector (forced, or the only one).
macro_rules! cfg_selector_fd {
    ($($item:item)*) => {
        $(
            #[cfg(all(any(mio_epoll_os, mio_kqueue_os), not(mio_unsupported_force_poll_poll)))]
            #[cfg_attr(docsrs, doc(cfg(all(unix, not(mio_unsupported_force_poll_poll)))))]
            $item
        )*
    }
}
