#!/usr/bin/env bash
# bench/udp_profile.sh [N]: where the CPU goes in the UDP bulk scenario's (a) one-syscall-per-
# datagram and (b) `sendmmsg`/`recvmmsg` variants, from `perf record -g` (the kernel's
# cpu-clock sampling, which works where hardware counters do not), N datagrams each (300000).
# Prints a Markdown table: each kernel function's share of all samples, callees included.
# Shares, not times: they hold on a loaded machine too. Needs perf (Debian's linux-perf) and
# perf_event_paranoid <= 2 (or root). bench/udp_profile.md keeps a run's table and reading.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300000}
command -v perf >/dev/null || { echo "udp_profile: perf not found (apt-get install linux-perf)" >&2; exit 2; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/bench}"
cargo build --release --quiet -p mio-bench
bin=$CARGO_TARGET_DIR/release/mio-bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The functions reported: the syscalls' kernel bodies and what runs inside them per datagram.
rows=(
  "__sys_sendto|__sys_sendmmsg:the send syscall (sendto / sendmmsg), whole"
  "udp_sendmsg:  inside it: udp_sendmsg, once per datagram (both variants)"
  "ip_make_skb:    making the skb and copying the payload in"
  "handle_softirqs:    the loopback receive softirq, run on the sending CPU"
  "sock_def_readable:    waking the receiver (its socket became readable)"
  "copy_msghdr_from_user:  copying each msghdr in (sendmmsg/recvmmsg only)"
  "__sys_recvfrom|do_recvmmsg:the receive syscall (recvfrom / recvmmsg), whole"
  "do_epoll_wait:epoll_wait, whole (the threads' sleeps)"
  "do_syscall_64:every syscall, entry to exit (both threads)"
)
declare -A share
for v in ours_single ours_batch; do
  perf record -q -F 4000 -g -o "$tmp/$v.data" -- "$bin" --udp-bulk-one "$v" --iters "$n" >"$tmp/$v.out" 2>&1
  perf report -i "$tmp/$v.data" --children --sort sym --stdio -g none 2>/dev/null >"$tmp/$v.txt"
  for row in "${rows[@]}"; do
    syms=${row%%:*}
    pct=$(awk -v re="^($syms)\$" '$3 == "[k]" && $4 ~ re { gsub("%", "", $1); s += $1 } END { printf "%.1f", s }' "$tmp/$v.txt")
    share[$v,$syms]=$pct
  done
  rate=$(sed -n 's/.*datagrams_per_sec=\([0-9]*\).*/\1/p' "$tmp/$v.out")
  share[$v,rate]=${rate:-?}
done
echo "| kernel function (callees included) | (a) \`send_to\`/\`recv_from\` | (b) \`send_batch\`/\`recv_batch\` |"
echo "|---|---|---|"
for row in "${rows[@]}"; do
  syms=${row%%:*}
  label=${row#*:}
  indent=${label%%[! ]*}
  label=${label#"$indent"}
  prefix=""
  for ((i = 0; i < ${#indent} / 2; i++)); do prefix+="· "; done
  printf '| %s%s | %s %% | %s %% |\n' "$prefix" "$label" "${share[ours_single,$syms]}" "${share[ours_batch,$syms]}"
done
printf '| datagrams/s in the profiled run | %s | %s |\n' "${share[ours_single,rate]}" "${share[ours_batch,rate]}"
