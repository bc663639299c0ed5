#!/usr/bin/env bash
# Stops what deploy/local/up.sh started: SIGTERM, so that each service drains
# its calls and closes its store cleanly.
set -uo pipefail
cd "$(dirname "$0")/../.."
data=$(realpath -m "${MB_DATA:-$(pwd)/data}")
# Callers before the services they call (the reverse of up.sh's order), so
# that none drains its calls while a service it needs is already gone; then
# anything else up.sh may have started.
pid_files=()
for name in gateway reporting redemption accrual settlement membership; do
  pid_files+=("$data/run/$name.pid")
done
for pid_file in "$data"/run/*.pid; do
  case " ${pid_files[*]} " in *" $pid_file "*) ;; *) pid_files+=("$pid_file") ;; esac
done
for pid_file in "${pid_files[@]}"; do
  [ -e "$pid_file" ] || continue
  name=$(basename "$pid_file" .pid)
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      # Past its 10-second grace and still there: something is stuck. Its
      # acknowledged writes are durable, so a kill loses nothing.
      kill -KILL "$pid"
      echo "$name: did not stop in 30 s; killed"
    else
      echo "$name: stopped"
    fi
  fi
  rm -f "$pid_file"
done
