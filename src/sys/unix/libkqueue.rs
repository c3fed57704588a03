//! Test-only (`--cfg mio_unsupported_test_libkqueue`, Linux): the kqueue(2)/kevent(2) binding
//! that the kqueue selector uses in place of libc's, taken from libkqueue, a user-space kqueue
//! for Linux over epoll, eventfd and signalfd (`../shared/vendor/libkqueue/`, built by
//! `libkqueue-build` and linked statically by build.rs).
//!
//! Only what the selector needs, transcribed from libkqueue's `include/sys/event.h`: its
//! `struct kevent` (FreeBSD's layout before 12.0: `uintptr_t ident; short filter; unsigned short
//! flags; unsigned int fflags; intptr_t data; void *udata;`), the filter, flag and note values
//! (the same numbers as on the BSDs, which `os` checks against `translate` at compile time), and
//! the two functions. Everything else in the selector is the code that macOS and the BSDs run.

#![allow(non_camel_case_types)]

use std::os::raw::{c_int, c_short, c_uint, c_ushort, c_void};

/// `struct kevent` of libkqueue's `<sys/event.h>`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct kevent {
    pub(crate) ident: usize,
    pub(crate) filter: c_short,
    pub(crate) flags: c_ushort,
    pub(crate) fflags: c_uint,
    pub(crate) data: isize,
    pub(crate) udata: *mut c_void,
}

pub(crate) const EVFILT_READ: c_short = -1;
pub(crate) const EVFILT_WRITE: c_short = -2;
pub(crate) const EVFILT_USER: c_short = -11;

pub(crate) const EV_ADD: c_ushort = 0x0001;
pub(crate) const EV_DELETE: c_ushort = 0x0002;
pub(crate) const EV_ENABLE: c_ushort = 0x0004;
pub(crate) const EV_DISABLE: c_ushort = 0x0008;
pub(crate) const EV_CLEAR: c_ushort = 0x0020;
pub(crate) const EV_RECEIPT: c_ushort = 0x0040;
pub(crate) const EV_DISPATCH: c_ushort = 0x0080;
pub(crate) const EV_ERROR: c_ushort = 0x4000;
pub(crate) const EV_EOF: c_ushort = 0x8000;

/// EVFILT_USER: "cause the event to be triggered for output".
pub(crate) const NOTE_TRIGGER: c_uint = 0x0100_0000;

// libkqueue.a, linked by build.rs (`cargo:rustc-link-lib=static=kqueue`).
extern "C" {
    /// kqueue(2): a new queue. On Linux libkqueue returns the write end of a pipe whose closing
    /// frees the queue (`linux_kqueue_init` in `src/linux/platform.c`).
    pub(crate) fn kqueue() -> c_int;

    /// kevent(2), as on the BSDs.
    pub(crate) fn kevent(
        kq: c_int,
        changelist: *const kevent,
        nchanges: c_int,
        eventlist: *mut kevent,
        nevents: c_int,
        timeout: *const libc::timespec,
    ) -> c_int;
}
