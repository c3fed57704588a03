//! The Windows selector: one I/O completion port per `Poll`, socket readiness from AFD poll
//! requests (see [`afd`](super::afd)), named-pipe completions and `Waker` packets on the same
//! port.
//!
//! # Sockets: edge triggering on top of one-shot requests
//!
//! An AFD poll request is level-triggered and one-shot: it completes as soon as any asked-for
//! event holds, once. Each registered socket has a [`SockState`] (shared, pinned by its
//! `Arc`) holding the request's buffers, and at most one request in flight. The edge
//! semantics of mio are kept with an *armed* mask:
//!
//! - registering or re-registering arms every event of the interest (errors are always
//!   armed, so a request stays in flight while anything is armed: a WRITABLE-only socket
//!   still hears of a reset after its writable event, as epoll's `EPOLLERR`);
//! - a completion reports `events & armed` and disarms exactly what it reported (everything
//!   after an error): data reported leaves the peer's FIN armed, so a close after an exact
//!   read is still an event;
//! - an operation that returns `WouldBlock` re-arms its direction (`do_io`).
//!
//! The request for what is still armed is not re-submitted at once: the socket is queued
//! (`Shared::updates`) and the polling thread submits one request per queued socket, with
//! everything armed by then, just before it waits again. A registration's first request is
//! queued the same way (so `register` + `deregister` between two polls costs no kernel call),
//! but an I/O operation on the socket submits it first if it is still queued: a request
//! reports the state it finds, and under Wine an error caused by that operation (the ICMP
//! answer to a UDP `send`) would not be part of a later request's state. Handling an event (disarm, read to
//! `WouldBlock`, re-arm) thus costs one request, never a submit followed by a cancel. A
//! change made while a thread is blocked in `poll` cannot wait for the queue: it is
//! submitted (or the request in flight cancelled and re-submitted) from the calling thread
//! at once, so that `Poll` sees it ([`SockState::schedule`]); if that fails, the socket is
//! queued and the poller woken (`key::RETRY`) to try again, and a failure there is reported
//! as an error event, never left as an armed direction with nothing in flight.
//!
//! So after an event nothing is reported for that readiness until an operation proves it
//! drained, and nothing spins: a request is only in flight for events nobody has been told
//! about yet.
//!
//! # A socket's lifecycle
//!
//! A [`SockState`]'s place in its life is one value, a [`Lifecycle`],
//! changed only by the transitions of the [`lifecycle`] module (the selector cannot set a
//! state itself). Beside it, `armed` (what to ask for) is the edge-triggering state above. The
//! states:
//!
//! - `Registered { slot, request, queued }`: in the port's registrations at `slot`; `request`
//!   is `New` (the first one not made yet), `Idle`, `InFlight(events)` or `Cancelling`;
//!   `queued`: on `Shared::updates`;
//! - `Closing { slot }`: deleted with a request still in flight, which its completion ends;
//!   `slot` is kept only if that request's cancel failed (so that a `Poll` shutting down finds
//!   it, cancels it again and waits for it);
//! - `Deleted`: nothing in flight, out of the registrations, never queued or submitted again.
//!
//! | what happens | before | after | transition (caller) |
//! |---|---|---|---|
//! | `register` | — | `Registered`, `New`, queued (a thread in `poll`: submitted at once) | `register`, `queue` (`Selector::register_socket` → `schedule`) |
//! | an I/O operation while the first request is still to be made | `New` | `InFlight` (still queued: the drain finds it up to date) | `start_update`, `submitted` (`IoSourceState::do_io` → `submit_first`) |
//! | `poll` drains the queue | queued | not queued; `InFlight(armed)` if anything is armed and nothing was in flight; `Cancelling` if the one in flight misses an armed event; a failed call: error event, `armed` = 0 | `dequeue`, `start_update`, `submitted`/`cancelled` (`drain_updates` → `update`) |
//! | a stale queue entry drained | `Closing`/`Deleted` | unchanged: skipped | `dequeue` |
//! | a completion | `InFlight`/`Cancelling` | `Idle`; the event `events & armed`, those disarmed (all after an error or a oneshot event); queued again while anything is armed | `completed`, `queue` (`complete` → `schedule`) |
//! | `WouldBlock` | `Registered` | direction re-armed: queued (a thread in `poll`: submitted or cancelled at once; a failure queues it and wakes the poller, `key::RETRY`) | `queue` or `start_update` (`rearm` → `schedule`) |
//! | `reregister` | `Registered` | everything of the new interest armed, request brought up to date at once | `start_update` (`reregister` → `update`) |
//! | `deregister` / drop, nothing in flight | `New`/`Idle` | `Deleted`; slot given back; taken off the queue if last | `delete` (`deregister`) |
//! | `deregister` / drop, in flight | `InFlight`/`Cancelling` | `Closing { slot: None }` (cancelled now, or already); slot given back | `delete` (`deregister`) |
//! | … and the cancel fails | `InFlight` | `Closing { slot }`: still in the registrations | `delete` (`deregister`) |
//! | a completion while closing | `Closing { slot }` | `Deleted`; the slot, if kept, given back | `completed` (`complete`) |
//! | the socket closed under its request | `InFlight` (`POLL_LOCAL_CLOSE`) | `Deleted`, slot given back | `completed`, `delete` (`complete`) |
//! | the `Poll` dropped | any | `Closing` (requests cancelled, a failed cancel retried) or `Deleted`; the drain collects the completions | `delete` (`Shared::shutdown` → `cancel_all`) |
//! | anything after deletion | `Closing`/`Deleted` | unchanged: `queue` refuses, `start_update` and `request` give nothing to submit or cancel | — |
//!
//! What the table rules out by construction: a deleted socket queued after its `Poll` shut
//! down the queue (issue 16, defect 4: it would keep the port alive), a request in flight whose
//! socket left the registrations without a cancel (defect 5), a submit with a request in
//! flight, a slot given back twice. The unit tests of [`lifecycle`] check each row on the
//! state alone.
//!
//! # Lifetimes
//!
//! The kernel writes a request's `IO_STATUS_BLOCK` and `AFD_POLL_INFO` until it completes.
//! Both live inside the `SockState`, and each request in flight owns one strong reference to
//! it, given to the kernel as the request's context (`Arc::into_raw`) and taken back when the
//! completion is dequeued (`Arc::from_raw`). Deregistering or dropping a source cancels its
//! request (`NtCancelIoFileEx`); the memory stays valid until the cancelled completion is
//! dequeued; a socket whose cancel failed stays in the port's registrations until its
//! completion comes. When the last handle on a `Poll` goes, every request is cancelled and the
//! port drained of their completions before it closes ([`Shared::shutdown`]): no use-after-free
//! and no leaked reference, also with requests in flight. A socket re-armed after that is
//! never queued again (it would keep the port alive through the queue).

use std::cell::UnsafeCell;
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::os::windows::io::RawSocket;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HANDLE, STATUS_CANCELLED};
use windows_sys::Win32::System::IO::{IO_STATUS_BLOCK, OVERLAPPED, OVERLAPPED_ENTRY};

use super::afd::{self, Afd, PollInfo};
use super::iocp::CompletionPort;
use crate::sys::Rearm;
use crate::{Interest, Token, Trigger};

/// Completion keys: what kind of packet an entry is, and so what its `lpOverlapped` is.
pub(crate) mod key {
    /// An AFD poll request: `lpOverlapped` is an `Arc<SockState>` given to the kernel.
    pub(crate) const AFD: usize = 1;
    /// A `Waker` packet: `lpOverlapped` is an `Arc<WakerState>` given to the port.
    pub(crate) const WAKER: usize = 2;
    /// Overlapped I/O of a handle (named pipes): `lpOverlapped` is an [`Overlapped`](super::Overlapped).
    pub(crate) const OVERLAPPED: usize = 3;
    /// Wakes the polling thread to drain `Shared::updates` now (a submit or cancel that failed
    /// on another thread is retried there): `lpOverlapped` is null.
    pub(crate) const RETRY: usize = 4;
}

/// Readiness bits of an [`Event`]: AFD's own (`afd::POLL_*`) for sockets, reused for
/// pipes and wakers, plus one of this crate's for a pipe whose write side is closed.
pub(crate) const WRITE_CLOSED: u32 = 0x8000_0000;

const READ_EVENTS: u32 = afd::POLL_RECEIVE | afd::POLL_ACCEPT | afd::POLL_DISCONNECT;
const WRITE_EVENTS: u32 = afd::POLL_SEND;
const ERROR_EVENTS: u32 = afd::POLL_ABORT | afd::POLL_CONNECT_FAIL;

/// How many sockets share one `\Device\Afd` handle before the pool opens another.
const SOCKETS_PER_AFD: usize = 32;

/// One readiness event: the token and the readiness bits.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub(crate) flags: u32,
    pub(crate) data: usize,
}

/// The buffer `select` fills: scratch space for the port's entries and the events made of
/// them (at most one per entry, so neither ever grows after `with_capacity`).
pub(crate) struct Events {
    entries: Box<[MaybeUninit<OVERLAPPED_ENTRY>]>,
    events: Vec<Event>,
}

// SAFETY: `entries` is scratch space only written by the kernel inside `select` and read right
// after by the same `&mut` borrower; the raw pointers in it are never dereferenced outside the
// selector's completion handling. `events` holds plain integers.
unsafe impl Send for Events {}
// SAFETY: as above; `&Events` only exposes `events`.
unsafe impl Sync for Events {}

impl Events {
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        let mut entries = Vec::with_capacity(capacity);
        entries.resize_with(capacity, MaybeUninit::uninit);
        Events {
            entries: entries.into_boxed_slice(),
            events: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn clear(&mut self) {
        self.events.clear();
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Event> {
        self.events.get(i)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.events).finish()
    }
}

/// An overlapped operation's header: the `OVERLAPPED` the kernel sees, then what to call when
/// its completion is dequeued. Packets with [`key::OVERLAPPED`] point at one of these.
#[repr(C)]
pub(crate) struct Overlapped {
    pub(crate) raw: UnsafeCell<OVERLAPPED>,
    /// Called with the dequeued entry, and the events to add to (`None` while the `Poll` is
    /// shutting down: release resources only). It must take back whatever reference the
    /// operation's start gave away.
    pub(crate) callback: fn(&OVERLAPPED_ENTRY, Option<&mut Vec<Event>>),
}

impl Overlapped {
    pub(crate) fn new(callback: fn(&OVERLAPPED_ENTRY, Option<&mut Vec<Event>>)) -> Overlapped {
        Overlapped {
            // SAFETY: `OVERLAPPED` is plain data; all-zero is its documented initial state.
            raw: UnsafeCell::new(unsafe { std::mem::zeroed() }),
            callback,
        }
    }

    pub(crate) fn as_ptr(&self) -> *mut OVERLAPPED {
        self.raw.get()
    }
}

impl fmt::Debug for Overlapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Overlapped")
    }
}

/// What dies with the `Poll` must be told: cancel its I/O so the drain can collect it.
pub(crate) trait Registration: Send + Sync {
    fn cancel_all(&self);
}

/// State shared by a `Poll`, its `Registry` clones, every registered source and the `Waker`.
pub(crate) struct Shared {
    pub(crate) port: CompletionPort,
    /// The AFD handle new sockets go to, while it has room.
    afd: Mutex<Option<Arc<Afd>>>,
    /// Everything with I/O that may be in flight on this port (for shutdown), by slot.
    registrations: Mutex<Slab>,
    /// Requests and packets given to the kernel and not yet dequeued.
    in_flight: AtomicUsize,
    /// Set when the last `Poll`/`Registry` handle is gone: nothing new is started.
    closed: AtomicBool,
    /// Sockets whose request the polling thread brings up to date just before it waits
    /// (see [`SockState::schedule`]).
    updates: Mutex<Vec<Arc<SockState>>>,
    /// Something was pushed to `updates` since the poller last took it: an idle `poll` checks
    /// this instead of taking the lock.
    has_updates: AtomicBool,
    /// A thread is in `select` from the drain of `updates` until `GetQueuedCompletionStatusEx`
    /// returns: a change made meanwhile cannot wait for the queue and is submitted at once.
    polling: AtomicBool,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("port", &self.port).finish()
    }
}

#[derive(Default)]
struct Slab {
    entries: Vec<Option<Arc<dyn Registration>>>,
    free: Vec<usize>,
}

impl Shared {
    /// Counts an operation about to be handed to the kernel; `false` (and nothing counted)
    /// once the selector is shutting down, when nothing may be started any more.
    pub(crate) fn begin_op(&self) -> bool {
        // SeqCst pairs with `shutdown`: either it sees this count and waits for the packet,
        // or this sees `closed` and starts nothing.
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if self.closed.load(Ordering::SeqCst) {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            false
        } else {
            true
        }
    }

    /// An operation counted by `begin_op` will produce no packet after all, or its packet
    /// was dequeued.
    pub(crate) fn end_op(&self) {
        let _before = self.in_flight.fetch_sub(1, Ordering::SeqCst);
        // More ends than begins means a packet was released twice (its reference too):
        // caught here in tests rather than as a shutdown that waits out its bound.
        debug_assert!(_before > 0, "in-flight count underflow");
    }

    pub(crate) fn add_registration(&self, r: Arc<dyn Registration>) -> usize {
        let mut slab = lock(&self.registrations);
        match slab.free.pop() {
            Some(i) => {
                slab.entries[i] = Some(r);
                i
            }
            None => {
                slab.entries.push(Some(r));
                slab.entries.len() - 1
            }
        }
    }

    /// Adds the registration `make` builds, given the slot it will have (a socket's lifecycle
    /// starts registered, at its slot).
    fn add_registration_with<R: Registration + 'static>(
        &self,
        make: impl FnOnce(usize) -> Arc<R>,
    ) -> Arc<R> {
        let mut slab = lock(&self.registrations);
        let slot = slab.free.pop().unwrap_or(slab.entries.len());
        let r = make(slot);
        let entry = Some(Arc::clone(&r) as Arc<dyn Registration>);
        if slot == slab.entries.len() {
            slab.entries.push(entry);
        } else {
            slab.entries[slot] = entry;
        }
        r
    }

    pub(crate) fn remove_registration(&self, slot: usize) {
        let mut slab = lock(&self.registrations);
        if let Some(entry) = slab.entries.get_mut(slot) {
            if entry.take().is_some() {
                slab.free.push(slot);
            }
        }
    }

    /// The AFD handle for a new socket: the current one while fewer than
    /// [`SOCKETS_PER_AFD`] sockets use it, a new one otherwise. A handle is closed when its
    /// last socket is gone.
    fn afd(&self) -> io::Result<Arc<Afd>> {
        let mut current = lock(&self.afd);
        if let Some(afd) = &*current {
            // The pool's own reference plus one per socket.
            if Arc::strong_count(afd) <= SOCKETS_PER_AFD {
                return Ok(Arc::clone(afd));
            }
        }
        let afd = Arc::new(Afd::new(&self.port, key::AFD)?);
        *current = Some(Arc::clone(&afd));
        Ok(afd)
    }

    /// Turns one dequeued packet into at most one event (`events` is `None` during shutdown).
    fn complete(&self, entry: &OVERLAPPED_ENTRY, events: Option<&mut Vec<Event>>) {
        match entry.lpCompletionKey {
            key::AFD => {
                self.end_op();
                // SAFETY: an AFD packet's context is the reference `SockState::submit` gave
                // away with `Arc::into_raw`; the kernel hands it back exactly once, here.
                let sock = unsafe { Arc::from_raw(entry.lpOverlapped as *const SockState) };
                if let Some(event) = sock.complete() {
                    if let Some(events) = events {
                        events.push(event);
                    }
                }
            }
            key::WAKER => {
                self.end_op();
                // SAFETY: a waker packet carries the reference `Waker::wake` gave away with
                // `Arc::into_raw`; the port hands it back exactly once, here.
                let waker = unsafe { Arc::from_raw(entry.lpOverlapped as *const WakerState) };
                // Cleared before the event is handed out: a wake from now on posts again. A
                // swap (AcqRel): this read-modify-write is ordered after the wake that set it
                // and before any later wake's swap, whatever the interleaving.
                waker.pending.swap(false, Ordering::AcqRel);
                if let Some(events) = events {
                    events.push(Event {
                        flags: afd::POLL_RECEIVE,
                        data: waker.token.0,
                    });
                }
            }
            key::OVERLAPPED => {
                self.end_op();
                // SAFETY: packets with this key are only produced by overlapped operations on
                // handles this selector associated, each started on an `Overlapped` that its
                // owner keeps alive until this callback (which takes back its reference).
                let overlapped = unsafe { &*(entry.lpOverlapped as *const Overlapped) };
                (overlapped.callback)(entry, events);
            }
            key::RETRY => self.end_op(),
            // Nothing else is ever queued on this port.
            _ => {}
        }
    }

    /// Cancels everything in flight and dequeues the cancelled completions, so every buffer
    /// and reference the kernel held is released before the port closes.
    fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Queued sockets will never be submitted now (and they hold this `Shared`).
        lock(&self.updates).clear();
        let registrations = std::mem::take(&mut *lock(&self.registrations));
        for r in registrations.entries.into_iter().flatten() {
            r.cancel_all();
        }
        let mut entries = [MaybeUninit::<OVERLAPPED_ENTRY>::uninit(); 64];
        // Cancelled requests complete promptly; the bound only guards against a driver that
        // never completes one (then its memory is leaked, never freed under the kernel).
        let give_up = Instant::now() + Duration::from_secs(10);
        while self.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < give_up {
            match self
                .port
                .get_many(&mut entries, Some(Duration::from_millis(50)))
            {
                Ok(done) => {
                    for entry in done {
                        self.complete(entry, None);
                    }
                }
                Err(_) => break,
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves consistent state (each critical
    // section is a few assignments), so poisoning is ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A `Poll`'s selector; `try_clone` shares it. The last one shuts the port down.
#[derive(Debug)]
pub(crate) struct Selector {
    inner: Arc<SelectorInner>,
    /// Swapped with `Shared::updates` to drain it without holding its lock or allocating.
    spare: Vec<Arc<SockState>>,
}

#[derive(Debug)]
struct SelectorInner {
    shared: Arc<Shared>,
}

impl Drop for SelectorInner {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        crate::sys::windows::net::init();
        let shared = Arc::new(Shared {
            port: CompletionPort::new()?,
            afd: Mutex::new(None),
            registrations: Mutex::new(Slab::default()),
            in_flight: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            updates: Mutex::new(Vec::new()),
            has_updates: AtomicBool::new(false),
            polling: AtomicBool::new(false),
        });
        Ok(Selector {
            inner: Arc::new(SelectorInner { shared }),
            spare: Vec::new(),
        })
    }

    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector {
            inner: Arc::clone(&self.inner),
            spare: Vec::new(),
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// Waits for packets and turns them into events. Packets that make no event (a cancelled
    /// request, a deregistered source) do not end the wait early: it goes on until at least
    /// one event or the timeout, which counts from the call (what is left of it is waited
    /// for, so no `Instant` arithmetic can overflow, even with `Duration::MAX`).
    pub(crate) fn select(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.events.clear();
        if events.entries.is_empty() {
            // As epoll_wait(2) with maxevents 0.
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let shared = &self.inner.shared;
        // Only a finite, non-zero wait may have to go on after internal packets.
        let start = match timeout {
            Some(to) if !to.is_zero() => Some(Instant::now()),
            _ => None,
        };
        let mut wait = timeout;
        loop {
            // Pairs with `SockState::schedule`: either its push is seen by the drain below, or
            // it sees `polling` and submits itself.
            shared.polling.store(true, Ordering::SeqCst);
            std::sync::atomic::fence(Ordering::SeqCst);
            drain_updates(shared, &mut self.spare, &mut events.events);
            if !events.events.is_empty() {
                shared.polling.store(false, Ordering::SeqCst);
                return Ok(());
            }
            let res = shared.port.get_many(&mut events.entries, wait);
            shared.polling.store(false, Ordering::SeqCst);
            let done = res?;
            if done.is_empty() {
                return Ok(());
            }
            for entry in done {
                shared.complete(entry, Some(&mut events.events));
            }
            if !events.events.is_empty() {
                return Ok(());
            }
            // Only internal packets: wait for the rest of the timeout.
            wait = match (timeout, start) {
                (None, _) => None,
                (Some(_), None) => return Ok(()),
                (Some(to), Some(start)) => {
                    let left = to.saturating_sub(start.elapsed());
                    if left.is_zero() {
                        return Ok(());
                    }
                    Some(left)
                }
            };
        }
    }

    /// Registers a socket: finds its base handle, gives it a [`SockState`] on a pooled AFD
    /// handle and submits its first poll request.
    pub(crate) fn register_socket(
        &self,
        socket: RawSocket,
        token: Token,
        interests: Interest,
    ) -> io::Result<Arc<SockState>> {
        let trigger = socket_trigger(interests)?;
        let shared = &self.inner.shared;
        let base = super::net::base_socket(socket)?;
        let afd = shared.afd()?;
        let sock = shared.add_registration_with(|slot| {
            Arc::new(SockState {
                iosb: UnsafeCell::new(IO_STATUS_BLOCK::default()),
                info: UnsafeCell::new(PollInfo::zeroed()),
                afd,
                shared: Arc::clone(shared),
                base: base as HANDLE,
                inner: Mutex::new(SockInner {
                    token,
                    interests: interest_mask(interests),
                    armed: interest_mask(interests),
                    life: Lifecycle::register(slot),
                    trigger,
                }),
                shadow: Shadow::new(),
            })
        });
        let mut inner = lock(&sock.inner);
        // The first request is queued like any other (so `register` + `deregister` with no
        // `poll` between costs no kernel call, as upstream's), and submitted by whichever
        // comes first: the next `poll`, or the next I/O operation on the socket
        // (`do_io`). The latter matters: a request reports the socket's state when it is
        // submitted, and under Wine an error that came before it (the ICMP answer to a
        // connected UDP socket's first `send`) is not part of that state, so a request
        // submitted after the send would never report it. With a thread blocked in `poll`,
        // `schedule` submits it at once, and a failure is this call's error.
        if let Err(err) = sock.schedule(&mut inner) {
            // Nothing is in flight (the submit failed), so nothing is cancelled.
            let left = inner.life.delete(&sock.shadow, || Ok(()));
            drop(inner);
            if let Some(slot) = left.slot {
                shared.remove_registration(slot);
            }
            return Err(err);
        }
        drop(inner);
        Ok(sock)
    }
}

/// Submits the requests of the sockets scheduled since the last wait (completions just
/// reported, re-arms, registrations): one request each, with everything armed by now. A
/// submission that fails is reported as an error event, not lost.
fn drain_updates(shared: &Shared, spare: &mut Vec<Arc<SockState>>, events: &mut Vec<Event>) {
    // Set by `schedule` before its fence: either seen here, or `schedule` saw `polling`.
    if !shared.has_updates.swap(false, Ordering::SeqCst) {
        return;
    }
    {
        let mut updates = lock(&shared.updates);
        if updates.is_empty() {
            return;
        }
        std::mem::swap(&mut *updates, spare);
    }
    for sock in spare.drain(..) {
        let mut inner = lock(&sock.inner);
        if !inner.life.dequeue() {
            // Deleted since it was queued: a stale entry.
            continue;
        }
        if let Err(_err) = sock.update(&mut inner) {
            trace!("submitting an AFD poll request failed: {}", _err);
            inner.armed = 0;
            if events.len() < events.capacity() {
                events.push(Event {
                    flags: afd::POLL_ABORT,
                    data: inner.token.0,
                });
            }
        }
    }
    // Keep the larger buffer where pushes happen, so that neither `Vec` grows in steady state.
    let mut updates = lock(&shared.updates);
    if updates.is_empty() && updates.capacity() < spare.capacity() {
        std::mem::swap(&mut *updates, spare);
    }
}

/// The trigger of a socket registration: AFD gives edge, oneshot and level; it has nothing
/// like `EPOLLEXCLUSIVE` (each request is answered on its own), so exclusive is refused.
pub(crate) fn socket_trigger(interests: Interest) -> io::Result<Trigger> {
    match interests.trigger_checked()? {
        Trigger::Exclusive => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "exclusive registrations need epoll (EPOLLEXCLUSIVE); Windows cannot give them",
        )),
        trigger => Ok(trigger),
    }
}

/// The AFD events an interest asks for; errors are always asked for.
fn interest_mask(interests: Interest) -> u32 {
    let mut mask = ERROR_EVENTS;
    if interests.is_readable() {
        mask |= READ_EVENTS;
    }
    if interests.is_writable() {
        mask |= WRITE_EVENTS;
    }
    mask
}

/// A registered socket: its poll request's buffers and its edge-triggering state.
pub(crate) struct SockState {
    /// Written by the kernel while a request is in flight; read only after its completion
    /// was dequeued (when `request` is `Idle` again), under `inner`'s lock.
    iosb: UnsafeCell<IO_STATUS_BLOCK>,
    info: UnsafeCell<PollInfo>,
    afd: Arc<Afd>,
    shared: Arc<Shared>,
    base: HANDLE,
    inner: Mutex<SockInner>,
    /// What of `inner.life` is read without the lock: whether the first request is still to
    /// be made (`IoSourceState::do_io`) and whether the socket is deleted (to prune the update
    /// queue). Written only by the lifecycle's transitions.
    shadow: Shadow,
}

// SAFETY: `iosb` and `info` are only touched under `inner`'s lock and only while no request is
// in flight (the kernel is the sole writer otherwise); `base` is a socket handle value, used
// only as an argument. Everything else is `Send + Sync`.
unsafe impl Send for SockState {}
// SAFETY: as above.
unsafe impl Sync for SockState {}

// A panic while the lock is held leaves every field consistent (each critical section only
// assigns plain values), so a `TcpStream` stays usable across `catch_unwind`, as on Unix.
impl std::panic::RefUnwindSafe for SockState {}
impl std::panic::UnwindSafe for SockState {}

impl fmt::Debug for SockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SockState")
            .field("base", &self.base)
            .finish()
    }
}

#[derive(Debug)]
struct SockInner {
    token: Token,
    /// The AFD events the registration asks for.
    interests: u32,
    /// Those not reported since they were last armed.
    armed: u32,
    /// Where the socket is in its life: registered (with its request and whether it is
    /// queued), closing (deleted, a request still in flight) or deleted. See [`lifecycle`].
    life: Lifecycle,
    /// Edge (the armed mask as described above), oneshot (everything disarmed after one
    /// event, re-armed only by `reregister`) or level (never disarmed: the request is
    /// re-submitted at once, and completes at once while the socket is ready).
    trigger: Trigger,
}

pub(crate) mod lifecycle {
    //! A registered socket's lifecycle: one state ([`Lifecycle`]), changed only by the
    //! transitions in this module (the table at the top of `selector.rs`). The selector cannot
    //! set a state itself, so what must never happen cannot be written there:
    //!
    //! - a deleted socket has no request to submit or cancel and no queue flag to set:
    //!   [`Lifecycle::start_update`] and [`Lifecycle::request`] give nothing for it, and
    //!   [`Lifecycle::queue`] refuses it (a re-arm after its `Poll` is gone cannot queue it and
    //!   keep the port alive: issue 16, defect 4);
    //! - a request in flight keeps its socket out of `Deleted` (in `Closing` until its
    //!   completion), and a request whose cancel failed keeps the socket's registration slot,
    //!   so a `Poll` shutting down cancels it again and waits for it (defect 5);
    //! - the registration slot is handed out exactly once, by the transition that leaves the
    //!   registrations (`delete`, or the completion that ends `Closing`).
    use std::io;
    use std::sync::atomic::{AtomicU8, Ordering};

    /// The AFD poll request of a registered socket; at most one is in flight. The kernel owns
    /// the buffers (and a reference to the `SockState`) from its submission until its
    /// completion is dequeued.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Request {
        /// Registered and its first request not made yet: it is queued, and the next poll or
        /// I/O operation makes it (whichever comes first).
        New,
        /// None in flight: the buffers are ours.
        Idle,
        /// In flight, asking for these events.
        InFlight(u32),
        /// In flight and asked to cancel (it missed an armed event): its completion comes
        /// next, and nothing is submitted until then.
        Cancelling,
    }

    #[derive(Debug)]
    enum State {
        /// In the port's registrations at `slot`; `queued`: on `Shared::updates`.
        Registered {
            slot: usize,
            request: Request,
            queued: bool,
        },
        /// Deregistered, closed or its `Poll` gone, with a request still in flight (the kernel
        /// holds a reference to the socket); its completion ends it. `slot`: the request's
        /// cancel failed, so it is still in the port's registrations, where a `Poll` shutting
        /// down finds it, cancels it again and waits for it.
        Closing { slot: Option<usize> },
        /// Nothing in flight, out of the registrations and off the queue's books, for good.
        Deleted,
    }

    /// A socket's lifecycle; see the module.
    #[derive(Debug)]
    pub(crate) struct Lifecycle(State);

    /// What of a [`Lifecycle`] is read without its lock (relaxed: a hint whose staleness is
    /// harmless), written only by the transitions.
    #[derive(Debug)]
    pub(crate) struct Shadow(AtomicU8);

    const NEW: u8 = 0;
    const LIVE: u8 = 1;
    const DELETED: u8 = 2;

    impl Shadow {
        pub(crate) fn new() -> Shadow {
            Shadow(AtomicU8::new(NEW))
        }

        /// The first request is still to be made (`Request::New`): the next I/O operation
        /// makes it first.
        pub(crate) fn is_new(&self) -> bool {
            self.0.load(Ordering::Relaxed) == NEW
        }

        /// Closing or deleted: a queue entry for it can be pruned.
        pub(crate) fn is_deleted(&self) -> bool {
            self.0.load(Ordering::Relaxed) == DELETED
        }

        fn set(&self, value: u8) {
            self.0.store(value, Ordering::Relaxed);
        }
    }

    /// What [`Lifecycle::delete`] leaves to its caller.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) struct Left {
        /// The registration slot to give back: the socket left the registrations.
        pub(crate) slot: Option<usize>,
        /// The socket may still be on the update queue (the drain skips it there).
        pub(crate) queued: bool,
    }

    /// What a dequeued completion finds.
    #[derive(Debug, PartialEq, Eq)]
    pub(crate) enum Completion {
        /// Registered, no request in flight now: the completion is an event to report.
        Live,
        /// The socket was deleted under its request, which is now over: `slot`, if any, is to
        /// be given back.
        Deleted { slot: Option<usize> },
    }

    impl Lifecycle {
        /// `register`: in the registrations at `slot`, its first request to be made.
        pub(crate) fn register(slot: usize) -> Lifecycle {
            Lifecycle(State::Registered {
                slot,
                request: Request::New,
                queued: false,
            })
        }

        /// The request, while registered; `None` once deleted.
        pub(crate) fn request(&self) -> Option<Request> {
            match self.0 {
                State::Registered { request, .. } => Some(request),
                State::Closing { .. } | State::Deleted => None,
            }
        }

        /// Queues a registered socket that is not queued yet, if `push` (which puts it on the
        /// queue) succeeds; whether it is on the queue now. A deleted socket is never queued.
        pub(crate) fn queue(&mut self, push: impl FnOnce() -> bool) -> bool {
            match &mut self.0 {
                State::Registered { queued: true, .. } => true,
                State::Registered { queued, .. } => {
                    *queued = push();
                    *queued
                }
                State::Closing { .. } | State::Deleted => false,
            }
        }

        /// The poller took the socket off the queue; whether it is to be brought up to date
        /// (`false`: deleted since, a stale entry).
        pub(crate) fn dequeue(&mut self) -> bool {
            match &mut self.0 {
                State::Registered { queued, .. } => {
                    *queued = false;
                    true
                }
                State::Closing { .. } | State::Deleted => false,
            }
        }

        /// The request is about to be brought in line with the armed events: the first
        /// request is no longer pending (`New` becomes `Idle`). The request to compare with,
        /// `None` if deleted: nothing may be submitted or cancelled then.
        pub(crate) fn start_update(&mut self, shadow: &Shadow) -> Option<Request> {
            match &mut self.0 {
                State::Registered { request, .. } => {
                    if *request == Request::New {
                        *request = Request::Idle;
                        shadow.set(LIVE);
                    }
                    Some(*request)
                }
                State::Closing { .. } | State::Deleted => None,
            }
        }

        /// A request for `events` was submitted (only ever with none in flight).
        pub(crate) fn submitted(&mut self, events: u32) {
            match &mut self.0 {
                State::Registered { request, .. }
                    if matches!(request, Request::New | Request::Idle) =>
                {
                    *request = Request::InFlight(events);
                }
                _state => debug_assert!(false, "a request submitted in {:?}", _state),
            }
        }

        /// The request in flight was asked to cancel.
        pub(crate) fn cancelled(&mut self) {
            match &mut self.0 {
                State::Registered { request, .. } if matches!(request, Request::InFlight(_)) => {
                    *request = Request::Cancelling;
                }
                _state => debug_assert!(false, "a cancel sent in {:?}", _state),
            }
        }

        /// The completion of the request in flight was dequeued.
        pub(crate) fn completed(&mut self) -> Completion {
            match &mut self.0 {
                State::Registered { request, .. } => {
                    debug_assert!(
                        matches!(request, Request::InFlight(_) | Request::Cancelling),
                        "a completion with no request in flight ({request:?})"
                    );
                    *request = Request::Idle;
                    Completion::Live
                }
                State::Closing { slot } => {
                    let slot = slot.take();
                    self.0 = State::Deleted;
                    Completion::Deleted { slot }
                }
                State::Deleted => {
                    debug_assert!(false, "a completion after the last one");
                    Completion::Deleted { slot: None }
                }
            }
        }

        /// Deregistered, dropped, closed under its request (with none in flight then) or its
        /// `Poll` gone. `cancel` is called, only when a request is in flight and not yet asked
        /// to cancel, to cancel it: then the socket is `Closing` until its completion, and
        /// keeps its slot if `cancel` fails. Deleting a deleted socket retries only such a
        /// failed cancel.
        pub(crate) fn delete(
            &mut self,
            shadow: &Shadow,
            cancel: impl FnOnce() -> io::Result<()>,
        ) -> Left {
            shadow.set(DELETED);
            match self.0 {
                State::Registered {
                    slot,
                    request: Request::New | Request::Idle,
                    queued,
                } => {
                    self.0 = State::Deleted;
                    Left {
                        slot: Some(slot),
                        queued,
                    }
                }
                State::Registered {
                    slot,
                    request: Request::Cancelling,
                    queued,
                } => {
                    self.0 = State::Closing { slot: None };
                    Left {
                        slot: Some(slot),
                        queued,
                    }
                }
                State::Registered {
                    slot,
                    request: Request::InFlight(_),
                    queued,
                } => {
                    let cancelled = cancel_traced(cancel);
                    self.0 = State::Closing {
                        slot: (!cancelled).then_some(slot),
                    };
                    Left {
                        slot: cancelled.then_some(slot),
                        queued,
                    }
                }
                State::Closing { slot: Some(slot) } => {
                    let cancelled = cancel_traced(cancel);
                    if cancelled {
                        self.0 = State::Closing { slot: None };
                    }
                    Left {
                        slot: cancelled.then_some(slot),
                        queued: false,
                    }
                }
                State::Closing { slot: None } | State::Deleted => Left {
                    slot: None,
                    queued: false,
                },
            }
        }
    }

    fn cancel_traced(cancel: impl FnOnce() -> io::Result<()>) -> bool {
        match cancel() {
            Ok(()) => true,
            Err(_err) => {
                trace!("cancelling an AFD poll request failed: {}", _err);
                false
            }
        }
    }

    #[cfg(test)]
    mod tests {
        //! The transitions on their own, without a kernel: each row of the table, and the
        //! moves that must not exist.
        use super::*;

        fn fail() -> io::Result<()> {
            Err(io::Error::other("injected"))
        }

        fn never() -> io::Result<()> {
            panic!("nothing is in flight: nothing to cancel")
        }

        #[test]
        fn a_deleted_socket_is_never_queued_or_submitted() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(3);
            assert!(shadow.is_new());
            let left = life.delete(&shadow, never);
            assert_eq!(left, Left { slot: Some(3), queued: false });
            assert!(shadow.is_deleted());
            assert!(!life.queue(|| panic!("pushed a deleted socket")));
            assert_eq!(life.start_update(&shadow), None);
            assert_eq!(life.request(), None);
            assert!(!life.dequeue());
            // Deleting again gives nothing back twice.
            assert_eq!(life.delete(&shadow, never), Left { slot: None, queued: false });
        }

        #[test]
        fn queued_once_until_the_poller_takes_it() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(0);
            // A closed selector refuses the push: not queued, so the next try pushes again.
            assert!(!life.queue(|| false));
            assert!(life.queue(|| true));
            assert!(life.queue(|| panic!("pushed twice")));
            assert!(life.dequeue());
            assert!(life.queue(|| true));
            assert_eq!(life.start_update(&shadow), Some(Request::Idle));
            assert!(!shadow.is_new());
        }

        #[test]
        fn request_cycle() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(0);
            assert_eq!(life.start_update(&shadow), Some(Request::Idle));
            life.submitted(5);
            assert_eq!(life.request(), Some(Request::InFlight(5)));
            life.cancelled();
            assert_eq!(life.request(), Some(Request::Cancelling));
            assert_eq!(life.completed(), Completion::Live);
            assert_eq!(life.request(), Some(Request::Idle));
        }

        #[test]
        fn deleted_in_flight_gives_the_slot_back_once() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(7);
            assert!(life.queue(|| true));
            life.start_update(&shadow);
            life.submitted(1);
            let mut calls = 0;
            let left = life.delete(&shadow, || {
                calls += 1;
                Ok(())
            });
            assert_eq!(calls, 1);
            assert_eq!(left, Left { slot: Some(7), queued: true });
            // Still in flight: not deleted yet, but nothing to submit, cancel or queue.
            assert_eq!(life.request(), None);
            assert!(!life.queue(|| panic!("pushed a closing socket")));
            assert_eq!(life.delete(&shadow, never), Left { slot: None, queued: false });
            assert_eq!(life.completed(), Completion::Deleted { slot: None });
        }

        #[test]
        fn a_failed_cancel_keeps_the_slot_until_the_completion() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(2);
            life.start_update(&shadow);
            life.submitted(1);
            assert_eq!(life.delete(&shadow, fail), Left { slot: None, queued: false });
            // The `Poll` shutting down tries again; it fails again: the completion frees it.
            assert_eq!(life.delete(&shadow, fail), Left { slot: None, queued: false });
            assert_eq!(life.completed(), Completion::Deleted { slot: Some(2) });
        }

        #[test]
        fn a_failed_cancel_retried_gives_the_slot_back() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(2);
            life.start_update(&shadow);
            life.submitted(1);
            assert_eq!(life.delete(&shadow, fail), Left { slot: None, queued: false });
            assert_eq!(life.delete(&shadow, || Ok(())), Left { slot: Some(2), queued: false });
            assert_eq!(life.completed(), Completion::Deleted { slot: None });
        }

        #[test]
        fn deleted_while_cancelling_sends_no_second_cancel() {
            let shadow = Shadow::new();
            let mut life = Lifecycle::register(4);
            life.start_update(&shadow);
            life.submitted(1);
            life.cancelled();
            assert_eq!(life.delete(&shadow, never), Left { slot: Some(4), queued: false });
            assert_eq!(life.completed(), Completion::Deleted { slot: None });
        }
    }
}

use lifecycle::{Lifecycle, Request, Shadow};

impl SockState {
    /// Brings the kernel in line with `armed` soon: when no thread is polling, by queueing the
    /// socket for the polling thread, which submits one request with everything armed by
    /// then just before it waits (so handling an event, which disarms and then re-arms, costs
    /// one request, never a submit and a cancel); when a thread is polling, at once.
    fn schedule(self: &Arc<Self>, inner: &mut SockInner) -> io::Result<()> {
        let shared = &self.shared;
        // A deleted socket (deregistered, closed, or its `Poll` gone) is neither queued (which
        // would keep it, and through it the port, alive for ever) nor submitted: the lifecycle
        // has no such transition (`Lifecycle::queue`, `Lifecycle::start_update`).
        if !shared.polling.load(Ordering::SeqCst) {
            if !self.enqueue(inner) {
                return Ok(());
            }
            std::sync::atomic::fence(Ordering::SeqCst);
            if !shared.polling.load(Ordering::SeqCst) {
                return Ok(());
            }
            // A poller started meanwhile and may have drained the queue already.
        }
        self.update(inner)
    }

    /// Puts the socket on `Shared::updates` (once); `false` if it is deleted or the selector
    /// is closed.
    fn enqueue(self: &Arc<Self>, inner: &mut SockInner) -> bool {
        let shared = &self.shared;
        inner.life.queue(|| {
            let mut updates = lock(&shared.updates);
            // Checked under the queue's lock: `shutdown` sets `closed`, then empties the
            // queue under it, so a push either sees `closed` or is emptied out.
            if shared.closed.load(Ordering::SeqCst) {
                return false;
            }
            if updates.len() >= 1024 && updates.len().is_power_of_two() {
                // Registered and deregistered without a poll in between: prune.
                updates.retain(|s| !s.shadow.is_deleted());
            }
            updates.push(Arc::clone(self));
            drop(updates);
            shared.has_updates.store(true, Ordering::SeqCst);
            true
        })
    }

    /// A submit or cancel made from this thread failed while another thread polls: the
    /// socket is queued and the poller woken, so that it tries again at once and, should that
    /// fail too, reports an error event (`drain_updates`) rather than leave an armed direction
    /// with nothing in flight, silent for ever.
    fn retry_on_poller(self: &Arc<Self>, inner: &mut SockInner) {
        if !self.enqueue(inner) {
            return;
        }
        let shared = &self.shared;
        if shared.begin_op() && shared.port.post(key::RETRY, std::ptr::null()).is_err() {
            shared.end_op();
        }
    }

    /// Brings the kernel in line with `armed`: submits a request when none is in flight and
    /// something is armed; cancels one that misses an armed event (its completion, dequeued by
    /// `poll`, submits the right one).
    fn update(self: &Arc<Self>, inner: &mut SockInner) -> io::Result<()> {
        // Deleted: nothing to submit or cancel, by construction.
        let Some(request) = inner.life.start_update(&self.shadow) else {
            return Ok(());
        };
        // While anything is armed a request is in flight: also when only the error events
        // are (a WRITABLE-only socket after its writable event), which epoll always reports
        // (`EPOLLERR`/`EPOLLHUP`) and a reset must not go unreported.
        if inner.armed == 0 {
            return Ok(());
        }
        let mask = inner.armed | afd::POLL_LOCAL_CLOSE;
        match request {
            // Missing an armed event: cancelled; its completion submits the right one.
            Request::InFlight(events) if events & mask != mask => return self.cancel(inner),
            Request::InFlight(_) | Request::Cancelling => return Ok(()),
            Request::New | Request::Idle => {}
        }
        if !self.shared.begin_op() {
            return Ok(());
        }
        // SAFETY: no request is in flight (`Request::Idle` or `New`) and we hold the lock: nobody else
        // reads or writes the buffers.
        unsafe {
            *self.info.get() = PollInfo {
                timeout: i64::MAX,
                number_of_handles: 1,
                exclusive: 0,
                handles: [afd::PollHandleInfo {
                    handle: self.base,
                    events: mask,
                    status: 0,
                }],
            };
        }
        let context = Arc::into_raw(Arc::clone(self));
        // SAFETY: the buffers live in `self`, which the reference passed as `context` keeps
        // alive until the completion is dequeued; nothing touches them until then (`request`
        // is set below, under the lock we hold).
        match unsafe {
            self.afd
                .poll(self.info.get(), self.iosb.get(), context.cast())
        } {
            Ok(()) => {
                inner.life.submitted(mask);
                Ok(())
            }
            Err(err) => {
                // SAFETY: the request was refused, so the kernel did not keep `context`.
                drop(unsafe { Arc::from_raw(context) });
                self.shared.end_op();
                Err(err)
            }
        }
    }

    /// Cancels the request in flight, once (`Cancelling` then); nothing to do without one.
    fn cancel(&self, inner: &mut SockInner) -> io::Result<()> {
        if let Some(Request::InFlight(_)) = inner.life.request() {
            // SAFETY: a request is in flight, so `iosb` is its status block, alive (it holds a
            // reference to `self`) and sent through `self.afd`.
            unsafe { self.afd.cancel(self.iosb.get())? };
            inner.life.cancelled();
        }
        Ok(())
    }

    /// Deletes the socket (deregistered, closed under its request, or its `Poll` gone): its
    /// request in flight, if any, is cancelled; the slot to give back, if the socket left the
    /// registrations, and whether it may still be on the update queue.
    fn delete(&self, inner: &mut SockInner) -> lifecycle::Left {
        inner.life.delete(&self.shadow, || {
            // SAFETY: `Lifecycle::delete` calls this only while a request is in flight (not
            // yet cancelled), so `iosb` is its status block, alive (it holds a reference to
            // `self`) and sent through `self.afd`.
            unsafe { self.afd.cancel(self.iosb.get()) }
        })
    }

    /// A dequeued completion: the event to report, if any, then the next request.
    fn complete(self: &Arc<Self>) -> Option<Event> {
        let mut inner = lock(&self.inner);
        if let lifecycle::Completion::Deleted { slot } = inner.life.completed() {
            drop(inner);
            if let Some(slot) = slot {
                // Deregistered while its cancel failed (`deregister`): out of the list now.
                self.shared.remove_registration(slot);
            }
            return None;
        }
        // SAFETY: the completion was dequeued, so the kernel is done with the buffers, and we
        // hold the lock.
        let (status, info) = unsafe { ((*self.iosb.get()).Anonymous.Status, *self.info.get()) };
        let events = if status == STATUS_CANCELLED {
            0
        } else if status < 0 {
            // The request itself failed (e.g. the socket is gone): report it as an error.
            afd::POLL_ABORT
        } else if info.number_of_handles >= 1 {
            info.handles[0].events
        } else {
            0
        };
        if events & afd::POLL_LOCAL_CLOSE != 0 {
            // The socket was closed under us: its registration ends silently (nothing is in
            // flight now, so nothing is cancelled).
            let left = self.delete(&mut inner);
            drop(inner);
            if let Some(slot) = left.slot {
                self.shared.remove_registration(slot);
            }
            return None;
        }
        let reported = events & inner.armed;
        if inner.trigger == Trigger::Level {
            // Reported again by the next poll while it holds.
        } else if inner.trigger == Trigger::Oneshot && reported != 0 {
            inner.armed = 0;
        } else if reported & ERROR_EVENTS != 0 {
            // Errors are permanent: asking again would complete at once, forever.
            inner.armed = 0;
        } else {
            // Only what was reported: data (`POLL_RECEIVE`) reported and read exactly, without
            // a `WouldBlock`, must still leave the peer's FIN (`POLL_DISCONNECT`) to be
            // reported when it comes, as epoll reports `EPOLLRDHUP` as a new edge.
            inner.armed &= !reported;
        }
        let event = (reported != 0).then(|| Event {
            flags: reported,
            data: inner.token.0,
        });
        // The next request is submitted by the polling thread before it waits again, merged
        // with whatever the handling of this event re-arms (no submit-then-cancel). A failure
        // is reported as an error event rather than lost.
        if let Err(_err) = self.schedule(&mut inner) {
            trace!("re-submitting an AFD poll request failed: {}", _err);
            inner.armed = 0;
            return Some(Event {
                flags: afd::POLL_ABORT,
                data: inner.token.0,
            });
        }
        event
    }

    /// Submits the first request of a registration that is still queued (before an I/O
    /// operation, see `register_socket`). A failure is left to the polling thread, which
    /// finds the socket still queued, tries again and reports an error event.
    #[cold]
    fn submit_first(self: &Arc<Self>) {
        let mut inner = lock(&self.inner);
        if inner.life.request() == Some(Request::New) {
            if let Err(_err) = self.update(&mut inner) {
                trace!("submitting an AFD poll request failed: {}", _err);
                self.retry_on_poller(&mut inner);
            }
        }
    }

    /// `WouldBlock` from an operation: its direction is armed again.
    fn rearm(self: &Arc<Self>, rearm: Rearm) {
        let mut inner = lock(&self.inner);
        if inner.trigger != Trigger::Edge {
            // Oneshot waits for `reregister`; level never disarms.
            return;
        }
        let direction = match rearm {
            Rearm::All => READ_EVENTS | WRITE_EVENTS | ERROR_EVENTS,
            Rearm::Read => READ_EVENTS | ERROR_EVENTS,
            Rearm::Write => WRITE_EVENTS | ERROR_EVENTS,
        };
        let armed = inner.armed | (inner.interests & direction);
        if armed != inner.armed {
            inner.armed = armed;
            if let Err(_err) = self.schedule(&mut inner) {
                // The operation's own result stands; the poller tries again.
                trace!("re-arming an AFD poll request failed: {}", _err);
                self.retry_on_poller(&mut inner);
            }
        }
    }

    fn reregister(self: &Arc<Self>, token: Token, interests: Interest) -> io::Result<()> {
        let trigger = socket_trigger(interests)?;
        let mut inner = lock(&self.inner);
        inner.trigger = trigger;
        inner.token = token;
        inner.interests = interest_mask(interests);
        inner.armed = inner.interests;
        self.update(&mut inner)
    }

    fn deregister(&self) {
        let mut inner = lock(&self.inner);
        // A failed cancel leaves the request in flight (until the socket closes) and the
        // socket in the port's registrations (`slot` is `None` here), so a `Poll` shutting
        // down cancels it again and waits for it; its completion takes it out (`complete`).
        let left = self.delete(&mut inner);
        drop(inner);
        if left.queued {
            // Registered and deregistered between two polls (the common case last in the
            // queue): take it out now rather than holding it until the next poll (elsewhere in
            // the queue, the drain skips it).
            let mut updates = lock(&self.shared.updates);
            if updates
                .last()
                .is_some_and(|last| std::ptr::eq(&**last, self))
            {
                updates.pop();
            }
        }
        if let Some(slot) = left.slot {
            self.shared.remove_registration(slot);
        }
    }
}

impl Registration for SockState {
    fn cancel_all(&self) {
        // The registrations and the queue are gone already (`Shared::shutdown`), so neither
        // the slot nor the queue entry is given back. A failed cancel leaves nothing more to
        // try: the drain waits for the request (bounded).
        let _ = self.delete(&mut lock(&self.inner));
    }
}

/// Per-source state of an `IoSource`: its registration, if any.
#[derive(Debug)]
pub(crate) struct IoSourceState {
    sock: Option<Arc<SockState>>,
}

impl IoSourceState {
    pub(crate) fn new() -> IoSourceState {
        IoSourceState { sock: None }
    }

    /// Runs one operation; `WouldBlock` re-arms its direction.
    #[inline]
    pub(crate) fn do_io<T, F, R>(&self, f: F, io: &T, rearm: Rearm) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        if let Some(sock) = &self.sock {
            if sock.shadow.is_new() {
                sock.submit_first();
            }
        }
        let res = f(io);
        if let Err(err) = &res {
            if err.kind() == io::ErrorKind::WouldBlock {
                if let Some(sock) = &self.sock {
                    sock.rearm(rearm);
                }
            }
        }
        res
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        socket: RawSocket,
    ) -> io::Result<()> {
        if self.sock.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a `Registry`",
            ));
        }
        self.sock = Some(selector.register_socket(socket, token, interests)?);
        Ok(())
    }

    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        _: RawSocket,
    ) -> io::Result<()> {
        let sock = self.registered(selector)?;
        sock.reregister(token, interests)
    }

    pub(crate) fn deregister(&mut self, selector: &Selector, _: RawSocket) -> io::Result<()> {
        self.registered(selector)?;
        if let Some(sock) = self.sock.take() {
            sock.deregister();
        }
        Ok(())
    }

    fn registered(&self, selector: &Selector) -> io::Result<&Arc<SockState>> {
        match &self.sock {
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "I/O source not registered with `Registry`",
            )),
            Some(sock) if Arc::ptr_eq(&sock.shared, selector.shared()) => Ok(sock),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a different `Registry`",
            )),
        }
    }
}

impl Drop for IoSourceState {
    fn drop(&mut self) {
        if let Some(sock) = self.sock.take() {
            sock.deregister();
        }
    }
}

/// The state a `Waker`'s packets point to.
#[derive(Debug)]
pub(crate) struct WakerState {
    token: Token,
    /// A packet is queued and not yet dequeued: further wakes add nothing.
    pending: AtomicBool,
}

/// A `Waker`: posts one completion packet carrying its token; wakes coalesce until the
/// packet is dequeued.
#[derive(Debug)]
pub(crate) struct Waker {
    state: Arc<WakerState>,
    shared: Arc<Shared>,
}

impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        Ok(Waker {
            state: Arc::new(WakerState {
                token,
                pending: AtomicBool::new(false),
            }),
            shared: Arc::clone(selector.shared()),
        })
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        if self.state.pending.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        if !self.shared.begin_op() {
            // The `Poll` is gone: nobody would see the packet.
            self.state.pending.store(false, Ordering::SeqCst);
            return Ok(());
        }
        let context = Arc::into_raw(Arc::clone(&self.state));
        if let Err(err) = self.shared.port.post(key::WAKER, context.cast()) {
            // SAFETY: the packet was not queued, so the port did not keep `context`.
            drop(unsafe { Arc::from_raw(context) });
            self.shared.end_op();
            self.state.pending.store(false, Ordering::SeqCst);
            return Err(err);
        }
        Ok(())
    }
}

/// Reading an [`Event`], as upstream documents the mapping on Windows.
pub(crate) mod event {
    use std::fmt;

    use super::{afd, Event, WRITE_CLOSED};
    use crate::Token;

    pub(crate) fn token(event: &Event) -> Token {
        Token(event.data)
    }

    pub(crate) fn is_readable(event: &Event) -> bool {
        event.flags
            & (afd::POLL_RECEIVE
                | afd::POLL_ACCEPT
                | afd::POLL_DISCONNECT
                | afd::POLL_ABORT
                | afd::POLL_CONNECT_FAIL)
            != 0
    }

    pub(crate) fn is_writable(event: &Event) -> bool {
        event.flags & (afd::POLL_SEND | afd::POLL_ABORT | afd::POLL_CONNECT_FAIL | WRITE_CLOSED)
            != 0
    }

    pub(crate) fn is_error(event: &Event) -> bool {
        event.flags & (afd::POLL_ABORT | afd::POLL_CONNECT_FAIL) != 0
    }

    /// A failed connect (`POLL_CONNECT_FAIL`) is closed both ways, as epoll reports a
    /// refused connect (`EPOLLHUP`). (Wine also sets that bit for a connected UDP socket's
    /// ICMP error, which Windows reports through `recv` instead.)
    pub(crate) fn is_read_closed(event: &Event) -> bool {
        event.flags & (afd::POLL_DISCONNECT | afd::POLL_ABORT | afd::POLL_CONNECT_FAIL) != 0
    }

    pub(crate) fn is_write_closed(event: &Event) -> bool {
        event.flags & (afd::POLL_ABORT | afd::POLL_CONNECT_FAIL | WRITE_CLOSED) != 0
    }

    pub(crate) fn is_priority(event: &Event) -> bool {
        event.flags & afd::POLL_RECEIVE_EXPEDITED != 0
    }

    /// The `{:#?}` details of an event: the AFD bits by name. Not a stable format.
    pub(crate) struct Details<'a>(pub(crate) &'a Event);

    impl fmt::Debug for Details<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            const NAMES: &[(u32, &str)] = &[
                (afd::POLL_RECEIVE, "AFD_POLL_RECEIVE"),
                (afd::POLL_RECEIVE_EXPEDITED, "AFD_POLL_RECEIVE_EXPEDITED"),
                (afd::POLL_SEND, "AFD_POLL_SEND"),
                (afd::POLL_DISCONNECT, "AFD_POLL_DISCONNECT"),
                (afd::POLL_ABORT, "AFD_POLL_ABORT"),
                (afd::POLL_LOCAL_CLOSE, "AFD_POLL_LOCAL_CLOSE"),
                (afd::POLL_ACCEPT, "AFD_POLL_ACCEPT"),
                (afd::POLL_CONNECT_FAIL, "AFD_POLL_CONNECT_FAIL"),
                (WRITE_CLOSED, "WRITE_CLOSED"),
            ];
            let set = self.0.flags;
            let names = NAMES
                .iter()
                .filter(move |&&(flag, _)| set & flag != 0)
                .map(|&(_, name)| name);
            f.debug_struct("Event")
                .field("flags", &crate::sys::FlagNames(names))
                .field("data", &self.0.data)
                .finish()
        }
    }
}

#[cfg(test)]
mod tests {
    //! Issue 16, defect 5: the quiet error paths, shown by making this thread's AFD calls fail
    //! (`afd::fault`).
    use super::*;
    use std::io::Write;
    use std::os::windows::io::AsRawSocket;

    fn tcp_pair() -> (std::net::TcpStream, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (b, _) = listener.accept().unwrap();
        a.set_nonblocking(true).unwrap();
        (a, b)
    }

    /// Polls (bounded) until an event for `token` comes; whether one did.
    fn event_for(selector: &mut Selector, token: usize, within: Duration) -> bool {
        let mut events = Events::with_capacity(16);
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            selector
                .select(&mut events, Some(Duration::from_millis(50)))
                .unwrap();
            if events.events.iter().any(|e| e.data == token) {
                return true;
            }
        }
        false
    }

    /// A deregistration whose cancel fails leaves the request in flight: the socket must stay
    /// in the port's registrations, so that dropping the `Poll` cancels it again and collects
    /// its completion (before: the drain waited out its 10 s bound and leaked the state).
    #[test]
    fn deregister_with_a_failed_cancel_is_collected_at_shutdown() {
        let selector = Selector::new().unwrap();
        let (a, _b) = tcp_pair();
        let sock = selector
            .register_socket(a.as_raw_socket(), Token(1), Interest::READABLE)
            .unwrap();
        // The first request goes with the next poll.
        let mut selector = selector;
        selector
            .select(&mut Events::with_capacity(16), Some(Duration::ZERO))
            .unwrap();
        assert!(
            matches!(lock(&sock.inner).life.request(), Some(Request::InFlight(_))),
            "a request is in flight"
        );
        crate::sys::windows::fault::failing(|| sock.deregister());
        let shared = Arc::clone(selector.shared());
        drop(selector);
        assert_eq!(shared.in_flight.load(Ordering::SeqCst), 0, "request collected");
        assert_eq!(Arc::strong_count(&sock), 1, "the kernel's reference was taken back");
    }

    /// A re-arm whose cancel (or submit) fails on a thread other than the poller's, while it
    /// polls: the poller retries at once, so the data that is there is reported (before: the
    /// failure was only traced, and no event ever came).
    #[test]
    fn rearm_with_a_failed_call_is_retried_by_the_poller() {
        let mut selector = Selector::new().unwrap();
        let (a, mut b) = tcp_pair();
        let sock = selector
            .register_socket(a.as_raw_socket(), Token(1), Interest::READABLE)
            .unwrap();
        b.write_all(b"x").unwrap();
        assert!(event_for(&mut selector, 1, Duration::from_secs(5)));
        // The next wait submits the request for what is still armed (not the data).
        selector
            .select(&mut Events::with_capacity(16), Some(Duration::ZERO))
            .unwrap();
        assert!(
            matches!(lock(&sock.inner).life.request(), Some(Request::InFlight(_))),
            "a request is in flight"
        );
        let shared = Arc::clone(selector.shared());
        // One long wait (no 50 ms steps): `polling` stays set until a packet comes, so the
        // re-arm below takes the direct path.
        let poller = std::thread::spawn(move || {
            let mut events = Events::with_capacity(16);
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                selector.select(&mut events, Some(left)).unwrap();
                if events.events.iter().any(|e| e.data == 1) {
                    return true;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while !shared.polling.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the poller never started");
            std::thread::yield_now();
        }
        // "x" was never read: a read would answer it, but the edge needs the re-arm.
        crate::sys::windows::fault::failing(|| sock.rearm(Rearm::Read));
        assert!(poller.join().unwrap(), "no event after the failed re-arm");
        drop(a);
    }
}
