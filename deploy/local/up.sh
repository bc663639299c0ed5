#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and starts the
# mileage bank on this machine with all data under one folder ($MB_DATA,
# default ./data), then prints where to point a browser and a client.
# Stop it with deploy/local/down.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

bash tools/install-deps.sh
# Optimised: this is the system people use and measure.
bazel build -c opt //services/... //tools/mbctl

data=$(realpath -m "${MB_DATA:-$root/data}")
mkdir -p "$data/logs" "$data/run"

start() {  # name, binary, config
  local name=$1 binary=$2 config=$3
  local pid_file="$data/run/$name.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "$name: already running (pid $(cat "$pid_file"))"
    return
  fi
  rm -f "$data/run/$name.ports"
  # A copy of the binary, so that a later build does not replace it under the
  # running process.
  cp -f "$binary" "$data/run/$name"
  nohup "$data/run/$name" --config="$config" --server.data_dir="$data" \
    --server.port_file="$data/run/$name.ports" \
    >>"$data/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 1 150); do
    [ -f "$data/run/$name.ports" ] && return
    kill -0 "$(cat "$pid_file")" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name: did not start; see $data/logs/$name.log" >&2
  tail -n 5 "$data/logs/$name.log" >&2
  exit 1
}

start membership bazel-bin/services/membership/membership deploy/local/membership.textproto
# Before accrual, which asks settlement for the partners it credits.
start settlement bazel-bin/services/settlement/settlement deploy/local/settlement.textproto
start accrual bazel-bin/services/accrual/accrual deploy/local/accrual.textproto
start redemption bazel-bin/services/redemption/redemption deploy/local/redemption.textproto
# It follows the four services' event streams.
start reporting bazel-bin/services/reporting/reporting deploy/local/reporting.textproto

# The installation's first ADMIN key, made once: only its hash goes into the
# gateway's configuration; the key itself stays in $data/admin.key.
if [ ! -s "$data/admin.key" ]; then
  key_id=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
  secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  (umask 077 && printf 'mbk_%s_%s\n' "$key_id" "$secret" >"$data/admin.key")
fi
admin_key=$(cat "$data/admin.key")
admin_key_id=$(cut -d_ -f2 <<<"$admin_key")
{
  cat deploy/local/gateway.textproto
  printf 'portal_dir: "%s"\n' "$root/services/gateway/portal"
  printf 'api_keys {\n  key { key_id: "%s" label: "installation admin (up.sh)" roles: ADMIN }\n' \
    "$admin_key_id"
  printf '  sha256: "%s"\n}\n' "$(printf %s "$admin_key" | sha256sum | cut -d' ' -f1)"
} >"$data/run/gateway.textproto"
# Last: the front door, once what it fronts is up.
start gateway bazel-bin/services/gateway/gateway "$data/run/gateway.textproto"

cat <<INFO

The mileage bank is running. Data and logs: $data

  Member portal: point a browser at http://127.0.0.1:8080/
  Gateway: REST http://127.0.0.1:8080/v1/ (OpenAPI: /v1/openapi.json),
           gRPC 127.0.0.1:7100, metrics http://127.0.0.1:9100/metrics
  Admin API key (keep it safe): $data/admin.key

  membership   gRPC 127.0.0.1:7101   metrics http://127.0.0.1:9101/metrics
  accrual      gRPC 127.0.0.1:7102   metrics http://127.0.0.1:9102/metrics
  redemption   gRPC 127.0.0.1:7103   metrics http://127.0.0.1:9103/metrics
  settlement   gRPC 127.0.0.1:7104   metrics http://127.0.0.1:9104/metrics
  reporting    gRPC 127.0.0.1:7105   metrics http://127.0.0.1:9105/metrics

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
      --first_serial=100000000 --serial_count=1 --out=\$PWD/CA_000001.acc.csv
  bazel-bin/tools/mbctl/mbctl file upload CA CA_000001.acc.csv --wait
  bazel-bin/tools/mbctl/mbctl file ack FILE_ID
  bazel-bin/tools/mbctl/mbctl outbox list CA

Stop everything with: ${MB_DATA:+MB_DATA=$data }bash deploy/local/down.sh
INFO
