#!/bin/bash
# End-to-end: starts the real membership service on a free port and drives
# it with mbctl, checking output and exit codes (0 done, 1 refused,
# 2 usage error, 3 unreachable).
set -euo pipefail

readonly MEMBERSHIP="$TEST_SRCDIR/mileagebank/services/membership/membership"
readonly MBCTL="$TEST_SRCDIR/mileagebank/tools/mbctl/mbctl"
readonly DATA="$TEST_TMPDIR/data"
readonly PORTS="$TEST_TMPDIR/ports"
readonly LOG="$TEST_TMPDIR/membership.log"

server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
}
trap stop_server EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- membership log:" >&2
  cat "$LOG" >&2 || true
  exit 1
}

# Runs mbctl; leaves its exit code in $code, its output in $out and $err.
run() {
  last="mbctl $*"
  set +e
  "$MBCTL" "$@" >"$TEST_TMPDIR/stdout" 2>"$TEST_TMPDIR/stderr"
  code=$?
  set -e
  out="$(cat "$TEST_TMPDIR/stdout")"
  err="$(cat "$TEST_TMPDIR/stderr")"
}
expect_code() {
  [[ "$code" == "$1" ]] ||
    fail "$last: exit $code, want $1"$'\n'"stdout: $out"$'\n'"stderr: $err"
}
expect_out() {
  grep -Eq -- "$1" <<<"$out" || fail "$last: stdout lacks /$1/"$'\n'"$out"
}
expect_err() {
  grep -Eq -- "$1" <<<"$err" || fail "$last: stderr lacks /$1/"$'\n'"$err"
}

# The member-number rule: the 10th digit is the Luhn check digit of the 9.
luhn_valid() {
  local number="$1" sum=0 double=0 digit i
  for ((i = ${#number} - 1; i >= 0; i--)); do
    digit="${number:i:1}"
    if ((double)); then
      digit=$((digit * 2))
      if ((digit > 9)); then digit=$((digit - 9)); fi
    fi
    sum=$((sum + digit))
    double=$((1 - double))
  done
  ((sum % 10 == 0))
}

# --- start the service -----------------------------------------------------
rm -rf "$DATA" "$PORTS"
mkdir -p "$DATA"
"$MEMBERSHIP" --server.data_dir="$DATA" --server.port_file="$PORTS" \
  --password_hash_memory_kib=8 --password_hash_ops=1 >"$LOG" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  [[ -s "$PORTS" ]] && break
  kill -0 "$server_pid" 2>/dev/null || fail "membership exited before serving"
  sleep 0.1
done
[[ -s "$PORTS" ]] || fail "membership wrote no port file"
port="$(sed -n 's/^grpc_port=//p' "$PORTS")"
[[ -n "$port" ]] || fail "no grpc_port in $PORTS"
export MBCTL_MEMBERSHIP_TARGET="127.0.0.1:$port"

# --- enrol -----------------------------------------------------------------
run member enrol --family=Wang --given=Li --birth=1985-04-12 \
  --phone=+8613800138000 --email=wang.li@example.com --nationality=CN \
  --doc-type=PASSPORT --doc-number=E12345678 --doc-country=CN \
  --channel=SALES_OFFICE --office=PEK01 --agent=A7 --password=secret-pass-1
expect_code 0
expect_out '^  member_number: [0-9]{10}$'
expect_out '^    date_of_birth: 1985-04-12$'
expect_out '^  status: ACTIVE$'
expect_out '^  enrolled_at: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
number="$(sed -n 's/^  member_number: \([0-9]*\)$/\1/p' <<<"$out")"
luhn_valid "$number" || fail "enrolled member number $number fails Luhn"

# --- get, also as JSON and with the global flags before the command ----------
run member get "$number"
expect_code 0
expect_out "^  member_number: $number\$"
expect_out '^    family_name: Wang$'
expect_out '^      type: PASSPORT$'

run --json member get "$number" --target="127.0.0.1:$port"
expect_code 0
expect_out "\"memberNumber\": \"$number\""
expect_out '"familyName": "Wang"'

# --- find by phone ---------------------------------------------------------
run member find --phone=+8613800138000
expect_code 0
expect_out "^  - member_number: $number\$"

# --- update the e-mail under a mask ----------------------------------------
run member update "$number" --profile.email=li.wang@example.com --mask=email
expect_code 0
expect_out '^    email: li.wang@example.com$'
expect_out '^  version: 2$'

# --- a wrong password ------------------------------------------------------
run member verify-password "$number" --password=not-the-password
expect_code 0
expect_out '^verified: false$'
expect_out '^attempts_remaining: 4$'

# --- bad input: refused by the service, naming the field --------------------
bad_number=1000000010
if luhn_valid "$bad_number"; then fail "$bad_number should fail Luhn"; fi
run member get "$bad_number"
expect_code 1
expect_err '^error: INVALID_ARGUMENT: '
expect_err '^  member_number: '

run member enrol --family=Zhao --birth=2999-01-01 --phone=+8613800138001 \
  --nationality=CN --doc-type=PASSPORT --doc-number=E7654321 \
  --doc-country=CN --channel=SALES_OFFICE
expect_code 1
expect_err '^  profile.date_of_birth: '

# --- usage errors: detected locally ----------------------------------------
run member frobnicate
expect_code 2
expect_err '^error: unknown command "member frobnicate"'
expect_err "mbctl help"

run member enrol --birth=1985-02-30
expect_code 2
expect_err '--birth=1985-02-30'
expect_err 'mbctl member enrol --help'

# --- import from a file given as the positional argument --------------------
printf '%s\n' \
  'family_name,given_name,date_of_birth,nationality,document_type,document_number,document_country,mobile_phone' \
  'Zhang,San,1970-01-02,CN,PASSPORT,G1234567,CN,+8613900000001' \
  >"$TEST_TMPDIR/members.csv"
run member import "$TEST_TMPDIR/members.csv" --channel=IMPORT --office=PEK01
expect_code 0
expect_out '^imported: 1$'
expect_out '^rejected: 0$'

# --- stop the service; it is then unreachable ------------------------------
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
[[ "$server_status" == 0 ]] || fail "membership exited $server_status on SIGTERM"

run member get "$number" --timeout=5
expect_code 3
expect_err '^error: UNAVAILABLE: '

echo "PASS"
