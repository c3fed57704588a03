#!/usr/bin/env bash
# Builds and runs compat/tokio-echo (a tokio TCP echo server plus a load generator, on this
# mio) after proving with `cargo tree -i mio` that tokio's mio is this checkout.
#
#   compat/tokio-echo.sh                                   # 50 connections x 1000 messages
#   compat/tokio-echo.sh --connections 200 --messages 500  # arguments go to the binary
#
# Its target dir is target/tokio-echo/ of this repo. Exits with the binary's status: 0 when
# every echo matched byte for byte.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest=$repo/compat/tokio-echo/Cargo.toml
export CARGO_TARGET_DIR=$repo/target/tokio-echo
export CARGO_TERM_COLOR=never

echo "=== cargo tree -i mio"
tree_err=$(mktemp)
trap 'rm -f "$tree_err"' EXIT
tree=$(cargo tree --manifest-path "$manifest" -i mio 2>"$tree_err") || {
  cat "$tree_err" >&2
  echo "tokio-echo: cargo tree -i mio failed" >&2
  exit 2
}
printf '%s\n' "$tree"
if grep -q 'was not used in the crate graph' "$tree_err" ||
  [[ $(printf '%s\n' "$tree" | head -n 1) != "mio v"*" ($repo)" ]]; then
  cat "$tree_err" >&2
  echo "tokio-echo: tokio does not use the mio at $repo: the [patch] did not take effect" >&2
  exit 2
fi

echo "=== cargo build --release"
cargo build --release --manifest-path "$manifest"

echo "=== run"
if (($# == 0)); then
  set -- --connections 50 --messages 1000
fi
exec "$CARGO_TARGET_DIR/release/tokio-echo" "$@"
