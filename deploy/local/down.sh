#!/usr/bin/env bash
# Stops what deploy/local/up.sh started: SIGTERM to the launcher, which
# stops the gateway and the services in reverse start order (callers before
# what they call), each with SIGTERM so that it drains its calls and closes
# its store cleanly, and SIGKILL only for one stuck past its grace.
set -uo pipefail
cd "$(dirname "$0")/../.."
data=$(realpath -m "${MB_DATA:-$(pwd)/data}")

# A pid from a pid file: a number above 1 (never a process group or -1).
read_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] && echo "$pid"
}

stop() {  # name, pid, seconds to wait
  local name=$1 pid=$2 seconds=$3
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || { echo "$name: stopped"; return 0; }
    sleep 0.1
  done
  # Stuck past every grace. Acknowledged writes are durable, so a kill
  # loses nothing; the launcher's processes get SIGTERM as it dies.
  kill -KILL "$pid"
  echo "$name: did not stop in $seconds s; killed"
}

if pid=$(read_pid "$data/run/launcher.pid") && kill -0 "$pid" 2>/dev/null; then
  echo "Stopping the mileage bank (launcher pid $pid) ..."
  # Each of its six stages may take up to 30 s.
  stop launcher "$pid" 200
  rm -f "$data/run/launcher.pid"
else
  echo "The launcher is not running (data: $data)."
fi

# Services started one by one by an older up.sh, before the launcher.
for name in gateway reporting redemption accrual settlement membership; do
  pid_file="$data/run/$name.pid"
  if pid=$(read_pid "$pid_file"); then stop "$name" "$pid" 30; fi
  rm -f "$pid_file"
done
