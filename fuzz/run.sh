#!/usr/bin/env bash
# Runs one target for TOTAL seconds of wall time (default 600), restarting after a crash so
# that one finding does not end the run. Usage: fuzz/run.sh TARGET [TOTAL].
# libFuzzer's log of segment N goes to fuzz/logs/TARGET-N.log; crashes to fuzz/artifacts/TARGET/.
set -u
cd "$(dirname "$0")"
target=$1
total=${2:-600}
case $target in templates) dict=dicts/jinja.dict ;; *) dict=dicts/yaml.dict ;; esac
mkdir -p logs "artifacts/$target" "corpus/$target"
start=$(date +%s)
n=0
while :; do
  left=$(( total - ($(date +%s) - start) ))
  [ "$left" -le 5 ] && break
  n=$((n + 1))
  # One rayon thread and one libFuzzer job: the machine is shared.
  RAYON_NUM_THREADS=1 RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
    -dict="$dict" -jobs=1 -workers=1 -max_total_time="$left" -rss_limit_mb=2048 -timeout=5 \
    -report_slow_units=1 -artifact_prefix="artifacts/$target/" -print_final_stats=1 \
    > "logs/$target-$n.cargo.log" 2>&1
  rc=$?
  # With -jobs=1 libFuzzer runs the job in a child that logs to fuzz-0.log.
  [ -f fuzz-0.log ] && mv fuzz-0.log "logs/$target-$n.log"
  echo "segment $n exit $rc after $(( $(date +%s) - start ))s"
done
