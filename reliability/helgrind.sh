#!/usr/bin/env bash
# Runs tests/races.rs (8 threads registering / reregistering / deregistering / closing while
# one polls and one wakes) under valgrind's helgrind: any data race helgrind can see fails it
# (--error-exitcode), as does a failing test.
#
#   reliability/helgrind.sh            # MIO_RACE_OPS=2000 operations per worker thread
#   reliability/helgrind.sh --quick    # 500 per worker (CI), well under a minute
#
# RUSTFLAGS / CARGO_TARGET_DIR are passed through to cargo, so the poll(2) fallback is checked
# with e.g. RUSTFLAGS='--cfg mio_unsupported_force_poll_poll' CARGO_TARGET_DIR=target/rel-poll.
#
# Helgrind does not understand atomics or futexes, which Rust's std builds its locks, threads
# and channels on, so reliability/helgrind.supp suppresses those families of false positives;
# each entry says why it cannot hide a real race. With --gen-suppressions=all any report that
# remains comes with the suppression that would silence it, for review.
set -euo pipefail
cd "$(dirname "$0")/.."

ops=2000
case "${1:-}" in
  --quick) ops=500 ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "valgrind not found (apt-get install valgrind)" >&2; exit 1; }

build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
cargo test --all-features --test races --no-run 2>&1 | tee "$build_log" | grep -v '^ *\(Compiling\|Executable\)' || true
bin=$(sed -n 's/^ *Executable tests\/races\.rs (\(.*\))$/\1/p' "$build_log")
[[ -n $bin ]] || { echo "tests/races.rs was not built" >&2; exit 1; }

start=$SECONDS
MIO_RACE_OPS=$ops valgrind --tool=helgrind --error-exitcode=1 --num-callers=40 \
  --suppressions=reliability/helgrind.supp --gen-suppressions=all --quiet \
  "$bin" --test-threads=1 -q
echo "helgrind: tests/races.rs with $ops ops per worker: 0 races reported in $((SECONDS - start)) s"
echo "helgrind: 1 passed, 0 failed"
