# Sourced by the benchmark scripts: starts the real service processes
# (optimised builds, fresh data under a temporary folder, ports given by the
# caller) and stops them on exit.
#
#   source bench/system.sh            # sets $bin and $work, traps EXIT
#   start_service membership 7301 9301 --accrual_target=127.0.0.1:7302
#   "$bin/bench/loadgen" ...
#
# KEEP_WORK=1 keeps the folder (logs, data) for a look afterwards.
bin=$(bazel info -c opt bazel-bin 2>/dev/null)
work=$(mktemp -d /tmp/mb-bench.XXXXXX)
pids=()
stop_services() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap stop_services EXIT

start_service() {  # name, gRPC port, metrics port, flags...
  local name=$1 grpc=$2 metrics=$3
  shift 3
  local config="deploy/local/$name.textproto"
  "$bin/services/$name/$name" --config="$config" \
    --server.data_dir="$work/data" --server.listen_address="127.0.0.1:$grpc" \
    --server.metrics_address="127.0.0.1:$metrics" \
    --server.port_file="$work/$name.ports" --server.log_level=warning "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    [ -f "$work/$name.ports" ] && return
    sleep 0.1
  done
  echo "$name did not start:" >&2
  tail "$work/$name.log" >&2
  exit 1
}

# CPU seconds (user + system) of each started process, in start order: where
# a run's time went, whatever else the machine was doing.
cpu_seconds() {
  local pid ticks
  ticks=$(getconf CLK_TCK)
  for pid in "${pids[@]}"; do
    awk -v t="$ticks" '{ printf "%.1f ", ($14 + $15) / t }' "/proc/$pid/stat"
  done
}

# Context switches (voluntary and not) of each started process's threads, in
# start order: on a virtual machine a switch costs more than most calls' work.
context_switches() {
  local pid
  for pid in "${pids[@]}"; do
    cat /proc/"$pid"/task/*/status 2>/dev/null |
      awk '/ctxt_switches/ { s += $2 } END { printf "%d ", s }'
  done
}
