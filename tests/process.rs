//! Tests of the `process` extra (`mio::process::Process`, not in upstream mio): a child's exit
//! before and after registration, many children, never reaping, bad pids, and the full
//! lifecycle. They run under epoll and poll(2) with a pidfd, `--cfg
//! mio_unsupported_test_process_sigchld` runs them on the SIGCHLD fallback (CI does, with the
//! pipe-waker run), and under the kqueue selector over libkqueue (`--cfg
//! mio_unsupported_test_libkqueue`) they run the kqueue process (an `EVFILT_PROC` knote on the
//! `Poll`'s queue, and for a zombie the one-shot `EVFILT_TIMER` the BSDs need), the code macOS
//! and the BSDs run.
//!
//! Children are `cat` with a piped stdin: it exits when the test closes that pipe, so the
//! test decides when, without sleeping. On the fallback any child's exit (other tests' too:
//! they run on parallel threads) is an event for every `Process`, so the tests check for
//! "no exit reported" with `has_exited`, not for "no event".
//!
//! On Windows (under Wine in CI) the same tests run against process handles, with this test
//! binary itself as the `cat` (see `cat`) and `cmd /c exit 0` as `true`; what only Unix has
//! (reaping, pids of other processes' children, the fallback) is cfg'd out where it is, and
//! the lifecycle tests of the thread-pool waits are in `mod windows` at the end.
// Where `Process` exists (see src/process.rs).
#![cfg(all(
    feature = "process",
    any(target_os = "linux", target_os = "android", windows)
))]

mod util;

use std::io;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mio::process::Process;
use mio::{Events, Interest, Poll, Token};

use util::{
    assert_lifecycle_errors, assert_send, assert_sync, fd_count, fd_count_settled,
    libkqueue_deregister_before_close, libkqueue_warm_up, poll_once, registered, run_isolated,
    EXPECT_TIMEOUT, NO_EVENT_TIMEOUT,
};

const P: Token = Token(8);

/// Whether `Process` runs on its SIGCHLD fallback: forced by the test-only cfg, or chosen
/// because pidfd_open(2) answers `ENOSYS` (valgrind does: reliability/valgrind.sh runs some of
/// these tests so, which tests the choice made at run time).
#[cfg(windows)]
fn fallback() -> bool {
    false
}

/// Whether `Process` runs on its SIGCHLD fallback: forced by the test-only cfg, or chosen
/// because pidfd_open(2) answers `ENOSYS`.
#[cfg(unix)]
fn fallback() -> bool {
    cfg!(mio_unsupported_test_process_sigchld)
        || matches!(
            rustix::process::pidfd_open(
                rustix::process::getpid(),
                rustix::process::PidfdFlags::empty()
            ),
            Err(rustix::io::Errno::NOSYS)
        )
}

/// A `cat` that exits when its stdin is closed (`child.stdin.take()` dropped).
#[cfg(unix)]
fn cat() -> Child {
    Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn cat")
}

/// Windows (no `cat` under Wine): this test binary again, running `child_body`, which reads
/// its stdin to the end and exits with status 0.
#[cfg(windows)]
fn cat() -> Child {
    cat_exiting_with(0)
}

/// This test binary as a child that reads its stdin to the end, then exits with `code`.
#[cfg(windows)]
fn cat_exiting_with(code: i32) -> Child {
    Command::new(std::env::current_exe().expect("current_exe"))
        .args(["child_body", "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_VAR, code.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn this test binary as a child")
}

#[cfg(windows)]
const CHILD_VAR: &str = "MIO_TEST_CHILD_EXIT";

/// Not a test of its own: in a child spawned by `cat_exiting_with` (the variable set), the
/// child's body; otherwise nothing.
#[cfg(windows)]
#[test]
fn child_body() {
    if let Ok(code) = std::env::var(CHILD_VAR) {
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).expect("read stdin");
        std::process::exit(code.parse().expect("exit code"));
    }
}

/// A child that exits at once with status 0: `true`, on Windows `cmd /c exit 0`.
fn quick() -> Child {
    #[cfg(unix)]
    let mut command = Command::new("true");
    #[cfg(windows)]
    let mut command = {
        let mut c = Command::new("cmd");
        c.args(["/c", "exit 0"]);
        c
    };
    command
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn a child")
}

fn end(child: &mut Child) {
    drop(child.stdin.take());
}

/// Polls (bounded) until an event for `token` after which `has_exited` says so.
#[track_caller]
fn expect_exit(poll: &mut Poll, events: &mut Events, process: &Process, token: Token) {
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while Instant::now() < deadline {
        for e in poll_once(poll, events, Some(Duration::from_millis(250))) {
            if e.token == token && process.has_exited().unwrap() {
                assert!(e.readable, "{e:?}");
                return;
            }
        }
    }
    panic!("no exit reported for {token:?} within {EXPECT_TIMEOUT:?}");
}

/// Polls once (briefly): any event for `token` must not be an exit.
#[track_caller]
fn expect_no_exit(poll: &mut Poll, events: &mut Events, process: &Process, token: Token) {
    for e in poll_once(poll, events, Some(NO_EVENT_TIMEOUT)) {
        if e.token == token {
            assert!(
                fallback() && !process.has_exited().unwrap(),
                "unexpected event {e:?}"
            );
        }
    }
    assert!(!process.has_exited().unwrap());
}

/// Waits (bounded) until `child` has exited: its handle is signalled.
#[cfg(windows)]
fn wait_exited_unreaped(child: &Child) {
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
    use windows_sys::Win32::System::Threading::WaitForSingleObject;
    let ms = EXPECT_TIMEOUT.as_millis() as u32;
    // SAFETY: the handle is the child's, alive for the call; a bounded wait.
    let res = unsafe { WaitForSingleObject(child.as_raw_handle(), ms) };
    assert_eq!(res, WAIT_OBJECT_0, "the child did not exit");
}

/// Waits (bounded, polling an empty `Poll`) until `child` has exited, without reaping it.
#[cfg(unix)]
fn wait_exited_unreaped(child: &Child) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let options = rustix::process::WaitIdOptions::EXITED
        | rustix::process::WaitIdOptions::NOHANG
        | rustix::process::WaitIdOptions::NOWAIT;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1);
    let deadline = Instant::now() + EXPECT_TIMEOUT;
    while rustix::process::waitid(rustix::process::WaitId::Pid(pid), options)
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the child did not exit");
        poll_once(&mut poll, &mut events, Some(Duration::from_millis(1)));
    }
}

fn setup(child: &Child) -> (Poll, Events, Process) {
    registered(Process::from_child(child).unwrap(), P)
}

#[test]
fn is_send_and_sync() {
    assert_send::<Process>();
    assert_sync::<Process>();
}

#[test]
fn exit_after_registration_is_reported_and_not_reaped() {
    #[cfg(unix)]
    let mut child = Command::new("sh")
        .args(["-c", "read x; exit 3"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    #[cfg(windows)]
    let mut child = cat_exiting_with(3);
    let (mut poll, mut events, process) = setup(&child);
    assert_eq!(process.pid(), child.id());
    expect_no_exit(&mut poll, &mut events, &process, P);
    assert!(child.try_wait().unwrap().is_none());
    end(&mut child);
    expect_exit(&mut poll, &mut events, &process, P);
    // Never reaped: the status is the child's.
    assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(3));
    // Still exited after the reaping.
    assert!(process.has_exited().unwrap());
}

#[test]
fn exit_before_registration_is_reported() {
    let mut child = quick();
    wait_exited_unreaped(&child);
    let (mut poll, mut events, process) = setup(&child);
    assert!(process.has_exited().unwrap());
    expect_exit(&mut poll, &mut events, &process, P);
    assert!(child.wait().unwrap().success());
}

#[test]
fn exit_between_creation_and_registration_is_reported() {
    let mut child = cat();
    let mut process = Process::from_child(&child).unwrap();
    end(&mut child);
    wait_exited_unreaped(&child);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&mut process, P, Interest::READABLE)
        .unwrap();
    expect_exit(&mut poll, &mut events, &process, P);
    child.wait().unwrap();
}

/// 1000 short-lived children, at most 100 watched at a time: each exit is reported for its
/// own token, and no event comes for a child after its `Process` was deregistered. Under Wine
/// 100 (each `cmd` start costs tens of milliseconds there).
#[test]
fn a_thousand_children_each_seen_once() {
    const TOTAL: usize = if cfg!(windows) { 100 } else { 1000 };
    const WINDOW: usize = 100;
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(128);
    let mut live: Vec<Option<(Child, Process)>> = (0..TOTAL).map(|_| None).collect();
    let (mut started, mut done) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while done < TOTAL {
        assert!(Instant::now() < deadline, "{done} of {TOTAL} exits seen");
        while started < TOTAL && started - done < WINDOW {
            let child = quick();
            let mut process = Process::from_child(&child).unwrap();
            poll.registry()
                .register(&mut process, Token(started), Interest::READABLE)
                .unwrap();
            live[started] = Some((child, process));
            started += 1;
        }
        for e in poll_once(&mut poll, &mut events, Some(Duration::from_millis(250))) {
            let i = e.token.0;
            let (child, process) = live[i]
                .as_mut()
                .unwrap_or_else(|| panic!("event for {i}, already reaped: {e:?}"));
            if process.has_exited().unwrap() {
                // Deregistered before the reaping and the drop: a pidfd that a concurrent
                // fork (other tests spawn children) still holds a copy of would otherwise stay
                // in the epoll set with its token, and newer kernels report the reaping on it
                // as one more event.
                poll.registry().deregister(process).unwrap();
                assert!(child.wait().unwrap().success());
                live[i] = None;
                done += 1;
            }
        }
    }
}

#[test]
fn reregister_with_another_token_and_interest() {
    let mut child = cat();
    let (mut poll, mut events, mut process) = setup(&child);
    poll.registry()
        .reregister(&mut process, Token(9), Interest::WRITABLE)
        .unwrap();
    end(&mut child);
    wait_exited_unreaped(&child);
    // Writable only: the exit is not reported.
    let seen = poll_once(&mut poll, &mut events, Some(NO_EVENT_TIMEOUT));
    assert!(seen.iter().all(|e| !e.readable), "{seen:?}");
    poll.registry()
        .reregister(&mut process, Token(10), Interest::READABLE)
        .unwrap();
    expect_exit(&mut poll, &mut events, &process, Token(10));
    child.wait().unwrap();
}

#[test]
fn deregistered_process_reports_nothing_but_still_answers() {
    let mut child = cat();
    let (mut poll, mut events, mut process) = setup(&child);
    poll.registry().deregister(&mut process).unwrap();
    end(&mut child);
    wait_exited_unreaped(&child);
    let seen = poll_once(&mut poll, &mut events, Some(NO_EVENT_TIMEOUT));
    assert!(seen.iter().all(|e| e.token != P), "{seen:?}");
    assert!(process.has_exited().unwrap());
    poll.registry()
        .register(&mut process, P, Interest::READABLE)
        .unwrap();
    expect_exit(&mut poll, &mut events, &process, P);
    child.wait().unwrap();
}

#[test]
fn lifecycle_errors() {
    let mut child = cat();
    let (poll, _events, mut process) = setup(&child);
    assert_lifecycle_errors(poll.registry(), &mut process, P);
    end(&mut child);
    child.wait().unwrap();
}

#[cfg(unix)]
#[test]
fn bad_pids() {
    for pid in [0, u32::MAX, i32::MAX as u32 + 1] {
        let err = Process::from_pid(pid).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{pid}: {err}");
    }
    // No such process (above any pid_max, which is at most 2^22): NotFound with a pidfd; on
    // the fallback, not a child.
    let err = Process::from_pid(i32::MAX as u32).unwrap_err();
    let kind = if fallback() {
        io::ErrorKind::InvalidInput
    } else {
        io::ErrorKind::NotFound
    };
    assert_eq!(err.kind(), kind, "{err}");
    // A reaped child.
    let mut child = quick();
    child.wait().unwrap();
    let err = Process::from_child(&child).unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
}

/// pidfd_open(2) watches any process; the fallback only children. (Unix: the parent's pid.)
#[cfg(unix)]
#[test]
fn a_process_that_is_not_a_child() {
    let parent = std::os::unix::process::parent_id();
    match Process::from_pid(parent) {
        Ok(process) => {
            assert!(!fallback());
            assert!(!process.has_exited().unwrap());
        }
        Err(err) => {
            assert!(fallback(), "{err}");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        }
    }
}

/// In its own process (`run_isolated`): the fd count must not see other tests' fds.
#[test]
fn drop_while_registered() {
    run_isolated("drop_while_registered", || {
        libkqueue_warm_up();
        windows_warm_up();
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        let mut child = cat();
        let before = fd_count();
        let mut process = Process::from_child(&child).unwrap();
        poll.registry()
            .register(&mut process, P, Interest::READABLE)
            .unwrap();
        libkqueue_deregister_before_close(poll.registry(), &mut process).unwrap();
        drop(process);
        assert_eq!(fd_count_settled(before), before);
        end(&mut child);
        wait_exited_unreaped(&child);
        let seen = poll_once(&mut poll, &mut events, Some(NO_EVENT_TIMEOUT));
        assert!(seen.iter().all(|e| e.token != P), "{seen:?}");
        // The child is untouched: its status is there.
        assert!(child.wait().unwrap().success());
    });
}

/// Windows: one exit seen through a `Poll`, so that the thread pool's wait thread (made once
/// per process, with its handles) exists before a handle count. Nothing elsewhere.
fn windows_warm_up() {
    #[cfg(windows)]
    {
        let mut child = quick();
        let (mut poll, mut events, process) = setup(&child);
        expect_exit(&mut poll, &mut events, &process, P);
        child.wait().unwrap();
    }
}

#[test]
fn poll_dropped_first() {
    let mut child = cat();
    let (poll, events, process) = setup(&child);
    drop(events);
    drop(poll);
    end(&mut child);
    wait_exited_unreaped(&child);
    assert!(process.has_exited().unwrap());
    drop(process);
    assert!(child.wait().unwrap().success());
}

/// What is Windows' own: pids opened with OpenProcess, raw handles, and the lifecycle of the
/// thread-pool waits (src/sys/windows/wait.rs): disarming waits for a running callback, a
/// packet already queued makes no event for a source that changed or went, nothing leaks
/// (handles counted as tests/win_leaks.rs does).
#[cfg(windows)]
mod windows {
    use super::*;
    use std::os::windows::io::AsHandle;
    use util::expect_no_events;

    #[test]
    fn bad_pids() {
        let err = Process::from_pid(0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        // Windows pids are multiples of 4: this one is no process's.
        let err = Process::from_pid(u32::MAX - 2).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    }

    /// Any process can be watched by pid, this one included (it has not exited).
    #[test]
    fn from_pid_and_from_handle() {
        let this = Process::from_pid(std::process::id()).unwrap();
        assert!(!this.has_exited().unwrap());
        let mut child = cat();
        let by_pid = Process::from_pid(child.id()).unwrap();
        let handle = child.as_handle().try_clone_to_owned().unwrap();
        let mut by_handle = Process::from_handle(handle).unwrap();
        assert_eq!(by_handle.pid(), child.id());
        let mut poll = Poll::new().unwrap();
        let mut events = Events::with_capacity(8);
        poll.registry()
            .register(&mut by_handle, P, Interest::READABLE)
            .unwrap();
        expect_no_exit(&mut poll, &mut events, &by_handle, P);
        end(&mut child);
        expect_exit(&mut poll, &mut events, &by_handle, P);
        assert!(by_pid.has_exited().unwrap());
        assert!(child.wait().unwrap().success());
        // Not a process handle.
        let timer_like = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
        let err = Process::from_handle(timer_like.into()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }

    /// No zombies on Windows: a child waited for can still be watched (its handle lives on).
    #[test]
    fn a_waited_child_is_still_watched() {
        let mut child = quick();
        child.wait().unwrap();
        let (mut poll, mut events, process) = setup(&child);
        expect_exit(&mut poll, &mut events, &process, P);
    }

    #[test]
    fn deregister_while_armed_then_no_event() {
        let mut child = cat();
        let (mut poll, mut events, mut process) = setup(&child);
        poll.registry().deregister(&mut process).unwrap();
        end(&mut child);
        wait_exited_unreaped(&child);
        expect_no_events(&mut poll, &mut events);
        assert!(process.has_exited().unwrap());
        child.wait().unwrap();
    }

    /// The exit's packet posted but not dequeued when the process is deregistered: it makes
    /// no event.
    #[test]
    fn deregister_with_a_packet_queued_then_no_event() {
        let mut child = quick();
        wait_exited_unreaped(&child);
        let (mut poll, mut events, mut process) = setup(&child);
        // The wait fires at once (the process is signalled). Not synchronisation: whether its
        // packet is queued yet or not, no event may come; an idle wait on another `Poll`
        // only makes "queued" the likely case.
        let mut idle = Poll::new().unwrap();
        poll_once(&mut idle, &mut events, Some(Duration::from_millis(20)));
        poll.registry().deregister(&mut process).unwrap();
        expect_no_events(&mut poll, &mut events);
        child.wait().unwrap();
    }

    /// Registered (so armed) and dropped, many times, some with the exit's packet queued: no
    /// crash, no event, no handle left.
    #[test]
    fn drop_while_armed_many_times() {
        run_isolated("windows::drop_while_armed_many_times", || {
            let mut poll = Poll::new().unwrap();
            let mut events = Events::with_capacity(64);
            let mut running = cat();
            let mut exited = quick();
            wait_exited_unreaped(&exited);
            windows_warm_up();
            let before = fd_count();
            for i in 0..300usize {
                let child = if i % 2 == 0 { &running } else { &exited };
                let mut process = Process::from_child(child).unwrap();
                poll.registry()
                    .register(&mut process, Token(i), Interest::READABLE)
                    .unwrap();
                if i % 3 == 0 {
                    poll_once(&mut poll, &mut events, Some(Duration::ZERO));
                }
                drop(process);
            }
            expect_no_events(&mut poll, &mut events);
            assert_eq!(fd_count_settled(before), before);
            end(&mut running);
            running.wait().unwrap();
            exited.wait().unwrap();
        });
    }

    /// The `Poll` dropped with one wait armed and one packet queued.
    #[test]
    fn poll_dropped_while_armed_and_with_a_packet_queued() {
        let mut running = cat();
        let mut exited = quick();
        wait_exited_unreaped(&exited);
        let (poll, events, armed) = setup(&running);
        let mut fired = Process::from_child(&exited).unwrap();
        poll.registry()
            .register(&mut fired, Token(5), Interest::READABLE)
            .unwrap();
        drop(events);
        drop(poll);
        assert!(fired.has_exited().unwrap());
        assert!(!armed.has_exited().unwrap());
        end(&mut running);
        wait_exited_unreaped(&running);
        assert!(armed.has_exited().unwrap());
        running.wait().unwrap();
        exited.wait().unwrap();
    }
}

/// A child that exited before its registration (a zombie, not reaped): readable all the same
/// (on kqueue the BSDs refuse `EVFILT_PROC` on it with `ESRCH`, and a one-shot timer knote
/// with the token reports it), and again after a reregister with another token; nothing after
/// a deregister.
#[test]
fn zombie_registered_then_reregistered_and_deregistered() {
    let mut child = quick();
    wait_exited_unreaped(&child);
    let (mut poll, mut events, mut process) = setup(&child);
    expect_exit(&mut poll, &mut events, &process, P);
    poll.registry()
        .reregister(&mut process, Token(11), Interest::READABLE)
        .unwrap();
    expect_exit(&mut poll, &mut events, &process, Token(11));
    poll.registry().deregister(&mut process).unwrap();
    poll.registry()
        .register(&mut process, Token(12), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&mut process).unwrap();
    let seen = poll_once(&mut poll, &mut events, Some(NO_EVENT_TIMEOUT));
    assert!(seen.iter().all(|e| e.token != Token(12)), "{seen:?}");
    // Never reaped.
    assert!(child.wait().unwrap().success());
}

/// The `Poll` dropped first while registered: a new `Poll` hears nothing of the exit (on
/// kqueue the knote stays on the dropped `Poll`'s queue, which the `Process` keeps open).
#[test]
fn poll_dropped_first_then_exit_never_reaches_a_new_poll() {
    let mut child = cat();
    let (poll, events, process) = setup(&child);
    drop(events);
    drop(poll);
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    end(&mut child);
    wait_exited_unreaped(&child);
    let seen = poll_once(&mut poll, &mut events, Some(NO_EVENT_TIMEOUT));
    assert!(seen.is_empty(), "{seen:?}");
    assert!(process.has_exited().unwrap());
    drop(process);
    assert!(child.wait().unwrap().success());
}
