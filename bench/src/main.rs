//! `mio-bench`: this mio, upstream mio 1.2.5, raw epoll and `polling` 3.11 (Unix), measured
//! side by side in one binary.
//!
//! ```text
//! mio-bench [--quick] [--write] [--rounds N] [--only ID,ID] [--no-tools]
//! mio-bench --one ID --imp ours|upstream|raw [--iters N]     # one run (used under valgrind/strace)
//! mio-bench --list
//! ```
//!
//! `bench/run` is the one command: it builds in release and runs the suite with `--write`,
//! which rewrites `BENCHMARKS.md` and `bench/charts/*.svg`.
//!
//! Built for Windows (`bench/run --windows`, run under Wine), it compares ours and upstream
//! only (no epoll, so no raw floor), on the scenarios that exist there, and `--write` writes
//! the "Windows under Wine" section of `BENCHMARKS.md` (kept in `bench/windows.md`).

mod alloc;
#[cfg(target_os = "linux")]
mod exclusive;
mod imp;
mod report;
mod scenarios;
#[cfg(unix)]
mod svg;
#[cfg(target_os = "linux")]
mod udp_bulk;
#[cfg(windows)]
mod wine;

use std::io;
#[cfg(unix)]
use std::process::Command;
use std::time::Instant;

use imp::{Imp, Ours, Upstream};
#[cfg(unix)]
use imp::{Polling, Raw};
use scenarios::Sample;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// How a scenario's figure is read.
#[derive(Clone, Copy, Debug)]
pub enum Unit {
    /// Nanoseconds per unit of work (lower is better); the name of the unit.
    Ns(&'static str),
    /// Microseconds per unit of work (lower is better).
    Us(&'static str),
    /// Units of work per second (higher is better); the name of the unit.
    PerSec(&'static str),
    /// MiB per second (higher is better).
    MiBps,
}

impl Unit {
    /// The figure for `secs` spent on `work` units.
    pub fn value(self, secs: f64, work: f64) -> f64 {
        match self {
            Unit::Ns(_) => secs * 1e9 / work,
            Unit::Us(_) => secs * 1e6 / work,
            Unit::PerSec(_) => work / secs,
            Unit::MiBps => work / secs / (1024.0 * 1024.0),
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(self, Unit::PerSec(_) | Unit::MiBps)
    }

    pub fn label(self) -> String {
        match self {
            Unit::Ns(what) => format!("ns/{what}"),
            Unit::Us(what) => format!("µs/{what}"),
            Unit::PerSec(what) => format!("{what}/s"),
            Unit::MiBps => "MiB/s".to_string(),
        }
    }

    /// The name of one unit of work, for "per op" figures.
    pub fn op(self) -> &'static str {
        match self {
            Unit::Ns(what) | Unit::Us(what) | Unit::PerSec(what) => what,
            Unit::MiBps => "byte",
        }
    }
}

/// A scenario: an id (also the `--one` argument), the number of the issue's list it belongs
/// to, a title, a unit and its fixed workloads.
pub struct Scenario {
    pub id: &'static str,
    pub group: u8,
    pub title: &'static str,
    pub unit: Unit,
    pub full: u64,
    pub quick: u64,
    /// What `n` counts, for the report.
    pub workload: &'static str,
    /// Measured in one round out of `every` (the scenarios whose setup is long).
    pub every: usize,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "waker_local",
        group: 1,
        title: "Waker: wake + poll, one thread",
        unit: Unit::Ns("op"),
        full: 60_000,
        quick: 20_000,
        workload: "wake + poll(None) pairs",
        every: 1,
    },
    Scenario {
        id: "waker_cross",
        group: 1,
        title: "Waker: wake from another thread → poll returns",
        unit: Unit::Ns("op"),
        full: 20_000,
        quick: 4_000,
        workload: "round trips between two threads (2 wakes each)",
        every: 1,
    },
    Scenario {
        id: "tcp_pingpong_1",
        group: 2,
        title: "TCP ping-pong, 64 B, 1 connection",
        unit: Unit::PerSec("round trip"),
        full: 8_000,
        quick: 3_000,
        workload: "round trips",
        every: 1,
    },
    Scenario {
        id: "tcp_pingpong_64",
        group: 2,
        title: "TCP ping-pong, 64 B, 64 connections",
        unit: Unit::PerSec("round trip"),
        full: 64 * 200,
        quick: 64 * 50,
        workload: "round trips in all",
        every: 1,
    },
    Scenario {
        id: "tcp_stream_1",
        group: 3,
        title: "TCP streaming, 1 connection",
        unit: Unit::MiBps,
        full: 192 << 20,
        quick: 64 << 20,
        workload: "bytes",
        every: 1,
    },
    Scenario {
        id: "tcp_stream_16",
        group: 3,
        title: "TCP streaming, 16 connections",
        unit: Unit::MiBps,
        full: 192 << 20,
        quick: 64 << 20,
        workload: "bytes in all",
        every: 1,
    },
    Scenario {
        id: "udp_echo",
        group: 4,
        title: "UDP echo, 64 B, 8 in flight",
        unit: Unit::PerSec("datagram"),
        full: 16_000,
        quick: 5_000,
        workload: "datagrams echoed",
        every: 1,
    },
    Scenario {
        id: "reg_dereg",
        group: 5,
        title: "Register + deregister, 10 000 sources",
        unit: Unit::Ns("pair"),
        full: 2,
        quick: 1,
        workload: "passes over 10 000 sources",
        every: 1,
    },
    #[cfg(unix)]
    Scenario {
        id: "poll_1000_ready",
        group: 6,
        title: "poll, 1 000 ready sources, capacity 1 024",
        unit: Unit::PerSec("event"),
        full: 200,
        quick: 50,
        workload: "polls of 1 000 events",
        every: 1,
    },
    #[cfg(windows)]
    Scenario {
        id: "poll_1000_ready",
        group: 6,
        title: "poll + drain, 1 000 ready UDP sockets, capacity 1 024",
        unit: Unit::PerSec("event"),
        full: 1,
        quick: 1,
        workload: "rounds of 1 000 events",
        // Ours takes about a minute per round under Wine (see BENCHMARKS.md).
        every: 3,
    },
    Scenario {
        id: "empty_poll",
        group: 7,
        title: "Empty poll(Some(ZERO))",
        unit: Unit::Ns("call"),
        full: 200_000,
        quick: 50_000,
        workload: "calls",
        every: 1,
    },
    Scenario {
        id: "timeout_100us",
        group: 7,
        title: "poll(Some(100 µs)) with nothing ready: time actually waited",
        unit: Unit::Us("call"),
        full: 2_000,
        quick: 500,
        workload: "calls",
        every: 1,
    },
    Scenario {
        id: "accept_storm",
        group: 8,
        title: "Accept storm, 10 000 connections",
        unit: Unit::PerSec("accept"),
        full: 10_000,
        quick: 2_000,
        workload: "connections accepted",
        every: 2,
    },
    #[cfg(unix)]
    Scenario {
        id: "scale",
        group: 9,
        title: "Scale: idle connections, 1% active",
        unit: Unit::Us("round"),
        full: 100,
        quick: 20,
        workload: "rounds of 1% active",
        every: 3,
    },
];

/// The implementations, in the order of `Results::samples`: no raw floor on Windows.
pub const IMPS: &[&str] = &[
    Ours::NAME,
    Upstream::NAME,
    #[cfg(unix)]
    Raw::NAME,
    #[cfg(unix)]
    Polling::NAME,
];

fn run_one(imp: &str, id: &str, n: u64) -> io::Result<Sample> {
    match imp {
        "ours" => scenarios::run::<Ours>(id, n),
        "upstream" => scenarios::run::<Upstream>(id, n),
        #[cfg(unix)]
        "raw" => scenarios::run::<Raw>(id, n),
        #[cfg(unix)]
        "polling" => scenarios::run::<Polling>(id, n),
        _ => Err(io::Error::other(format!("unknown implementation {imp}"))),
    }
}

pub fn scenario(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.id == id)
}

struct Args {
    quick: bool,
    write: bool,
    rounds: Option<usize>,
    only: Option<Vec<String>>,
    tools: bool,
    one: Option<String>,
    imp: Option<String>,
    iters: Option<u64>,
    list: bool,
    exclusive: bool,
    udp_bulk: bool,
    udp_bulk_one: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        write: false,
        rounds: None,
        only: None,
        tools: true,
        one: None,
        imp: None,
        iters: None,
        list: false,
        exclusive: false,
        udp_bulk: false,
        udp_bulk_one: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--write" => args.write = true,
            "--no-tools" => args.tools = false,
            "--list" => args.list = true,
            "--exclusive" => args.exclusive = true,
            "--udp-bulk" => args.udp_bulk = true,
            "--udp-bulk-one" => args.udp_bulk_one = Some(value("--udp-bulk-one")?),
            "--rounds" => {
                args.rounds = Some(value("--rounds")?.parse().map_err(|e| format!("{e}"))?)
            }
            "--only" => args.only = Some(value("--only")?.split(',').map(str::to_string).collect()),
            "--one" => args.one = Some(value("--one")?),
            "--imp" => args.imp = Some(value("--imp")?),
            "--iters" => args.iters = Some(value("--iters")?.parse().map_err(|e| format!("{e}"))?),
            "-h" | "--help" => {
                return Err(
                    "usage: mio-bench [--quick] [--write] [--rounds N] [--only ID,ID] \
                            [--no-tools] | --one ID --imp ours|upstream|raw [--iters N] | --list \
                            | --exclusive | --udp-bulk [--quick] [--write] [--rounds N] \
                            | --udp-bulk-one VARIANT [--iters N]"
                        .to_string(),
                )
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    if args.exclusive {
        #[cfg(target_os = "linux")]
        match exclusive::report(4, if args.quick { 50 } else { 200 }) {
            Ok(table) => {
                print!("{table}");
                return;
            }
            Err(e) => {
                eprintln!("exclusive: {e}");
                std::process::exit(1);
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            eprintln!("exclusive registrations exist on Linux (epoll) only");
            std::process::exit(2);
        }
    }
    if args.udp_bulk || args.udp_bulk_one.is_some() {
        #[cfg(target_os = "linux")]
        {
            if let Err(e) = udp_bulk_main(&args) {
                eprintln!("udp-bulk: {e}");
                std::process::exit(1);
            }
            return;
        }
        #[cfg(not(target_os = "linux"))]
        {
            eprintln!("the UDP bulk scenario runs on Linux only (sendmmsg, GSO, GRO)");
            std::process::exit(2);
        }
    }
    if args.list {
        for s in SCENARIOS {
            println!("{:<16} {}. {} [{}]", s.id, s.group, s.title, s.unit.label());
        }
        return;
    }
    if let Some(id) = &args.one {
        let Some(sc) = scenario(id) else {
            eprintln!("unknown scenario {id} (see --list)");
            std::process::exit(2);
        };
        let imp = args.imp.as_deref().unwrap_or("ours");
        let n = args
            .iters
            .unwrap_or(if args.quick { sc.quick } else { sc.full });
        scenarios::set_quick(args.quick);
        match run_one(imp, id, n) {
            Ok(s) => {
                println!(
                    "RESULT scenario={id} imp={imp} n={n} secs={} cpu={} work={} allocs={} value={:.3} {}",
                    s.secs,
                    s.cpu,
                    s.work,
                    s.allocs,
                    sc.unit.value(s.secs, s.work),
                    sc.unit.label()
                );
                for (k, v) in &s.extra {
                    println!("EXTRA {k}={v}");
                }
            }
            Err(e) => {
                eprintln!("{id}/{imp}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    scenarios::set_quick(args.quick);
    if let Err(e) = suite(&args) {
        eprintln!("mio-bench: {e}");
        std::process::exit(1);
    }
}

/// `--udp-bulk`: the UDP bulk table (`udp_bulk`), printed, and with `--write` kept in
/// `bench/udp_bulk.md` and put in place in `BENCHMARKS.md`. `--udp-bulk-one VARIANT`: one run
/// (what the strace counts run).
#[cfg(target_os = "linux")]
fn udp_bulk_main(args: &Args) -> io::Result<()> {
    if let Some(variant) = &args.udp_bulk_one {
        let n = args.iters.unwrap_or(100_000);
        let s = udp_bulk::run(variant, n)?;
        println!(
            "RESULT udp_bulk variant={variant} n={n} secs={} cpu={} allocs={} datagrams_per_sec={:.0}",
            s.secs,
            s.cpu,
            s.allocs,
            s.work / s.secs
        );
        return Ok(());
    }
    let rounds = args.rounds.unwrap_or(if args.quick { 3 } else { 11 });
    let n = if args.quick { 50_000 } else { 300_000 };
    let strace_n = if args.quick { 5_000 } else { 20_000 };
    let rows = udp_bulk::measure(rounds, n, strace_n)?;
    let when = command("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
        .map(|d| d.trim().to_string())
        .unwrap_or_else(|| "date not recorded".into());
    let text = udp_bulk::section(&rows, rounds, n, strace_n, &when);
    print!("{text}");
    if args.write {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::write(root.join("udp_bulk.md"), &text)?;
        let path = root.join("../BENCHMARKS.md");
        let doc = std::fs::read_to_string(&path)?;
        std::fs::write(
            &path,
            report::splice_section(&doc, udp_bulk::HEADING, &text),
        )?;
        eprintln!("wrote bench/udp_bulk.md and its section of BENCHMARKS.md");
    }
    Ok(())
}

/// Every measured sample of one scenario: `samples[imp][round]`, `imp` indexing [`IMPS`].
pub struct Results {
    pub scenario: &'static Scenario,
    pub n: u64,
    pub samples: Vec<Vec<Sample>>,
}

/// Runs the selected scenarios, every implementation interleaved, `rounds` rounds.
fn measure(args: &Args, rounds: usize, selected: &[&'static Scenario]) -> io::Result<Vec<Results>> {
    let mut results: Vec<Results> = selected
        .iter()
        .map(|&s| Results {
            scenario: s,
            n: if args.quick { s.quick } else { s.full },
            samples: vec![Vec::new(); IMPS.len()],
        })
        .collect();
    eprintln!(
        "mio-bench: {} scenarios x {} implementations x {rounds} rounds ({})",
        results.len(),
        IMPS.len(),
        if args.quick { "quick" } else { "full" }
    );
    for round in 0..rounds {
        for r in results.iter_mut() {
            if !args.quick && round % r.scenario.every != 0 {
                continue;
            }
            // A B C, B C A, C A B, ...: interleaved, and no implementation always goes first.
            let turn = r.samples[0].len();
            for k in 0..IMPS.len() {
                let i = (turn + k) % IMPS.len();
                let imp = IMPS[i];
                let sample = run_one(imp, r.scenario.id, r.n)
                    .map_err(|e| io::Error::other(format!("{}/{imp}: {e}", r.scenario.id)))?;
                eprintln!(
                    "  round {:>2}/{rounds} {:<16} {:<8} {:>12.2} {}",
                    round + 1,
                    r.scenario.id,
                    imp,
                    r.scenario.unit.value(sample.secs, sample.work),
                    r.scenario.unit.label()
                );
                r.samples[i].push(sample);
            }
        }
    }
    Ok(results)
}

/// The selected scenarios and the number of rounds.
fn plan(args: &Args) -> (usize, Vec<&'static Scenario>) {
    // Under Wine a full round takes minutes: 7 rounds there.
    let full = if cfg!(windows) { 7 } else { 31 };
    let rounds = args.rounds.unwrap_or(if args.quick { 3 } else { full });
    let selected: Vec<&'static Scenario> = SCENARIOS
        .iter()
        .filter(|s| {
            args.only
                .as_ref()
                .is_none_or(|only| only.iter().any(|o| o == s.id))
        })
        .collect();
    (rounds, selected)
}

#[cfg(unix)]
fn suite(args: &Args) -> io::Result<()> {
    let (rounds, selected) = plan(args);
    let machine = report::Machine::probe();
    let cpu_before = report::CpuTimes::now();
    let started = Instant::now();
    let results = measure(args, rounds, &selected)?;
    let elapsed = started.elapsed();
    let load = report::CpuTimes::now().others_share(&cpu_before);

    let tools = if args.tools {
        report::run_tools(args.quick, &selected)
    } else {
        report::Tools::default()
    };

    // The exclusive-accept counts (this crate only), kept in bench/exclusive.md for the report.
    #[cfg(target_os = "linux")]
    if args.write && args.only.is_none() {
        let table = exclusive::report(4, if args.quick { 50 } else { 200 })?;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::write(root.join("exclusive.md"), exclusive::section(&table))?;
    }
    let text = report::render(&report::Report {
        machine: &machine,
        quick: args.quick,
        rounds,
        elapsed,
        others_cpu: load,
        results: &results,
        tools: &tools,
        partial: args.only.is_some(),
    });
    print!("{}", report::summary(&results));
    if args.write {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let charts = root.join("charts");
        std::fs::create_dir_all(&charts)?;
        for (name, svg) in report::charts(&results) {
            std::fs::write(charts.join(name), svg)?;
        }
        std::fs::write(root.join("../BENCHMARKS.md"), text)?;
        eprintln!("wrote BENCHMARKS.md and bench/charts/*.svg");
    }
    Ok(())
}

/// Windows: ours against upstream only; the tools (valgrind, strace) do not exist there.
#[cfg(windows)]
fn suite(args: &Args) -> io::Result<()> {
    let (rounds, selected) = plan(args);
    let loadavg = report::loadavg();
    let started = Instant::now();
    let results = measure(args, rounds, &selected)?;
    let elapsed = started.elapsed();
    print!("{}", wine::summary(&results));
    if args.write {
        let section = wine::render(&wine::Run {
            quick: args.quick,
            partial: args.only.is_some(),
            rounds,
            elapsed,
            loadavg_before: loadavg,
            results: &results,
        });
        wine::write(&section)?;
    }
    Ok(())
}

/// The path of this executable, for running it again under valgrind or strace.
#[cfg(unix)]
pub fn self_exe() -> io::Result<std::path::PathBuf> {
    std::env::current_exe()
}

/// Runs `program args...`, returning whether it succeeded and its stdout.
#[cfg(unix)]
pub fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
