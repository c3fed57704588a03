//! A kernel object's signalled state delivered to a `Poll`'s completion port: the plumbing of
//! the `timer` and `process` extras on Windows (a waitable timer, a process handle).
//!
//! # Mechanism
//!
//! A wait is registered with the thread pool ([RegisterWaitForSingleObject], flags
//! `WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD`, no timeout); when the object is signalled,
//! its callback ([`wait_callback`]) posts one completion packet to the port
//! ([PostQueuedCompletionStatus]) with [`key::OVERLAPPED`], and the poller turns the packet
//! into a readable event for the source's current token ([`on_packet`]).
//!
//! The objects waited on stay signalled until their owner resets them (a process handle for
//! ever; the timer is a manual-reset one, reset only by `SetWaitableTimer`), so one armed wait
//! is one event, and arming again is how the owner asks for the next one (a reregistration, a
//! periodic timer's next period).
//!
//! The newer path, `NtCreateWaitCompletionPacket`/`NtAssociateWaitCompletionPacket`
//! (undocumented NT calls of newer Windows, without bindings in windows-sys 0.61), would save
//! the thread-pool hop, but Wine 8 (the Windows environment this crate is tested in) does not
//! have it (its ntdll.dll exports neither): the thread-pool wait is the documented way, and
//! the one that works there.
//!
//! # Lifetimes (no packet for freed state)
//!
//! Each armed wait has its own [`Packet`], shared by an `Arc`: one strong reference is given
//! to the thread pool as the callback's context. It is taken back exactly once:
//!
//! - by the callback, which claims it (`claimed`) and hands it to the port with the packet
//!   (the poller takes it back when it dequeues the packet, `Shared::complete` →
//!   [`on_packet`]), or drops it if the `Poll` is shutting down (`Shared::begin_op` says no);
//! - or, when the wait is disarmed before the callback ran, by [`Inner::disarm`], after
//!   `UnregisterWaitEx(wait, INVALID_HANDLE_VALUE)` returned: that call waits for a callback
//!   already running, and no callback runs after it ([UnregisterWaitEx]), so a `claimed` still
//!   false means the callback never ran and never will.
//!
//! Each arming gets a new generation number; a packet whose generation is not the source's
//! current one (the source was re-armed, deregistered or dropped since) makes no event: a
//! packet already queued is harmless, it only points at its own `Packet`, alive until it is
//! dequeued. The source's state is reached from a packet through a `Weak`, so a dropped source
//! is simply gone. Dropping the source disarms (waiting for a running callback) before its
//! handle is closed: the thread pool never waits on a closed handle ("If this handle is closed
//! while the wait is still pending, the function's behavior is undefined",
//! RegisterWaitForSingleObject). When the `Poll` goes first, `Shared::shutdown` calls
//! [`Registration::cancel_all`], which disarms and forgets the registration: later settings
//! arm nothing.
//!
//! [RegisterWaitForSingleObject]: https://learn.microsoft.com/en-us/windows/win32/api/winbase/nf-winbase-registerwaitforsingleobject
//! [PostQueuedCompletionStatus]: https://learn.microsoft.com/en-us/windows/win32/fileio/postqueuedcompletionstatus
//! [UnregisterWaitEx]: https://learn.microsoft.com/en-us/windows/win32/sync/unregisterwaitex

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsRawHandle, OwnedHandle, RawHandle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Threading::{
    RegisterWaitForSingleObject, UnregisterWaitEx, WaitForSingleObject, INFINITE,
    WT_EXECUTEINWAITTHREAD, WT_EXECUTEONLYONCE,
};
use windows_sys::Win32::System::IO::OVERLAPPED_ENTRY;

use super::afd;
use super::selector::{key, Event, Overlapped, Registration, Selector, Shared};
use crate::{Interest, Token};

/// A source made of one kernel object (owned) whose signalled state is its readability.
#[derive(Debug)]
pub(crate) struct Wait {
    state: Arc<WaitState>,
    /// Declared after `state` and closed after `Drop` disarmed: never closed under a wait.
    handle: OwnedHandle,
}

/// What packets reach (through a `Weak`) and the port's registrations hold (for shutdown).
#[derive(Debug)]
pub(crate) struct WaitState {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The object waited on: the owner's handle, open as long as this state can arm.
    object: HANDLE,
    /// The registration, `None` when not registered (or the `Poll` is gone).
    reg: Option<Reg>,
    /// The thread-pool wait registered now, if any.
    armed: Option<Armed>,
    /// Bumped at every arming and disarming: a packet of another generation is stale.
    generation: u64,
}

#[derive(Debug)]
struct Reg {
    shared: Arc<Shared>,
    token: Token,
    interests: Interest,
    /// This source's slot in the port's registrations.
    slot: usize,
}

#[derive(Debug)]
struct Armed {
    /// The wait handle RegisterWaitForSingleObject gave (not a kernel object handle).
    wait: HANDLE,
    /// This state's own reference on the packet (the thread pool holds another, given as the
    /// callback's context, until claimed).
    packet: Arc<Packet>,
}

// SAFETY: the raw handles are plain identifiers usable from any thread; a `Packet` is shared
// with the thread pool and the port only through its atomics and immutable fields (its
// `OVERLAPPED` is never written: posted packets are not I/O).
unsafe impl Send for WaitState {}
// SAFETY: as above: every field is behind the mutex.
unsafe impl Sync for WaitState {}

// SAFETY: the only non-`Sync` part is the `OVERLAPPED` in `header`, which nobody writes or
// reads (a posted packet is not I/O: the port only carries its address); the other fields are
// `Send + Sync` (`Arc`, `Weak`, atomics, integers, a `fn` pointer).
unsafe impl Send for Packet {}
// SAFETY: as above.
unsafe impl Sync for Packet {}

impl std::fmt::Debug for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packet")
            .field("generation", &self.generation)
            .field("claimed", &self.claimed)
            .finish()
    }
}

/// One armed wait's packet: the `Overlapped` header the port hands back (first, so the
/// packet's address is the header's), and what the callback and the poller need.
#[repr(C)]
struct Packet {
    header: Overlapped,
    /// The port to post to (kept alive while the packet may still be posted).
    shared: Arc<Shared>,
    /// The source, if still alive when the packet is dequeued.
    state: Weak<WaitState>,
    generation: u64,
    /// Set by whoever takes back the thread pool's reference first: the callback, or
    /// `disarm` after the wait was unregistered.
    claimed: AtomicBool,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // Every critical section leaves the state consistent: poisoning is ignored.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Wait {
    /// Takes ownership of `handle`, an object with the `SYNCHRONIZE` right.
    pub(crate) fn new(handle: OwnedHandle) -> Wait {
        Wait {
            state: Arc::new(WaitState {
                inner: Mutex::new(Inner {
                    object: handle.as_raw_handle(),
                    reg: None,
                    armed: None,
                    generation: 0,
                }),
            }),
            handle,
        }
    }

    pub(crate) fn handle(&self) -> &OwnedHandle {
        &self.handle
    }

    pub(crate) fn raw(&self) -> RawHandle {
        self.handle.as_raw_handle()
    }

    /// `WaitForSingleObject(handle, 0)`: whether the object is signalled now (a zero timeout
    /// only tests the state; it resets neither a manual-reset timer nor a process handle).
    pub(crate) fn is_signalled(&self) -> io::Result<bool> {
        // SAFETY: the handle is this source's, open, with SYNCHRONIZE access (each owner opens
        // or creates it so); the call only reads the object's state.
        match unsafe { WaitForSingleObject(self.raw(), 0) } {
            WAIT_OBJECT_0 => Ok(true),
            WAIT_TIMEOUT => Ok(false),
            _ => Err(io::Error::last_os_error()),
        }
    }

    /// Registers, and arms the wait if `arm` (the object may be signalled, or become so).
    pub(crate) fn register(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        arm: bool,
    ) -> io::Result<()> {
        let shared = selector.shared();
        let mut inner = lock(&self.state.inner);
        if inner.reg.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a `Registry`",
            ));
        }
        let slot = shared.add_registration(Arc::clone(&self.state) as Arc<dyn Registration>);
        inner.reg = Some(Reg {
            shared: Arc::clone(shared),
            token,
            interests,
            slot,
        });
        if arm {
            if let Err(err) = inner.arm(&self.state) {
                inner.deregister();
                return Err(err);
            }
        }
        Ok(())
    }

    /// A new token and interest; the wait is armed again if `arm` (so a signalled object is
    /// reported again, as a level-triggered check at reregistration).
    pub(crate) fn reregister(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
        arm: bool,
    ) -> io::Result<()> {
        let mut inner = lock(&self.state.inner);
        inner.check_registered(selector)?;
        inner.disarm();
        if let Some(reg) = &mut inner.reg {
            reg.token = token;
            reg.interests = interests;
        }
        if arm {
            inner.arm(&self.state)?;
        }
        Ok(())
    }

    pub(crate) fn deregister(&self, selector: &Selector) -> io::Result<()> {
        let mut inner = lock(&self.state.inner);
        inner.check_registered(selector)?;
        inner.deregister();
        Ok(())
    }

    /// Disarms, runs `change` (what resets or re-sets the object), then arms again if `arm`
    /// and registered: all under the lock, so no packet of the old setting makes an event
    /// (its generation is gone) and the new setting has its wait. `change`'s error wins.
    pub(crate) fn update(
        &self,
        arm: bool,
        change: impl FnOnce() -> io::Result<()>,
    ) -> io::Result<()> {
        let mut inner = lock(&self.state.inner);
        inner.disarm();
        change()?;
        if arm {
            inner.arm(&self.state)?;
        }
        Ok(())
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        // Before `handle` closes (fields drop after this): no wait on a closed handle.
        lock(&self.state.inner).deregister();
    }
}

impl Inner {
    fn check_registered(&self, selector: &Selector) -> io::Result<()> {
        match &self.reg {
            Some(reg) if Arc::ptr_eq(&reg.shared, selector.shared()) => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "I/O source already registered with a different `Registry`",
            )),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "I/O source not registered with `Registry`",
            )),
        }
    }

    /// Disarms and leaves the port's registrations.
    fn deregister(&mut self) {
        self.disarm();
        if let Some(reg) = self.reg.take() {
            reg.shared.remove_registration(reg.slot);
        }
    }

    /// Registers a thread-pool wait for the object, if registered for readability (other
    /// interests never fire). Nothing if already armed. `state` is the `Arc` this is in.
    fn arm(&mut self, state: &Arc<WaitState>) -> io::Result<()> {
        let Some(reg) = &self.reg else {
            return Ok(());
        };
        if self.armed.is_some() || !reg.interests.is_readable() {
            return Ok(());
        }
        self.generation = self.generation.wrapping_add(1);
        let packet = Arc::new(Packet {
            header: Overlapped::new(on_packet),
            shared: Arc::clone(&reg.shared),
            state: Arc::downgrade(state),
            generation: self.generation,
            claimed: AtomicBool::new(false),
        });
        let context = Arc::into_raw(Arc::clone(&packet));
        let mut wait: HANDLE = std::ptr::null_mut();
        // SAFETY: `wait` is a valid out-pointer; `self.object` is open (the owner closes it
        // only after disarming, `Wait::drop`) and has SYNCHRONIZE; `context` is a strong
        // reference the callback or `disarm` takes back exactly once (module docs).
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                self.object,
                Some(wait_callback),
                context.cast::<c_void>(),
                INFINITE,
                WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD,
            )
        };
        if ok == 0 {
            let err = io::Error::last_os_error();
            // SAFETY: the wait was not registered, so the thread pool never got `context`.
            drop(unsafe { Arc::from_raw(context) });
            return Err(err);
        }
        self.armed = Some(Armed { wait, packet });
        Ok(())
    }

    /// Unregisters the wait (waiting for a callback already running) and takes back the
    /// thread pool's reference if the callback never claimed it. Makes every packet already
    /// queued stale.
    fn disarm(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        let Some(armed) = self.armed.take() else {
            return;
        };
        // SAFETY: `armed.wait` is the live wait handle RegisterWaitForSingleObject gave,
        // unregistered once (taken out of `armed`). INVALID_HANDLE_VALUE: "the function waits
        // for all callback functions to complete before returning"; this never runs inside the
        // callback (which takes no lock and calls nothing that disarms).
        let ok = unsafe { UnregisterWaitEx(armed.wait, INVALID_HANDLE_VALUE) };
        if ok == 0 {
            // The wait may still run its callback: its reference is left to it (leaked if it
            // never runs) rather than freed under it.
            trace!(
                "UnregisterWaitEx failed: {}; the wait's packet is left to the thread pool",
                io::Error::last_os_error()
            );
            return;
        }
        // No callback runs any more: if it never claimed the thread pool's reference, it is
        // ours to release (`armed.packet`, our own reference, keeps the allocation alive for
        // the check whatever the callback did).
        if !armed.packet.claimed.swap(true, Ordering::AcqRel) {
            // SAFETY: unclaimed, so the reference `arm` gave the thread pool (the pointer
            // `Arc::into_raw` returned, the same allocation) was never taken back.
            drop(unsafe { Arc::from_raw(Arc::as_ptr(&armed.packet)) });
        }
    }
}

impl Registration for WaitState {
    /// The `Poll` is shutting down: disarm, and forget the registration (its slot is gone with
    /// the port's slab), so later settings arm nothing.
    fn cancel_all(&self) {
        let mut inner = lock(&self.inner);
        inner.disarm();
        inner.reg = None;
    }
}

/// The thread pool's callback: the object is signalled. Posts the packet, or releases it if
/// the `Poll` is shutting down. Takes no lock (`disarm` waits for it while holding one).
unsafe extern "system" fn wait_callback(context: *mut c_void, _timed_out: bool) {
    let packet = context as *const Packet;
    // SAFETY: `context` is the reference `arm` gave the thread pool, alive until claimed (and
    // `Armed::packet` holds another while the wait is registered).
    if unsafe { &*packet }.claimed.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: claimed here: the thread pool's reference is now this callback's.
    let packet = unsafe { Arc::from_raw(packet) };
    let shared = Arc::clone(&packet.shared);
    if !shared.begin_op() {
        // The `Poll` is gone: nobody would dequeue it.
        return;
    }
    let raw = Arc::into_raw(packet);
    if shared.port.post(key::OVERLAPPED, raw.cast()).is_err() {
        // SAFETY: not queued, so the port did not keep `raw`.
        drop(unsafe { Arc::from_raw(raw) });
        shared.end_op();
    }
}

/// The poller dequeued a packet: an event for the source's token, if the packet is of the
/// current generation and the source still registered. Releases the packet's reference.
fn on_packet(entry: &OVERLAPPED_ENTRY, events: Option<&mut Vec<Event>>) {
    // SAFETY: only `wait_callback` posts packets with this callback, each carrying the
    // reference it claimed (`Arc::into_raw`); the port hands it back exactly once, here.
    let packet = unsafe { Arc::from_raw(entry.lpOverlapped as *const Packet) };
    let (Some(events), Some(state)) = (events, packet.state.upgrade()) else {
        return;
    };
    let inner = lock(&state.inner);
    if inner.generation != packet.generation {
        return;
    }
    if let Some(reg) = &inner.reg {
        events.push(Event {
            flags: afd::POLL_RECEIVE,
            data: reg.token.0,
        });
    }
}
