#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and starts the
# mileage bank on this machine under its launcher (tools/launcher), with all
# data under one folder ($MB_DATA, default ./data); on a fresh folder it
# loads the demo data (tools/demo); then prints where to point a browser and
# a client. Stop it with deploy/local/down.sh.
#
#   MB_DATA=/srv/mb   the data folder
#   MB_SHARDS=3       three shards of each member-keyed service (membership,
#                     accrual, redemption); a data folder keeps the count it
#                     was first started with
#   MB_DEMO=0         no demo data
#
# The launcher runs in the background, detached from this shell: it starts
# the services and the gateway in dependency order, restarts one that dies,
# and writes $MB_DATA/run/status (what runs, with restart counts) and a log
# per process under $MB_DATA/logs/ (its own in launcher.log).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

bash tools/install-deps.sh
# Optimised: this is the system people use and measure.
bazel build -c opt //services/... //tools/mbctl //tools/launcher //tools/demo:load_demo

data=$(realpath -m "${MB_DATA:-$root/data}")
shards=${MB_SHARDS:-1}
mkdir -p "$data/logs" "$data/run"

# The running launcher's pid, if there is one: a number, and alive.
launcher_pid() {
  local pid
  pid=$(cat "$data/run/launcher.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] && kill -0 "$pid" 2>/dev/null &&
    echo "$pid"
}

# The launcher's state, from the first line of its status file.
launcher_state() {
  sed -n '1s/.* state=\([a-z_]*\).*/\1/p' "$data/run/status" 2>/dev/null
}

fresh=true
compgen -G "$data/membership*" >/dev/null && fresh=false

if pid=$(launcher_pid); then
  echo "The mileage bank is already running (launcher pid $pid)."
  running_shards=$(sed -n '1s/.* shards=\([0-9]*\).*/\1/p' "$data/run/status")
  if [ "$running_shards" != "$shards" ]; then
    echo "It runs $running_shards shard(s), not $shards: stop it first (down.sh)." >&2
  fi
else
  # Copies of the binaries, so that a later build does not replace them
  # under the running processes (the launcher restarts from these).
  bin="$data/run/bin"
  rm -rf "$bin"
  for name in membership accrual redemption settlement reporting gateway; do
    mkdir -p "$bin/services/$name"
    cp -f "bazel-bin/services/$name/$name" "$bin/services/$name/"
  done
  cp -f bazel-bin/tools/launcher/launcher bazel-bin/tools/demo/load_demo "$bin/"
  rm -f "$data/run/status"
  setsid "$bin/launcher" --data_dir="$data" --config_dir="$root/deploy/local" \
    --bin_dir="$bin" --shards="$shards" \
    --portal_dir="$root/services/gateway/portal" \
    >>"$data/logs/launcher.log" 2>&1 </dev/null &
  launcher=$!
  echo "Starting the mileage bank (launcher pid $launcher) ..."
  until [ "$(launcher_state)" = running ]; do
    sleep 0.5
    # (Should setsid have forked, the launcher is the one in its pid file.)
    if ! kill -0 "$launcher" 2>/dev/null && ! launcher_pid >/dev/null; then
      echo "The mileage bank did not start; see $data/logs/launcher.log:" >&2
      tail -n 5 "$data/logs/launcher.log" >&2
      exit 1
    fi
  done
fi

# The demo data, once: on a fresh data folder, or again after a run that
# did not finish (it repeats nothing already done).
if [ "${MB_DEMO:-1}" != 0 ] && [ ! -e "$data/demo-loaded" ] &&
  { $fresh || [ -e "$data/demo-keys.txt" ]; }; then
  echo "Loading the demo data (MB_DEMO=0 skips it) ..."
  if "$data/run/bin/load_demo" --data_dir="$data" --gateway=127.0.0.1:7100 \
    2>&1 | tee -a "$data/logs/load_demo.log"; then
    touch "$data/demo-loaded"
  else
    echo "The demo data is not all loaded (see $data/logs/load_demo.log);" \
      "the next up.sh tries again." >&2
  fi
fi

# One line per process: where it listens, from the launcher's status.
services=$(awk 'NR > 1 && $1 != "gateway" {
    grpc = $5; metrics = $6; sub("grpc=", "", grpc); sub("metrics=", "", metrics)
    printf "  %-14s gRPC %-16s metrics http://%s/metrics\n", $1, grpc, metrics
  }' "$data/run/status")

demo=""
# Whom the example partner file below is for: a record's family name must
# be its member's, or the record is refused (NAME_MISMATCH).
file_members="--first_serial=100000000 --serial_count=1 --family=FAMILY_NAME"
if [ -s "$data/demo-logins.txt" ]; then
  grep -v '^#' "$data/demo-logins.txt" | awk '{ print $1 "," $5 "," $4 }' \
    >"$data/demo-members.csv"
  file_members="--members_file=$data/demo-members.csv"
  demo=$(
    echo
    echo "Demo data is loaded. Log in to the portal as (member number or e-mail,"
    echo "password):"
    grep -v '^#' "$data/demo-logins.txt" | awk '{ printf "  %s  %s  %s\n", $1, $2, $3 }'
    echo "Sales offices' API keys (supervisor, counters), finance's and the"
    echo "HILTON partner's are in $data/demo-keys.txt, e.g.:"
    awk '$1 == "OFFICE_SUPERVISOR" && !s++ { printf "  export MBCTL_API_KEY=%s   # %s %s\n", $3, $2, $1 }' \
      "$data/demo-keys.txt"
    echo "An accrual file of partner HILTON went into its inbox; its answer is in"
    echo "$data/partners/HILTON/outbox/."
  )
fi

cat <<INFO

The mileage bank is running. Data and logs: $data
(what runs and how often it restarted: $data/run/status)

  Member portal: point a browser at http://127.0.0.1:8080/
  Gateway: REST http://127.0.0.1:8080/v1/ (OpenAPI: /v1/openapi.json),
           gRPC 127.0.0.1:7100, metrics http://127.0.0.1:9100/metrics
  Admin API key (keep it safe): $data/admin.key

$services
$demo

Members join and log in at http://127.0.0.1:8080/. mbctl goes through the
gateway with an API key, for example:

  export MBCTL_API_KEY_FILE=$data/admin.key
  bazel-bin/tools/mbctl/mbctl key create --role=OFFICE_SUPERVISOR --office=PEK01 \\
      --label="PEK01 desk"
  export MBCTL_API_KEY=mbk_...   # the key just printed, for a sales office's work
  bazel-bin/tools/mbctl/mbctl member enrol --family=Li --given=Wei \\
      --birth=1985-04-12 --nationality=CN --doc-type=PASSPORT \\
      --doc-number=E12345678 --doc-country=CN --phone=+8613800000001
  bazel-bin/tools/mbctl/mbctl member find --phone=+8613800000001
  bazel-bin/tools/mbctl/mbctl accrual post-flight MEMBER_NUMBER --ticket=7812345678901 \\
      --coupon=1 --flight=1501 --date=YYYY-MM-DD --from=PEK --to=PVG --class=Y
  bazel-bin/tools/mbctl/mbctl accrual balance MEMBER_NUMBER
  unset MBCTL_API_KEY   # back to the ADMIN key: reports, partners, keys, audit
  bazel-bin/tools/mbctl/mbctl report liability --from=YYYY-01-01 --to=YYYY-12-31
  bazel-bin/tools/mbctl/mbctl report members --from=YYYY-01-01 --to=YYYY-12-31 \\
      --csv=by_tier --out=members_by_tier.csv
  bazel-bin/tools/mbctl/mbctl report check
  bazel-bin/tools/mbctl/mbctl audit --office=PEK01
  bazel-bin/tools/mbctl/mbctl help

Partners (CA, MU, HILTON, HERTZ, ICBCCARD: deploy/local/settlement.textproto)
drop accrual files into $data/partners/<PARTNER>/inbox/ and find their
acknowledgements in $data/partners/<PARTNER>/outbox/, or use mbctl:

  bazel-bin/tools/mbctl/mbctl partner list
  bazel run //bench/partnerfile:generate -- --partner=CA --seq=1 --records=10 \\
      $file_members --out=\$PWD/CA_000001.acc.csv
  bazel-bin/tools/mbctl/mbctl file upload CA CA_000001.acc.csv --wait
  bazel-bin/tools/mbctl/mbctl file ack FILE_ID
  bazel-bin/tools/mbctl/mbctl outbox list CA

Stop everything with: ${MB_DATA:+MB_DATA=$data }bash deploy/local/down.sh
INFO
