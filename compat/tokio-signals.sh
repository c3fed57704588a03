#!/usr/bin/env bash
# Builds and runs compat/tokio-signals (mio::signal::Signals beside tokio's signal handling in
# one process, tokio on this mio: a storm of SIGUSR1) after proving with `cargo tree -i mio`
# that tokio's mio is this checkout. Arguments go to the binary (`--count N`, 10 000 by
# default). Its target dir is target/tokio-signals/ of this repo. Exits with the binary's
# status: 0 when every check held.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest=$repo/compat/tokio-signals/Cargo.toml
export CARGO_TARGET_DIR=$repo/target/tokio-signals
export CARGO_TERM_COLOR=never

echo "=== cargo tree -i mio"
tree=$(cargo tree --manifest-path "$manifest" -i mio --edges normal)
printf '%s\n' "$tree"
if [[ $(printf '%s\n' "$tree" | head -n 1) != "mio v"*" ($repo)" ]] || ! grep -q 'tokio v' <<<"$tree"; then
  echo "tokio-signals: tokio does not use the mio at $repo: the [patch] did not take effect" >&2
  exit 2
fi

echo "=== cargo build"
cargo build --manifest-path "$manifest"
echo "=== run"
exec "$CARGO_TARGET_DIR/debug/tokio-signals" "$@"
