#!/usr/bin/env bash
# Compiles accrual_file_fuzzer.cc with clang's libFuzzer, AddressSanitizer
# (leaks included) and UBSan, then fuzzes for a bounded time over a copy of
# fuzz_corpus/. Fails on a crash, a leak, an input that runs over 10 s, or a
# broken invariant of the harness; the input that did it is kept in the work
# folder's artifacts/ (under bazel test, also in the test's undeclared
# outputs: bazel-testlogs/services/settlement/accrual_file_fuzz_test/
# test.outputs/outputs.zip). Reproduce with
#   <workdir>/accrual_file_fuzzer <artifact>
#
# The sources and generated files come from the runfiles (see the
# accrual_file_fuzz_test target in services/settlement/BUILD):
#   bazel test //services/settlement:accrual_file_fuzz_test
#   bazel test //services/settlement:accrual_file_fuzz_test \
#     --test_arg=--seconds=3600 --test_timeout=4000
#   bazel run //services/settlement:accrual_file_fuzz_test -- \
#     --seconds=3600 --workdir=/tmp/accrual_file_fuzz
# Options: --seconds=N (default 60) of fuzzing; --workdir=DIR (default
# $TEST_TMPDIR, else a new temporary folder) for the build, the corpus as it
# grows and the artifacts. libFuzzer adds the inputs it finds to the work
# folder's corpus, never to fuzz_corpus/ in the source tree.
set -euo pipefail

seconds=60
workdir=""
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds=${arg#--seconds=} ;;
    --workdir=*) workdir=${arg#--workdir=} ;;
    *) echo "accrual_file_fuzz_test: unknown argument $arg" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "--seconds=$seconds: not a number of seconds" >&2; exit 2; }

if [[ -n "${TEST_SRCDIR:-}" ]]; then
  runfiles="$TEST_SRCDIR"
elif [[ -d "$0.runfiles" ]]; then  # bazel run
  runfiles="$0.runfiles"
else
  echo "accrual_file_fuzz_test: run me with bazel test or bazel run" >&2
  exit 2
fi
src="$runfiles/mileagebank"
if [[ -z "$workdir" ]]; then
  workdir="${TEST_TMPDIR:-$(mktemp -d -t accrual_file_fuzz.XXXXXX)}"
fi
mkdir -p "$workdir/obj" "$workdir/corpus" "$workdir/artifacts"
workdir=$(cd "$workdir" && pwd)

clang=/usr/bin/clang++
if [[ ! -x "$clang" ]]; then
  echo "accrual_file_fuzz_test: $clang is missing (tools/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

# What :accrual_file and :ack_file are built from, and their link flags
# (accrual_file_fuzz.bzl).
manifest="$src/services/settlement/accrual_file_fuzz_inputs.txt"
sources=(services/settlement/accrual_file_fuzzer.cc)
link_flags=()
while read -r kind value; do
  case "$kind" in
    src) sources+=("$value") ;;
    link) link_flags+=("$value") ;;
  esac
done <"$manifest"

common_flags=(-std=c++17 -g -O1 -I"$src" -I"$src/protos")
sanitize=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)

compile() {  # source
  local source=$1 flags=("${sanitize[@]}")
  # Generated protobuf code gets only what the link needs: fuzzing it finds
  # nothing of ours, and instrumenting it doubles the build.
  if [[ "$source" == *.pb.cc ]]; then flags=(); fi
  "$clang" "${common_flags[@]}" "${flags[@]}" -c "$src/$source" \
    -o "$workdir/obj/$(echo "$source" | tr / _).o"
}

started=$SECONDS
pids=()
for source in "${sources[@]}"; do
  # gRPC stubs: the reader calls no service.
  [[ "$source" == *.grpc.pb.cc ]] && continue
  compile "$source" &
  pids+=($!)
  # Two at a time, as the machines have two cores; a failure stops the test.
  if ((${#pids[@]} >= 2)); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

"$clang" "${sanitize[@]}" "$workdir"/obj/*.o "${link_flags[@]}" \
  -o "$workdir/accrual_file_fuzzer"
echo "accrual_file_fuzz_test: built in $((SECONDS - started)) s"

cp "$src"/services/settlement/fuzz_corpus/* "$workdir/corpus/"
# libFuzzer replaces an input when it finds a smaller one that covers as much.
chmod u+w "$workdir"/corpus/*

keep_artifacts() {
  if [[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]] &&
     compgen -G "$workdir/artifacts/*" >/dev/null; then
    cp "$workdir"/artifacts/* "$TEST_UNDECLARED_OUTPUTS_DIR/"
  fi
}
trap keep_artifacts EXIT

# -rss_limit_mb: a leak or a blow-up fails before the machine swaps;
# -max_len: the limits the harness gives the reader are 1 MiB and 4 KiB a
# line, and longer inputs only slow the search.
"$workdir/accrual_file_fuzzer" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len=16384 -detect_leaks=1 \
  -artifact_prefix="$workdir/artifacts/" -print_final_stats=1 \
  "$workdir/corpus"
