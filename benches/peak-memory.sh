#!/usr/bin/env bash
# Peak memory (maximum resident set size) of `rdp-pcap` on generated hostile captures, with a
# release build. Prints one table row per capture; docs/robustness.md quotes the numbers.
#
#   benches/peak-memory.sh [SYN_FLOOD_CONNECTIONS [TINY_PIECE_CONNECTIONS]]
#                                      (defaults 1000000 and 65536; the latter writes 2.4 GB)
#
# The captures are what rdp-pcap-cli/examples/synth-captures.rs writes: SYN floods, half-open
# TLS connections, an out-of-order burst, absurd record lengths, 40,000 and 1,000,000 password
# guesses in 50 s from one client, one guess from each of 1,000,000 clients, one client's
# guess on each of 1,000,000 servers, and 1,000 connections left open after a ClientHello of
# 32,000 suites.
#
# Needs GNU time (/usr/bin/time, Debian package `time`). Not a test: nothing fails on a number.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
tiny="${2:-65536}"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
cargo build --release -q -p rdp-pcap-cli --bin rdp-pcap --example synth-captures
cargo build --release -q -p rdp-benches --bin gencap
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
target/release/examples/synth-captures "$dir/caps" "$n" "$tiny"
# The 200 MiB benchmark capture as Packet Monitor would have written it (every packet 2-4 times).
target/release/gencap -o "$dir/gen200.pcap" --size 200M >/dev/null
target/release/examples/synth-captures pktmon "$dir/gen200.pcap" "$dir/caps/gen200-pktmon.pcapng"
rm -f "$dir/gen200.pcap"
printf '%-42s %10s %9s %12s  %s\n' capture bytes seconds peak_rss_kb "capture summary (non-zero counters)"
for f in "$dir"/caps/*; do
  out="$dir/out.jsonl"
  /usr/bin/time -v target/release/rdp-pcap --format jsonl "$f" >"$out" 2>"$dir/time.txt" || true
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")
  secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")
  summary=$(python3 -c 'import json,sys
c=[o for o in map(json.loads, open(sys.argv[1])) if o.get("type")=="capture"][-1]
keys=["packets","connections_seen","connections_reported","connections_evicted","bytes_lost","truncated_packets"]
parts=[f"{k}={c[k]}" for k in keys if c.get(k)]
parts+=[f"{k}={v}" for k,v in c.get("counters",{}).items()]
parts+=[f"problem: {p}" for p in c.get("problems",[])]
print(", ".join(parts))' "$out")
  printf '%-42s %10s %9s %12s  %s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$secs" "$rss" "$summary"
  rm -f "$out"
done
