//! Hermit and WASI: systems with file descriptors and poll(2), but not Unix (no rustix: it has
//! no Hermit support and no sockets on WASI), so their calls go through `libc` here.
//!
//! | file | what |
//! |---|---|
//! | [`pollsys`] | the calls of the poll(2) selector (`sys::poll`, shared with the Unix fallback) |
//! | [`waker`] | Hermit: the eventfd that interrupts a blocked poll; WASI: none (no threads, no `Waker`) |
//! | [`net`] | TCP and UDP: std's sockets made non-blocking, and a non-blocking connect |
//! | [`io`] | reading a socket through std |
//!
//! The two differ in how a failed call reports its error: Hermit's calls return the negated
//! error code, WASI's (wasi-libc) return -1 and set `errno`; [`cvt`] reads either.
//!
//! What upstream mio 1.2.5 leaves out here is left out too: on WASI there is no `Waker`, and on
//! WASI preview 1 (`target_env = "p1"`) no `UdpSocket`, `TcpListener::bind` or
//! `TcpStream::connect` (its sockets are handed over by the host, already bound).

#[cfg(feature = "os-poll")]
pub(crate) mod pollsys;

#[cfg(feature = "os-poll")]
mod waker;
#[cfg(feature = "os-poll")]
pub(crate) use self::waker::WakerFd;

#[cfg(feature = "net")]
pub(crate) mod io;
#[cfg(feature = "net")]
pub(crate) mod net;

/// The result of a libc call that returns a count or an fd: Hermit's calls return `-errno` on
/// failure (as its kernel's `sys_*` entry points do), wasi-libc's return -1 and set `errno`.
#[cfg(any(feature = "os-poll", feature = "net"))]
// Unused by `net` alone on WASI preview 1 (no `connect`, nothing from libc).
#[cfg_attr(all(target_os = "wasi", target_env = "p1"), allow(dead_code))]
pub(crate) fn cvt(ret: isize) -> std::io::Result<usize> {
    use std::io as stdio;

    if ret >= 0 {
        return Ok(ret as usize);
    }
    #[cfg(target_os = "hermit")]
    return Err(stdio::Error::from_raw_os_error(-(ret as i32)));
    #[cfg(target_os = "wasi")]
    return Err(stdio::Error::last_os_error());
}
