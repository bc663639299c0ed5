#!/usr/bin/env bash
# Members' dashboards through the gateway: the real five services and the
# gateway (optimised builds, ports 74xx/94xx and REST on 8480, fresh data),
# MEMBERS members enrolled with a password and a few flights each, then
# loadgen's gateway-dashboard mode: logged-in members reading their
# dashboard (member, balance, tier and lots in one call) over kept-alive
# connections, CONCURRENCY at a time, for 10 seconds.
#
#   bash bench/gateway_load.sh [MEMBERS] [CONCURRENCY] [STATEMENT_EVERY]
#
# GATEWAY_LOAD_BIN=<a copy of bazel-bin> runs binaries built before instead
# of building (to run two builds alternately on a busy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
readonly members=${1:-1000}
readonly concurrency=${2:-64}
readonly statement_every=${3:-0}

[ -n "${GATEWAY_LOAD_BIN:-}" ] ||
  bazel build -c opt //services/... //bench:loadgen >/dev/null 2>&1
source bench/system.sh
bin=${GATEWAY_LOAD_BIN:-$bin}

t() { echo "--$1_target=127.0.0.1:$2"; }
start_service membership 7401 9401 "$(t accrual 7402)" \
  --password_hash_ops=1 --password_hash_memory_kib=8
start_service settlement 7404 9404 "$(t membership 7401)" "$(t accrual 7402)" \
  "$(t redemption 7403)" --drop_folder_root="$work/partners"
start_service accrual 7402 9402 "$(t membership 7401)" "$(t settlement 7404)"
start_service redemption 7403 9403 "$(t membership 7401)" "$(t accrual 7402)" \
  "$(t settlement 7404)"
start_service reporting 7405 9405 "$(t membership 7401)" "$(t accrual 7402)" \
  "$(t redemption 7403)" "$(t settlement 7404)"
# The rate limit above the load: it is the gateway's cost that is measured.
start_service gateway 7400 9400 "$(t membership 7401)" "$(t accrual 7402)" \
  "$(t redemption 7403)" "$(t settlement 7404)" "$(t reporting 7405)" \
  --http_listen_address=127.0.0.1:8480 --portal_dir= \
  --rate_limit_per_second=1000000 --rate_limit_burst=1000000

"$bin/bench/loadgen" --mode=preload --membership=127.0.0.1:7401 \
  --accrual=127.0.0.1:7402 --members="$members" --history=3 \
  --credit_flights=0 --rich_flights=0 --members_file="$work/members.txt" \
  >"$work/preload.log"
cpu_before=($(cpu_seconds))
switches_before=($(context_switches))
# The load generator's own CPU (user + system, logins included) shares the
# two cores with the system it measures.
TIMEFORMAT='%U %S'
{ time "$bin/bench/loadgen" --mode=gateway-dashboard --gateway_http=127.0.0.1:8480 \
  --members="$members" --members_file="$work/members.txt" \
  --concurrency="$concurrency" --statement_every="$statement_every" \
  --duration=10 --warmup=2 >"$work/load.log"; } 2>"$work/loadgen.time"
cat "$work/load.log"
cpu_after=($(cpu_seconds))
switches_after=($(context_switches))
# CPU per operation of each process (logins and warm-up included, so a
# little high): what a dashboard costs, whatever else the machine did.
ops=$(sed -n 's/^measured: ops=\([0-9]*\).*/\1/p' "$work/load.log")
names=(membership settlement accrual redemption reporting gateway)
for i in "${!names[@]}"; do
  awk -v n="${names[$i]}" -v a="${cpu_before[$i]}" -v b="${cpu_after[$i]}" \
    -v ops="$ops" -v sa="${switches_before[$i]}" -v sb="${switches_after[$i]}" \
    'BEGIN { printf "cpu %s: %.1f s, %.0f us and %.1f context switches per op\n", n, b - a, (b - a) * 1e6 / ops, (sb - sa) / ops }'
done
awk -v ops="$ops" '{ printf "cpu loadgen: %.1f s, %.0f us per op\n", $1 + $2, ($1 + $2) * 1e6 / ops }' \
  "$work/loadgen.time"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
