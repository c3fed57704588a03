//! The `timer` extra on Windows: a manual-reset waitable timer, high-resolution where the
//! system has it, its signalled state delivered to the `Poll`'s port by [`Wait`].
//!
//! - [CreateWaitableTimerExW] with `CREATE_WAITABLE_TIMER_HIGH_RESOLUTION` (Windows 10 1803
//!   and later: "Creates a high resolution timer"); where that flag is refused
//!   (`ERROR_INVALID_PARAMETER`: older Windows, Wine) a normal waitable timer, whose
//!   resolution is the system timer's.
//! - Manual reset (`CREATE_WAITABLE_TIMER_MANUAL_RESET`): the timer stays signalled after it
//!   expired until it is set again ([SetWaitableTimer]: setting a timer makes it non-signalled
//!   until its due time), so `read` can ask it ([WaitForSingleObject] with a zero timeout)
//!   and the thread-pool wait does not consume the expiration.
//! - The kernel timer is always one-shot, with a relative due time (interrupt time: not
//!   affected by changes of the system clock). A waitable timer does not count expirations,
//!   so the setting is kept here (first deadline as an `Instant`, period, expirations
//!   returned) and `read` computes the count from the monotonic clock; a periodic timer's
//!   kernel timer is set again to the next period by the `read` that drains it (the next
//!   event is only due after a read: edge triggering).
//! - The `Instant` is taken before the kernel timer is set, so the kernel's due time is never
//!   before it; and an expiration the kernel signalled counts even if the two clocks disagree
//!   (`read` returns at least 1 then): an event is always followed by a successful read.
//!
//! [CreateWaitableTimerExW]: https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-createwaitabletimerexw
//! [SetWaitableTimer]: https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-setwaitabletimer
//! [WaitForSingleObject]: https://learn.microsoft.com/en-us/windows/win32/api/synchapi/nf-synchapi-waitforsingleobject

use std::io;
use std::os::windows::io::{FromRawHandle, OwnedHandle, RawHandle};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::ERROR_INVALID_PARAMETER;
use windows_sys::Win32::System::Threading::{
    CancelWaitableTimer, CreateWaitableTimerExW, SetWaitableTimer,
    CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, CREATE_WAITABLE_TIMER_MANUAL_RESET,
};

use super::selector::Selector;
use super::wait::Wait;
use crate::sys::timer_count;
use crate::{Interest, Token};

/// `SYNCHRONIZE` (wait on it) and `TIMER_MODIFY_STATE` (set and cancel it), the access the
/// timer is created with (Synchronization Object Security and Access Rights).
const TIMER_ACCESS: u32 = 0x0010_0000 | 0x0002;

#[derive(Debug)]
pub(crate) struct Timer {
    wait: Wait,
    setting: Mutex<Setting>,
}

/// The setting the kernel timer cannot keep.
#[derive(Debug, Default)]
struct Setting {
    /// The first expiration; `None` while disarmed.
    first: Option<Instant>,
    /// The period of a periodic timer.
    period: Option<Duration>,
    /// Expirations already returned by `read` since the setting.
    read: u64,
}

impl Setting {
    /// Whether an expiration is still to come or unread: what a wait is armed for.
    fn pending(&self) -> bool {
        self.first.is_some() && (self.period.is_some() || self.read == 0)
    }
}

impl Timer {
    pub(crate) fn new() -> io::Result<Timer> {
        let handle = create(CREATE_WAITABLE_TIMER_HIGH_RESOLUTION).or_else(|err| {
            if err.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) {
                create(0)
            } else {
                Err(err)
            }
        })?;
        Ok(Timer {
            wait: Wait::new(handle),
            setting: Mutex::new(Setting::default()),
        })
    }

    fn setting(&self) -> MutexGuard<'_, Setting> {
        self.setting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new setting (`first` is never zero, see `mio::timer::Timer::set`).
    pub(crate) fn set(&self, first: Duration, period: Option<Duration>) -> io::Result<()> {
        let mut setting = self.setting();
        // Before the kernel timer is set: its due time is never before this deadline.
        let now = Instant::now();
        let deadline = now.checked_add(first).ok_or_else(too_far)?;
        let due = due_time(first)?;
        self.wait
            .update(true, || set_kernel_timer(self.wait.raw(), due))?;
        *setting = Setting {
            first: Some(deadline),
            period,
            read: 0,
        };
        Ok(())
    }

    pub(crate) fn cancel(&self) -> io::Result<()> {
        let mut setting = self.setting();
        // CancelWaitableTimer does not reset a signalled timer: the setting says it is over.
        self.wait.update(false, || {
            // SAFETY: the handle is this timer's, open, with TIMER_MODIFY_STATE.
            if unsafe { CancelWaitableTimer(self.wait.raw()) } == 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        })?;
        *setting = Setting::default();
        Ok(())
    }

    pub(crate) fn read(&self) -> io::Result<u64> {
        let mut setting = self.setting();
        if !setting.pending() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let first = setting.first.expect("pending means set");
        let signalled = self.signalled()?;
        let now = Instant::now();
        let mut due = timer_count::expirations(first, setting.period, now);
        if signalled {
            // The kernel says the next expiration happened, whatever the clocks say.
            due = due.max(setting.read + 1);
        }
        if due <= setting.read {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let expirations = due - setting.read;
        setting.read = due;
        if let Some(period) = setting.period {
            // The next expiration is number `due` (0-based) after the first: set the kernel
            // timer for it, and arm a wait for its event.
            let next = timer_count::nth(first, period, due).ok_or_else(too_far)?;
            let after = next
                .saturating_duration_since(Instant::now())
                .max(Duration::from_nanos(1));
            let due_time = due_time(after)?;
            self.wait
                .update(true, || set_kernel_timer(self.wait.raw(), due_time))?;
        }
        Ok(expirations)
    }

    /// Whether the kernel timer is signalled (its current setting expired).
    fn signalled(&self) -> io::Result<bool> {
        self.wait.is_signalled()
    }

    pub(crate) fn register(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let setting = self.setting();
        self.wait
            .register(selector, token, interests, setting.pending())
    }

    pub(crate) fn reregister(
        &self,
        selector: &Selector,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        let setting = self.setting();
        self.wait
            .reregister(selector, token, interests, setting.pending())
    }

    pub(crate) fn deregister(&self, selector: &Selector) -> io::Result<()> {
        self.wait.deregister(selector)
    }

    pub(crate) fn handle(&self) -> &OwnedHandle {
        self.wait.handle()
    }
}

/// `CreateWaitableTimerExW(NULL, NULL, MANUAL_RESET | extra, SYNCHRONIZE | TIMER_MODIFY_STATE)`.
fn create(extra: u32) -> io::Result<OwnedHandle> {
    // SAFETY: null attributes and name are allowed ("If lpTimerAttributes is NULL, the timer
    // handle cannot be inherited"; "If lpTimerName is NULL, the timer object is created
    // without a name"); no pointer is kept.
    let handle = unsafe {
        CreateWaitableTimerExW(
            std::ptr::null(),
            std::ptr::null(),
            CREATE_WAITABLE_TIMER_MANUAL_RESET | extra,
            TIMER_ACCESS,
        )
    };
    if handle.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new handle nothing else owns.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle as RawHandle) })
}

/// A relative due time for SetWaitableTimer: negative, in 100 ns units, rounded up (never
/// early), at least one unit.
fn due_time(after: Duration) -> io::Result<i64> {
    // `div_ceil` is newer than the MSRV.
    let units = after.as_nanos().saturating_add(99) / 100;
    let units = units.max(1);
    i64::try_from(units).map(|u| -u).map_err(|_| too_far())
}

/// One-shot (`lPeriod` 0), no completion routine, no resume.
fn set_kernel_timer(handle: RawHandle, due: i64) -> io::Result<()> {
    // SAFETY: `handle` is an open timer with TIMER_MODIFY_STATE; `due` is read during the
    // call only; no completion routine, so no argument.
    let ok = unsafe { SetWaitableTimer(handle, &due, 0, None, std::ptr::null(), 0) };
    if ok == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn too_far() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "timer deadline too far in the future for a waitable timer",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
    use windows_sys::Win32::System::Threading::WaitForSingleObject;

    /// The high-resolution flag is either honoured or refused the way `Timer::new` falls back
    /// on (`ERROR_INVALID_PARAMETER`), never anything else.
    #[test]
    fn high_resolution_or_the_refusal_new_falls_back_on() {
        match create(CREATE_WAITABLE_TIMER_HIGH_RESOLUTION) {
            Ok(_) => eprintln!("high-resolution waitable timer: accepted"),
            Err(err) => {
                eprintln!("high-resolution waitable timer: refused ({err}); normal timer");
                assert_eq!(
                    err.raw_os_error(),
                    Some(ERROR_INVALID_PARAMETER as i32),
                    "{err}"
                );
                create(0).expect("a normal waitable timer");
            }
        }
    }

    /// What `read` relies on: setting a signalled manual-reset timer makes it non-signalled.
    #[test]
    fn setting_a_signalled_timer_resets_it() {
        let timer = Timer::new().unwrap();
        set_kernel_timer(timer.wait.raw(), -1).unwrap();
        // SAFETY: the handle is the timer's; a bounded wait.
        assert_eq!(
            unsafe { WaitForSingleObject(timer.wait.raw(), 5000) },
            WAIT_OBJECT_0
        );
        assert!(timer.signalled().unwrap());
        set_kernel_timer(
            timer.wait.raw(),
            due_time(Duration::from_secs(3600)).unwrap(),
        )
        .unwrap();
        assert!(!timer.signalled().unwrap());
    }
}
