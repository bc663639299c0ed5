#!/bin/sh
# Builds accrual_file_fuzzer.cc with clang's libFuzzer (+ AddressSanitizer
# and UBSan) outside Bazel, whose toolchain is gcc, and runs it for a bounded
# time over a corpus seeded from testdata/. Fails if the fuzzer finds a
# crash, a hang (over 10 s for one input) or a broken invariant.
#
#   services/settlement/accrual_file_fuzz.sh [seconds=30] [workdir]
set -eu
seconds=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${2:-${TMPDIR:-/tmp}/accrual_file_fuzz}
cd "$root"

# The generated sources: protobuf messages and the embedded airport table.
bazel build //protos/mileagebank/settlement/v1:settlement \
  //protos/mileagebank/membership/v1:membership //libs/airports:airports_csv
bin=$(bazel info bazel-bin 2>/dev/null)

mkdir -p "$work/corpus" "$work/artifacts"
cp services/settlement/testdata/*.acc.csv "$work/corpus/"

clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -I. -I"$bin" -I"$bin/protos" \
  services/settlement/accrual_file_fuzzer.cc \
  services/settlement/accrual_file.cc services/settlement/ack_file.cc \
  libs/csv/csv.cc libs/validation/contact.cc libs/validation/dates.cc \
  libs/validation/member_number.cc libs/status/errors.cc \
  libs/airports/airports.cc "$bin/libs/airports/airports_csv.cc" \
  "$bin/protos/mileagebank/settlement/v1/settlement.pb.cc" \
  "$bin/protos/mileagebank/membership/v1/membership.pb.cc" \
  "$bin/protos/mileagebank/common/v1/common.pb.cc" \
  -lprotobuf -labsl_status -labsl_statusor -labsl_str_format_internal \
  -labsl_strings -labsl_strings_internal -labsl_time -labsl_time_zone \
  -labsl_civil_time -labsl_hash -labsl_city -labsl_low_level_hash \
  -labsl_raw_hash_set -labsl_cord -labsl_cord_internal \
  -labsl_cordz_functions -labsl_cordz_handle -labsl_cordz_info \
  -labsl_int128 -labsl_synchronization -labsl_graphcycles_internal \
  -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal \
  -labsl_demangle_internal -labsl_malloc_internal -labsl_base \
  -labsl_spinlock_wait -labsl_raw_logging_internal -labsl_log_severity \
  -labsl_throw_delegate -labsl_bad_optional_access \
  -labsl_bad_variant_access -lpthread \
  -o "$work/accrual_file_fuzzer"

"$work/accrual_file_fuzzer" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$work/artifacts/" \
  -print_final_stats=1 "$work/corpus"
