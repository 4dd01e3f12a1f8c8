#!/usr/bin/env bash
# Times rdp-pcap against tshark on a generated capture of mixed RDP connections.
#
#   benches/compare.sh            # 200 MiB input (about 7,800 connections, 450,000 packets)
#   benches/compare.sh --big      # also a 2 GiB input (rdp-pcap only: time and peak memory)
#
# Inputs are written under target/perf/ (never committed); PERF_DIR overrides. RUNS sets how
# many runs of rdp-pcap are timed (the fastest counts; default 5); tshark runs once. Not part of
# CI: a run takes a minute or more, most of it tshark.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${PERF_DIR:-target/perf}
RUNS=${RUNS:-5}
BIG=0
[ "${1:-}" = "--big" ] && BIG=1

cargo build --release -q -p rdp-pcap-cli --bin rdp-pcap -p rdp-benches --bin gencap
mkdir -p "$DIR"
[ -s "$DIR/cap200.pcap" ] || target/release/gencap -o "$DIR/cap200.pcap" --size 200M
if [ "$BIG" = 1 ]; then
    [ -s "$DIR/cap2g.pcap" ] || target/release/gencap -o "$DIR/cap2g.pcap" --size 2G
fi

now() { date +%s.%N; }

# seconds for one run of "$@" with stdout to /dev/null
run_once() {
    local t0 t1
    t0=$(now)
    "$@" > /dev/null 2>&1
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

# the fastest of $RUNS runs
best_of() {
    local best="" t
    for _ in $(seq "$RUNS"); do
        t=$(run_once "$@")
        if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then
            best=$t
        fi
    done
    echo "$best"
}

# peak resident set in KiB (GNU time), or "?" without it
peak_kib() {
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f "%M" "$@" 2>&1 > /dev/null | grep -v '^Running as user' | tail -n 1
    else
        echo "?"
    fi
}

mib() { awk -v n="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", n / 1048576 }'; }

report() { # name file seconds peak_kib
    local size
    size=$(mib "$2")
    printf '%-20s %-28s %8.3f s %9.1f MiB/s  peak %s KiB\n' "$1" "$2" "$3" \
        "$(awk -v s="$size" -v t="$3" 'BEGIN { print s / t }')" "$4"
}

cat "$DIR/cap200.pcap" > /dev/null # page cache warm
# The kernel's copy of the file alone: how the file sits in the page cache (large folios or
# 4 KiB pages) changes it threefold, and every time below with it (docs/performance.md).
copy=$(best_of dd if="$DIR/cap200.pcap" of=/dev/null bs=1M)
report "dd (the copy alone)" "$DIR/cap200.pcap" "$copy" "-"
# One thread, then the default (the capture decoded on a second thread when there are two
# cores).
one=$(best_of target/release/rdp-pcap analyze --threads 1 --format jsonl "$DIR/cap200.pcap")
report "rdp-pcap --threads 1" "$DIR/cap200.pcap" "$one" \
    "$(peak_kib target/release/rdp-pcap analyze --threads 1 --format jsonl "$DIR/cap200.pcap")"
ours=$(best_of target/release/rdp-pcap analyze --format jsonl "$DIR/cap200.pcap")
report rdp-pcap "$DIR/cap200.pcap" "$ours" \
    "$(peak_kib target/release/rdp-pcap analyze --format jsonl "$DIR/cap200.pcap")"
printf 'rdp-pcap takes %.1f times the copy (%.1f times with --threads 1)\n' \
    "$(awk -v a="$ours" -v b="$copy" 'BEGIN { print a / b }')" \
    "$(awk -v a="$one" -v b="$copy" 'BEGIN { print a / b }')"

if command -v tshark > /dev/null; then
    # A display filter and fields make tshark dissect every packet (with -q alone it only
    # reads the records); the lab's Lua switch makes it follow RDP into TLS on 3389 and 3390.
    LUA=../shared/corpus/lab/tools/rdp_tls_switch.lua
    TSHARK=(tshark)
    if [ -f "$LUA" ]; then
        TSHARK+=(-X "lua_script:$LUA" -X "lua_script1:3389,3390")
    fi
    TSHARK+=(-r "$DIR/cap200.pcap" -Y "tpkt || tls || t125 || rdp" -T fields -e frame.number
        -e tls.handshake.type -e tls.alert_message.desc -e rdp.neg_type)
    theirs=$(RUNS=1 best_of "${TSHARK[@]}")
    report tshark "$DIR/cap200.pcap" "$theirs" "$(peak_kib "${TSHARK[@]}")"
    printf 'rdp-pcap is %.1f times as fast as tshark (%.1f times with --threads 1; %s)\n' \
        "$(awk -v a="$theirs" -v b="$ours" 'BEGIN { print a / b }')" \
        "$(awk -v a="$theirs" -v b="$one" 'BEGIN { print a / b }')" \
        "$(tshark --version 2> /dev/null | head -n 1)"
else
    echo "tshark not installed: no comparison"
fi

if [ "$BIG" = 1 ]; then
    cat "$DIR/cap2g.pcap" > /dev/null
    for threads in 1 2; do
        big=$(RUNS=1 best_of target/release/rdp-pcap analyze --threads "$threads" --format jsonl "$DIR/cap2g.pcap")
        report "rdp-pcap --threads $threads" "$DIR/cap2g.pcap" "$big" \
            "$(peak_kib target/release/rdp-pcap analyze --threads "$threads" --format jsonl "$DIR/cap2g.pcap")"
    done
fi
