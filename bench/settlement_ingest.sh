#!/usr/bin/env bash
# End-to-end ingest of one partner accrual file: the real membership,
# accrual, redemption and settlement processes (optimised builds, the local
# configuration on ports 73xx/93xx, fresh data under a temporary folder),
# MEMBERS members enrolled through the load generator, a RECORDS-record file
# for them written by bench/partnerfile, then timed from the start of the
# upload until its acknowledgement is written (parse, validate, credit,
# acknowledge): the file's processed_at. Prints the figures, settlement's
# peak memory included.
#
#   bash bench/settlement_ingest.sh [RECORDS] [MEMBERS]   # 1000000 10000
#
# BENCH_BIN=<folder> runs the binaries under that folder (laid out as
# bazel-bin) instead of building: a base build copied aside, run in turn
# with the change under the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
readonly records=${1:-1000000}
readonly members=${2:-10000}

# The four services it starts, not //services/...: other work in progress
# there must not stop the benchmark.
if [ -z "${BENCH_BIN:-}" ]; then
  bazel build -c opt //services/membership //services/accrual \
    //services/redemption //services/settlement //tools/mbctl //bench:loadgen \
    //bench/partnerfile:generate >/dev/null 2>&1
fi
source bench/system.sh
bin=${BENCH_BIN:-$bin}

# Argon2id at its cheapest: enrolment speed is not what is measured here.
start_service membership 7301 9301 --accrual_target=127.0.0.1:7302 \
  --password_hash_ops=1 --password_hash_memory_kib=8
start_service settlement 7304 9304 --membership_target=127.0.0.1:7301 \
  --accrual_target=127.0.0.1:7302 --redemption_target=127.0.0.1:7303 \
  --drop_folder_root="$work/partners"
start_service accrual 7302 9302 --membership_target=127.0.0.1:7301 \
  --settlement_target=127.0.0.1:7304
start_service redemption 7303 9303 --membership_target=127.0.0.1:7301 \
  --accrual_target=127.0.0.1:7302 --settlement_target=127.0.0.1:7304

"$bin/bench/loadgen" --mode=preload --membership=127.0.0.1:7301 \
  --members="$members" --history=0 --members_file="$work/members.txt" \
  >"$work/preload.log"
grep -v '^#' "$work/members.txt" | sed 's/$/,Loadgen,X/' >"$work/members.csv"
created=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)
"$bin/bench/partnerfile/generate" --partner=CA --seq=1 \
  --records="$records" --members_file="$work/members.csv" \
  --created="$created" --out="$work/CA_000001.acc.csv"
echo "file: $records records, $(stat -c %s "$work/CA_000001.acc.csv") bytes, $members members"

export MBCTL_SETTLEMENT_TARGET=127.0.0.1:7304
cpu_before=($(cpu_seconds))
start_ns=$(date +%s%N)
"$bin/tools/mbctl/mbctl" file upload CA "$work/CA_000001.acc.csv" \
  --wait >"$work/upload.out"
end_ns=$(date +%s%N)
cpu_after=($(cpu_seconds))
grep -E '^  (status|records_(total|accepted|rejected)|miles_credited):' \
  "$work/upload.out" || cat "$work/upload.out"
# Until the server's processed_at (--wait polls every 2 s at most, which
# would add up to 2 s); the client's own wait beside it.
processed_ns=$(date -d "$(awk '/^  processed_at:/ { print $2 }' \
  "$work/upload.out")" +%s%N)
seconds=$(awk -v ns=$((processed_ns - start_ns)) 'BEGIN { printf "%.1f", ns / 1e9 }')
waited=$(awk -v ns=$((end_ns - start_ns)) 'BEGIN { printf "%.1f", ns / 1e9 }')
peak_kib=$(awk '/^VmHWM/ { print $2 }' "/proc/${pids[1]}/status")
echo "records=$records seconds=$seconds records_per_s=$(awk -v r="$records" \
  -v s="$seconds" 'BEGIN { printf "%d", r / s }') waited_s=$waited settlement_peak_rss_mib=$((peak_kib / 1024))"
names=(membership settlement accrual redemption)
for i in "${!names[@]}"; do
  printf '%s_cpu_s=%s ' "${names[$i]}" \
    "$(awk -v a="${cpu_after[$i]}" -v b="${cpu_before[$i]}" 'BEGIN { printf "%.1f", a - b }')"
done
echo
echo "load_average=$(cut -d' ' -f1-3 /proc/loadavg)"
