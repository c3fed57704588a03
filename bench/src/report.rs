//! Statistics, the callgrind and strace runs, and the text of `BENCHMARKS.md`.
//!
//! On Windows only the statistics are used (by `wine.rs`): the machine probe, the tools, the
//! charts and the Linux report are Unix only.

#[cfg(unix)]
use std::collections::BTreeMap;
#[cfg(unix)]
use std::fmt::Write;
#[cfg(unix)]
use std::time::Duration;

use crate::scenarios::Sample;
#[cfg(unix)]
use crate::svg::{ratio_chart, Row};
use crate::Results;
#[cfg(unix)]
use crate::{command, scenario, self_exe, Scenario, IMPS};

// --- The machine ------------------------------------------------------------------------------

#[cfg(unix)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub kernel: String,
    pub rustc: String,
    pub nofile: u64,
    pub date: String,
    pub loadavg: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[cfg(unix)]
impl Machine {
    pub fn probe() -> Machine {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            rustc: command("rustc", &["-V"])
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| "unknown".into()),
            nofile: crate::scenarios::raise_nofile(),
            date: command("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            loadavg: loadavg(),
        }
    }
}

pub fn loadavg() -> String {
    read("/proc/loadavg")
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// CPU time of the whole machine and of this process, to tell how much of the machine other
/// processes used while the suite ran.
#[cfg(unix)]
pub struct CpuTimes {
    total: u64,
    busy: u64,
    own: u64,
}

#[cfg(unix)]
impl CpuTimes {
    pub fn now() -> CpuTimes {
        let stat = read("/proc/stat");
        let cpu: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|v| v.parse().ok())
            .collect();
        let total: u64 = cpu.iter().sum();
        let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
        // utime and stime are fields 14 and 15; count after the `)` that ends the name.
        let own_stat = read("/proc/self/stat");
        let after = own_stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<u64> = after
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let own = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
        CpuTimes {
            total,
            busy: total - idle,
            own,
        }
    }

    /// The share of the machine's CPU time (all cores) used by other processes since `earlier`.
    pub fn others_share(&self, earlier: &CpuTimes) -> f64 {
        let total = self.total.saturating_sub(earlier.total) as f64;
        let busy = self.busy.saturating_sub(earlier.busy) as f64;
        let own = self.own.saturating_sub(earlier.own) as f64;
        if total == 0.0 {
            0.0
        } else {
            ((busy - own) / total).max(0.0)
        }
    }
}

// --- Statistics -------------------------------------------------------------------------------

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// One implementation's figures in one scenario.
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Median seconds per unit of work.
    pub cost: f64,
    pub allocs_per_op: f64,
}

/// Which clock a figure is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Wall-clock time of the timed part.
    Wall,
    /// CPU time of the whole process (all threads) in the timed part: what the work cost,
    /// without the time spent waiting for a core that other processes held.
    Cpu,
}

impl Metric {
    fn secs(self, s: &Sample) -> f64 {
        match self {
            Metric::Wall => s.secs,
            Metric::Cpu => s.cpu,
        }
    }
}

pub fn stat(r: &Results, i: usize, m: Metric) -> Stat {
    let unit = r.scenario.unit;
    let values: Vec<f64> = r.samples[i]
        .iter()
        .map(|s| unit.value(m.secs(s), s.work))
        .collect();
    let (min, max) = min_max(&values);
    let allocs: f64 = r.samples[i].iter().map(|s| s.allocs as f64).sum();
    let work: f64 = r.samples[i].iter().map(|s| s.work).sum();
    Stat {
        median: median(values),
        min,
        max,
        cost: median(r.samples[i].iter().map(|s| m.secs(s) / s.work).collect()),
        allocs_per_op: allocs / work,
    }
}

/// Ratio of costs (time per unit of work) of implementation `a` over `b`: below 1 means `a` is
/// faster. Headline: the ratio of the medians; range: the per-round ratios (the rounds are
/// interleaved, so round k of each ran under the same conditions).
pub struct Ratio {
    pub headline: f64,
    pub lo: f64,
    pub hi: f64,
}

pub fn ratio(r: &Results, a: usize, b: usize, m: Metric) -> Ratio {
    let per_round: Vec<f64> = r.samples[a]
        .iter()
        .zip(&r.samples[b])
        .map(|(x, y)| (m.secs(x) / x.work) / (m.secs(y) / y.work))
        .collect();
    let (lo, hi) = min_max(&per_round);
    Ratio {
        headline: stat(r, a, m).cost / stat(r, b, m).cost,
        lo,
        hi,
    }
}

pub const OURS: usize = 0;
pub const UPSTREAM: usize = 1;
#[cfg(unix)]
const RAW: usize = 2;
/// smol's `polling` 3.11: a peer, no goal (the ratio ours/polling is reported beside ours/upstream).
#[cfg(unix)]
const POLLING: usize = 3;
/// How many implementations a Linux run measures.
#[cfg(unix)]
const N_IMPS: usize = 4;

/// Goals of the issue: ours at most 1.00x upstream and 1.05x raw epoll.
pub const GOAL_UPSTREAM: f64 = 1.00;
#[cfg(unix)]
const GOAL_RAW: f64 = 1.05;

pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 1e7 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e5 {
        format!("{:.0} k", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn fmt_ratio(q: &Ratio, goal: f64) -> String {
    let r = q.headline;
    let range = format!("<br><sub>{:.2}–{:.2}</sub>", q.lo, q.hi);
    if r > goal {
        format!("**{r:.3}×**{range}")
    } else {
        format!("{r:.3}×{range}")
    }
}

/// The short table printed at the end of a run.
#[cfg(unix)]
pub fn summary(results: &[Results]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<16} {:>14} {:>14} {:>14} {:>14} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "scenario",
        "ours",
        "upstream",
        "raw",
        "polling",
        "ours/up",
        "ours/raw",
        "ours/pol",
        "cpu o/u",
        "cpu o/r"
    );
    for r in results {
        if r.samples.iter().any(Vec::is_empty) {
            continue;
        }
        let st: Vec<Stat> = (0..N_IMPS).map(|i| stat(r, i, Metric::Wall)).collect();
        let _ = writeln!(
            s,
            "{:<16} {:>14} {:>14} {:>14} {:>14} {:>8.3}x {:>8.3}x {:>8.3}x {:>8.3}x {:>8.3}x   {}",
            r.scenario.id,
            fmt_value(st[OURS].median),
            fmt_value(st[UPSTREAM].median),
            fmt_value(st[RAW].median),
            fmt_value(st[POLLING].median),
            ratio(r, OURS, UPSTREAM, Metric::Wall).headline,
            ratio(r, OURS, RAW, Metric::Wall).headline,
            ratio(r, OURS, POLLING, Metric::Wall).headline,
            ratio(r, OURS, UPSTREAM, Metric::Cpu).headline,
            ratio(r, OURS, RAW, Metric::Cpu).headline,
            r.scenario.unit.label()
        );
    }
    s
}

// --- callgrind and strace ---------------------------------------------------------------------

/// Syscalls per unit of work, by name.
#[cfg(unix)]
pub type SyscallCounts = BTreeMap<String, f64>;

#[cfg(unix)]
#[derive(Default)]
pub struct Tools {
    /// (scenario, instructions per unit of work for each implementation).
    pub callgrind: Vec<(&'static Scenario, [Option<f64>; N_IMPS])>,
    /// (scenario, per implementation: syscalls per unit of work by name).
    pub strace: Vec<(&'static Scenario, [Option<SyscallCounts>; N_IMPS])>,
    pub notes: Vec<String>,
    /// Workloads used: (tool, scenario id, n1, n2).
    pub workloads: Vec<(&'static str, &'static str, u64, u64)>,
}

/// Runs `prefix... self --one id --imp imp --iters n` and returns the `work` it reports.
#[cfg(unix)]
fn run_self(prefix: &[&str], id: &str, imp: &str, n: u64) -> Option<f64> {
    let exe = self_exe().ok()?;
    let exe = exe.to_str()?;
    let n = n.to_string();
    let mut args: Vec<&str> = prefix[1..].to_vec();
    args.extend([exe, "--one", id, "--imp", imp, "--iters", &n]);
    let out = command(prefix[0], &args)?;
    out.split_whitespace()
        .find_map(|w| w.strip_prefix("work="))
        .and_then(|w| w.parse().ok())
}

#[cfg(unix)]
fn tmp_file(tag: &str) -> String {
    std::env::temp_dir()
        .join(format!("mio-bench-{}-{tag}.out", std::process::id()))
        .to_string_lossy()
        .into_owned()
}

/// Instructions executed by the whole process (user space only: callgrind does not see the
/// kernel), from the `summary:` (or `totals:`) line, and the work reported.
#[cfg(unix)]
fn callgrind_run(id: &str, imp: &str, n: u64) -> Option<(f64, f64)> {
    let file = tmp_file(&format!("cg-{id}-{imp}-{n}"));
    let out = format!("--callgrind-out-file={file}");
    let work = run_self(&["valgrind", "--tool=callgrind", &out], id, imp, n);
    let text = std::fs::read_to_string(&file).ok();
    let _ = std::fs::remove_file(&file);
    let text = text?;
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .or_else(|| text.lines().find_map(|l| l.strip_prefix("totals:")))?
        .split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()?;
    Some((total, work?))
}

/// Syscall counts by name (`strace -f -c`: every thread), and the work reported.
#[cfg(unix)]
fn strace_run(id: &str, imp: &str, n: u64) -> Option<(BTreeMap<String, f64>, f64)> {
    let file = tmp_file(&format!("st-{id}-{imp}-{n}"));
    let work = run_self(&["strace", "-f", "-c", "-o", &file], id, imp, n);
    let text = std::fs::read_to_string(&file).ok();
    let _ = std::fs::remove_file(&file);
    let text = text?;
    let mut counts = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("------") {
            if in_table {
                break;
            }
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        // % time, seconds, usecs/call, calls, [errors], syscall
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 5 {
            if let Ok(calls) = f[3].parse::<f64>() {
                counts.insert(f[f.len() - 1].to_string(), calls);
            }
        }
    }
    Some((counts, work?))
}

#[cfg(unix)]
fn have(tool: &str) -> bool {
    command(tool, &["--version"]).is_some()
}

/// Differences between a run of `n` and one of `2n`: setup, warm-up and teardown cancel out,
/// leaving the cost of `n` units of the timed loop.
#[cfg(unix)]
pub fn run_tools(quick: bool, selected: &[&'static Scenario]) -> Tools {
    let mut tools = Tools::default();
    let wanted = |id: &str| selected.iter().any(|s| s.id == id);
    let callgrind: &[(&str, u64, u64)] = if quick {
        &[
            ("waker_local", 2_000, 1_000),
            ("reg_dereg", 1, 1),
            ("empty_poll", 5_000, 1_000),
        ]
    } else {
        &[
            ("waker_local", 20_000, 20_000),
            ("tcp_pingpong_1", 2_000, 2_000),
            ("udp_echo", 2_000, 2_000),
            ("reg_dereg", 1, 1),
            ("empty_poll", 50_000, 50_000),
        ]
    };
    let strace: &[(&str, u64, u64)] = if quick {
        &[("waker_local", 500, 500), ("tcp_pingpong_1", 500, 500)]
    } else {
        &[
            ("waker_local", 2_000, 2_000),
            ("waker_cross", 2_000, 2_000),
            ("tcp_pingpong_1", 2_000, 2_000),
            ("tcp_pingpong_64", 64 * 50, 64 * 50),
        ]
    };
    if have("valgrind") {
        for &(id, n, extra) in callgrind.iter().filter(|c| wanted(c.0)) {
            eprintln!("  callgrind {id}");
            tools.workloads.push(("callgrind", id, n, n + extra));
            let mut row = [None; N_IMPS];
            for (i, imp) in IMPS.iter().enumerate() {
                let a = callgrind_run(id, imp, n);
                let b = callgrind_run(id, imp, n + extra);
                if let (Some((ia, wa)), Some((ib, wb))) = (a, b) {
                    row[i] = Some((ib - ia) / (wb - wa));
                }
            }
            tools.callgrind.push((scenario(id).unwrap(), row));
        }
    } else {
        tools
            .notes
            .push("valgrind is not installed: no instruction counts.".into());
    }
    if have("strace") {
        for &(id, n, extra) in strace.iter().filter(|c| wanted(c.0)) {
            eprintln!("  strace {id}");
            tools.workloads.push(("strace", id, n, n + extra));
            let mut row: [Option<SyscallCounts>; N_IMPS] = Default::default();
            for (i, imp) in IMPS.iter().enumerate() {
                let a = strace_run(id, imp, n);
                let b = strace_run(id, imp, n + extra);
                if let (Some((ca, wa)), Some((cb, wb))) = (a, b) {
                    let mut per = BTreeMap::new();
                    for (name, &count) in &cb {
                        let before = ca.get(name).copied().unwrap_or(0.0);
                        let v = (count - before) / (wb - wa);
                        if v.abs() >= 0.02 {
                            per.insert(name.clone(), v);
                        }
                    }
                    row[i] = Some(per);
                }
            }
            tools.strace.push((scenario(id).unwrap(), row));
        }
    } else {
        tools
            .notes
            .push("strace is not installed: no syscall counts.".into());
    }
    tools
}

// --- Charts -----------------------------------------------------------------------------------

#[cfg(unix)]
fn label(s: &Scenario) -> String {
    format!("{}. {}", s.group, s.title)
}

#[cfg(unix)]
pub fn charts(results: &[Results]) -> Vec<(&'static str, String)> {
    let complete: Vec<&Results> = results
        .iter()
        .filter(|r| r.samples.iter().all(|s| !s.is_empty()))
        .collect();
    let rows = |a: usize, b: usize, context: Option<(usize, usize)>, m: Metric| -> Vec<Row> {
        complete
            .iter()
            .map(|r| {
                let q = ratio(r, a, b, m);
                Row {
                    label: label(r.scenario),
                    ratio: q.headline,
                    lo: q.lo,
                    hi: q.hi,
                    context: context.map(|(c, d)| ratio(r, c, d, m).headline),
                }
            })
            .collect()
    };
    let mut charts = Vec::new();
    for (m, suffix, what) in [
        (Metric::Wall, "", "wall-clock time"),
        (Metric::Cpu, "_cpu", "process CPU time"),
    ] {
        charts.push((
            if suffix.is_empty() {
                "ours_vs_upstream.svg"
            } else {
                "ours_vs_upstream_cpu.svg"
            },
            ratio_chart(
                &format!("This mio ÷ upstream mio 1.2.5 ({what})"),
                "per unit of work, median of rounds, log scale; below 1.0 = faster than upstream",
                &rows(OURS, UPSTREAM, None, m),
                GOAL_UPSTREAM,
                "ours / upstream",
                None,
            ),
        ));
        charts.push((
            if suffix.is_empty() {
                "ours_vs_raw.svg"
            } else {
                "ours_vs_raw_cpu.svg"
            },
            ratio_chart(
                &format!("This mio ÷ raw epoll on rustix ({what})"),
                "per unit of work, median of rounds, log scale; goal: at most 1.05 (dashed line)",
                &rows(OURS, RAW, Some((UPSTREAM, RAW)), m),
                GOAL_RAW,
                "ours / raw",
                Some("upstream / raw, for comparison"),
            ),
        ));
        // smol's `polling`: a peer without a goal; red where ours costs more, and upstream's
        // ratio to it beside for comparison.
        charts.push((
            if suffix.is_empty() {
                "ours_vs_polling.svg"
            } else {
                "ours_vs_polling_cpu.svg"
            },
            ratio_chart(
                &format!("This mio ÷ polling 3.11 ({what})"),
                "per unit of work, median of rounds, log scale; below 1.0 = faster than polling",
                &rows(OURS, POLLING, Some((UPSTREAM, POLLING)), m),
                1.0,
                "ours / polling",
                Some("upstream / polling, for comparison"),
            ),
        ));
    }
    charts
}

// --- BENCHMARKS.md ----------------------------------------------------------------------------

#[cfg(unix)]
pub struct Report<'a> {
    pub machine: &'a Machine,
    pub quick: bool,
    pub rounds: usize,
    pub elapsed: Duration,
    pub others_cpu: f64,
    pub results: &'a [Results],
    pub tools: &'a Tools,
    pub partial: bool,
}

pub fn extra(r: &Results, i: usize, key: &str) -> f64 {
    median(
        r.samples[i]
            .iter()
            .filter_map(|s| s.extra.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
            .collect(),
    )
}

#[cfg(unix)]
fn results_table(w: &mut String, results: &[Results], m: Metric) {
    let _ = writeln!(
        w,
        "| # | scenario | unit | ours | upstream | raw | polling | ours/upstream | ours/raw | ours/polling |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|");
    for r in results {
        if r.samples.iter().any(Vec::is_empty) {
            continue;
        }
        let st: Vec<Stat> = (0..N_IMPS).map(|i| stat(r, i, m)).collect();
        let cell = |st: &Stat| {
            format!(
                "{} ({}–{})",
                fmt_value(st.median),
                fmt_value(st.min),
                fmt_value(st.max)
            )
        };
        let unit = r.scenario.unit;
        let _ = writeln!(
            w,
            "| {} | {} | {}{}{} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario.group,
            r.scenario.title,
            unit.label(),
            if m == Metric::Cpu { " of CPU" } else { "" },
            if unit.higher_is_better() {
                " ↑"
            } else {
                " ↓"
            },
            cell(&st[OURS]),
            cell(&st[UPSTREAM]),
            cell(&st[RAW]),
            cell(&st[POLLING]),
            fmt_ratio(&ratio(r, OURS, UPSTREAM, m), GOAL_UPSTREAM),
            fmt_ratio(&ratio(r, OURS, RAW, m), GOAL_RAW),
            // No goal against polling: a peer; bold when ours is slower.
            fmt_ratio(&ratio(r, OURS, POLLING, m), 1.0),
        );
    }
}

#[cfg(unix)]
fn over_goal(results: &[Results], m: Metric) -> String {
    let over: Vec<String> = results
        .iter()
        .filter(|r| r.samples.iter().all(|s| !s.is_empty()))
        .flat_map(|r| {
            let mut v = Vec::new();
            let up = ratio(r, OURS, UPSTREAM, m).headline;
            let raw = ratio(r, OURS, RAW, m).headline;
            if up > GOAL_UPSTREAM {
                v.push(format!("{} ({:.3}× upstream)", r.scenario.id, up));
            }
            if raw > GOAL_RAW {
                v.push(format!("{} ({:.3}× raw)", r.scenario.id, raw));
            }
            v
        })
        .collect();
    if over.is_empty() {
        "none".to_string()
    } else {
        over.join(", ")
    }
}

#[cfg(unix)]
pub fn render(rep: &Report) -> String {
    let m = rep.machine;
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# Benchmarks\n");
    let _ = writeln!(
        w,
        "This mio (**ours**) against upstream mio 1.2.5 (**upstream**, the crates.io release, \
         built in the same binary under another name), **raw** epoll called directly through \
         rustix (the floor) and smol's **polling** 3.11 (a peer), on the same scenarios, in one \
         process. Generated by `bench/run` on \
         {}; do not edit by hand (the last section comes from `bench/analysis.md`).\n",
        m.date
    );
    if rep.quick || rep.partial {
        let _ = writeln!(
            w,
            "> **Not a reference run**: {}. Run `bench/run` for the full suite.\n",
            if rep.quick {
                "`--quick` (smaller workloads, 3 rounds, for smoke tests)"
            } else {
                "only some scenarios were run (`--only`)"
            }
        );
    }
    let loaded = rep.others_cpu > 0.10;
    let _ = writeln!(w, "## Machine\n");
    let _ = writeln!(w, "| | |\n|---|---|");
    let _ = writeln!(w, "| CPU | {} |", m.cpu);
    let _ = writeln!(w, "| cores | {} |", m.cores);
    let _ = writeln!(w, "| kernel | Linux {} |", m.kernel);
    let _ = writeln!(w, "| rustc | {} |", m.rustc);
    let _ = writeln!(
        w,
        "| build | `--release` (opt-level 3, no LTO); both mio crates with their default `log` feature |"
    );
    let _ = writeln!(
        w,
        "| fd limit | {} (`RLIMIT_NOFILE`, raised to the hard limit) |",
        m.nofile
    );
    let _ = writeln!(
        w,
        "| other load | {:.0}% of the machine's CPU time went to other processes while the suite ran (load average before: {}; after: {}) |",
        rep.others_cpu * 100.0,
        m.loadavg,
        loadavg()
    );
    let _ = writeln!(
        w,
        "| run | {}, {} rounds{}, {:.0} s of measuring |\n",
        if rep.quick { "quick" } else { "full" },
        rep.rounds,
        if rep.quick {
            ""
        } else {
            " (the long set-ups, accept storm and scale, in every 2nd and 3rd)"
        },
        rep.elapsed.as_secs_f64()
    );
    if loaded {
        let _ = writeln!(
            w,
            "> **The machine was loaded**: other processes (compilers, test suites) took {:.0}% of \
             its CPU time during the run. Interleaving keeps the comparison fair, since every \
             implementation ran under the same load in each round, but absolute figures are \
             lower and the min–max ranges wider than on a quiet machine.\n",
            rep.others_cpu * 100.0
        );
    }

    let _ = writeln!(w, "## Method\n");
    let _ = writeln!(
        w,
        "- Every scenario is one generic function over a small trait (`bench/src/imp.rs`) with \
         four implementations: `ours` and `upstream` are generated by one macro from the same \
         text, `raw` calls epoll, eventfd and the socket syscalls through rustix with nothing in \
         between, and `polling` is smol's `polling` 3.11 (the other readiness library people \
         pick instead of mio), used as its documentation says: std sockets made non-blocking, \
         registered edge-triggered (`PollMode::Edge`), deleted from the poller before they \
         close, its `notify` as the waker (the adapter reports the waker's token, which \
         `polling` does not deliver). Setup is untimed; each scenario times a fixed workload.\n\
         - Rounds interleave the implementations (A B C D, then B C D A, …), so a burst of load \
         hits all of them alike. Figures are the **median** over rounds, with the \
         **min–max** beside it.\n\
         - **Ratios compare cost** (time per unit of work): *ours/upstream* = our median time \
         per unit ÷ upstream's, so **below 1.00 means we are faster**, whatever the unit \
         (for throughput units it is the inverse of the throughput ratio). Goals: ours ≤ 1.00× \
         upstream and ≤ 1.05× raw; ratios over the goal are in **bold**. *ours/polling* has no \
         goal (a peer): it is in bold where ours costs more. The charts also show \
         the per-round ratios (min–max).\n\
         - `raw` lives in the benchmark crate, so its calls are inlined into the scenario loops: \
         the gap to it is also what crossing into a library costs.\n\
         - Each run is read from two clocks: the wall clock, and the CPU time of the whole \
         process (`CLOCK_PROCESS_CPUTIME_ID`, all threads). Both tables below come from the \
         same runs.\n\
         - Allocations are counted by a counting global allocator over the timed part, in all \
         threads.\n\
         - Instruction counts: `valgrind --tool=callgrind` on the binary running one scenario \
         and one implementation (`--one ID --imp IMP --iters N`), twice (N and a larger N'); \
         the difference of the `summary:` totals divided by the difference of work cancels \
         setup and teardown. User space only.\n\
         - Syscalls: `strace -f -c` the same way (all threads), difference of the two runs per \
         unit of work.\n"
    );

    let _ = writeln!(w, "## Results: wall-clock time\n");
    results_table(w, rep.results, Metric::Wall);
    let _ = writeln!(
        w,
        "\n↑ higher is better, ↓ lower is better. Under each ratio, in small type: the range \
         of the per-round ratios. Workloads per round: {}.\n",
        rep.results
            .iter()
            .map(|r| format!(
                "{} {} {} ({} rounds)",
                r.scenario.id,
                r.n,
                r.scenario.workload,
                r.samples[0].len()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let _ = writeln!(
        w,
        "![ours / upstream, wall clock](bench/charts/ours_vs_upstream.svg)\n\n\
         ![ours / raw, wall clock](bench/charts/ours_vs_raw.svg)\n\n\
         ![ours / polling, wall clock](bench/charts/ours_vs_polling.svg)\n"
    );
    let _ = writeln!(
        w,
        "Over a goal (wall clock): {}.\n",
        over_goal(rep.results, Metric::Wall)
    );

    let _ = writeln!(w, "## Results: CPU time\n");
    let _ = writeln!(
        w,
        "The same runs, read from the CPU time the whole process (every thread, user + system) \
         used during the timed part, instead of the wall clock: the work each implementation \
         cost, without the time its threads spent waiting for a core that another process held, \
         or idle in `epoll_wait`. On a loaded machine this is the steadier figure. Units are per \
         CPU-second (↑) or CPU time per operation (↓).\n"
    );
    results_table(w, rep.results, Metric::Cpu);
    let _ = writeln!(
        w,
        "\n![ours / upstream, CPU time](bench/charts/ours_vs_upstream_cpu.svg)\n\n\
         ![ours / raw, CPU time](bench/charts/ours_vs_raw_cpu.svg)\n\n\
         ![ours / polling, CPU time](bench/charts/ours_vs_polling_cpu.svg)\n"
    );
    let _ = writeln!(
        w,
        "Over a goal (CPU time): {}.\n",
        over_goal(rep.results, Metric::Cpu)
    );

    // Allocations.
    let _ = writeln!(w, "## Heap allocations\n");
    let _ = writeln!(
        w,
        "Allocations per unit of work during the timed part (every thread), summed over all \
         rounds.\n\n| scenario | per | ours | upstream | raw | polling |\n|---|---|---|---|---|---|"
    );
    for r in rep.results {
        if r.samples.iter().any(Vec::is_empty) {
            continue;
        }
        let st: Vec<Stat> = (0..N_IMPS).map(|i| stat(r, i, Metric::Wall)).collect();
        let f = |v: f64| {
            if v == 0.0 {
                "0".to_string()
            } else {
                format!("{v:.2e}")
            }
        };
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            r.scenario.id,
            r.scenario.unit.op(),
            f(st[OURS].allocs_per_op),
            f(st[UPSTREAM].allocs_per_op),
            f(st[RAW].allocs_per_op),
            f(st[POLLING].allocs_per_op)
        );
    }
    let _ = writeln!(w);

    // Scale.
    if let Some(r) = rep
        .results
        .iter()
        .find(|r| r.scenario.id == "scale" && r.samples.iter().all(|s| !s.is_empty()))
    {
        let conns = extra(r, OURS, "connections");
        let _ = writeln!(w, "## Scale\n");
        let limited = (conns as usize) < crate::scenarios::SCALE_TARGET;
        let _ = writeln!(
            w,
            "{} loopback TCP connections, both ends in this process and both registered \
             (readable, edge-triggered): {} registered sources, {} of them (1%) made readable \
             per round.{}\n",
            conns,
            extra(r, OURS, "sources"),
            extra(r, OURS, "active"),
            if limited {
                format!(
                    " **Fewer than the 100 000 asked for**: the fd limit here is {} and cannot \
                     be raised (the hard limit, and no `CAP_SYS_RESOURCE`), and each connection \
                     takes two fds; this is as many as fit.",
                    rep.machine.nofile
                )
            } else {
                String::new()
            }
        );
        let _ = writeln!(w, "| per registered source (median of rounds) | ours | upstream | raw | polling |\n|---|---|---|---|---|");
        let rows = [
            (
                "heap bytes allocated by `register`",
                "heap_bytes_per_source",
                1,
            ),
            (
                "heap bytes still live after `register`",
                "heap_live_per_source",
                1,
            ),
            ("heap allocations by `register`", "allocs_per_source", 3),
            (
                "RSS growth while registering (bytes)",
                "rss_register_per_source",
                1,
            ),
            ("`register` time at this scale (ns)", "register_ns", 0),
        ];
        for (name, key, prec) in rows {
            let _ = writeln!(
                w,
                "| {name} | {:.prec$} | {:.prec$} | {:.prec$} | {:.prec$} |",
                extra(r, OURS, key),
                extra(r, UPSTREAM, key),
                extra(r, RAW, key),
                extra(r, POLLING, key),
            );
        }
        let _ = writeln!(
            w,
            "| RSS growth of the whole setup, per connection (bytes) | {:.0} | {:.0} | {:.0} | {:.0} |\n",
            extra(r, OURS, "rss_total_per_connection"),
            extra(r, UPSTREAM, "rss_total_per_connection"),
            extra(r, RAW, "rss_total_per_connection"),
            extra(r, POLLING, "rss_total_per_connection"),
        );
        let _ = writeln!(
            w,
            "RSS is `VmRSS` from `/proc/self/status`; socket buffers live in the kernel and are not \
             in it. The poll latency of this scenario is in the results table (µs per round: \
             `poll` until every active source is reported).\n"
        );
    }

    // callgrind.
    let _ = writeln!(w, "## Instructions per operation (callgrind)\n");
    if rep.tools.callgrind.is_empty() {
        let _ = writeln!(w, "Not measured in this run.\n");
    } else {
        let _ = writeln!(
            w,
            "| scenario | per | ours | upstream | raw | polling | ours/upstream | ours/polling |\n|---|---|---|---|---|---|---|---|"
        );
        for (sc, row) in &rep.tools.callgrind {
            let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1}"));
            let q = |other: usize| match (row[OURS], row[other]) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.3}×", a / b),
                _ => "–".into(),
            };
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                sc.id,
                sc.unit.op(),
                f(row[OURS]),
                f(row[UPSTREAM]),
                f(row[RAW]),
                f(row[POLLING]),
                q(UPSTREAM),
                q(POLLING)
            );
        }
        let _ = writeln!(w);
    }

    // strace.
    let _ = writeln!(w, "## Syscalls per operation (strace)\n");
    if rep.tools.strace.is_empty() {
        let _ = writeln!(w, "Not measured in this run.\n");
    } else {
        let _ = writeln!(
            w,
            "| scenario | per | ours | upstream | raw | polling |\n|---|---|---|---|---|---|"
        );
        for (sc, row) in &rep.tools.strace {
            let f = |v: &Option<SyscallCounts>| match v {
                None => "–".to_string(),
                Some(m) => {
                    let total: f64 = m.values().sum();
                    let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
                    format!("**{total:.2}**: {}", parts.join(", "))
                }
            };
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                sc.id,
                sc.unit.op(),
                f(&row[OURS]),
                f(&row[UPSTREAM]),
                f(&row[RAW]),
                f(&row[POLLING])
            );
        }
        let _ = writeln!(w);
    }
    if !rep.tools.workloads.is_empty() {
        let _ = writeln!(
            w,
            "Tool workloads (N → N'): {}.\n",
            rep.tools
                .workloads
                .iter()
                .map(|(t, id, a, b)| format!("{t} {id} {a} → {b}"))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    for note in &rep.tools.notes {
        let _ = writeln!(w, "> {note}\n");
    }

    // The UDP bulk table (`mio-bench --udp-bulk`, written with `--write`).
    #[cfg(target_os = "linux")]
    if let Ok(udp) = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("udp_bulk.md"),
    ) {
        s.push_str(&udp);
        // Its profile (`bench/udp_profile.sh`, the table and its reading kept by hand).
        if let Ok(profile) = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("udp_profile.md"),
        ) {
            s.push_str(&profile);
        }
    }
    // The exclusive-accept counts (`mio-bench --exclusive`, written with `--write`).
    if let Ok(exclusive) = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("exclusive.md"),
    ) {
        s.push_str(&exclusive);
    }
    // The Windows section, written by the Windows build (`bench/run --windows --write`), is
    // kept across Linux runs.
    if let Ok(windows) =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("windows.md"))
    {
        s.push_str(&windows);
    }
    // The first sub-millisecond timeout measurement (written by hand when the scenario was
    // added; kept in bench/timeouts.md so full runs keep it).
    if let Ok(timeouts) = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("timeouts.md"),
    ) {
        s.push_str(&timeouts);
    }
    // The extras' latencies (`examples/extras_latency.rs`, kept by hand in bench/extras.md).
    if let Ok(extras) =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("extras.md"))
    {
        s.push_str(&extras);
    }
    let w = &mut s;
    let _ = writeln!(w, "## What the gaps are made of\n");
    let analysis = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("analysis.md"),
    )
    .unwrap_or_else(|_| "No analysis written yet (`bench/analysis.md`).\n".into());
    s.push_str(&analysis);
    s
}

/// `doc` with the section that starts at the line `heading` replaced by `section` (up to the
/// next `## ` heading), or with `section` put before the exclusive-registrations section (or
/// at the end) when `doc` has none yet.
#[cfg(target_os = "linux")]
pub fn splice_section(doc: &str, heading: &str, section: &str) -> String {
    let find_line = |text: &str, start: usize, prefix: &str| {
        let mut at = start;
        for line in text[start..].split_inclusive('\n') {
            if line.starts_with(prefix) {
                return Some(at);
            }
            at += line.len();
        }
        None
    };
    if let Some(start) = find_line(doc, 0, heading) {
        let body = start + heading.len();
        let end = find_line(doc, body, "## ").unwrap_or(doc.len());
        return format!("{}{}{}", &doc[..start], section, &doc[end..]);
    }
    let at = find_line(doc, 0, "## Exclusive registrations").unwrap_or(doc.len());
    format!("{}{}{}", &doc[..at], section, &doc[at..])
}
