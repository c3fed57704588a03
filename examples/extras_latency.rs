//! Measures the extras of this crate (issue 17) against the way a mio user does the same today,
//! and prints a Markdown table (BENCHMARKS.md, "Extras" keeps one run):
//!
//! - **Timer fire latency**: a `mio::timer::Timer` set to 100 µs, from the deadline to `poll`
//!   returning its event; against a deadline kept in the loop and passed as `poll`'s timeout
//!   (a timer wheel's way).
//! - **Periodic drift**: a 1 ms `set_interval` timer over 1000 periods: when the 1000th
//!   expiration is read, against the ideal 1000 ms.
//! - **Child-exit notification latency**: from `spawn` of `true` to the event saying it exited,
//!   with `mio::process::Process`, against a `SIGCHLD` `Signals` plus `try_wait` (the
//!   self-pipe way of `signal-hook-mio`).
//!
//! Figures, not assertions: nothing here fails on a slow machine.
//!
//! ```text
//! cargo run --release --example extras_latency --features "os-poll timer process signal"
//! ```

// Linux and Android: the baselines it compares with are Unix ones (`SIGCHLD`, a loop deadline).
#![cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(unused))]

#[cfg(any(target_os = "linux", target_os = "android"))]
fn main() -> std::io::Result<()> {
    linux::main()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn main() {
    println!("extras_latency: measures Linux and Android only (the baselines are Unix: SIGCHLD, timerfd)");
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux {
    use std::io;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use mio::process::Process;
    use mio::signal::Signals;
    use mio::timer::Timer;
    use mio::{Events, Interest, Poll, Token};

    const ROUNDS: usize = 1000;
    const CHILDREN: usize = 200;

    pub fn main() -> io::Result<()> {
        let mut poll = Poll::new()?;
        let mut events = Events::with_capacity(16);
        println!("| Scenario | median | p90 | p99 | max |");
        println!("|---|---|---|---|---|");

        // Timer: the kernel's timerfd wakes the loop.
        let mut timer = Timer::new()?;
        poll.registry()
            .register(&mut timer, Token(0), Interest::READABLE)?;
        let mut late = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let deadline = Instant::now() + Duration::from_micros(100);
            timer.set_deadline(deadline)?;
            loop {
                poll_retry(&mut poll, &mut events, None)?;
                if events.iter().any(|e| e.token() == Token(0)) && timer.read().is_ok() {
                    break;
                }
            }
            late.push(Instant::now().saturating_duration_since(deadline));
        }
        row("`Timer`, 100 µs one-shot: deadline → event", &mut late);

        // The deadline as poll's timeout, the timer-wheel way.
        late.clear();
        for _ in 0..ROUNDS {
            let deadline = Instant::now() + Duration::from_micros(100);
            while Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                poll_retry(&mut poll, &mut events, Some(left))?;
            }
            late.push(Instant::now().saturating_duration_since(deadline));
        }
        row(
            "`poll` timeout, 100 µs (a timer wheel's way): deadline → return",
            &mut late,
        );

        // Periodic drift over 1000 periods of 1 ms.
        let period = Duration::from_millis(1);
        let start = Instant::now();
        timer.set_interval(period)?;
        let mut count = 0;
        while count < 1000 {
            poll_retry(&mut poll, &mut events, None)?;
            if let Ok(n) = timer.read() {
                count += n;
            }
        }
        let drift = start.elapsed().saturating_sub(period * count as u32);
        timer.cancel()?;
        println!(
        "| `Timer`, 1 ms period: when the 1000th expiration ({count} counted) is read, after the ideal | {} | | | |",
        fmt(drift)
    );
        poll.registry().deregister(&mut timer)?;

        // Child exit: a pidfd (or the fallback) per child.
        let mut lat = Vec::with_capacity(CHILDREN);
        for _ in 0..CHILDREN {
            let start = Instant::now();
            let mut child = Command::new("true").spawn()?;
            let mut process = Process::from_child(&child)?;
            poll.registry()
                .register(&mut process, Token(1), Interest::READABLE)?;
            while !process.has_exited()? {
                poll_retry(&mut poll, &mut events, None)?;
            }
            lat.push(start.elapsed());
            poll.registry().deregister(&mut process)?;
            child.wait()?;
        }
        row("`Process`: spawn of `true` → exit event", &mut lat);

        // Child exit the SIGCHLD way: a self-pipe (here `Signals`) and `try_wait`.
        let mut sigchld = Signals::new(&[libc::SIGCHLD])?;
        poll.registry()
            .register(&mut sigchld, Token(2), Interest::READABLE)?;
        lat.clear();
        for _ in 0..CHILDREN {
            let start = Instant::now();
            let mut child = Command::new("true").spawn()?;
            loop {
                poll_retry(&mut poll, &mut events, None)?;
                let _ = sigchld.receive();
                if child.try_wait()?.is_some() {
                    break;
                }
            }
            lat.push(start.elapsed());
        }
        row(
            "`SIGCHLD` `Signals` + `try_wait`: spawn of `true` → exit seen (reaped)",
            &mut lat,
        );
        Ok(())
    }

    fn poll_retry(
        poll: &mut Poll,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<()> {
        loop {
            match poll.poll(events, timeout) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn row(name: &str, samples: &mut [Duration]) {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        println!(
            "| {name} | {} | {} | {} | {} |",
            fmt(at(0.5)),
            fmt(at(0.9)),
            fmt(at(0.99)),
            fmt(at(1.0))
        );
    }

    fn fmt(d: Duration) -> String {
        format!("{:.1} µs", d.as_nanos() as f64 / 1000.0)
    }
}
