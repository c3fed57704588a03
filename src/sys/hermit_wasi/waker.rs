//! The internal notifier of the poll(2) selector: what interrupts a blocked poll when another
//! thread registers a source or wakes the `Waker`.

#[cfg(target_os = "hermit")]
pub(crate) use self::hermit::WakerFd;
#[cfg(target_os = "wasi")]
pub(crate) use self::wasi::WakerFd;

/// Hermit: an eventfd, as on Linux (Hermit's eventfd follows Linux's eventfd(2): an 8-byte
/// counter, readable while non-zero).
#[cfg(target_os = "hermit")]
mod hermit {
    use std::io;
    use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

    use super::super::cvt;

    #[derive(Debug)]
    pub(crate) struct WakerFd {
        fd: OwnedFd,
    }

    impl WakerFd {
        /// `eventfd(0, EFD_NONBLOCK)`: Hermit runs one program, so there is no `exec` to close
        /// it on.
        ///
        /// See [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html), whose
        /// interface Hermit's follows.
        pub(crate) fn new() -> io::Result<WakerFd> {
            // SAFETY: eventfd takes no pointer; it returns a new fd or `-errno`.
            let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) } as isize)?;
            // SAFETY: `fd` was just created by eventfd and is owned by nobody else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
            Ok(WakerFd { fd })
        }

        /// Adds 1 to the counter, making the fd readable; a full counter is reset and written
        /// again.
        pub(crate) fn wake(&self) -> io::Result<()> {
            let one = 1u64.to_ne_bytes();
            loop {
                // SAFETY: `one` is 8 readable bytes for the duration of the call, and the fd
                // is owned by `self`.
                let ret = unsafe { libc::write(self.raw(), one.as_ptr().cast(), one.len()) };
                match cvt(ret) {
                    Ok(_) => return Ok(()),
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.reset()?,
                    Err(err) => return Err(err),
                }
            }
        }

        /// Reads (and so zeroes) the counter. Already zero is fine.
        pub(crate) fn reset(&self) -> io::Result<()> {
            let mut buf = [0u8; 8];
            loop {
                // SAFETY: `buf` is 8 writable bytes for the duration of the call, and the fd is
                // owned by `self`.
                let ret = unsafe { libc::read(self.raw(), buf.as_mut_ptr().cast(), buf.len()) };
                match cvt(ret) {
                    Ok(_) => return Ok(()),
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(err),
                }
            }
        }

        fn raw(&self) -> i32 {
            std::os::fd::AsRawFd::as_raw_fd(&self.fd)
        }
    }

    impl AsFd for WakerFd {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.fd.as_fd()
        }
    }
}

/// WASI: nothing to notify. There is no `Waker`, and without threads no registration can change
/// while a poll is blocked (the selector keeps no notifier slot there). On
/// `wasm32-wasip1-threads` a change made by another thread takes effect when that poll returns.
#[cfg(target_os = "wasi")]
mod wasi {
    use std::io;

    #[derive(Debug)]
    pub(crate) struct WakerFd;

    impl WakerFd {
        pub(crate) fn new() -> io::Result<WakerFd> {
            Ok(WakerFd)
        }

        /// Nobody can be blocked in a poll meanwhile (see above).
        pub(crate) fn wake(&self) -> io::Result<()> {
            Ok(())
        }

        /// Never readable: nothing to drain.
        pub(crate) fn reset(&self) -> io::Result<()> {
            Ok(())
        }
    }
}
