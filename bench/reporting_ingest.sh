#!/usr/bin/env bash
# The real reporting process rebuilding its store over gRPC from an empty
# folder: the catch-up of issue 6 with the transport included. The history
# of bench/reporting_scale_benchmark.cc (same sizes, same events) is written
# once as the four sources' event logs, each served by bench/event_log_server
# (the EventStream service every service registers); reporting (optimised,
# local configuration on ports 75xx/95xx) is started on an empty data
# folder and timed until every source's committed position is its head.
# Then it is stopped and its store's fingerprint and the reports for 2025
# are printed by the scale benchmark's --reports_only, so the store can be
# compared with the in-process catch-up's (same sizes: same fingerprint).
#
#   bash bench/reporting_ingest.sh [MEMBERS] [ACCRUAL_EVENTS] [REDEMPTIONS]
#   # 1000000 20000000 200000 (the target's scale, ~8 GB of logs)
#
# SOURCES=<folder> keeps the written logs there and reuses them when a
# later run asks for the same sizes (writing them takes minutes).
# BENCH_BIN=<folder> runs the binaries under that folder (laid out as
# bazel-bin) instead of building: a base build copied aside, run in turn
# with the change. REPORTING_FLAGS=<flags> adds configuration flags to
# reporting's command line (--catchup_commit_every_events=500000).
set -euo pipefail
cd "$(dirname "$0")/.."
readonly members=${1:-1000000} accrual_events=${2:-20000000}
readonly redemptions=${3:-200000}
readonly sizes="--members=$members --accrual_events=$accrual_events --redemptions=$redemptions"

if [ -z "${BENCH_BIN:-}" ]; then
  bazel build -c opt //bench:reporting_scale_benchmark //bench:event_log_server \
    //services/reporting >/dev/null 2>&1
fi
source bench/system.sh
bin=${BENCH_BIN:-$bin}
sources=${SOURCES:-$work/sources}
if [ "$(cat "$sources/sizes" 2>/dev/null)" != "$sizes" ]; then
  # shellcheck disable=SC2086
  "$bin/bench/reporting_scale_benchmark" $sizes --write_sources="$sources" |
    tee "$work/sources.log" | grep -E '^(SOURCE|wrote)'
  echo "$sizes" >"$sources/sizes"
fi

names=(membership accrual redemption settlement)
heads=()
for i in "${!names[@]}"; do
  port=$((7501 + i))
  "$bin/bench/event_log_server" --store="$sources/${names[$i]}" \
    --listen_address="127.0.0.1:$port" >"$work/${names[$i]}.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do
    grep -q '^ready' "$work/${names[$i]}.log" && break
    sleep 0.1
  done
  heads+=("$(awk '/^ready/ { print $4 }' "$work/${names[$i]}.log")")
  [ -n "${heads[$i]}" ] || { cat "$work/${names[$i]}.log" >&2; exit 1; }
done
total=$(IFS=+; echo $((${heads[*]})))
echo "sources: ${names[*]} heads ${heads[*]} ($total events)"

# Positions the reporting process has committed, one line per source.
positions() {
  curl -s "127.0.0.1:9505/metrics" |
    awk '/^mileagebank_reporting_stream_position\{/ {
      match($0, /source="[^"]*"/); print substr($0, RSTART + 8, RLENGTH - 9), $2 }'
}

derivation_pending() {
  curl -s "127.0.0.1:9505/metrics" |
    awk '/^mileagebank_reporting_derivation_pending / { print $2 }'
}

cpu_before=($(cpu_seconds))
start_ns=$(date +%s%N)
# REPORTING_FLAGS is split into words on purpose.
# shellcheck disable=SC2086
start_service reporting 7505 9505 --membership_target=127.0.0.1:7501 \
  --accrual_target=127.0.0.1:7502 --redemption_target=127.0.0.1:7503 \
  --settlement_target=127.0.0.1:7504 ${REPORTING_FLAGS:-}
reporting_pid=${pids[-1]}
next_report=$((start_ns + 30000000000))
while true; do
  caught_up=1 applied=0
  while read -r source position; do
    for i in "${!names[@]}"; do
      if [ "${names[$i]}" = "$source" ]; then
        applied=$((applied + ${position%.*}))
        [ "${position%.*}" -ge "${heads[$i]}" ] || caught_up=0
      fi
    done
  done < <(positions)
  now_ns=$(date +%s%N)
  # Caught up, and the rows a rebuild defers derived and durable.
  [ "$applied" -gt 0 ] && [ "$caught_up" = 1 ] && [ "$(derivation_pending)" = 0 ] && break
  if [ "$now_ns" -ge "$next_report" ]; then
    echo "  $(( (now_ns - start_ns) / 1000000000 )) s: $applied events committed"
    next_report=$((now_ns + 30000000000))
  fi
  sleep 0.2
done
end_ns=$(date +%s%N)
cpu_after=($(cpu_seconds))
peak_kib=$(awk '/^VmHWM/ { print $2 }' "/proc/$reporting_pid/status")
seconds=$(awk -v ns=$((end_ns - start_ns)) 'BEGIN { printf "%.1f", ns / 1e9 }')
echo "events=$total seconds=$seconds events_per_s=$(awk -v e="$total" \
  -v s="$seconds" 'BEGIN { printf "%d", e / s }') reporting_peak_rss_mib=$((peak_kib / 1024))"
for i in "${!names[@]}"; do
  printf '%s_source_cpu_s=%s ' "${names[$i]}" \
    "$(awk -v a="${cpu_after[$i]}" -v b="${cpu_before[$i]}" 'BEGIN { printf "%.1f", a - b }')"
done
echo "reporting_cpu_s=$(awk -v a="${cpu_after[4]}" 'BEGIN { printf "%.1f", a }')"
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg)"
curl -s "127.0.0.1:9505/metrics" | grep '^mileagebank_reporting_applier_wait_seconds_total' || true

# Stopped (its last commit made durable), then read as the scale benchmark
# reads its own store.
kill -TERM "$reporting_pid"
wait "$reporting_pid" 2>/dev/null || true
# shellcheck disable=SC2086
"$bin/bench/reporting_scale_benchmark" $sizes --dir="$work/data" --reports_only \
  --repetitions=3 | grep -vE '^reporting scale'
