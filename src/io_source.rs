//! `IoSource<T>`: the wrapper behind every mio I/O type (the net types and the pipe ends).
//!
//! It adds to an fd-owning `T` what the selector needs: the backend's per-source state (nothing
//! on epoll; the re-arm bookkeeping of the poll(2) fallback) and, in debug builds, the id of the
//! `Poll` the source is registered with, so misuse gets a clear error (§3.2 of the spec).

use std::fmt;
use std::io;
use std::ops::{Deref, DerefMut};
#[cfg(any(unix, target_os = "hermit", target_os = "wasi"))]
use std::os::fd::AsRawFd as AsRawHandle;
#[cfg(windows)]
use std::os::windows::io::AsRawSocket as AsRawHandle;
#[cfg(debug_assertions)]
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::sys::Rearm;
use crate::{event, sys, Interest, Registry, Token};

pub(crate) struct IoSource<T> {
    state: sys::IoSourceState,
    inner: T,
    #[cfg(debug_assertions)]
    selector_id: SelectorId,
}

impl<T> IoSource<T> {
    pub(crate) fn new(io: T) -> IoSource<T> {
        IoSource {
            state: sys::IoSourceState::new(),
            inner: io,
            #[cfg(debug_assertions)]
            selector_id: SelectorId::new(),
        }
    }

    // Unused when the only sources are the extras (timer, process, signal), which only read.
    #[cfg_attr(not(any(feature = "net", feature = "os-ext")), allow(dead_code))]
    /// Runs one I/O operation of unknown direction (`try_io`) on the inner value. Every
    /// operation that can return `WouldBlock` goes through here or the two below, so a backend
    /// that emulates edge triggering can re-arm what the `WouldBlock` proves is drained.
    #[inline]
    pub(crate) fn do_io<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        self.state.do_io(f, &self.inner, Rearm::All)
    }

    /// A read-side operation (read, recv, peek, accept): `WouldBlock` re-arms readable only.
    #[inline]
    pub(crate) fn do_read<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        self.state.do_io(f, &self.inner, Rearm::Read)
    }

    // Unused when the only sources are the extras (timer, process, signal), which only read.
    #[cfg_attr(not(any(feature = "net", feature = "os-ext")), allow(dead_code))]
    /// A write-side operation (write, send): `WouldBlock` re-arms writable only.
    #[inline]
    pub(crate) fn do_write<F, R>(&self, f: F) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        self.state.do_io(f, &self.inner, Rearm::Write)
    }

    /// Arms readable interest again on a backend that emulates edge triggering (poll(2)), as a
    /// read ending in `WouldBlock` does; nothing on epoll and kqueue. For a source whose readiness
    /// is reset by something other than a read that failed with `WouldBlock`: a timer set again,
    /// or a successful read that is known to drain (a timer's, a `Signals`').
    #[cfg(any(mio_timer_timerfd, mio_signal))]
    pub(crate) fn rearm_read(&self) {
        // The closure "fails" with `WouldBlock` only to trigger the re-arm; an error of the
        // re-arm itself means the registration is gone, and then there is nothing to arm.
        let _ = self.do_read(|_| Err::<(), _>(io::ErrorKind::WouldBlock.into()));
    }

    // Unused when the only sources are the extras (timer, process, signal), which only read.
    #[cfg_attr(not(any(feature = "net", feature = "os-ext")), allow(dead_code))]
    /// Gives back the inner value. A registration made by the kernel outlives this (it belongs
    /// to the fd), as with any fd handed around.
    pub(crate) fn into_inner(self) -> T {
        self.inner
    }
}

impl<T> Deref for IoSource<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for IoSource<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: AsRawHandle> event::Source for IoSource<T> {
    fn register(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        #[cfg(debug_assertions)]
        self.selector_id.associate(registry)?;
        let res = self.state.register(registry.selector(), token, interests, raw(&self.inner));
        #[cfg(debug_assertions)]
        if res.is_err() {
            // The kernel refused: the source is not registered anywhere new.
            self.selector_id.reset();
        }
        res
    }

    fn reregister(&mut self, registry: &Registry, token: Token, interests: Interest) -> io::Result<()> {
        #[cfg(debug_assertions)]
        self.selector_id.check_association(registry)?;
        self.state.reregister(registry.selector(), token, interests, raw(&self.inner))
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        #[cfg(debug_assertions)]
        self.selector_id.remove_association(registry)?;
        self.state.deregister(registry.selector(), raw(&self.inner))
    }
}

/// The raw fd (Unix, Hermit, WASI) or socket (Windows) the selector registers.
#[inline]
fn raw<T: AsRawHandle>(io: &T) -> RawHandle {
    #[cfg(any(unix, target_os = "hermit", target_os = "wasi"))]
    return io.as_raw_fd();
    #[cfg(windows)]
    return io.as_raw_socket();
}

#[cfg(any(unix, target_os = "hermit", target_os = "wasi"))]
type RawHandle = std::os::fd::RawFd;
#[cfg(windows)]
type RawHandle = std::os::windows::io::RawSocket;

impl<T: fmt::Debug> fmt::Debug for IoSource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Debug builds: the id of the `Poll` a source is registered with, 0 when none.
#[cfg(debug_assertions)]
#[derive(Debug)]
struct SelectorId {
    id: AtomicUsize,
}

#[cfg(debug_assertions)]
impl SelectorId {
    const UNASSOCIATED: usize = 0;

    fn new() -> SelectorId {
        SelectorId {
            id: AtomicUsize::new(Self::UNASSOCIATED),
        }
    }

    /// Associates with `registry`, refusing if already associated with any registry.
    ///
    /// Unlike upstream 1.2.5 (which overwrote the id before checking), a refused association
    /// leaves the existing one intact, so the source still belongs to its first `Poll`.
    fn associate(&self, registry: &Registry) -> io::Result<()> {
        match self.id.compare_exchange(
            Self::UNASSOCIATED,
            registry.selector_id(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(()),
            Err(_) => Err(already_registered()),
        }
    }

    fn check_association(&self, registry: &Registry) -> io::Result<()> {
        match self.id.load(Ordering::Acquire) {
            Self::UNASSOCIATED => Err(not_registered()),
            id if id == registry.selector_id() => Ok(()),
            _ => Err(registered_elsewhere()),
        }
    }

    /// Clears the association (even when the answer is an error, as upstream).
    fn remove_association(&self, registry: &Registry) -> io::Result<()> {
        match self.id.swap(Self::UNASSOCIATED, Ordering::AcqRel) {
            Self::UNASSOCIATED => Err(not_registered()),
            id if id == registry.selector_id() => Ok(()),
            _ => Err(registered_elsewhere()),
        }
    }

    fn reset(&self) {
        self.id.store(Self::UNASSOCIATED, Ordering::Release);
    }
}

#[cfg(debug_assertions)]
fn already_registered() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "I/O source already registered with a `Registry`",
    )
}

#[cfg(debug_assertions)]
fn not_registered() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        "I/O source not registered with `Registry`",
    )
}

#[cfg(debug_assertions)]
fn registered_elsewhere() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "I/O source already registered with a different `Registry`",
    )
}
