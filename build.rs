//! The platform families, decided once here from the target's OS and handed to the crate as
//! `cfg`s (declared in Cargo.toml's `check-cfg` list), so the code says `#[cfg(mio_kqueue_os)]`
//! instead of repeating lists of operating systems. Which backend a build uses also depends on
//! the `os-poll` feature and the `mio_unsupported_force_*` switches; that ladder is in
//! `src/sys/unix/mod.rs`.
//!
//! | cfg | operating systems | what for |
//! |---|---|---|
//! | `mio_epoll_os` | Linux, Android, illumos | the epoll selector |
//! | `mio_eventfd_os` | Linux, Android | the eventfd wake-up fd (a pipe elsewhere) |
//! | `mio_kqueue_os` | macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, NetBSD, OpenBSD, DragonFly | the kqueue selector, `EVFILT_USER` waker |
//! | `mio_apple` | macOS, iOS, tvOS, visionOS, watchOS | no `SOCK_NONBLOCK`/`SOCK_CLOEXEC`, `accept4`, `pipe2` or `MSG_NOSIGNAL` |
//! | `mio_fcntl_flags` | Apple's, Haiku | fds made close-on-exec and non-blocking by `fcntl` after creation: no `SOCK_NONBLOCK`/`SOCK_CLOEXEC`, `accept4` or `pipe2` (in rustix, for Haiku) |
//! | `mio_aio` | FreeBSD, DragonFly, Apple's | `Interest::AIO` (and `EVFILT_AIO`) |
//!
//! Only `CARGO_CFG_TARGET_OS` is read, so cross-compiling needs nothing more.

use std::env;

fn main() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let os = os.as_str();
    let apple = matches!(os, "macos" | "ios" | "tvos" | "visionos" | "watchos");
    let families = [
        (
            "mio_epoll_os",
            matches!(os, "linux" | "android" | "illumos"),
        ),
        ("mio_eventfd_os", matches!(os, "linux" | "android")),
        (
            "mio_kqueue_os",
            apple || matches!(os, "freebsd" | "netbsd" | "openbsd" | "dragonfly"),
        ),
        ("mio_apple", apple),
        ("mio_fcntl_flags", apple || os == "haiku"),
        ("mio_aio", apple || matches!(os, "freebsd" | "dragonfly")),
    ];
    for (cfg, on) in families {
        if on {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
