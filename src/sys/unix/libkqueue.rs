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
//!
//! # Where libkqueue differs from the BSDs' kqueue(2), and what handles it
//!
//! Found by running the suite and tokio's under the cfg; file names are libkqueue's.
//!
//! | libkqueue | the BSDs | handled |
//! |---|---|---|
//! | knows a queue only by the number `kqueue()` returned (`kqueue_lookup`): `kevent` on a `dup` fails | a dup shares the queue | in the selector: clones share the fd (`Arc`) |
//! | a change to an existing socket's or pipe's read/write kevent without `EV_CLEAR` fails, with a stale errno (`evfilt_read_knote_modify` in src/linux/read.c, write.c alike) | `EV_ENABLE` alone is accepted | in the selector: the register probe carries `EV_CLEAR` |
//! | `EV_ADD \| EV_DISABLE` leaves the fd armed (src/common/kevent.c sets the flag before `kn_disable`, whose `epoll_update` then finds nothing to remove) | added disabled | in the selector: the marker of a registration with neither direction is added, then disabled |
//! | an fd with both filters is one epoll registration whose mask, when the second filter is added, is rebuilt from `EPOLLIN`/`EPOLLOUT` only (`epoll_update` in src/linux/platform.c): a read filter added first loses `EPOLLRDHUP`, so a FIN after data never sets `EV_EOF` | `EV_EOF` on the FIN | in the selector: the write filter's change is submitted first |
//! | builds a socket's event with getsockopt(`SO_ERROR`) (`evfilt_read_copyout`, `evfilt_write_copyout`), which clears the error on Linux | the error is copied into `fflags` and stays pending | tests assert `take_error` is `None` under the cfg; tokio's `udp::send_to_recv_closed_returns_err` and `uds_stream::epollhup` are known failures |
//! | cannot see close(2): knotes are keyed by number (`knote_lookup`, src/common/kevent.c), so a source dropped while registered stays registered and the next fd with its number is refused with `AlreadyExists`; `EV_DELETE` of a closed fd answers `ENOENT` | "Calling close() on a file descriptor will remove any kevents that reference the descriptor"; `EBADF` | tests deregister before closing under the cfg (the soak engine too), and expect `ENOENT` |
//! | a queue is several fds (epoll, a pipe whose write end is the queue fd, eventfds, a signalfd, some kept for the process), freed by a monitoring thread after `close` returns | one fd, freed by `close` | the fd-counting tests warm up and wait, bounded (`tests/util/mod.rs`) |
//! | the queue fd is a pipe, which it watches like any other | a kqueue refuses to watch itself | the tests of the queue fd's identity are cfg'd out |
//! | an `EMFILE` from the `EVFILT_USER` knote's eventfd comes back as `EBADF` (it closes -1, src/linux/user.c) | no fd needed | `fd_exhaustion` accepts `EBADF` under the cfg |
//! | a queue's fd is not readable when the queue has events (poll(2) on it with an `EVFILT_TIMER` event pending times out; probed with a C program against this libkqueue, 2026-12-03) | the queue fd polls readable while events are pending (it can be watched by poll(2), select(2) or another kqueue's `EVFILT_READ`) | it rules out, under the cfg, a source that owns its own kqueue and registers that fd with the `Poll`: the `timer` and `process` extras add their knotes to the `Poll`'s queue (`timer_kqueue.rs`, `process_kqueue.rs`), which is also one fd less per source on the BSDs |
//! | `EVFILT_PROC` with `NOTE_EXIT` on a child that already exited (a zombie) is accepted, and its exit event comes at once (same probe; pidfd_open(2) succeeds on a zombie, `linux_proc_arm` in src/linux/proc.c) | `ESRCH` (ERRORS: "The specified process to attach to does not exist") | in `process_kqueue.rs`: under the cfg a process that has exited is answered `ESRCH` before the `EV_ADD`, so the BSDs' path (a one-shot `EVFILT_TIMER` knote with the token) is the one tested |
//! | `EVFILT_TIMER`'s unit flags have Apple's values (`NOTE_SECONDS` 1, `NOTE_USECONDS` 2, `NOTE_NSECONDS` 4 in include/sys/event.h.in) | FreeBSD: `NOTE_SECONDS` 1, `NOTE_MSECONDS` 2, `NOTE_USECONDS` 4, `NOTE_NSECONDS` 8 | the bindings: libkqueue's values here, libc's on the real kernels (`kqueue::timer_fflags`) |
//! | an `EVFILT_TIMER` `data` of 0 arms a timerfd with a zero `it_value`, which disarms it: the knote never fires (`convert_timedata_to_itimerspec` in src/linux/timer.c) | FreeBSD: a zero timeout fires at once | `timer_kqueue.rs` never submits 0 (the shortest time is 1 of the unit), nor does `process_kqueue.rs` |

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
/// The `timer` and `process` extras' filters (built with either feature only).
#[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
pub(crate) const EVFILT_PROC: c_short = -5;
#[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
pub(crate) const EVFILT_TIMER: c_short = -7;

pub(crate) const EV_ADD: c_ushort = 0x0001;
pub(crate) const EV_DELETE: c_ushort = 0x0002;
pub(crate) const EV_ENABLE: c_ushort = 0x0004;
pub(crate) const EV_DISABLE: c_ushort = 0x0008;
#[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
pub(crate) const EV_ONESHOT: c_ushort = 0x0010;
pub(crate) const EV_CLEAR: c_ushort = 0x0020;
pub(crate) const EV_RECEIPT: c_ushort = 0x0040;
pub(crate) const EV_DISPATCH: c_ushort = 0x0080;
pub(crate) const EV_ERROR: c_ushort = 0x4000;
pub(crate) const EV_EOF: c_ushort = 0x8000;

/// EVFILT_USER: "cause the event to be triggered for output".
pub(crate) const NOTE_TRIGGER: c_uint = 0x0100_0000;

/// EVFILT_TIMER's units: Apple's values (libkqueue's `include/sys/event.h.in`: "Data/hint
/// flags for EVFILT_TIMER as suported and defined in kevent64"), not FreeBSD's (where
/// `NOTE_USECONDS` is 4 and `NOTE_NSECONDS` 8); no flag is milliseconds on all of them.
#[cfg(mio_timer_kqueue)]
pub(crate) const NOTE_SECONDS: c_uint = 0x0001;
#[cfg(mio_timer_kqueue)]
pub(crate) const NOTE_USECONDS: c_uint = 0x0002;
#[cfg(mio_timer_kqueue)]
pub(crate) const NOTE_NSECONDS: c_uint = 0x0004;

/// EVFILT_PROC: "the process has exited".
#[allow(dead_code)]
pub(crate) const NOTE_EXIT: c_uint = 0x8000_0000;

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
