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
//! | `mio_evfilt_user` | macOS, iOS, tvOS, visionOS, watchOS, FreeBSD, DragonFly (since 4.0) | the `EVFILT_USER` waker; NetBSD (< 10) and OpenBSD (< 7.8) lack the filter and use a pipe |
//! | `mio_apple` | macOS, iOS, tvOS, visionOS, watchOS | no `SOCK_NONBLOCK`/`SOCK_CLOEXEC`, `accept4`, `pipe2` or `MSG_NOSIGNAL` |
//! | `mio_fcntl_flags` | Apple's, Haiku | fds made close-on-exec and non-blocking by `fcntl` after creation: no `SOCK_NONBLOCK`/`SOCK_CLOEXEC`, `accept4` or `pipe2` (in rustix, for Haiku) |
//! | `mio_aio` | FreeBSD, DragonFly, Apple's | `Interest::AIO` (and `EVFILT_AIO`) |
//! | `mio_mmsg_os` | Linux, Android, FreeBSD, NetBSD | `sendmmsg(2)`/`recvmmsg(2)` for `UdpSocket::send_batch`/`recv_batch` (a loop of single calls elsewhere) |
//!
//! The extras of this crate (not in upstream mio), each on where its feature is on and the
//! target has an implementation:
//!
//! | cfg | feature | operating systems | what |
//! |---|---|---|---|
//! | `mio_timer` | `timer` | Linux, Android, illumos; the kqueue family; Windows; the poll(2) selector's other targets | `mio::timer::Timer` (one of the backends below) |
//! | `mio_timer_timerfd` | `timer` | Linux, Android, illumos (and Linux under the libkqueue cfg with the poll(2) cfg) | the timer over timerfd |
//! | `mio_timer_kqueue` | `timer` | `mio_kqueue_os` with the kqueue selector (not with `--cfg mio_unsupported_force_poll_poll`) | the timer as an `EVFILT_TIMER` knote on the `Poll`'s own queue |
//! | `mio_timer_deadline` | `timer` | the poll(2) selector without timerfd or the kqueue timer: Solaris, Haiku, other Unix, the kqueue family under `--cfg mio_unsupported_force_poll_poll`, Hermit, WASI (and Linux's poll(2) selector under the test-only `--cfg mio_unsupported_test_timer_deadline`) | the selector keeps the timers' deadlines (`src/sys/timer_deadline.rs`) |
//! | (`windows`) | `timer` | Windows | a waitable timer (`src/sys/windows/timer.rs`) |
//! | `mio_process` | `process` | Linux, Android, illumos, Solaris, Haiku; the kqueue family; Windows | `mio::process::Process` (one of the backends below) |
//! | `mio_process_pidfd` | `process` | Linux, Android, illumos, Solaris, Haiku (and Linux under the libkqueue cfg with the poll(2) cfg) | a pidfd (Linux) or `SIGCHLD` (the others, and the Linux fallback) |
//! | `mio_process_kqueue` | `process` | `mio_kqueue_os` with the kqueue selector | an `EVFILT_PROC`/`NOTE_EXIT` knote on the `Poll`'s own queue |
//! | (`windows`) | `process` | Windows | a process handle (`src/sys/windows/process.rs`) |
//! | `mio_signal` | `signal` | every Unix; Windows | `mio::signal::Signals`; on Windows console control events (`src/sys/windows/signal.rs`) |
//! | `mio_extras` | any of them | a Unix where one of them is an `IoSource` (timerfd, pidfd/`SIGCHLD`, signals) | the `IoSource` plumbing they use (on Windows they are not `IoSource`s: their handles' waits are posted to the port, `src/sys/windows/wait.rs`) |
//!
//! Test-only: with `--cfg mio_unsupported_test_libkqueue` a Linux build is a kqueue build
//! (`mio_kqueue_os`, neither `mio_epoll_os` nor `mio_eventfd_os`) over libkqueue, linked here;
//! its timer and process are then the kqueue ones (`mio_timer_kqueue`, `mio_process_kqueue`),
//! exactly the code macOS and the BSDs run. The kqueue extras need the kqueue selector (their
//! knotes live on the `Poll`'s queue), so `--cfg mio_unsupported_force_poll_poll` turns them
//! off on the kqueue family (and back to timerfd/pidfd under the libkqueue cfg).
//!
//! Only `CARGO_CFG_TARGET_OS`, `CARGO_CFG_UNIX`, the two `--cfg` switches above and the features (`CARGO_FEATURE_*`) are read, so
//! cross-compiling needs nothing more.

use std::env;

fn main() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let os = os.as_str();
    let apple = matches!(os, "macos" | "ios" | "tvos" | "visionos" | "watchos");
    // Test-only: Linux runs the kqueue selector over libkqueue (see `libkqueue()` below).
    let libkqueue =
        os == "linux" && env::var_os("CARGO_CFG_MIO_UNSUPPORTED_TEST_LIBKQUEUE").is_some();
    let feature = |name: &str| env::var_os(format!("CARGO_FEATURE_{name}")).is_some();
    let unix = env::var_os("CARGO_CFG_UNIX").is_some();
    let windows = os == "windows";
    let poll_forced = env::var_os("CARGO_CFG_MIO_UNSUPPORTED_FORCE_POLL_POLL").is_some();
    let epoll_os = !libkqueue && matches!(os, "linux" | "android" | "illumos");
    let kqueue_os =
        libkqueue || apple || matches!(os, "freebsd" | "netbsd" | "openbsd" | "dragonfly");
    // The poll(2) selector: as `cfg_poll_selector!` in src/sys/mod.rs.
    let poll_selector = feature("OS_POLL")
        && ((unix && (poll_forced || !(epoll_os || kqueue_os))) || matches!(os, "hermit" | "wasi"));
    // The kqueue extras add knotes to the kqueue selector's queue: not without that selector.
    let kqueue_extras = kqueue_os && !poll_forced;
    // Test-only: Linux's poll(2) selector keeps the timers' deadlines itself, as on the
    // Unixes without timerfd.
    let test_deadline = os == "linux"
        && poll_forced
        && env::var_os("CARGO_CFG_MIO_UNSUPPORTED_TEST_TIMER_DEADLINE").is_some();
    let timer_timerfd = feature("TIMER")
        && matches!(os, "linux" | "android" | "illumos")
        && !(libkqueue && kqueue_extras)
        && !test_deadline;
    let timer_kqueue = feature("TIMER") && kqueue_extras;
    let timer_deadline = feature("TIMER") && poll_selector && !timer_timerfd && !timer_kqueue;
    let timer = timer_timerfd || timer_kqueue || timer_deadline || (feature("TIMER") && windows);
    // The SIGCHLD way needs nothing but signals and waitid(2): the Unixes with children whose
    // kernels give no better handle (illumos, Solaris, Haiku; compile-checked by .ci/targets).
    let process_pidfd = feature("PROCESS")
        && matches!(os, "linux" | "android" | "illumos" | "solaris" | "haiku")
        && !(libkqueue && kqueue_extras);
    let process_kqueue = feature("PROCESS") && kqueue_extras;
    let process = process_pidfd || process_kqueue || (feature("PROCESS") && windows);
    let signal = feature("SIGNAL") && (unix || windows);
    let families = [
        ("mio_epoll_os", epoll_os),
        (
            "mio_eventfd_os",
            !libkqueue && matches!(os, "linux" | "android"),
        ),
        ("mio_kqueue_os", kqueue_os),
        // EVFILT_USER, the kqueue waker's filter: not on NetBSD before 10 nor OpenBSD before
        // 7.8 (kevent answers EINVAL), which get the pipe waker, as upstream mio chooses.
        (
            "mio_evfilt_user",
            libkqueue || apple || matches!(os, "freebsd" | "dragonfly"),
        ),
        ("mio_apple", apple),
        ("mio_fcntl_flags", apple || os == "haiku"),
        ("mio_aio", apple || matches!(os, "freebsd" | "dragonfly")),
        ("mio_timer", timer),
        ("mio_timer_timerfd", timer_timerfd),
        ("mio_timer_kqueue", timer_kqueue),
        ("mio_timer_deadline", timer_deadline),
        ("mio_process", process),
        ("mio_process_pidfd", process_pidfd),
        ("mio_process_kqueue", process_kqueue),
        ("mio_signal", signal),
        // The `IoSource` plumbing, for the extras that are `IoSource`s (not the kqueue ones,
        // the selector-kept timers or Windows' waits).
        (
            "mio_extras",
            unix && (timer_timerfd || process_pidfd || signal),
        ),
        // sendmmsg/recvmmsg: Linux 3.0, Android, FreeBSD 11, NetBSD 7 (their man pages).
        (
            "mio_mmsg_os",
            matches!(os, "linux" | "android" | "freebsd" | "netbsd"),
        ),
    ];
    for (cfg, on) in families {
        if on {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
    if poll_forced && (timer_deadline || kqueue_os) {
        // Again for rustdoc, which gets this script's cfgs but not RUSTFLAGS: some of the cfgs
        // above follow from the poll(2) switch (the selector-kept timers, the kqueue extras
        // left out), and the doc tests compile the crate's source with them, which must then
        // see the poll(2) selector too (`timer_deadline` names it).
        println!("cargo:rustc-cfg=mio_unsupported_force_poll_poll");
    }
    if libkqueue {
        // Again for rustdoc: it gets this script's cfgs but not RUSTFLAGS, and the doc tests
        // compile the crate's source (without it, the kqueue code would look for libc's
        // kevent, which Linux does not have).
        println!("cargo:rustc-cfg=mio_unsupported_test_libkqueue");
        link_libkqueue();
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// `--cfg mio_unsupported_test_libkqueue` on Linux: the kqueue selector, exactly as macOS and
/// the BSDs build it, with kqueue(2)/kevent(2) and `struct kevent` from libkqueue (a user-space
/// kqueue over epoll; `src/sys/unix/libkqueue.rs`). Links `libkqueue.a` statically from
/// `$MIO_LIBKQUEUE_PREFIX/lib`, by default `target/libkqueue/lib` beside this file, which
/// `../shared/tools/libkqueue-build` makes; a clear error when it is not there.
fn link_libkqueue() {
    println!("cargo:rerun-if-env-changed=MIO_LIBKQUEUE_PREFIX");
    let prefix = env::var_os("MIO_LIBKQUEUE_PREFIX")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let dir = env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
            std::path::Path::new(&dir).join("target").join("libkqueue")
        });
    let lib = prefix.join("lib");
    let archive = lib.join("libkqueue.a");
    if !archive.is_file() {
        panic!(
            "--cfg mio_unsupported_test_libkqueue needs libkqueue: {} is missing. Build it with \
             `../shared/tools/libkqueue-build {}` (or set MIO_LIBKQUEUE_PREFIX to where it is).",
            archive.display(),
            prefix.display()
        );
    }
    println!("cargo:rerun-if-changed={}", archive.display());
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-lib=static=kqueue");
}
