//! A tokio TCP echo server and a load generator in one process, to show tokio running on this
//! mio (patched in by `Cargo.toml`).
//!
//! ```sh
//! cargo run --release --manifest-path compat/tokio-echo/Cargo.toml -- --connections 50 --messages 1000
//! ```
//!
//! The server listens on 127.0.0.1:0 (a free port on loopback). Each of the `--connections`
//! client tasks connects, then sends `--messages` messages of `--size` bytes (64 by default),
//! one at a time, and checks that each echo is the same bytes. Every message is distinct (it
//! carries the connection and message numbers), so a misrouted or reordered echo is caught.
//! The whole run is bounded by `--timeout` seconds (default 60). Exit status: 0 when every
//! echo matched, 1 on any mismatch, I/O error or timeout, 2 on bad arguments.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

struct Args {
    connections: usize,
    messages: usize,
    size: usize,
    timeout: Duration,
}

const USAGE: &str =
    "usage: tokio-echo [--connections N] [--messages M] [--size BYTES] [--timeout SECS]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        connections: 50,
        messages: 1000,
        size: 64,
        timeout: Duration::from_secs(60),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}\n{USAGE}"))?;
        match flag.as_str() {
            "--connections" => args.connections = number as usize,
            "--messages" => args.messages = number as usize,
            "--size" => args.size = number as usize,
            "--timeout" => args.timeout = Duration::from_secs(number),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    if args.connections == 0 || args.size < 16 {
        return Err(format!("need --connections >= 1 and --size >= 16\n{USAGE}"));
    }
    Ok(args)
}

/// Message `msg` of connection `conn`: the two numbers, then a pattern derived from them.
fn message(conn: usize, msg: usize, size: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(size);
    buf.extend_from_slice(&(conn as u64).to_le_bytes());
    buf.extend_from_slice(&(msg as u64).to_le_bytes());
    let mut x = (conn as u32).wrapping_mul(2_654_435_761) ^ (msg as u32);
    while buf.len() < size {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        buf.push((x >> 16) as u8);
    }
    buf
}

/// Echoes everything back until the client closes its side.
async fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let (mut rd, mut wr) = stream.split();
    tokio::io::copy(&mut rd, &mut wr).await?;
    wr.shutdown().await
}

async fn server(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    if let Err(e) = serve(stream).await {
                        eprintln!("server: connection error: {e}");
                    }
                });
            }
            Err(e) => eprintln!("server: accept error: {e}"),
        }
    }
}

/// One client: sends each message, reads the echo back, compares.
async fn client(
    addr: std::net::SocketAddr,
    conn: usize,
    messages: usize,
    size: usize,
) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connection {conn}: connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("connection {conn}: nodelay: {e}"))?;
    let mut echo = vec![0u8; size];
    for msg in 0..messages {
        let sent = message(conn, msg, size);
        stream
            .write_all(&sent)
            .await
            .map_err(|e| format!("connection {conn}, message {msg}: write: {e}"))?;
        stream
            .read_exact(&mut echo)
            .await
            .map_err(|e| format!("connection {conn}, message {msg}: read: {e}"))?;
        if echo != sent {
            let at = echo
                .iter()
                .zip(&sent)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(format!(
                "connection {conn}, message {msg}: echo differs from what was sent at byte {at}"
            ));
        }
    }
    // The server closes its side once it has seen ours closed: read that end-of-file.
    stream
        .shutdown()
        .await
        .map_err(|e| format!("connection {conn}: shutdown: {e}"))?;
    let n = stream
        .read(&mut echo)
        .await
        .map_err(|e| format!("connection {conn}: read after shutdown: {e}"))?;
    if n != 0 {
        return Err(format!(
            "connection {conn}: {n} unexpected bytes after the last echo"
        ));
    }
    Ok(())
}

async fn run(args: &Args) -> Result<(usize, Duration), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("local_addr: {e}"))?;
    println!(
        "tokio-echo: server on {addr}; {} connections x {} messages of {} bytes",
        args.connections, args.messages, args.size
    );
    let server = tokio::spawn(server(listener));

    let start = Instant::now();
    let mut clients = JoinSet::new();
    for conn in 0..args.connections {
        clients.spawn(client(addr, conn, args.messages, args.size));
    }
    let mut errors = Vec::new();
    while let Some(res) = clients.join_next().await {
        match res {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("client task failed: {e}")),
        }
    }
    let elapsed = start.elapsed();
    server.abort();
    if errors.is_empty() {
        Ok((args.connections * args.messages, elapsed))
    } else {
        let n = errors.len();
        for e in errors.iter().take(10) {
            eprintln!("tokio-echo: {e}");
        }
        Err(format!("{n} of {} connections failed", args.connections))
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio-echo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = rt.block_on(async { tokio::time::timeout(args.timeout, run(&args)).await });
    match outcome {
        Ok(Ok((messages, elapsed))) => {
            let secs = elapsed.as_secs_f64();
            println!(
                "tokio-echo: {messages} messages echoed and verified in {secs:.3} s: {:.0} messages/s",
                messages as f64 / secs.max(1e-9)
            );
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("tokio-echo: FAILED: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!(
                "tokio-echo: FAILED: not done after {} s",
                args.timeout.as_secs()
            );
            ExitCode::FAILURE
        }
    }
}
