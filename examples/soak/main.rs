//! A long soak of an echo server on this crate: many loopback connections driven by client
//! threads, every byte checked end to end, half-closes and resets mixed in. The engine (and
//! what it checks) is described in `engine.rs`; `tests/soak.rs` runs a bounded version.
//!
//! ```text
//! cargo run --release --example soak --features "os-poll net" -- --connections 10000 --messages 1000
//! RUSTFLAGS='--cfg mio_unsupported_force_poll_poll' CARGO_TARGET_DIR=target/rel-poll \
//!   cargo run --release --example soak --features "os-poll net" -- --connections 10000 --messages 1000
//! ```
//!
//! Options (defaults in brackets): `--connections N` [10000], `--messages N` per connection
//! [1000], `--threads N` client threads [4], `--concurrent N` connections open at once per
//! client thread [250], `--max-size BYTES` [1024], `--large-size BYTES` (one message in 64)
//! [65536], `--half-close-every N` [7], `--reset-every N` [9], `--seed N`, `--timeout SECS`
//! [20]. Exits 1 unless the run is clean (see `Report::is_clean`): 0 errors, 0 lost bytes.

mod engine;

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let mut config = engine::Config {
        connections: 10_000,
        messages: 1000,
        concurrent: 250,
        ..engine::Config::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        let Some(value) = value else {
            eprintln!("usage: soak [--connections N] [--messages N] [--threads N] [--concurrent N] [--max-size B] [--large-size B] [--half-close-every N] [--reset-every N] [--seed N] [--timeout SECS]");
            eprintln!("bad or missing value for {flag}");
            return ExitCode::from(2);
        };
        let n = value as usize;
        match flag.as_str() {
            "--connections" => config.connections = n,
            "--messages" => config.messages = n,
            "--threads" => config.threads = n,
            "--concurrent" => config.concurrent = n,
            "--max-size" => config.max_size = n,
            "--large-size" => config.large_size = n,
            "--half-close-every" => config.half_close_every = n,
            "--reset-every" => config.reset_every = n,
            "--seed" => config.seed = value,
            "--timeout" => config.io_timeout = Duration::from_secs(value),
            _ => {
                eprintln!("unknown option {flag}");
                return ExitCode::from(2);
            }
        }
    }
    match engine::raise_nofile_limit() {
        Ok((old, new)) => eprintln!("RLIMIT_NOFILE soft limit: {old:?} -> {new:?}"),
        Err(err) => eprintln!("could not raise RLIMIT_NOFILE: {err}"),
    }
    let backend = if cfg!(mio_unsupported_force_poll_poll) {
        "poll(2)"
    } else {
        "epoll"
    };
    println!("soak ({backend}): {config:?}");
    let report = match engine::run(&config) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("soak: could not start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let secs = report.elapsed.as_secs_f64();
    println!(
        "connections {}  messages {} (expected {})  bytes {} each way  half-closes {}  resets {}",
        report.connections,
        report.messages,
        report.expected_messages,
        report.bytes,
        report.half_closes,
        report.resets
    );
    println!(
        "errors {}  lost bytes {}  corrupt messages {}  checksums {:#018x} / {:#018x}",
        report.errors,
        report.lost_bytes,
        report.corrupt_messages,
        report.sent_checksum,
        report.echoed_checksum
    );
    println!("server {:?}", report.server);
    println!(
        "{:.1} s, {:.0} messages/s, {:.1} MB/s each way",
        secs,
        report.messages as f64 / secs,
        report.bytes as f64 / secs / 1e6
    );
    if report.is_clean() {
        println!("soak: clean");
        ExitCode::SUCCESS
    } else {
        println!("soak: FAILED");
        ExitCode::FAILURE
    }
}
