//! The kqueue(2) selector: macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD and
//! DragonFly.
//!
//! All references are to FreeBSD's kqueue(2) manual page (`man 2 kqueue`), section DESCRIPTION
//! unless named otherwise; Apple's, NetBSD's, OpenBSD's and DragonFly's pages describe the same
//! flags the same way for everything used here.
//!
//! # Model
//!
//! A kevent is keyed by (ident, filter); a registered fd is up to two kevents, one per direction:
//! `EVFILT_READ` for [`Interest::READABLE`] and `EVFILT_WRITE` for [`Interest::WRITABLE`]. Each is
//! added with `EV_CLEAR` ("after the event is retrieved by the user, its state is reset"), which
//! is what makes every registration edge-triggered as on epoll: a readiness is reported once, and
//! again only after its state changes. The token travels in `udata` ("opaque user-defined value
//! passed through the kernel unchanged"), so the kernel keeps all per-source state, as on epoll:
//! `IoSourceState` is empty and `do_io` is a plain call.
//!
//! # Registration results, as epoll gives them
//!
//! Every change is submitted with `EV_RECEIPT` ("forces EV_ERROR to always be returned. When a
//! filter is successfully added the data field will be zero"), with room for one receipt per
//! change in the event list, so each change's own errno is read back (RETURN VALUES: "the event
//! will be placed in the eventlist with EV_ERROR set in flags and the system error in data") and
//! no pending readiness event is drained by a registration call.
//!
//! kqueue itself never refuses a second `EV_ADD` ("re-adding an existing event will modify the
//! parameters of the original event") and happily adds a kevent for an fd never registered, so
//! `register` first *probes* both filters with `EV_ENABLE` alone: an existing kevent answers 0
//! (it is already enabled: nothing changes but, except on FreeBSD, its token, see
//! [`translate::PROBE`]; at most a spurious event), a missing one `ENOENT`
//! (ERRORS: "the event could not be found to be modified or deleted"). `reregister` deletes
//! both filters first (the trigger flags take effect only on a new knote), and those receipts
//! answer the same question. Register on a registered fd then fails with `EEXIST`
//! (`AlreadyExists`) and reregister on an unregistered fd with `ENOENT` (`NotFound`), as epoll
//! answers; this costs one more `kevent` call per register and reregister. Two threads
//! registering the same fd at the same moment may both pass the probe (epoll would refuse one);
//! the later `EV_ADD` wins.
//!
//! The changes themselves are one `kevent` call: `EV_ADD | EV_CLEAR` for each wanted direction,
//! `EV_DELETE` for the other. `ENOENT` from such an `EV_DELETE` only says that direction was not
//! registered and is ignored; this is also what makes `deregister` tolerant of a filter that was
//! never added. Deregister fails with `ENOENT` only when *neither* filter existed. A failed
//! `EV_ADD` during `register` removes the direction that was added, so a failed register
//! leaves nothing behind. A registration with neither direction (`AIO`/`LIO` alone) adds a
//! disabled read filter as its marker, so that it too is found (see [`translate::changes`]).
//!
//! # Events
//!
//! See [`translate`]: readable is `EVFILT_READ` (or the waker's `EVFILT_USER`), writable is
//! `EVFILT_WRITE`; `EV_EOF` on a filter closes that direction; `EV_EOF` with a non-zero `fflags`
//! (the socket error, EVFILT_READ: "returns the socket error (if any) in fflags") or
//! `EV_ERROR` is an error; `EVFILT_AIO`/`EVFILT_LIO` (FreeBSD) completions are AIO/LIO events.
//! One fd ready in both directions is two events, as the spec allows.
//!
//! # Other facts relied on
//!
//! - "The queue is not inherited by a child created with fork(2)": a forked child must create
//!   its own `Poll`. `FD_CLOEXEC` is set on the queue so it does not leak across exec either.
//! - "Calling close() on a file descriptor will remove any kevents that reference the
//!   descriptor": dropping a registered source removes it, as on epoll.
//! - "If nevents is zero, kevent() will return immediately": `poll` with an `Events` of
//!   capacity 0 answers `EINVAL` itself, as `epoll_wait(2)` does, rather than spin.
//! - BUGS: "The timeout value is limited to 24 hours" on FreeBSD; a longer wait returns early
//!   with no event, which `poll`'s callers already handle as a timeout.

use crate::Interest;

/// The pure half of the backend: which kevent changes a registration submits, what their
/// receipts mean, and how a returned kevent reads as an [`Event`](crate::event::Event). Plain
/// values only (no libc type), so the same code runs as unit tests on any host.
pub(crate) mod translate {
    // With `os-poll` alone (or only the kqueue extras) nothing registers an fd, so the
    // registration half is unused in those builds.
    #![cfg_attr(
        not(any(feature = "net", feature = "os-ext", mio_extras)),
        allow(dead_code)
    )]
    use super::Interest;

    // `flags` bits, from <sys/event.h>; the values are the same on every BSD and on Apple, and
    // the kqueue builds check them against libc at compile time (in `os`).
    /// "Adds the event to the kqueue."
    pub(crate) const EV_ADD: u16 = 0x0001;
    /// "Removes the event from the kqueue."
    pub(crate) const EV_DELETE: u16 = 0x0002;
    /// "Permit kevent() to return the event if it is triggered": the probe.
    pub(crate) const EV_ENABLE: u16 = 0x0004;
    /// "Disable the event so kevent() will not return it": the marker kevent of a registration
    /// with neither direction (see [`changes`]).
    pub(crate) const EV_DISABLE: u16 = 0x0008;
    /// "After the event is retrieved by the user, its state is reset": edge triggering.
    pub(crate) const EV_CLEAR: u16 = 0x0020;
    /// "Causes the event to return only the first occurrence of the filter being triggered.
    /// After the user retrieves the event from the kqueue, it is deleted": the one-shot
    /// `EVFILT_TIMER` knotes of the `timer` extra.
    pub(crate) const EV_ONESHOT: u16 = 0x0010;
    /// "Disable the event source immediately after delivery of an event": `Trigger::Oneshot`.
    /// Chosen over `EV_ONESHOT` (which deletes the kevent) so that the fired registration still
    /// exists: `reregister` finds it (and replaces it with a new one) and `deregister` deletes
    /// it.
    pub(crate) const EV_DISPATCH: u16 = 0x0080;
    /// "Forces EV_ERROR to always be returned": one receipt per change.
    pub(crate) const EV_RECEIPT: u16 = 0x0040;
    /// FreeBSD 12 and later: "Causes kevent() to leave unchanged any udata associated with an
    /// existing event ... This is especially useful with NOTE_TRIGGER or flags like EV_ENABLE.
    /// This flag may not be used with EV_ADD." Keeps the token of a registration the probe
    /// finds (see [`PROBE`]).
    #[cfg(target_os = "freebsd")]
    pub(crate) const EV_KEEPUDATA: u16 = 0x0200;
    /// RETURN VALUES: set on a receipt (with the errno in `data`), or on a failed change.
    pub(crate) const EV_ERROR: u16 = 0x4000;
    /// "Filters may set this flag to indicate filter-specific EOF condition."
    pub(crate) const EV_EOF: u16 = 0x8000;

    /// errno values the receipts are compared with; the kqueue builds check them against libc.
    pub(crate) const ENOENT: i32 = 2;
    pub(crate) const EEXIST: i32 = 17;
    pub(crate) const EPIPE: i32 = 32;

    /// The filters this crate submits or recognises.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Filter {
        Read,
        Write,
        /// The waker (`EVFILT_USER`).
        User,
        /// `EVFILT_AIO`: an aio(4) request that named this queue in its `sigevent` finished.
        Aio,
        /// `EVFILT_LIO` (FreeBSD): a lio_listio(2) batch finished.
        Lio,
        /// `EVFILT_TIMER`: the `timer` extra's knotes ("Establishes an arbitrary timer
        /// identified by ident"), reported readable.
        #[cfg_attr(not(any(mio_timer_kqueue, mio_process_kqueue)), allow(dead_code))]
        Timer,
        /// `EVFILT_PROC` with `NOTE_EXIT`: the `process` extra's knotes ("the process has
        /// exited"), reported readable.
        #[cfg_attr(not(any(mio_timer_kqueue, mio_process_kqueue)), allow(dead_code))]
        Proc,
        /// Anything else (a filter someone else added to the queue through its fd).
        Other,
    }

    /// One change to submit for a registered fd.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Change {
        pub(crate) filter: Filter,
        pub(crate) flags: u16,
    }

    /// `deregister`: both filters deleted.
    pub(crate) const DELETE_BOTH: [Change; 2] = [
        Change {
            filter: Filter::Read,
            flags: EV_DELETE | EV_RECEIPT,
        },
        Change {
            filter: Filter::Write,
            flags: EV_DELETE | EV_RECEIPT,
        },
    ];

    /// Both filters, asking only for a receipt: 0 if the kevent exists, `ENOENT` if not.
    ///
    /// Any change to an existing kevent that is not a delete also stores the change's `udata`
    /// (FreeBSD's `kqueue_register` in sys/kern/kern_event.c assigns `kn_kevent.udata` on every
    /// such change; XNU does the same), so a probe that finds a registration would replace its
    /// token with the caller's. On FreeBSD `EV_KEEPUDATA` prevents that: a register refused with
    /// `AlreadyExists` leaves the registration exactly as it was, as epoll does. The other
    /// kernels have no such flag, and kqueue(2) no other way to ask whether a kevent exists:
    /// there the refused register's token replaces the old one (documented in the guide).
    pub(crate) const PROBE: [Change; 2] = [
        Change {
            filter: Filter::Read,
            flags: PROBE_FLAGS,
        },
        Change {
            filter: Filter::Write,
            flags: PROBE_FLAGS,
        },
    ];

    /// See [`PROBE`].
    const PROBE_FLAGS: u16 = EV_ENABLE | EV_RECEIPT | KEEP_UDATA | LIBKQUEUE_PROBE;

    #[cfg(target_os = "freebsd")]
    const KEEP_UDATA: u16 = EV_KEEPUDATA;
    #[cfg(not(target_os = "freebsd"))]
    const KEEP_UDATA: u16 = 0;

    /// Test-only (libkqueue): a change of an existing socket's or pipe's `EVFILT_READ` or
    /// `EVFILT_WRITE` kevent without `EV_CLEAR` fails there (`evfilt_read_knote_modify` in
    /// src/linux/read.c and `evfilt_write_knote_modify` in src/linux/write.c return -1 unless
    /// `EV_CLEAR` is set, and the receipt then carries a stale errno), where the BSDs accept
    /// the `EV_ENABLE` ("Permit kevent() to return the event if it is triggered"). `EV_CLEAR`
    /// without `EV_ADD` changes nothing on either: libkqueue and the BSDs read it only when a
    /// kevent is created.
    #[cfg(mio_unsupported_test_libkqueue)]
    const LIBKQUEUE_PROBE: u16 = EV_CLEAR;
    #[cfg(not(mio_unsupported_test_libkqueue))]
    const LIBKQUEUE_PROBE: u16 = 0;

    /// The changes that make an fd's registration exactly `interests`: one per direction,
    /// `EV_ADD | EV_CLEAR` if wanted, `EV_DELETE` if not.
    ///
    /// Interests with neither direction (`AIO`/`LIO` alone: those events are requested per
    /// aio(4) operation through the queue's fd, not registered here; `PRIORITY` alone where it
    /// exists) still leave a kevent, so that `reregister` and `deregister` find the fd
    /// registered (as upstream mio answers `Ok` there): a *marker*, the read filter added
    /// disabled ("EV_DISABLE: Disable the event so kevent() will not return it"), which reports
    /// nothing. A kernel that refuses the read filter on that fd leaves no marker, and the
    /// registration then has no kevent at all (see [`apply_result`]). A second `register` of
    /// such an fd is refused, but its probe's `EV_ENABLE` enables the marker: from then on
    /// the fd may be reported readable, a spurious event, never a lost one.
    ///
    /// The trigger picks the flag added with `EV_ADD` (kqueue(2), EV_CLEAR and EV_DISPATCH):
    /// `EV_CLEAR` for edge, `EV_DISPATCH` for oneshot (each filter disabled after its event, so
    /// oneshot is per direction here), nothing for level (a kevent without `EV_CLEAR` is
    /// returned while its condition holds). Exclusive is refused by the caller.
    pub(crate) fn changes(interests: Interest) -> [Change; 2] {
        let trigger_flag = match interests.trigger() {
            Some(crate::Trigger::Oneshot) => EV_DISPATCH,
            Some(crate::Trigger::Level) => 0,
            _ => EV_CLEAR,
        };
        let change = |filter, wanted: bool| Change {
            filter,
            flags: if wanted {
                EV_ADD | trigger_flag | EV_RECEIPT
            } else {
                EV_DELETE | EV_RECEIPT
            },
        };
        if !interests.is_readable() && !interests.is_writable() {
            return [MARKER, change(Filter::Write, false)];
        }
        [
            change(Filter::Read, interests.is_readable()),
            change(Filter::Write, interests.is_writable()),
        ]
    }

    /// The kevent of a registration with neither direction (see [`changes`]).
    pub(crate) const MARKER: Change = Change {
        filter: Filter::Read,
        flags: EV_ADD | EV_DISABLE | EV_RECEIPT,
    };

    /// What a probe's two receipts (errno per filter, 0 for success) say.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Probe {
        Registered,
        NotRegistered,
        /// Neither: the fd itself is bad (`EBADF`), or the kernel refused.
        Failed(i32),
    }

    pub(crate) fn probe_result(errnos: [i32; 2]) -> Probe {
        match errnos {
            [0, _] | [_, 0] => Probe::Registered,
            [ENOENT, ENOENT] => Probe::NotRegistered,
            [ENOENT, errno] | [errno, _] => Probe::Failed(errno),
        }
    }

    /// The errno `register` reports after its probe, if any.
    pub(crate) fn register_refusal(probe: Probe) -> Option<i32> {
        match probe {
            Probe::NotRegistered => None,
            Probe::Registered => Some(EEXIST),
            Probe::Failed(errno) => Some(errno),
        }
    }

    /// The errno `reregister` reports after its probe, if any.
    pub(crate) fn reregister_refusal(probe: Probe) -> Option<i32> {
        match probe {
            Probe::Registered => None,
            Probe::NotRegistered => Some(ENOENT),
            Probe::Failed(errno) => Some(errno),
        }
    }

    /// The result of submitting `changes` (errno per change, 0 for success): the first real
    /// error, ignoring `ENOENT` from an `EV_DELETE` (that direction was not registered) and
    /// `EPIPE` from the write filter's `EV_ADD` (a pipe whose reader is gone), but
    /// `ENOENT` when every change was such a delete that found nothing (deregistering an fd that
    /// is not registered). With the error come the directions that were added by this call, for
    /// `register` to take back.
    pub(crate) fn apply_result(
        changes: &[Change; 2],
        errnos: [i32; 2],
    ) -> Result<(), (i32, [bool; 2])> {
        let mut added = [false; 2];
        let mut error = None;
        let mut deleted_nothing = 0;
        for (i, (change, &errno)) in changes.iter().zip(&errnos).enumerate() {
            let delete = change.flags & EV_DELETE != 0;
            match errno {
                0 => added[i] = !delete,
                ENOENT if delete => deleted_nothing += 1,
                // `EV_ADD` of `EVFILT_WRITE` on a pipe whose reader is gone: FreeBSD's and
                // DragonFly's `pipe_kqfilter` (sys/kern/sys_pipe.c) and macOS refuse it with
                // `EPIPE` and add nothing. Not an error of the registration (epoll accepts such
                // a pipe): the writer learns of the closed pipe from `write`'s `EPIPE`, and the
                // other direction's change stands. Upstream mio ignores it too.
                EPIPE if !delete && change.filter == Filter::Write => {}
                // The marker of a registration with neither direction, refused by this fd's
                // read filter: the registration stands without a kevent (upstream adds none).
                _ if *change == MARKER => {}
                errno => {
                    error.get_or_insert(errno);
                }
            }
        }
        match error {
            Some(errno) => Err((errno, added)),
            None if deleted_nothing == changes.len() => Err((ENOENT, added)),
            None => Ok(()),
        }
    }

    /// A returned kevent, as plain values.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Raw {
        pub(crate) filter: Filter,
        pub(crate) flags: u16,
        pub(crate) fflags: u32,
    }

    impl Raw {
        pub(crate) fn is_readable(self) -> bool {
            matches!(
                self.filter,
                Filter::Read | Filter::User | Filter::Timer | Filter::Proc
            )
        }

        pub(crate) fn is_writable(self) -> bool {
            self.filter == Filter::Write
        }

        /// `EV_ERROR`, or `EV_EOF` carrying a socket error in `fflags` (EVFILT_READ: "returns
        /// the socket error (if any) in fflags"; EVFILT_WRITE: "socket error handling is
        /// identical"). A plain `EV_EOF` (the peer closed cleanly) is not an error.
        ///
        /// Only on the read and write filters: on others `fflags` is the filter's own (an
        /// `EVFILT_PROC` exit event carries `NOTE_EXIT` in `fflags`, and `EV_EOF` on FreeBSD,
        /// which is no error).
        pub(crate) fn is_error(self) -> bool {
            self.flags & EV_ERROR != 0
                || (matches!(self.filter, Filter::Read | Filter::Write)
                    && self.flags & EV_EOF != 0
                    && self.fflags != 0)
        }

        /// `EV_EOF` on the read filter: "the read direction of the socket has shutdown", or for
        /// a pipe "the last writer disconnects".
        pub(crate) fn is_read_closed(self) -> bool {
            self.filter == Filter::Read && self.flags & EV_EOF != 0
        }

        /// `EV_EOF` on the write filter: "the filter will set EV_EOF when the reader
        /// disconnects".
        pub(crate) fn is_write_closed(self) -> bool {
            self.filter == Filter::Write && self.flags & EV_EOF != 0
        }

        pub(crate) fn is_aio(self) -> bool {
            self.filter == Filter::Aio
        }

        pub(crate) fn is_lio(self) -> bool {
            self.filter == Filter::Lio
        }
    }

    /// The names of the set `flags` bits, for `{:#?}`.
    pub(crate) fn flag_names(flags: u16) -> impl Iterator<Item = &'static str> + Clone {
        const NAMES: &[(u16, &str)] = &[
            (EV_ADD, "EV_ADD"),
            (EV_DELETE, "EV_DELETE"),
            (EV_ENABLE, "EV_ENABLE"),
            (EV_DISABLE, "EV_DISABLE"),
            (EV_ONESHOT, "EV_ONESHOT"),
            (EV_CLEAR, "EV_CLEAR"),
            (EV_RECEIPT, "EV_RECEIPT"),
            (EV_DISPATCH, "EV_DISPATCH"),
            (EV_ERROR, "EV_ERROR"),
            (EV_EOF, "EV_EOF"),
        ];
        NAMES
            .iter()
            .filter(move |&&(bit, _)| flags & bit != 0)
            .map(|&(_, name)| name)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        const READ_ADD: Change = Change {
            filter: Filter::Read,
            flags: EV_ADD | EV_CLEAR | EV_RECEIPT,
        };
        const READ_DEL: Change = Change {
            filter: Filter::Read,
            flags: EV_DELETE | EV_RECEIPT,
        };
        const WRITE_ADD: Change = Change {
            filter: Filter::Write,
            flags: EV_ADD | EV_CLEAR | EV_RECEIPT,
        };
        const WRITE_DEL: Change = Change {
            filter: Filter::Write,
            flags: EV_DELETE | EV_RECEIPT,
        };
        const EBADF: i32 = 9;
        const EINVAL: i32 = 22;

        #[test]
        fn one_edge_triggered_change_per_direction() {
            assert_eq!(changes(Interest::READABLE), [READ_ADD, WRITE_DEL]);
            assert_eq!(changes(Interest::WRITABLE), [READ_DEL, WRITE_ADD]);
            assert_eq!(
                changes(Interest::READABLE | Interest::WRITABLE),
                [READ_ADD, WRITE_ADD]
            );
            for change in changes(Interest::READABLE) {
                assert_ne!(
                    change.flags & EV_RECEIPT,
                    0,
                    "every change asks for a receipt"
                );
            }
        }

        /// Neither direction: a disabled read filter marks the fd registered, so reregister
        /// and deregister find it (they answered `NotFound` when nothing was added).
        #[test]
        fn no_direction_adds_a_disabled_marker() {
            let marker = Change {
                filter: Filter::Read,
                flags: EV_ADD | EV_DISABLE | EV_RECEIPT,
            };
            assert_eq!(MARKER, marker);
            #[cfg(mio_aio)]
            assert_eq!(changes(Interest::AIO), [marker, WRITE_DEL]);
            #[cfg(any(target_os = "linux", target_os = "android"))]
            assert_eq!(changes(Interest::PRIORITY), [marker, WRITE_DEL]);
            // Added: the registration stands; refused by the fd's read filter: it stands
            // without a kevent, as upstream's (which adds none).
            assert_eq!(apply_result(&[marker, WRITE_DEL], [0, ENOENT]), Ok(()));
            assert_eq!(apply_result(&[marker, WRITE_DEL], [EINVAL, ENOENT]), Ok(()));
        }

        #[test]
        fn the_probe_only_enables_and_asks_for_receipts() {
            for change in PROBE {
                assert_eq!(
                    change.flags & (EV_ENABLE | EV_RECEIPT),
                    EV_ENABLE | EV_RECEIPT
                );
                assert_eq!(change.flags & (EV_ADD | EV_DELETE | EV_DISABLE), 0);
            }
            assert_eq!(PROBE.map(|c| c.filter), [Filter::Read, Filter::Write]);
        }

        /// FreeBSD: the probe leaves the token of a registration it finds (a register refused
        /// with `AlreadyExists` changes nothing). No test can show it here: libkqueue has no
        /// `EV_KEEPUDATA`, and `.ci/targets` only builds FreeBSD.
        #[cfg(target_os = "freebsd")]
        #[test]
        fn the_probe_keeps_the_token_on_freebsd() {
            for change in PROBE {
                assert_ne!(change.flags & EV_KEEPUDATA, 0);
            }
        }

        #[test]
        fn triggers_pick_the_add_flag() {
            let read_with = |flag: u16| Change {
                filter: Filter::Read,
                flags: EV_ADD | flag | EV_RECEIPT,
            };
            assert_eq!(changes(Interest::READABLE)[0], read_with(EV_CLEAR));
            assert_eq!(
                changes(Interest::READABLE.oneshot())[0],
                read_with(EV_DISPATCH)
            );
            assert_eq!(changes(Interest::READABLE.level())[0], read_with(0));
            // The direction not asked for is deleted whatever the trigger.
            assert_eq!(changes(Interest::READABLE.level())[1], WRITE_DEL);
        }

        #[test]
        fn registering_twice_is_already_exists() {
            for errnos in [[0, 0], [0, ENOENT], [ENOENT, 0]] {
                let probe = probe_result(errnos);
                assert_eq!(probe, Probe::Registered, "{errnos:?}");
                assert_eq!(register_refusal(probe), Some(EEXIST));
                assert_eq!(reregister_refusal(probe), None);
            }
        }

        #[test]
        fn reregistering_an_unknown_fd_is_not_found() {
            let probe = probe_result([ENOENT, ENOENT]);
            assert_eq!(probe, Probe::NotRegistered);
            assert_eq!(reregister_refusal(probe), Some(ENOENT));
            assert_eq!(register_refusal(probe), None);
        }

        #[test]
        fn a_bad_fd_is_reported_as_such() {
            for errnos in [[EBADF, EBADF], [ENOENT, EBADF], [EBADF, ENOENT]] {
                let probe = probe_result(errnos);
                assert_eq!(probe, Probe::Failed(EBADF), "{errnos:?}");
                assert_eq!(register_refusal(probe), Some(EBADF));
                assert_eq!(reregister_refusal(probe), Some(EBADF));
            }
        }

        #[test]
        fn deregister_tolerates_a_filter_never_added() {
            let both = DELETE_BOTH;
            assert_eq!(both, [READ_DEL, WRITE_DEL]);
            assert_eq!(apply_result(&both, [0, 0]), Ok(()));
            assert_eq!(apply_result(&both, [0, ENOENT]), Ok(()));
            assert_eq!(apply_result(&both, [ENOENT, 0]), Ok(()));
        }

        #[test]
        fn deregistering_an_unknown_fd_is_not_found() {
            let both = [READ_DEL, WRITE_DEL];
            assert_eq!(
                apply_result(&both, [ENOENT, ENOENT]),
                Err((ENOENT, [false, false]))
            );
            assert_eq!(
                apply_result(&both, [EBADF, EBADF]),
                Err((EBADF, [false, false]))
            );
        }

        #[test]
        fn a_failed_add_names_what_to_take_back() {
            // Readable added, writable refused (EVFILT_WRITE on a vnode is EINVAL).
            let both = [READ_ADD, WRITE_ADD];
            assert_eq!(
                apply_result(&both, [0, EINVAL]),
                Err((EINVAL, [true, false]))
            );
            assert_eq!(apply_result(&both, [0, 0]), Ok(()));
            // Narrowing to readable: the delete of the write filter may find nothing.
            assert_eq!(apply_result(&[READ_ADD, WRITE_DEL], [0, ENOENT]), Ok(()));
        }

        #[test]
        fn a_pipe_without_reader_still_registers() {
            // EPIPE from the write filter's EV_ADD: the register stands, the read filter
            // added in the same call is kept (nothing to take back), as on epoll.
            assert_eq!(
                apply_result(&[READ_DEL, WRITE_ADD], [ENOENT, EPIPE]),
                Ok(())
            );
            assert_eq!(apply_result(&[READ_ADD, WRITE_ADD], [0, EPIPE]), Ok(()));
            // From the read filter it is a real error.
            assert_eq!(
                apply_result(&[READ_ADD, WRITE_DEL], [EPIPE, ENOENT]),
                Err((EPIPE, [false, false]))
            );
        }

        fn raw(filter: Filter, flags: u16, fflags: u32) -> Raw {
            Raw {
                filter,
                flags,
                fflags,
            }
        }

        #[test]
        fn read_and_write_filters_map_to_readable_and_writable() {
            let r = raw(Filter::Read, EV_ADD | EV_CLEAR, 0);
            assert!(r.is_readable() && !r.is_writable());
            assert!(!r.is_error() && !r.is_read_closed() && !r.is_write_closed());
            let w = raw(Filter::Write, EV_ADD | EV_CLEAR, 0);
            assert!(w.is_writable() && !w.is_readable());
            assert!(!w.is_error() && !w.is_read_closed() && !w.is_write_closed());
            assert!(!r.is_aio() && !r.is_lio() && !w.is_aio() && !w.is_lio());
        }

        #[test]
        fn eof_closes_the_direction_of_its_filter() {
            let r = raw(Filter::Read, EV_CLEAR | EV_EOF, 0);
            assert!(r.is_readable() && r.is_read_closed());
            assert!(
                !r.is_write_closed() && !r.is_error(),
                "a clean EOF is not an error"
            );
            let w = raw(Filter::Write, EV_CLEAR | EV_EOF, 0);
            assert!(w.is_writable() && w.is_write_closed());
            assert!(!w.is_read_closed() && !w.is_error());
        }

        #[test]
        fn eof_with_a_socket_error_is_an_error() {
            const ECONNREFUSED: u32 = 61;
            let r = raw(Filter::Read, EV_EOF, ECONNREFUSED);
            assert!(r.is_error() && r.is_read_closed());
            let w = raw(Filter::Write, EV_EOF, ECONNREFUSED);
            assert!(w.is_error() && w.is_write_closed());
            assert!(raw(Filter::Read, EV_ERROR, 0).is_error());
        }

        #[test]
        fn the_waker_is_readable_and_aio_lio_are_their_own() {
            let u = raw(Filter::User, EV_CLEAR, 0);
            assert!(u.is_readable() && !u.is_writable() && !u.is_error());
            let a = raw(Filter::Aio, 0, 0);
            assert!(a.is_aio() && !a.is_lio() && !a.is_readable() && !a.is_writable());
            let l = raw(Filter::Lio, 0, 0);
            assert!(l.is_lio() && !l.is_aio());
            let o = raw(Filter::Other, EV_EOF, 0);
            assert!(!o.is_readable() && !o.is_writable() && !o.is_read_closed());
        }

        #[test]
        fn timer_and_process_exit_are_readable_and_not_errors() {
            const NOTE_EXIT: u32 = 0x8000_0000;
            let t = raw(Filter::Timer, EV_CLEAR, 0);
            assert!(t.is_readable() && !t.is_writable() && !t.is_error());
            assert!(!t.is_read_closed() && !t.is_write_closed());
            // FreeBSD sets EV_EOF (and EV_ONESHOT) on the exit event, NOTE_EXIT in fflags.
            let p = raw(Filter::Proc, EV_EOF | EV_ONESHOT, NOTE_EXIT);
            assert!(p.is_readable() && !p.is_error() && !p.is_read_closed());
            assert!(raw(Filter::Timer, EV_ERROR, 0).is_error());
        }

        #[test]
        fn flag_names_are_listed_in_bit_order() {
            let names: Vec<_> = flag_names(EV_ADD | EV_CLEAR | EV_EOF).collect();
            assert_eq!(names, ["EV_ADD", "EV_CLEAR", "EV_EOF"]);
            assert_eq!(flag_names(0).count(), 0);
        }
    }
}

#[cfg(all(
    feature = "os-poll",
    mio_kqueue_os,
    not(mio_unsupported_force_poll_poll)
))]
pub(crate) use self::os::*;

/// The syscall half: kqueue builds only (the same `cfg` as `cfg_backend! { kqueue: .. }`).
#[cfg(all(
    feature = "os-poll",
    mio_kqueue_os,
    not(mio_unsupported_force_poll_poll)
))]
mod os {
    // As in `translate`: without `net`, `os-ext` or an `IoSource` extra nothing registers an fd.
    #![cfg_attr(
        not(any(feature = "net", feature = "os-ext", mio_extras)),
        allow(dead_code)
    )]
    use std::fmt;
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
    use std::time::Duration;

    use super::translate::{self, Change, Filter, Raw};
    use crate::{Interest, Token};

    /// `struct kevent`, the filter and flag values and kevent(2): libc's on the real kernels.
    #[cfg(not(mio_unsupported_test_libkqueue))]
    mod bind {
        pub(super) use libc::{
            kevent, EVFILT_READ, EVFILT_USER, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE,
            EV_DISABLE, EV_DISPATCH, EV_ENABLE, EV_EOF, EV_ERROR, EV_RECEIPT,
        };
        // The `timer` and `process` extras'.
        #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
        pub(super) use libc::{EVFILT_PROC, EVFILT_TIMER, EV_ONESHOT};
        // EVFILT_TIMER's units where kqueue(2) has them (FreeBSD 11+, Apple's); milliseconds,
        // the default, elsewhere.
        #[cfg(all(mio_timer_kqueue, any(mio_apple, target_os = "freebsd")))]
        pub(super) use libc::{NOTE_NSECONDS, NOTE_SECONDS, NOTE_USECONDS};
        // The `EVFILT_USER` waker's.
        #[cfg(all(mio_evfilt_user, not(mio_unsupported_force_waker_pipe)))]
        pub(super) use libc::NOTE_TRIGGER;
    }
    /// Test-only: libkqueue's, on Linux (see `sys::unix::libkqueue`).
    #[cfg(mio_unsupported_test_libkqueue)]
    use super::super::libkqueue as bind;

    // The flag and errno values of `translate` are libc's (compile-time check). The flags are
    // `u_short` in libc but `uint32_t` on NetBSD, hence the casts.
    #[allow(clippy::unnecessary_cast)]
    const _: () = {
        assert!(translate::EV_ADD as u32 == bind::EV_ADD as u32);
        assert!(translate::EV_DELETE as u32 == bind::EV_DELETE as u32);
        assert!(translate::EV_ENABLE as u32 == bind::EV_ENABLE as u32);
        assert!(translate::EV_DISABLE as u32 == bind::EV_DISABLE as u32);
        #[cfg(target_os = "freebsd")]
        assert!(translate::EV_KEEPUDATA as u32 == libc::EV_KEEPUDATA as u32);
        assert!(translate::EV_CLEAR as u32 == bind::EV_CLEAR as u32);
        assert!(translate::EV_DISPATCH as u32 == bind::EV_DISPATCH as u32);
        assert!(translate::EV_RECEIPT as u32 == bind::EV_RECEIPT as u32);
        assert!(translate::EV_ERROR as u32 == bind::EV_ERROR as u32);
        assert!(translate::EV_EOF as u32 == bind::EV_EOF as u32);
        #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
        assert!(translate::EV_ONESHOT as u32 == bind::EV_ONESHOT as u32);
        assert!(translate::ENOENT == libc::ENOENT);
        assert!(translate::EEXIST == libc::EEXIST);
        assert!(translate::EPIPE == libc::EPIPE);
    };

    /// A `struct kevent`, exactly as kevent(2) reads and writes it.
    ///
    /// libc, not rustix: rustix's `kqueue::Event` exposes a returned kevent only through its
    /// `EventFilter` enum, which has no `EVFILT_AIO`/`EVFILT_LIO` variant (needed for
    /// `Event::is_aio`/`is_lio`) and no raw `flags`/`fflags`/`data` for the receipts.
    #[derive(Clone)]
    #[repr(transparent)]
    pub(crate) struct Event(bind::kevent);

    // SAFETY: a kevent is plain data. Its `udata` is a pointer type on most BSDs, which is what
    // makes it `!Send`/`!Sync`; this crate only stores a token (an integer) in it and never
    // dereferences it.
    unsafe impl Send for Event {}
    // SAFETY: as above; `&Event` only allows reading integers.
    unsafe impl Sync for Event {}

    /// The buffer kevent(2) fills; its capacity is the `nevents` argument.
    pub(crate) type Events = Vec<Event>;

    fn filter_value(filter: Filter) -> bind::kevent {
        // SAFETY: `struct kevent` is integers and (on most BSDs) one raw pointer; all-zero is
        // a valid value of each (a null `udata`).
        let mut kev: bind::kevent = unsafe { std::mem::zeroed() };
        kev.filter = match filter {
            Filter::Read => bind::EVFILT_READ,
            Filter::Write => bind::EVFILT_WRITE,
            Filter::User => bind::EVFILT_USER,
            #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
            Filter::Timer => bind::EVFILT_TIMER,
            #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
            Filter::Proc => bind::EVFILT_PROC,
            #[cfg(not(any(mio_timer_kqueue, mio_process_kqueue)))]
            Filter::Timer | Filter::Proc => unreachable!("not submitted"),
            // Never submitted (see `translate::changes`).
            Filter::Aio | Filter::Lio | Filter::Other => unreachable!("not submitted"),
        } as _;
        kev
    }

    fn kevent_for(ident: usize, change: Change, udata: usize) -> bind::kevent {
        let mut kev = filter_value(change.filter);
        kev.ident = ident as _;
        kev.flags = change.flags as _;
        kev.udata = udata as _;
        kev
    }

    fn filter_of(kev: &bind::kevent) -> Filter {
        let filter = kev.filter as i64;
        if filter == bind::EVFILT_READ as i64 {
            Filter::Read
        } else if filter == bind::EVFILT_WRITE as i64 {
            Filter::Write
        } else if is_user(filter) {
            Filter::User
        } else if let Some(extra) = extra_filter(filter) {
            extra
        } else if is_aio(filter) {
            Filter::Aio
        } else if is_lio(filter) {
            Filter::Lio
        } else {
            Filter::Other
        }
    }

    fn is_user(filter: i64) -> bool {
        filter == bind::EVFILT_USER as i64
    }

    /// The extras' filters, where they are built.
    #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
    fn extra_filter(filter: i64) -> Option<Filter> {
        if filter == bind::EVFILT_TIMER as i64 {
            Some(Filter::Timer)
        } else if filter == bind::EVFILT_PROC as i64 {
            Some(Filter::Proc)
        } else {
            None
        }
    }
    #[cfg(not(any(mio_timer_kqueue, mio_process_kqueue)))]
    fn extra_filter(_: i64) -> Option<Filter> {
        None
    }

    // Interest::AIO exists on FreeBSD, DragonFly and Apple (API.md §2.1), so only those report it.
    #[cfg(mio_aio)]
    fn is_aio(filter: i64) -> bool {
        filter == libc::EVFILT_AIO as i64
    }
    #[cfg(not(mio_aio))]
    fn is_aio(_: i64) -> bool {
        false
    }

    #[cfg(target_os = "freebsd")]
    fn is_lio(filter: i64) -> bool {
        filter == libc::EVFILT_LIO as i64
    }
    #[cfg(not(target_os = "freebsd"))]
    fn is_lio(_: i64) -> bool {
        false
    }

    /// `flags` is a `u_short` everywhere but NetBSD (`uint32_t`); every flag fits in 16 bits.
    #[allow(clippy::unnecessary_cast)]
    fn flags_of(kev: &bind::kevent) -> u16 {
        kev.flags as u16
    }

    fn raw(kev: &bind::kevent) -> Raw {
        Raw {
            filter: filter_of(kev),
            flags: flags_of(kev),
            fflags: kev.fflags,
        }
    }

    fn os_error(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    /// kqueue has no counterpart of `EPOLLEXCLUSIVE`: refused, never downgraded.
    fn check_trigger(interests: Interest) -> io::Result<()> {
        match interests.trigger_checked()? {
            crate::Trigger::Exclusive => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "exclusive registrations need epoll (EPOLLEXCLUSIVE); kqueue cannot give them",
            )),
            _ => Ok(()),
        }
    }

    /// A kqueue instance.
    #[derive(Debug)]
    pub(crate) struct Selector {
        kq: QueueFd,
    }

    /// The queue's fd, shared (closed with the last holder) by the registrations of the
    /// `timer` and `process` extras ([`Selector::share`]). `try_clone` duplicates it.
    ///
    /// Test-only: libkqueue knows a queue only by the fd number `kqueue()` returned (its
    /// `kqueue_lookup` in `src/common/kqueue.c` maps that number to the queue; a `dup` of it
    /// is an unknown number and kevent fails with `ENOENT`, where the BSDs share the queue
    /// between the two fds). So there clones share the one fd too.
    type QueueFd = std::sync::Arc<OwnedFd>;

    impl Selector {
        /// `kqueue()`, then `FD_CLOEXEC` (kqueue(2) has no flag argument; the queue is not
        /// inherited across fork(2), but would be across execve(2) without it).
        pub(crate) fn new() -> io::Result<Selector> {
            #[cfg(not(mio_unsupported_test_libkqueue))]
            let kq = std::sync::Arc::new(rustix::event::kqueue::kqueue()?);
            #[cfg(mio_unsupported_test_libkqueue)]
            let kq = {
                // SAFETY: kqueue() takes no argument; it returns a new fd or -1.
                let fd = unsafe { bind::kqueue() };
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                // SAFETY: `fd` was just returned by kqueue() and is owned by nothing else.
                std::sync::Arc::new(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
            };
            rustix::io::fcntl_setfd(&kq, rustix::io::FdFlags::CLOEXEC)?;
            Ok(Selector { kq })
        }

        /// `fcntl(F_DUPFD_CLOEXEC)`: a second handle on the same queue (fcntl(2)).
        pub(crate) fn try_clone(&self) -> io::Result<Selector> {
            #[cfg(not(mio_unsupported_test_libkqueue))]
            let kq = std::sync::Arc::new(rustix::io::fcntl_dupfd_cloexec(&self.kq, 0)?);
            #[cfg(mio_unsupported_test_libkqueue)]
            let kq = std::sync::Arc::clone(&self.kq);
            Ok(Selector { kq })
        }

        /// The same queue through the same fd, for a source whose knotes live on it (the
        /// `timer` and `process` extras): the fd stays open, and the queue with it, as long as
        /// such a registration does, so its changes never reach a queue or file that later got
        /// the number (a `Poll` dropped first leaves the knotes on a queue nobody polls, which
        /// the last holder's drop closes).
        #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
        pub(crate) fn share(&self) -> Selector {
            Selector {
                kq: std::sync::Arc::clone(&self.kq),
            }
        }

        /// Submits `changes` (each with `EV_RECEIPT`) and returns each change's errno (0 for
        /// success): the extras' knotes, whose ident is not an fd.
        #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
        pub(crate) fn submit_kevents<const N: usize>(
            &self,
            changes: [Kev; N],
        ) -> io::Result<[i32; N]> {
            self.submit(changes.map(|c| {
                debug_assert!(c.flags & translate::EV_RECEIPT != 0);
                let mut kev = kevent_for(
                    c.ident,
                    Change {
                        filter: c.filter,
                        flags: c.flags,
                    },
                    c.udata,
                );
                kev.fflags = c.fflags as _;
                kev.data = c.data as _;
                kev
            }))
        }

        /// `kevent(kq, changes, changes.len(), out, out.len(), timeout)`.
        ///
        /// libc, not rustix: see [`Event`]. `EINTR` comes back as `Interrupted` (ERRORS:
        /// "when kevent() call fails with EINTR error, all changes in the changelist have been
        /// applied"), never retried here.
        fn kevent(
            &self,
            changes: &[bind::kevent],
            out: *mut bind::kevent,
            out_len: usize,
            timeout: Option<&libc::timespec>,
        ) -> io::Result<usize> {
            let timeout = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: `changes` is a valid slice of initialised kevents; `out` points to
            // `out_len` writable (possibly uninitialised) kevents owned by the caller for the
            // duration of the call; `timeout` is null or points to a live timespec. The kernel
            // writes at most `out_len` entries. Lengths fit in a c_int: at most the `Events`
            // capacity, which `select` clamps, or a handful of changes.
            let n = unsafe {
                bind::kevent(
                    self.kq.as_raw_fd(),
                    changes.as_ptr(),
                    changes.len() as _,
                    out,
                    out_len as _,
                    timeout,
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        }

        /// Submits `changes` (each with `EV_RECEIPT`) and returns the errno of each (0: done).
        fn submit<const N: usize>(&self, changes: [bind::kevent; N]) -> io::Result<[i32; N]> {
            let mut receipts = changes;
            // A zero timeout: receipts are returned at once; never waits for readiness.
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let n = self.kevent(&changes, receipts.as_mut_ptr(), N, Some(&zero))?;
            let mut errnos = [0; N];
            let mut taken = [false; N];
            for (i, receipt) in receipts[..n].iter().enumerate() {
                // Receipts come back in changelist order, one per change; match them by filter
                // all the same, so an order difference between kernels cannot misattribute one
                // (two changes of one knote, a delete then an add, take their slots in order).
                let slot = changes
                    .iter()
                    .enumerate()
                    .position(|(j, c)| {
                        !taken[j] && c.filter == receipt.filter && c.ident == receipt.ident
                    })
                    .unwrap_or(i);
                taken[slot] = true;
                if flags_of(receipt) & translate::EV_ERROR != 0 {
                    errnos[slot] = receipt.data as i32;
                }
            }
            Ok(errnos)
        }

        fn submit_changes(
            &self,
            fd: RawFd,
            changes: &[Change; 2],
            token: Token,
        ) -> io::Result<[i32; 2]> {
            let ident = fd_ident(fd)?;
            self.submit_pair(
                ident,
                changes,
                changes.map(|c| kevent_for(ident, c, token.0)),
                token,
            )
        }

        /// One fd's read and write changes, in one `kevent` call.
        #[cfg(not(mio_unsupported_test_libkqueue))]
        fn submit_pair(
            &self,
            _: usize,
            _: &[Change; 2],
            kevents: [bind::kevent; 2],
            _: Token,
        ) -> io::Result<[i32; 2]> {
            self.submit(kevents)
        }

        /// Test-only: `submit_pair` adjusted to two libkqueue deviations from the BSDs,
        /// which apply a changelist's entries independently and in any order.
        ///
        /// - The write filter's change goes first. libkqueue watches an fd with both filters
        ///   through one epoll registration, and adding the second filter rebuilds its mask
        ///   from `EPOLLIN`/`EPOLLOUT` plus the new filter's flags only (`epoll_update` in
        ///   src/linux/platform.c: `want = have_ev | ev`), so a read filter added first loses
        ///   its `EPOLLRDHUP` and a peer's FIN never sets `EV_EOF` (tokio, which clears
        ///   readiness after a short read, then waits for it forever). Added after the write
        ///   filter, the read filter keeps it.
        /// - The marker (`translate::MARKER`) is added enabled, then disabled by a second
        ///   change: `EV_ADD | EV_DISABLE` leaves the fd armed there (src/common/kevent.c sets
        ///   `EV_DISABLE` on the new knote before calling the filter's `kn_disable`, whose
        ///   `epoll_update` then finds no enabled interest to remove).
        #[cfg(mio_unsupported_test_libkqueue)]
        fn submit_pair(
            &self,
            ident: usize,
            changes: &[Change; 2],
            [mut read, write]: [bind::kevent; 2],
            token: Token,
        ) -> io::Result<[i32; 2]> {
            let marker = changes[0] == translate::MARKER;
            if marker {
                read.flags &= !translate::EV_DISABLE;
            }
            let [write_errno, read_errno] = self.submit([write, read])?;
            if marker && read_errno == 0 {
                let disable = Change {
                    filter: Filter::Read,
                    flags: translate::EV_DISABLE | translate::EV_RECEIPT,
                };
                match self.submit([kevent_for(ident, disable, token.0)])? {
                    [0] => {}
                    [errno] => return Err(os_error(errno)),
                }
            }
            Ok([read_errno, write_errno])
        }

        /// The probe carries the caller's token: where it rewrites the `udata` of a
        /// registration it finds (every kernel but FreeBSD, see [`translate::PROBE`]), a
        /// refused register then leaves the new token on it rather than a meaningless one.
        fn probe(&self, fd: RawFd, token: Token) -> io::Result<translate::Probe> {
            let errnos = self.submit_changes(fd, &translate::PROBE, token)?;
            Ok(translate::probe_result(errnos))
        }

        /// kevent(2) until at least one event, the timeout, or a signal; the buffer is cleared
        /// first, even on error.
        pub(crate) fn select(
            &mut self,
            events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            events.clear();
            if events.capacity() == 0 {
                // As epoll_wait(2) with maxevents 0; kevent(2) would return at once.
                return Err(os_error(libc::EINVAL));
            }
            let timeout = super::super::timeout_timespec_precise(timeout).map(|t| libc::timespec {
                tv_sec: t.tv_sec as _,
                tv_nsec: t.tv_nsec as _,
            });
            // `nevents` is a c_int.
            let cap = events.capacity().min(i32::MAX as usize);
            let spare = events.spare_capacity_mut();
            let n = self.kevent(
                &[],
                spare.as_mut_ptr().cast::<bind::kevent>(),
                cap,
                timeout.as_ref(),
            )?;
            // SAFETY: kevent(2) initialised the first `n` (<= cap <= capacity) entries of the
            // spare capacity; `Event` is `repr(transparent)` over `bind::kevent`.
            unsafe { events.set_len(n) };
            Ok(())
        }

        /// Adds `fd` for `interests`, edge-triggered; `EEXIST` if it is already registered.
        pub(crate) fn register(
            &self,
            fd: RawFd,
            token: Token,
            interests: Interest,
        ) -> io::Result<()> {
            check_trigger(interests)?;
            if let Some(errno) = translate::register_refusal(self.probe(fd, token)?) {
                return Err(os_error(errno));
            }
            let changes = translate::changes(interests);
            let errnos = self.submit_changes(fd, &changes, token)?;
            translate::apply_result(&changes, errnos).map_err(|(errno, added)| {
                // Take back what this call added, so a failed register leaves nothing.
                let undo = [0, 1].map(|i| Change {
                    filter: changes[i].filter,
                    flags: if added[i] {
                        translate::EV_DELETE | translate::EV_RECEIPT
                    } else {
                        // A no-op receipt for a direction not added (ENOENT, ignored).
                        translate::EV_ENABLE | translate::EV_RECEIPT
                    },
                });
                let _ = self.submit_changes(fd, &undo, token);
                os_error(errno)
            })
        }

        /// Replaces the token, interests and trigger of a registered `fd`; `ENOENT` if it is
        /// not. Every BSD and XNU read `EV_CLEAR`, `EV_DISPATCH` and `EV_ONESHOT` only when a
        /// knote is created (FreeBSD's `kqueue_register` in sys/kern/kern_event.c copies the
        /// flags into a new knote; on an existing one `EV_ADD` only updates `udata`, `fflags`
        /// and `data`), so a change of trigger needs a new knote: both filters are deleted
        /// (whose receipts also answer whether the fd was registered, in place of the probe),
        /// then the wanted ones added. Adding evaluates the filter, so a readiness already
        /// present is reported afresh, as epoll's `EPOLL_CTL_MOD` does. If the add then fails
        /// the fd is left unregistered (epoll would keep the old registration).
        pub(crate) fn reregister(
            &self,
            fd: RawFd,
            token: Token,
            interests: Interest,
        ) -> io::Result<()> {
            check_trigger(interests)?;
            let deleted = self.submit_changes(fd, &translate::DELETE_BOTH, token)?;
            if let Some(errno) = translate::reregister_refusal(translate::probe_result(deleted)) {
                return Err(os_error(errno));
            }
            let changes = translate::changes(interests);
            let errnos = self.submit_changes(fd, &changes, token)?;
            translate::apply_result(&changes, errnos).map_err(|(errno, _)| os_error(errno))
        }

        /// `EV_DELETE` on both filters; `ENOENT` only if neither was registered.
        pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
            let changes = translate::DELETE_BOTH;
            let errnos = self.submit_changes(fd, &changes, Token(0))?;
            translate::apply_result(&changes, errnos).map_err(|(errno, _)| os_error(errno))
        }
    }

    /// A kevent ident for a caller-supplied fd: negative numbers are `EBADF` here (as a cast
    /// to `uintptr_t` would make them huge idents the kernel also refuses).
    /// The idents of the extras' `EVFILT_TIMER` knotes (a namespace of the filter, per queue):
    /// unique in the process, so two knotes never meet on one queue.
    #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
    pub(crate) fn next_timer_ident() -> usize {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// One change of a knote that is not an fd's (the `timer` and `process` extras').
    #[cfg(any(mio_timer_kqueue, mio_process_kqueue))]
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Kev {
        pub(crate) ident: usize,
        pub(crate) filter: Filter,
        pub(crate) flags: u16,
        pub(crate) fflags: u32,
        pub(crate) data: i64,
        /// The token.
        pub(crate) udata: usize,
    }

    /// The `fflags` of an `EVFILT_TIMER` knote whose `data` is in `unit`. kqueue(2) on
    /// FreeBSD (11.0 and later): "NOTE_SECONDS data is in seconds, NOTE_MSECONDS data is in
    /// milliseconds, NOTE_USECONDS data is in microseconds, NOTE_NSECONDS data is in
    /// nanoseconds. If fflags is not set, the default is milliseconds"; Apple's kqueue(2) the
    /// same units ("data specifies the timeout period (in milliseconds). fflags can include one
    /// of the following flags to specify a different unit"). NetBSD's, OpenBSD's and
    /// DragonFly's pages give milliseconds ("data specifies the timeout period in
    /// milliseconds"; the units NetBSD 10 and OpenBSD 7.x added are refused by older
    /// releases): milliseconds there ([`TIMER_UNITS`]).
    #[cfg(mio_timer_kqueue)]
    #[allow(clippy::unnecessary_cast)] // `c_uint` here, `u32` in libc
    pub(crate) fn timer_fflags(unit: super::super::timer_kqueue::Unit) -> u32 {
        use super::super::timer_kqueue::Unit;
        match unit {
            Unit::Millis => 0,
            #[cfg(any(mio_apple, target_os = "freebsd", mio_unsupported_test_libkqueue))]
            Unit::Nanos => bind::NOTE_NSECONDS as u32,
            #[cfg(any(mio_apple, target_os = "freebsd", mio_unsupported_test_libkqueue))]
            Unit::Micros => bind::NOTE_USECONDS as u32,
            #[cfg(any(mio_apple, target_os = "freebsd", mio_unsupported_test_libkqueue))]
            Unit::Seconds => bind::NOTE_SECONDS as u32,
            #[cfg(not(any(mio_apple, target_os = "freebsd", mio_unsupported_test_libkqueue)))]
            _ => unreachable!("only milliseconds are in TIMER_UNITS here"),
        }
    }

    /// The units this kernel's `EVFILT_TIMER` takes, finest first (see [`timer_fflags`]).
    #[cfg(all(
        mio_timer_kqueue,
        any(mio_apple, target_os = "freebsd", mio_unsupported_test_libkqueue)
    ))]
    pub(crate) const TIMER_UNITS: &[super::super::timer_kqueue::Unit] = {
        use super::super::timer_kqueue::Unit;
        &[Unit::Nanos, Unit::Micros, Unit::Millis, Unit::Seconds]
    };
    #[cfg(all(
        mio_timer_kqueue,
        not(any(mio_apple, target_os = "freebsd", mio_unsupported_test_libkqueue))
    ))]
    pub(crate) const TIMER_UNITS: &[super::super::timer_kqueue::Unit] =
        &[super::super::timer_kqueue::Unit::Millis];

    fn fd_ident(fd: RawFd) -> io::Result<usize> {
        usize::try_from(fd).map_err(|_| os_error(libc::EBADF))
    }

    impl AsRawFd for Selector {
        fn as_raw_fd(&self) -> RawFd {
            self.kq.as_raw_fd()
        }
    }

    impl AsFd for Selector {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.kq.as_fd()
        }
    }

    /// The `Waker` on `EVFILT_USER` ("a user event ... not associated with any kernel
    /// mechanism but is triggered by user level code"): added with `EV_CLEAR` under the
    /// caller's token, so any number of triggers between two polls are one event; `wake` is
    /// `NOTE_TRIGGER`. It holds its own handle on the queue; dropping it deletes the event.
    #[cfg(all(mio_evfilt_user, not(mio_unsupported_force_waker_pipe)))]
    #[derive(Debug)]
    pub(crate) struct Waker {
        selector: Selector,
        token: Token,
        /// This waker's own user event: `EVFILT_USER` kevents are keyed by (ident, filter)
        /// like any other, so two wakers on one queue (release builds allow it, as upstream's)
        /// need two idents, or dropping one would delete the other's event.
        ident: usize,
    }

    /// The next waker's ident. `EVFILT_USER` idents are the caller's to choose ("not
    /// associated with any kernel mechanism"), in a namespace of their own: no fd is affected.
    #[cfg(all(mio_evfilt_user, not(mio_unsupported_force_waker_pipe)))]
    static NEXT_WAKER_IDENT: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);

    #[cfg(all(mio_evfilt_user, not(mio_unsupported_force_waker_pipe)))]
    impl Waker {
        pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
            let selector = selector.try_clone()?;
            let ident = NEXT_WAKER_IDENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let add = Change {
                filter: Filter::User,
                flags: translate::EV_ADD | translate::EV_CLEAR | translate::EV_RECEIPT,
            };
            let [errno] = selector.submit([kevent_for(ident, add, token.0)])?;
            if errno != 0 {
                return Err(os_error(errno));
            }
            Ok(Waker {
                selector,
                token,
                ident,
            })
        }

        pub(crate) fn wake(&self) -> io::Result<()> {
            let trigger = Change {
                filter: Filter::User,
                flags: translate::EV_RECEIPT,
            };
            // The token again: a change without `EV_ADD` stores its `udata` (see
            // `translate::PROBE`), so give it the value it already has.
            let mut kev = kevent_for(self.ident, trigger, self.token.0);
            kev.fflags = bind::NOTE_TRIGGER;
            // The receipt's EV_ERROR carries 0 on success.
            match self.selector.submit([kev])? {
                [0] => Ok(()),
                [errno] => Err(os_error(errno)),
            }
        }
    }

    #[cfg(all(mio_evfilt_user, not(mio_unsupported_force_waker_pipe)))]
    impl Drop for Waker {
        fn drop(&mut self) {
            let delete = Change {
                filter: Filter::User,
                flags: translate::EV_DELETE | translate::EV_RECEIPT,
            };
            // Events are only delivered while the Waker lives. Nothing to do on failure.
            let _ = self.selector.submit([kevent_for(self.ident, delete, 0)]);
        }
    }

    /// Where the OS gives no `EVFILT_USER` (NetBSD before 10, OpenBSD before 7.8: kevent
    /// answers `EINVAL`, so `Waker::new` and with it tokio's runtime would fail; build.rs's
    /// `mio_evfilt_user`), or with `--cfg mio_unsupported_force_waker_pipe`: a
    /// self-pipe registered readable, as on epoll.
    #[cfg(any(not(mio_evfilt_user), mio_unsupported_force_waker_pipe))]
    #[derive(Debug)]
    pub(crate) struct Waker {
        fd: super::super::WakerFd,
    }

    #[cfg(any(not(mio_evfilt_user), mio_unsupported_force_waker_pipe))]
    impl Waker {
        pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
            let fd = super::super::WakerFd::new()?;
            selector.register(fd.as_fd().as_raw_fd(), token, Interest::READABLE)?;
            Ok(Waker { fd })
        }

        pub(crate) fn wake(&self) -> io::Result<()> {
            self.fd.wake()
        }
    }

    #[cfg(any(feature = "net", feature = "os-ext", mio_extras))]
    pub(crate) use super::super::stateless::IoSourceState;

    /// Reading a returned kevent (see [`translate::Raw`]).
    pub(crate) mod event {
        use std::fmt;

        use super::{raw, Event};
        use crate::Token;

        #[inline]
        pub(crate) fn token(event: &Event) -> Token {
            Token(event.0.udata as usize)
        }

        #[inline]
        pub(crate) fn is_readable(event: &Event) -> bool {
            raw(&event.0).is_readable()
        }

        #[inline]
        pub(crate) fn is_writable(event: &Event) -> bool {
            raw(&event.0).is_writable()
        }

        #[inline]
        pub(crate) fn is_error(event: &Event) -> bool {
            raw(&event.0).is_error()
        }

        #[inline]
        pub(crate) fn is_read_closed(event: &Event) -> bool {
            raw(&event.0).is_read_closed()
        }

        #[inline]
        pub(crate) fn is_write_closed(event: &Event) -> bool {
            raw(&event.0).is_write_closed()
        }

        /// kqueue has no priority readiness.
        #[inline]
        pub(crate) fn is_priority(_: &Event) -> bool {
            false
        }

        #[inline]
        pub(crate) fn is_aio(event: &Event) -> bool {
            raw(&event.0).is_aio()
        }

        #[inline]
        pub(crate) fn is_lio(event: &Event) -> bool {
            raw(&event.0).is_lio()
        }

        /// The `{:#?}` details of an event: the raw kevent. Not a stable format.
        pub(crate) struct Details<'a>(pub(crate) &'a Event);

        impl fmt::Debug for Details<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let kev = &self.0 .0;
                // Copies: the struct is packed on Apple's x86_64, so no reference to a field.
                // `data` is `intptr_t` or `int64_t` depending on the OS.
                #[allow(clippy::unnecessary_cast)]
                let (ident, fflags, data, udata) =
                    (kev.ident, kev.fflags, kev.data as i64, kev.udata as usize);
                f.debug_struct("kevent")
                    .field("ident", &ident)
                    .field("filter", &super::filter_of(kev))
                    .field(
                        "flags",
                        &crate::sys::FlagNames(super::translate::flag_names(super::flags_of(kev))),
                    )
                    .field("fflags", &fflags)
                    .field("data", &data)
                    .field("udata", &udata)
                    .finish()
            }
        }
    }

    impl fmt::Debug for Event {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            event::Details(self).fmt(f)
        }
    }

    #[cfg(all(test, mio_evfilt_user, not(mio_unsupported_force_waker_pipe)))]
    mod tests {
        use super::*;

        /// Whether a poll of `selector` within a bounded time reports `token`.
        fn woken(selector: &mut Selector, token: Token) -> bool {
            let mut events = Events::with_capacity(8);
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while std::time::Instant::now() < deadline {
                selector
                    .select(&mut events, Some(Duration::from_millis(100)))
                    .unwrap();
                if events.iter().any(|e| event::token(e) == token) {
                    return true;
                }
            }
            false
        }

        /// Two wakers on one queue (release builds allow it, as upstream's): dropping one
        /// deleted the `EVFILT_USER` event both used (one ident for all), and the other
        /// stopped waking. Each has its own ident now.
        #[test]
        fn dropping_one_of_two_wakers_leaves_the_other_working() {
            let mut selector = Selector::new().unwrap();
            let first = Waker::new(&selector, Token(1)).unwrap();
            let second = Waker::new(&selector, Token(2)).unwrap();
            drop(first);
            second.wake().unwrap();
            assert!(woken(&mut selector, Token(2)));
        }
    }
}
