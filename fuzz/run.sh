#!/usr/bin/env bash
# Runs fuzz targets one after another (one process each: the machine has 2 shared cores).
#
#   fuzz/run.sh SECONDS [TARGET...]     (default: every target)
#
# The working corpus grows in fuzz/corpus/<target>/ (not committed), starting from
# fuzz/seeds/<target>/; crashes land in fuzz/artifacts/<target>/, logs in fuzz/logs/.
# Needs nightly and cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tpkt_x224 fastpath tunnel mcs_gcc tls_records tls_tracker x509 keylog tls13_open analyzer pipeline)

max_len() {
  case "$1" in
    tpkt_x224 | fastpath | tunnel | mcs_gcc | x509 | keylog) echo 4096 ;;
    tls_records | tls13_open) echo 20000 ;;
    tls_tracker | analyzer) echo 32768 ;;
    pipeline) echo 65536 ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}

cargo +nightly fuzz build -O
mkdir -p logs
status=0
passed=0
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  rm -f fuzz-0.log
  echo "== $t: ${secs}s, max_len $(max_len "$t")"
  ok=1
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
      -jobs=1 -workers=1 -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$t")" \
      -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
      >"logs/$t.out" 2>&1; then
    ok=0
  fi
  # With -jobs, libFuzzer writes the fuzzer's own output to fuzz-0.log in the current folder.
  [ -f fuzz-0.log ] && mv fuzz-0.log "logs/$t.log"
  grep -E '^(#[0-9]+.*(DONE|pulse|NEW|REDUCE)|==[0-9]+==|SUMMARY|stat::)' "logs/$t.log" 2>/dev/null | tail -3 || true
  # A crash, timeout or out-of-memory input fails the run, whatever libFuzzer's exit code.
  if [ -n "$(ls -A "artifacts/$t")" ]; then
    ls "artifacts/$t" | sed "s|^|   FOUND: fuzz/artifacts/$t/|"
    ok=0
  fi
  if [ "$ok" = 1 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
    grep -E 'panicked|ERROR|SUMMARY' "logs/$t.out" "logs/$t.log" 2>/dev/null | head -n 5 || true
  fi
done
echo "fuzz: $passed passed, $failed failed"
exit "$status"
