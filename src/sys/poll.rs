//! The poll(2) selector: the portable fallback (`--cfg mio_unsupported_force_poll_poll`, and
//! every Unix with neither epoll nor kqueue), and the backend of Hermit and WASI.
//!
//! Its OS calls are the family's `pollsys` (`sys::unix::pollsys`: rustix;
//! `sys::hermit_wasi::pollsys`: libc), which give the same names and shapes.
//!
//! poll(2) is level-triggered and keeps no state between calls, so this file keeps it:
//!
//! - **The table** (`Shared::table`, behind a mutex): one entry per registered fd, indexed by
//!   the fd number (O(1) register / reregister / deregister, and `AlreadyExists`/`NotFound`
//!   answered exactly as epoll answers them), plus a dense list of the registered fds.
//!   Each registration gets a generation number, so a record of it can never be confused with
//!   a later registration of the same fd number.
//! - **Edge triggering, emulated**: each entry has an *armed* set, the interests not yet
//!   reported. A reported readiness is disarmed; it is armed again when an operation on the
//!   source returns `WouldBlock` (`IoSourceState::do_io`), by `reregister`, or never (hang-up
//!   and error are final until the source is re-registered). Only armed fds are polled.
//!   Raw fds (`SourceFd`), whose I/O mio never sees, are sampled instead (`Selector::sample`).
//! - **The snapshot** (`Selector::snapshot`, owned by the `Poll`): the `pollfd` array handed
//!   to the kernel and the (fd, generation) of each slot. It is rebuilt from the table only
//!   when the table changed (`Shared::dirty`), reusing its allocation: no allocation and no
//!   lock in a steady-state `poll`. The table lock is taken once per poll that reports
//!   events (to disarm them) and once per registration change, never per event.
//! - **The notifier**: slot 0 of every snapshot is an internal eventfd (a pipe with
//!   `--cfg mio_unsupported_force_waker_pipe`). A registration change made while another
//!   thread is blocked in `poll` writes to it, so the change takes effect at once; the
//!   `Waker` is folded into it too (a pending flag plus one write per burst of wakes).
//!   Internal notifications never surface as events: `poll` goes back to waiting for the
//!   rest of the timeout. WASI has no notifier (see `INTERNAL`).
//! - **A peer's FIN without `POLLRDHUP`** (every Unix but Linux and Android; not on WASI,
//!   where the FIN is reported as readable only, see `pollsys::check_pollable`): poll(2) reports
//!   a stream socket's end-of-file only as `POLLIN`, the same bit as data. So for stream
//!   sockets, (1) every reported `POLLIN` is followed by a one-byte `recv(MSG_PEEK)`, and
//!   `Ok(0)` (the FIN) is reported as read-closed; (2) for this crate's own sources (raw fds
//!   are sampled anyway, see above), once readable was reported (and so disarmed), the FIN
//!   must still be seen even if the reader stops before `WouldBlock` (tokio's `try_read`
//!   does): the entry's *FIN watch* (its `RDHUP` bit, still armed) has it sampled at the
//!   start of each `select`, like a raw fd. No `POLLIN` any more: the data was drained, so
//!   readable is armed again and the next `POLLIN` (data or FIN) is a new edge. `POLLIN`
//!   still there: the peek tells; a FIN arms readable so the next poll reports it, unread
//!   data is looked at again after the raw-fd back-off (1 to 128 ms, which also caps the
//!   wait), so a FIN behind unread data is reported within that delay.
//!   `--cfg mio_unsupported_test_poll_no_rdhup` makes Linux behave the same, to test this.
//! - **Closed fds**: a source of this crate deregisters itself when dropped, so its token
//!   cannot be delivered for a later fd with the same number. An fd closed while still
//!   registered through `SourceFd` reports `POLLNVAL`: it is delivered once as an error event
//!   (error, read-closed, write-closed) and its entry removed, never a silent spin.

// With `os-poll` alone nothing can be registered (no source type exists; with `os-ext` too on
// WASI preview 1, which has no `SourceFd`), so the registration half of this file is unused in
// those builds.
#![cfg_attr(
    not(any(
        feature = "net",
        all(feature = "os-ext", not(all(target_os = "wasi", target_env = "p1")))
    )),
    allow(dead_code)
)]

use std::fmt;
use std::io;
#[cfg(not(target_os = "wasi"))]
use std::os::fd::{AsFd, AsRawFd};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::pollsys::{self, peek_fin, poll_fd, rdhup, Errno, PollFd, PollFlags};
#[cfg(mio_timer_deadline)]
use super::timer_deadline::TimerList;
use super::WakerFd;
use crate::{Interest, Token, Trigger};

/// A readiness event: the token and the `revents` poll(2) reported.
#[derive(Clone)]
pub(crate) struct Event {
    token: Token,
    flags: PollFlags,
    /// A peeked FIN (where poll(2) has no `POLLRDHUP`): read-closed.
    fin: bool,
}

pub(crate) type Events = Vec<Event>;

#[cfg(mio_timer_deadline)]
impl Event {
    /// A timer's expiration (`sys::timer_deadline`): readable.
    pub(crate) fn timer(token: Token) -> Event {
        Event {
            token,
            flags: PollFlags::IN,
            fin: false,
        }
    }
}

/// The armed-set bits (a subset of the interests). Readable interest is two bits, data
/// (`POLLIN`) and the peer's half-close (`POLLRDHUP`), disarmed separately: a reader that stops
/// before `WouldBlock` (it read exactly what it expected) must still hear of the FIN.
const READ: u8 = 0b0001;
const RDHUP: u8 = 0b0010;
const WRITE: u8 = 0b0100;
const PRIO: u8 = 0b1000;
const ALL: u8 = READ | RDHUP | WRITE | PRIO;

fn interest_bits(interests: Interest) -> u8 {
    let mut bits = 0;
    if interests.is_readable() {
        bits |= READ | RDHUP;
    }
    if interests.is_writable() {
        bits |= WRITE;
    }
    if interests.is_priority() {
        bits |= PRIO;
    }
    bits
}

/// What poll(2) is asked to watch for an armed set. `POLLRDHUP` (Linux) reports a peer's
/// half-close as read-closed; errors and hang-ups are always reported.
fn poll_flags(armed: u8) -> PollFlags {
    let mut flags = PollFlags::empty();
    if armed & READ != 0 {
        flags |= PollFlags::IN;
    }
    if armed & RDHUP != 0 {
        flags |= rdhup();
    }
    if armed & WRITE != 0 {
        flags |= PollFlags::OUT;
    }
    if armed & PRIO != 0 {
        flags |= PollFlags::PRI;
    }
    flags
}

/// The armed bits a report uses up.
fn reported_bits(revents: PollFlags) -> u8 {
    if revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL) {
        // Final states: poll(2) would report them on every call. Quiet until re-registered.
        return ALL;
    }
    let mut bits = 0;
    if revents.contains(PollFlags::IN) {
        bits |= READ;
    }
    if !rdhup().is_empty() && revents.contains(rdhup()) {
        bits |= RDHUP;
    }
    if revents.contains(PollFlags::OUT) {
        bits |= WRITE;
    }
    if revents.contains(PollFlags::PRI) {
        bits |= PRIO | READ;
    }
    bits
}

/// The trigger of a registration: edge, oneshot and level are emulated; exclusive has no
/// meaning for poll(2) (each poller is woken by its own call) and is refused.
fn trigger(interests: Interest) -> io::Result<Trigger> {
    match interests.trigger_checked()? {
        Trigger::Exclusive => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "exclusive registrations need epoll (EPOLLEXCLUSIVE); the poll(2) backend cannot give them",
        )),
        trigger => Ok(trigger),
    }
}

fn os_error(errno: Errno) -> io::Error {
    io::Error::from_raw_os_error(errno.raw_os_error())
}

#[derive(Clone, Copy)]
struct Entry {
    /// 0: vacant. Otherwise unique per registration for the life of the selector.
    generation: u64,
    token: Token,
    interests: u8,
    armed: u8,
    /// A hang-up or error was reported: nothing more to say until re-registered. Until then
    /// even a fully disarmed entry stays in the poll set (asking for nothing), because poll(2)
    /// reports `POLLHUP`/`POLLERR` whatever it is asked.
    closed: bool,
    /// Registered as a raw fd (`SourceFd`): its I/O never goes through `do_io`, so no
    /// `WouldBlock` can re-arm it. `select` samples it instead (see `Selector::sample`).
    raw: bool,
    /// Raw fds: a readiness still present this long after it was reported is reported again
    /// (doubling up to `MAX_BACKOFF`), and when it is.
    backoff: Duration,
    retry_at: Option<Instant>,
    /// A stream socket on a system without `POLLRDHUP`: its FIN is peeked for (and, for this
    /// crate's own sources, watched for after a readable report; raw fds are sampled anyway).
    peek_fin: bool,
    /// Index in `Table::registered`.
    pos: usize,
    /// `Edge` (emulated, as described above), `Oneshot` (all disarmed after one report, armed
    /// again only by `reregister`) or `Level` (never disarmed: poll(2) itself is level).
    trigger: Trigger,
}

const VACANT: Entry = Entry {
    generation: 0,
    token: Token(0),
    interests: 0,
    armed: 0,
    closed: false,
    raw: false,
    backoff: MIN_BACKOFF,
    retry_at: None,
    peek_fin: false,
    pos: 0,
    trigger: Trigger::Edge,
};

/// Re-reporting a raw fd's readiness that nobody drained: first after this long...
const MIN_BACKOFF: Duration = Duration::from_millis(1);
/// ...then after twice as long each time, up to this.
const MAX_BACKOFF: Duration = Duration::from_millis(128);

struct Table {
    /// Indexed by fd number; grows to the largest fd registered.
    entries: Vec<Entry>,
    /// The registered fds, densely, for rebuilding the snapshot in O(registered).
    registered: Vec<RawFd>,
    next_generation: u64,
}

impl Table {
    fn get_mut(&mut self, fd: RawFd) -> Option<&mut Entry> {
        self.entries
            .get_mut(fd as usize)
            .filter(|entry| entry.generation != 0)
    }

    fn remove(&mut self, fd: RawFd) {
        let pos = self.entries[fd as usize].pos;
        self.entries[fd as usize] = VACANT;
        self.registered.swap_remove(pos);
        if let Some(&moved) = self.registered.get(pos) {
            self.entries[moved as usize].pos = pos;
        }
    }
}

/// What every handle on the selector shares: registries, wakers and registered sources.
struct Shared {
    table: Mutex<Table>,
    /// The table changed since the poller last copied it.
    dirty: AtomicBool,
    /// A thread is (about to be) blocked in poll(2): changes must interrupt it.
    polling: AtomicBool,
    notifier: WakerFd,
    /// The folded-in `Waker`: active while one exists; pending between `wake` and delivery.
    waker_active: AtomicBool,
    waker_pending: AtomicBool,
    waker_token: AtomicUsize,
    /// The registered timers whose deadlines this selector keeps (`sys::timer_deadline`).
    #[cfg(mio_timer_deadline)]
    timers: TimerList,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // No code path panics while holding the lock; recover rather than propagate a poison.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// After a table change: make the poller copy the table, interrupting it if it is blocked.
    ///
    /// `dirty` is stored before `polling` is read, and the poller stores `polling` before it
    /// reads `dirty` (all `SeqCst`): either the poller sees the change before it blocks, or
    /// this sees it polling and wakes it.
    fn changed(&self) -> io::Result<()> {
        self.dirty.store(true, Ordering::SeqCst);
        if self.polling.load(Ordering::SeqCst) {
            self.notifier.wake()?;
        }
        Ok(())
    }

    fn register(&self, fd: RawFd, token: Token, interests: Interest, raw: bool) -> io::Result<u64> {
        let trigger = trigger(interests)?;
        let peek_fin = pollsys::check_pollable(fd)?;
        let generation = {
            let mut table = self.lock();
            if table.get_mut(fd).is_some() {
                return Err(os_error(Errno::EXIST));
            }
            let index = fd as usize;
            if table.entries.len() <= index {
                table.entries.resize(index + 1, VACANT);
            }
            table.next_generation += 1;
            let generation = table.next_generation;
            let bits = interest_bits(interests);
            let pos = table.registered.len();
            table.registered.push(fd);
            table.entries[index] = Entry {
                generation,
                token,
                interests: bits,
                armed: bits,
                closed: false,
                raw,
                backoff: MIN_BACKOFF,
                retry_at: None,
                peek_fin,
                pos,
                trigger,
            };
            generation
        };
        self.changed()?;
        Ok(generation)
    }

    fn reregister(&self, fd: RawFd, token: Token, interests: Interest) -> io::Result<()> {
        let trigger = trigger(interests)?;
        {
            let mut table = self.lock();
            let entry = table.get_mut(fd).ok_or_else(|| os_error(Errno::NOENT))?;
            let bits = interest_bits(interests);
            entry.token = token;
            entry.trigger = trigger;
            entry.interests = bits;
            // As epoll's EPOLL_CTL_MOD: a new registration, so readiness is reported afresh.
            entry.armed = bits;
            entry.closed = false;
            entry.backoff = MIN_BACKOFF;
            entry.retry_at = None;
        }
        self.changed()
    }

    /// Removes `fd`; with `generation`, only if it is still that registration.
    fn deregister(&self, fd: RawFd, generation: Option<u64>) -> io::Result<()> {
        {
            let mut table = self.lock();
            match table.get_mut(fd) {
                Some(entry) if generation.map_or(true, |g| g == entry.generation) => {}
                _ => return Err(os_error(Errno::NOENT)),
            }
            table.remove(fd);
        }
        self.changed()
    }

    /// Arms `bits` of the interests of registration (`fd`, `generation`) again, after
    /// `WouldBlock`.
    // For the I/O types only: `SourceFd` alone (os-ext on Hermit or WASI) never re-arms.
    #[cfg_attr(not(any(feature = "net", all(unix, feature = "os-ext"), mio_extras)), allow(dead_code))]
    fn rearm(&self, fd: RawFd, generation: u64, bits: u8) -> io::Result<()> {
        let changed = {
            let mut table = self.lock();
            match table.get_mut(fd) {
                // Only edge registrations are re-armed by `WouldBlock`.
                Some(entry) if entry.generation == generation && entry.trigger == Trigger::Edge => {
                    let armed = entry.armed | (entry.interests & bits);
                    let changed = armed != entry.armed;
                    entry.armed = armed;
                    changed
                }
                _ => false,
            }
        };
        if changed {
            self.changed()?;
        }
        Ok(())
    }
}

/// The internal slots at the head of every snapshot: the notifier's. WASI has none: it has no
/// `Waker`, and without threads nothing can change a registration while a poll is blocked
/// (on `wasm32-wasip1-threads` such a change takes effect when that poll returns).
#[cfg(not(target_os = "wasi"))]
const INTERNAL: usize = 1;
#[cfg(target_os = "wasi")]
const INTERNAL: usize = 0;

/// The poller's copy of the table: what poll(2) is given.
struct Snapshot {
    /// The first `INTERNAL` slots are the notifier's; the others are armed registrations.
    fds: Vec<PollFd<'static>>,
    /// (fd, generation) of each slot; slot 0's is unused.
    keys: Vec<(RawFd, u64)>,
    /// Raw fds with disarmed interests, asking for those: polled without waiting at the start
    /// of each `select` to learn whether they were drained.
    samples: Vec<PollFd<'static>>,
    sample_keys: Vec<(RawFd, u64)>,
}

/// A poll(2) selector.
pub(crate) struct Selector {
    shared: Arc<Shared>,
    /// Used only by the `Poll` that owns this handle (clones never call `select`).
    snapshot: Snapshot,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector").finish_non_exhaustive()
    }
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let shared = Arc::new(Shared {
            table: Mutex::new(Table {
                entries: Vec::new(),
                registered: Vec::new(),
                next_generation: 0,
            }),
            dirty: AtomicBool::new(true),
            polling: AtomicBool::new(false),
            notifier: WakerFd::new()?,
            waker_active: AtomicBool::new(false),
            waker_pending: AtomicBool::new(false),
            waker_token: AtomicUsize::new(0),
            #[cfg(mio_timer_deadline)]
            timers: TimerList::new(),
        });
        let mut selector = Selector {
            shared,
            snapshot: Snapshot {
                fds: Vec::new(),
                keys: Vec::new(),
                samples: Vec::new(),
                sample_keys: Vec::new(),
            },
        };
        // Allocate the snapshot now, so that polls never allocate while nothing changes.
        selector.refresh();
        selector.shared.dirty.store(false, Ordering::SeqCst);
        Ok(selector)
    }

    /// Another handle on the same selector; no fd is duplicated.
    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        Ok(Selector {
            shared: Arc::clone(&self.shared),
            snapshot: Snapshot {
                fds: Vec::new(),
                keys: Vec::new(),
                samples: Vec::new(),
                sample_keys: Vec::new(),
            },
        })
    }

    /// Copies the armed registrations into the snapshot, reusing its allocation.
    fn refresh(&mut self) {
        let table = self.shared.lock();
        let snapshot = &mut self.snapshot;
        snapshot.fds.clear();
        snapshot.keys.clear();
        snapshot.samples.clear();
        snapshot.sample_keys.clear();
        #[cfg(not(target_os = "wasi"))]
        {
            let notifier = self.shared.notifier.as_fd().as_raw_fd();
            snapshot.fds.push(poll_fd(notifier, PollFlags::IN));
            snapshot.keys.push((notifier, 0));
        }
        for &fd in &table.registered {
            let entry = &table.entries[fd as usize];
            // A fired oneshot is silent, even for hang-ups, until re-registered.
            let silent = entry.trigger == Trigger::Oneshot && entry.armed == 0;
            if (entry.armed != 0 || !entry.closed) && !silent {
                snapshot.fds.push(poll_fd(fd, poll_flags(entry.armed)));
                snapshot.keys.push((fd, entry.generation));
            }
            if entry.trigger != Trigger::Edge {
                // Sampling re-arms edge registrations only.
                continue;
            }
            let disarmed = entry.interests & !entry.armed;
            if entry.raw && !entry.closed && disarmed != 0 {
                snapshot.samples.push(poll_fd(fd, poll_flags(disarmed)));
                snapshot.sample_keys.push((fd, entry.generation));
            } else if entry.peek_fin
                && !entry.raw
                && !entry.closed
                && entry.armed & (READ | RDHUP) == RDHUP
            {
                // The FIN watch: readable was reported; sample `POLLIN` until it is gone.
                snapshot.samples.push(poll_fd(fd, PollFlags::IN));
                snapshot.sample_keys.push((fd, entry.generation));
            }
        }
    }

    /// poll(2) until a user-visible event, the timeout, or a signal.
    ///
    /// See [poll(2)](https://man7.org/linux/man-pages/man2/poll.2.html).
    pub(crate) fn select(
        &mut self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        events.clear();
        if events.capacity() == 0 {
            // As epoll_wait(2) with maxevents 0.
            return Err(os_error(Errno::INVAL));
        }
        // To resume a timed wait that an internal notification cut short (one vDSO clock
        // read per timed call, no syscall).
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut timeout = timeout;
        loop {
            self.shared.polling.store(true, Ordering::SeqCst);
            if self.shared.dirty.swap(false, Ordering::SeqCst) {
                self.refresh();
            }
            let mut wait = timeout;
            let mut capped = false;
            #[cfg(mio_timer_deadline)]
            if let Some(due) = self.shared.timers.next_due() {
                // Wake up for the earliest timer expiration still to report (`<=`: at the
                // caller's own timeout too, so that the expiration is collected, not left
                // for the next poll).
                let until = due.saturating_duration_since(Instant::now());
                if wait.map_or(true, |w| until <= w) {
                    wait = Some(until);
                    capped = true;
                }
            }
            if !self.snapshot.samples.is_empty() {
                let retry_at = self.sample()?;
                self.refresh();
                if let Some(retry_at) = retry_at {
                    // Wake up in time to re-report a raw fd's undrained readiness.
                    let until = retry_at.saturating_duration_since(Instant::now());
                    if wait.map_or(true, |w| until < w) {
                        wait = Some(until);
                        capped = true;
                    }
                }
            }
            let res = pollsys::poll(&mut self.snapshot.fds, wait);
            self.shared.polling.store(false, Ordering::SeqCst);
            match res {
                Ok(0) if capped => {}
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(Errno::AGAIN) => continue,
                Err(err) => return Err(err.into()),
            }
            self.collect(events)?;
            if !events.is_empty() {
                return Ok(());
            }
            // Only internal notifications: wait for the rest of the timeout.
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(());
                }
                timeout = Some(left);
            }
        }
    }

    /// Raw fds (`SourceFd`) get edge semantics by sampling, since their `WouldBlock` is never
    /// seen: a poll(2) that does not wait, over their disarmed interests. An interest no longer
    /// ready was drained: armed again, so the next readiness is reported. One still ready is
    /// re-armed (reported again) once its back-off has passed, the back-off doubling, because
    /// it may have been drained and refilled between two samples: a late event rather than a
    /// lost one, and an fd nobody drains costs one event per back-off, not a spinning loop.
    ///
    /// Returns the earliest re-report still to come, if any. The caller rebuilds the snapshot.
    fn sample(&mut self) -> io::Result<Option<Instant>> {
        match pollsys::poll(&mut self.snapshot.samples, Some(Duration::ZERO)) {
            Ok(_) | Err(Errno::AGAIN) => {}
            Err(err) => return Err(err.into()),
        }
        let now = Instant::now();
        let mut next = None;
        let mut table = self.shared.lock();
        for (slot, &(fd, generation)) in
            self.snapshot.samples.iter().zip(&self.snapshot.sample_keys)
        {
            let entry = match table.get_mut(fd) {
                Some(entry) if entry.generation == generation => entry,
                _ => continue,
            };
            if !entry.raw {
                // The FIN watch of a stream socket (see `refresh`).
                let revents = slot.revents();
                if revents.intersects(PollFlags::ERR | PollFlags::HUP) {
                    // The main poll reports it (and peeking would take the error away).
                } else if !revents.contains(PollFlags::IN) {
                    // Drained (a hang-up or error is the main poll's to report): the next
                    // `POLLIN`, data or FIN, is a new edge.
                    entry.armed |= READ;
                    entry.backoff = MIN_BACKOFF;
                    entry.retry_at = None;
                } else if let Some(at) = entry.retry_at.filter(|&at| at > now) {
                    // Unread data, looked at not long ago.
                    next = Some(next.map_or(at, |n: Instant| n.min(at)));
                } else if peek_fin(fd) {
                    // Reported (as read-closed) by the poll that follows.
                    entry.armed |= READ;
                    entry.retry_at = None;
                } else {
                    // Unread data: look again after the back-off.
                    let at = now + entry.backoff;
                    entry.backoff = (entry.backoff * 2).min(MAX_BACKOFF);
                    entry.retry_at = Some(at);
                    next = Some(next.map_or(at, |n: Instant| n.min(at)));
                }
                continue;
            }
            let disarmed = entry.interests & !entry.armed;
            let still = reported_bits(slot.revents()) & disarmed;
            if still != disarmed {
                // Drained: watch for the next readiness right away.
                entry.armed |= disarmed & !still;
                entry.backoff = MIN_BACKOFF;
            }
            if still != 0 {
                match entry.retry_at {
                    Some(at) if at > now => next = Some(next.map_or(at, |n: Instant| n.min(at))),
                    _ => {
                        entry.armed |= still;
                        entry.backoff = (entry.backoff * 2).min(MAX_BACKOFF);
                    }
                }
            }
        }
        Ok(next)
    }

    /// Turns the `revents` of the last poll into events, disarming what they report.
    fn collect(&mut self, events: &mut Events) -> io::Result<()> {
        let shared = &*self.shared;
        if self.snapshot.fds[..INTERNAL]
            .iter()
            .any(|fd| !fd.revents().is_empty())
        {
            // Drain first, then take the pending flag: a `wake` in between leaves the
            // notifier readable for the next poll, so it is never lost.
            shared.notifier.reset()?;
        }
        if shared.waker_pending.swap(false, Ordering::AcqRel)
            && shared.waker_active.load(Ordering::Acquire)
        {
            events.push(Event {
                token: Token(shared.waker_token.load(Ordering::Acquire)),
                flags: PollFlags::IN,
                fin: false,
            });
        }
        #[cfg(mio_timer_deadline)]
        shared.timers.collect(events);
        let ready = self.snapshot.fds[INTERNAL..]
            .iter()
            .any(|fd| !fd.revents().is_empty());
        if !ready {
            return Ok(());
        }
        let mut table = shared.lock();
        let mut changed = false;
        let mut now = None;
        for (slot, &(fd, generation)) in self.snapshot.fds[INTERNAL..]
            .iter()
            .zip(&self.snapshot.keys[INTERNAL..])
        {
            let revents = slot.revents();
            if revents.is_empty() {
                continue;
            }
            if events.len() == events.capacity() {
                // Still armed, so the next poll reports it again: nothing is lost.
                break;
            }
            let entry = match table.get_mut(fd) {
                Some(entry) if entry.generation == generation => entry,
                // Deregistered (or re-registered) while we were polling: not ours to report.
                _ => continue,
            };
            let mut flags = revents;
            if revents.intersects(PollFlags::HUP | PollFlags::ERR) && entry.interests & WRITE != 0 {
                // A write would not block now (it fails at once), and writable may have been
                // disarmed by an earlier report: say so, as epoll does (`EPOLLOUT|EPOLLERR`).
                flags |= PollFlags::OUT;
            }
            // Not with an error pending: recv(2) would return it, and so take it from
            // `take_error` (SO_ERROR is cleared once reported); a hang-up is read-closed anyway.
            let fin = entry.peek_fin
                && revents.contains(PollFlags::IN)
                && !revents.intersects(PollFlags::ERR | PollFlags::HUP)
                && peek_fin(fd);
            events.push(Event {
                token: entry.token,
                flags,
                fin,
            });
            match entry.trigger {
                // Level: reported again by every poll while it holds.
                Trigger::Level => {}
                Trigger::Oneshot => entry.armed = 0,
                _ => {
                    entry.armed &= !reported_bits(revents);
                    if fin {
                        // The FIN is reported: the watch is over.
                        entry.armed &= !RDHUP;
                    }
                }
            }
            if entry.trigger != Trigger::Level {
                entry.closed |=
                    revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL);
            }
            if entry.raw && entry.trigger == Trigger::Edge {
                let now = *now.get_or_insert_with(Instant::now);
                entry.retry_at = Some(now + entry.backoff);
            }
            changed = true;
            if revents.contains(PollFlags::NVAL) {
                // Closed without being deregistered: forget it, so the number can be reused.
                table.remove(fd);
            }
        }
        drop(table);
        if changed {
            // Rebuilt at the next poll, by this thread: no notification needed.
            shared.dirty.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    // `SourceFd` (os-ext; not on WASI preview 1) registers through these; the I/O types go to
    // `Shared` directly.
    #[cfg_attr(
        any(not(feature = "os-ext"), all(target_os = "wasi", target_env = "p1")),
        allow(dead_code)
    )]
    pub(crate) fn register(&self, fd: RawFd, token: Token, interests: Interest) -> io::Result<()> {
        self.shared.register(fd, token, interests, true).map(|_| ())
    }

    #[cfg_attr(
        any(not(feature = "os-ext"), all(target_os = "wasi", target_env = "p1")),
        allow(dead_code)
    )]
    pub(crate) fn reregister(
        &self,
        fd: RawFd,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        self.check_open(fd)?;
        self.shared.reregister(fd, token, interests)
    }

    #[cfg_attr(
        any(not(feature = "os-ext"), all(target_os = "wasi", target_env = "p1")),
        allow(dead_code)
    )]
    pub(crate) fn deregister(&self, fd: RawFd) -> io::Result<()> {
        self.check_open(fd)?;
        self.shared.deregister(fd, None)
    }

    /// A raw fd (`SourceFd`) may have been closed behind our back; epoll answers `EBADF` then,
    /// and callers (tokio) rely on that error, so answer the same, forgetting the dead entry.
    /// One `fcntl(F_GETFD)`; the crate's own types own their fd and skip this.
    #[cfg_attr(
        any(not(feature = "os-ext"), all(target_os = "wasi", target_env = "p1")),
        allow(dead_code)
    )]
    fn check_open(&self, fd: RawFd) -> io::Result<()> {
        if pollsys::is_open(fd) {
            return Ok(());
        }
        let _ = self.shared.deregister(fd, None);
        Err(os_error(Errno::BADF))
    }
}

/// A timer's hold on the selector it is registered with (`sys::timer_deadline`): weak, so a
/// timer does not keep a dropped `Poll`'s selector alive; once it is gone, a setting or a
/// deregistration has nothing left to tell.
#[cfg(mio_timer_deadline)]
pub(crate) struct SelectorRef(std::sync::Weak<Shared>);

#[cfg(mio_timer_deadline)]
impl Selector {
    pub(crate) fn selector_ref(&self) -> SelectorRef {
        SelectorRef(Arc::downgrade(&self.shared))
    }
}

#[cfg(mio_timer_deadline)]
impl SelectorRef {
    /// Runs `f` on the selector's timer list, if the selector still exists.
    pub(crate) fn with_timers(&self, f: impl FnOnce(&TimerList)) {
        if let Some(shared) = self.0.upgrade() {
            f(&shared.timers);
        }
    }

    /// A timer's deadline changed: a poll blocked on another thread must recompute its wait.
    pub(crate) fn timer_changed(&self) -> io::Result<()> {
        match self.0.upgrade() {
            Some(shared) => shared.changed(),
            None => Ok(()),
        }
    }

    /// Whether this is `selector`'s (or a clone's: they share their state).
    pub(crate) fn is(&self, selector: &Selector) -> bool {
        std::ptr::eq(self.0.as_ptr(), Arc::as_ptr(&selector.shared))
    }
}

/// The `Waker`, folded into the selector: no fd of its own. None on WASI.
#[cfg(not(target_os = "wasi"))]
pub(crate) struct Waker {
    shared: Arc<Shared>,
}

#[cfg(not(target_os = "wasi"))]
impl fmt::Debug for Waker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waker").finish_non_exhaustive()
    }
}

#[cfg(not(target_os = "wasi"))]
impl Waker {
    pub(crate) fn new(selector: &Selector, token: Token) -> io::Result<Waker> {
        let shared = Arc::clone(&selector.shared);
        shared.waker_token.store(token.0, Ordering::Release);
        shared.waker_active.store(true, Ordering::Release);
        Ok(Waker { shared })
    }

    /// Marks a wake pending; only the first wake of a burst writes to the notifier.
    pub(crate) fn wake(&self) -> io::Result<()> {
        if !self.shared.waker_pending.swap(true, Ordering::AcqRel) {
            self.shared.notifier.wake()?;
        }
        Ok(())
    }
}

#[cfg(not(target_os = "wasi"))]
impl Drop for Waker {
    fn drop(&mut self) {
        // Events are only delivered while the Waker lives, as with an eventfd that is closed.
        self.shared.waker_active.store(false, Ordering::Release);
    }
}

/// Per-source state: the registration this source made, to re-arm it after `WouldBlock` and
/// to remove it when the source is dropped.
#[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
pub(crate) struct IoSourceState {
    registration: Option<Registration>,
}

#[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
struct Registration {
    shared: Arc<Shared>,
    fd: RawFd,
    generation: u64,
}

#[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
impl fmt::Debug for IoSourceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoSourceState").finish_non_exhaustive()
    }
}

#[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
impl IoSourceState {
    pub(crate) fn new() -> IoSourceState {
        IoSourceState { registration: None }
    }

    /// Runs one I/O operation; `WouldBlock` arms the registration again, which is what makes
    /// the next readiness change reportable.
    pub(crate) fn do_io<T, F, R>(&self, f: F, io: &T, rearm: crate::sys::Rearm) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        let result = f(io);
        if let Err(err) = &result {
            if err.kind() == io::ErrorKind::WouldBlock {
                if let Some(reg) = &self.registration {
                    let bits = match rearm {
                        crate::sys::Rearm::All => ALL,
                        crate::sys::Rearm::Read => READ | RDHUP | PRIO,
                        crate::sys::Rearm::Write => WRITE,
                    };
                    reg.shared.rearm(reg.fd, reg.generation, bits)?;
                }
            }
        }
        result
    }

    pub(crate) fn register(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        fd: RawFd,
    ) -> io::Result<()> {
        if self.registration.is_some() {
            // One registration per source with this backend (the state lives here).
            return Err(os_error(Errno::EXIST));
        }
        let generation = selector.shared.register(fd, token, interests, false)?;
        self.registration = Some(Registration {
            shared: Arc::clone(&selector.shared),
            fd,
            generation,
        });
        Ok(())
    }

    pub(crate) fn reregister(
        &mut self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        fd: RawFd,
    ) -> io::Result<()> {
        match &self.registration {
            Some(reg) if Arc::ptr_eq(&reg.shared, &selector.shared) => {
                selector.shared.reregister(fd, token, interests)
            }
            _ => Err(os_error(Errno::NOENT)),
        }
    }

    pub(crate) fn deregister(&mut self, selector: &Selector, fd: RawFd) -> io::Result<()> {
        match &self.registration {
            Some(reg) if Arc::ptr_eq(&reg.shared, &selector.shared) => {
                let generation = reg.generation;
                self.registration = None;
                selector.shared.deregister(fd, Some(generation))
            }
            _ => Err(os_error(Errno::NOENT)),
        }
    }
}

#[cfg(any(feature = "net", all(unix, feature = "os-ext"), mio_extras))]
impl Drop for IoSourceState {
    fn drop(&mut self) {
        if let Some(reg) = self.registration.take() {
            // The fd is closed right after this: forget it now, or its token could be reported
            // for the next fd that gets the same number. Gone already is fine.
            let _ = reg.shared.deregister(reg.fd, Some(reg.generation));
        }
    }
}

/// Reading a poll(2) event, as §3.4 of the spec maps the flags.
pub(crate) mod event {
    use std::fmt;

    use super::{rdhup, Event, PollFlags};
    use crate::Token;

    #[inline]
    pub(crate) fn token(event: &Event) -> Token {
        event.token
    }

    #[inline]
    pub(crate) fn is_readable(event: &Event) -> bool {
        event.flags.intersects(PollFlags::IN | PollFlags::PRI)
    }

    #[inline]
    pub(crate) fn is_writable(event: &Event) -> bool {
        event.flags.contains(PollFlags::OUT)
    }

    #[inline]
    pub(crate) fn is_error(event: &Event) -> bool {
        // A closed fd (`POLLNVAL`) is reported as an error.
        event.flags.intersects(PollFlags::ERR | PollFlags::NVAL)
    }

    #[inline]
    pub(crate) fn is_read_closed(event: &Event) -> bool {
        event.fin
            || event
                .flags
                .intersects(PollFlags::HUP | PollFlags::NVAL | rdhup())
    }

    #[inline]
    pub(crate) fn is_write_closed(event: &Event) -> bool {
        let f = event.flags;
        f.intersects(PollFlags::HUP | PollFlags::NVAL)
            || f.contains(PollFlags::OUT | PollFlags::ERR)
            || f == PollFlags::ERR
    }

    #[inline]
    pub(crate) fn is_priority(event: &Event) -> bool {
        event.flags.contains(PollFlags::PRI)
    }

    /// The `{:#?}` details of an event: the token and `revents`. Not a stable format.
    pub(crate) struct Details<'a>(pub(crate) &'a Event);

    impl fmt::Debug for Details<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("pollfd")
                .field("revents", &self.0.flags)
                .field("token", &self.0.token.0)
                .field("fin", &self.0.fin)
                .finish()
        }
    }
}
