#!/bin/bash
# End-to-end: starts the real membership, settlement and reporting services
# on free ports and drives them with mbctl, directly and then through the
# gateway with API keys, checking output and exit codes (0 done, 1 refused,
# 2 usage error, 3 unreachable).
set -euo pipefail

readonly MEMBERSHIP="$TEST_SRCDIR/mileagebank/services/membership/membership"
readonly SETTLEMENT="$TEST_SRCDIR/mileagebank/services/settlement/settlement"
readonly REPORTING="$TEST_SRCDIR/mileagebank/services/reporting/reporting"
readonly GATEWAY="$TEST_SRCDIR/mileagebank/services/gateway/gateway"
readonly MBCTL="$TEST_SRCDIR/mileagebank/tools/mbctl/mbctl"

declare -A server_pids=()
stop_servers() {
  for name in "${!server_pids[@]}"; do
    local pid="${server_pids[$name]}"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait "$pid" || true
    fi
  done
}
trap stop_servers EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$TEST_TMPDIR"/*.log; do
    echo "--- $log:" >&2
    cat "$log" >&2 || true
  done
  exit 1
}

# Starts service $1 (binary $2, then its flags) with its own data folder;
# leaves its gRPC port in $port.
start_service() {
  local name=$1 binary=$2
  shift 2
  local data="$TEST_TMPDIR/$name-data" ports="$TEST_TMPDIR/$name.ports"
  rm -rf "$data" "$ports"
  mkdir -p "$data"
  "$binary" --server.data_dir="$data" --server.port_file="$ports" "$@" \
    >"$TEST_TMPDIR/$name.log" 2>&1 &
  server_pids[$name]=$!
  for _ in $(seq 1 300); do
    [[ -s "$ports" ]] && break
    kill -0 "${server_pids[$name]}" 2>/dev/null ||
      fail "$name exited before serving"
    sleep 0.1
  done
  [[ -s "$ports" ]] || fail "$name wrote no port file"
  port="$(sed -n 's/^grpc_port=//p' "$ports")"
  [[ -n "$port" ]] || fail "no grpc_port in $ports"
}

# Stops service $1 with SIGTERM; it must exit 0.
stop_service() {
  local name=$1 status=0
  kill -TERM "${server_pids[$name]}"
  wait "${server_pids[$name]}" || status=$?
  unset "server_pids[$name]"
  [[ "$status" == 0 ]] || fail "$name exited $status on SIGTERM"
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

# --- start the services ----------------------------------------------------
start_service membership "$MEMBERSHIP" \
  --password_hash_memory_kib=8 --password_hash_ops=1
membership_port=$port
export MBCTL_MEMBERSHIP_TARGET="127.0.0.1:$port"
# Accrual and redemption are not started: nothing here credits records or
# reads statements, so their addresses refuse connections.
start_service settlement "$SETTLEMENT" \
  --membership_target="127.0.0.1:$membership_port" \
  --accrual_target=127.0.0.1:1 --redemption_target=127.0.0.1:1 \
  --disable_daily_outbound=true
export MBCTL_SETTLEMENT_TARGET="127.0.0.1:$port"

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

run --json member get "$number" --target="127.0.0.1:$membership_port"
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

# --- settlement: partners ----------------------------------------------------
run partner add CA --name="Air China" --type=AIRLINE --currency=CNY \
  --sale-price=CNY:1250 --award-price=CNY:900 --purchase-price=CNY:1100 \
  --class=F:150,J:125 --class=Y:100 --operator=OP1
expect_code 0
expect_out '^  partner_code: CA$'
expect_out '^  status: ACTIVE$'
expect_out '^  version: 1$'
expect_out '^      minor_units: 1250$'
expect_out '^      - booking_class: J$'

run partner add HILTON --name=Hilton --type=hotel --currency=USD \
  --sale-price=USD:800 --operator=OP1
expect_code 0
expect_out '^    mile_sale_price:$'

# The code is the idempotency key: the same partner again is the same reply,
# another partner under the code is refused, naming what holds it.
run partner add HILTON --name=Hilton --type=hotel --currency=USD \
  --sale-price=USD:800 --operator=OP1
expect_code 0
expect_out '^  version: 1$'
run partner add HILTON --name="Hilton Worldwide" --type=hotel --currency=USD \
  --sale-price=USD:800 --operator=OP1
expect_code 1
expect_err '^error: ALREADY_EXISTS: '

run partner add MU --name="China Eastern" --type=AIRLINE --currency=CNY \
  --sale-price=CNY:12.50 --operator=OP1
expect_code 2
expect_err 'MINOR_UNITS must be an integer'

run partner list
expect_code 0
expect_out '^  - partner_code: CA$'
expect_out '^  - partner_code: HILTON$'

run partner list --type=HOTEL
expect_code 0
expect_out '^  - partner_code: HILTON$'
if grep -q 'partner_code: CA' <<<"$out"; then fail "--type=HOTEL listed CA"; fi

run partner show CA --json
expect_code 0
expect_out '"partnerCode": "CA"'
expect_out '"minorUnits": "900"'

run partner earning-table CA
expect_code 0
expect_out '^  - booking_class: F$'
expect_out '^default_table: false$'

run partner update CA --name="Air China Limited" --mask=name \
  --expected-version=1 --operator=OP1
expect_code 0
expect_out '^  name: Air China Limited$'
expect_out '^  version: 2$'

run partner update CA --name="Air China" --mask=name --expected-version=1 \
  --operator=OP1
expect_code 1
expect_err '^error: FAILED_PRECONDITION: '

run partner suspend HILTON AUDIT --operator=OP1
expect_code 0
expect_out '^  status: SUSPENDED$'

run partner list --status=suspended
expect_code 0
expect_out '^  - partner_code: HILTON$'
if grep -q 'partner_code: CA' <<<"$out"; then fail "--status listed CA"; fi

run partner reactivate HILTON AUDIT_DONE --operator=OP1
expect_code 0
expect_out '^  status: ACTIVE$'

run partner show ZZ
expect_code 1
expect_err '^error: NOT_FOUND: '

# --- settlement: the outbox ---------------------------------------------------
# Nothing was received yet, so CA's outbox is empty and has nothing to fetch.
run outbox list CA
expect_code 0
if grep -q 'file_name' <<<"$out"; then fail "CA's outbox is not empty"$'\n'"$out"; fi

run outbox list ZZ
expect_code 1
expect_err '^error: NOT_FOUND: '

run file download CA CA_000001.ack.csv --out="$TEST_TMPDIR/CA_000001.ack.csv"
expect_code 1
expect_err '^error: NOT_FOUND: '
[[ ! -e "$TEST_TMPDIR/CA_000001.ack.csv" ]] || fail "a failed download left a file"

# --- settlement: an accrual file up, its acknowledgement down ----------------
# A file with no records: whole-file checks only, so accrual is not needed.
printf 'H,CA,000001,%s,1\nT,0,0\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  >"$TEST_TMPDIR/CA_000001.acc.csv"
run file upload CA "$TEST_TMPDIR/CA_000001.acc.csv" --wait
expect_code 0
expect_out '^  status: ACCEPTED$'
expect_out '^  acknowledgement_file_name: CA_000001.ack.csv$'
file_id="$(sed -n 's/^  file_id: \([0-9a-f]*\)$/\1/p' <<<"$out")"
[[ -n "$file_id" ]] || fail "no file_id in"$'\n'"$out"

run file show "$file_id"
expect_code 0
expect_out '^  status: ACCEPTED$'

run file ack "$file_id"
expect_code 0
expect_out '^file_name: CA_000001.ack.csv$'

run file download CA CA_000001.ack.csv --out="$TEST_TMPDIR/CA_000001.ack.csv"
expect_code 0
head -1 "$TEST_TMPDIR/CA_000001.ack.csv" | grep -q '^H,CA,000001,' ||
  fail "the downloaded acknowledgement has no H line for CA 000001"
tail -1 "$TEST_TMPDIR/CA_000001.ack.csv" | grep -q '^T,0,0,0' ||
  fail "the downloaded acknowledgement's trailer is not T,0,0,0"

# The same file again: the earlier acknowledgement, nothing new.
run file upload CA "$TEST_TMPDIR/CA_000001.acc.csv" --wait
expect_code 0
expect_out "^  identical_to_file_id: $file_id\$"

# --- reporting: the members enrolled above, from membership's stream ---------
# Accrual and redemption are not running: their streams are simply empty.
start_service reporting "$REPORTING" \
  --membership_target="127.0.0.1:$membership_port" \
  --accrual_target=127.0.0.1:1 --redemption_target=127.0.0.1:1 \
  --settlement_target="$MBCTL_SETTLEMENT_TARGET"
export MBCTL_REPORTING_TARGET="127.0.0.1:$port"
year=$(date -u +%Y)
for _ in $(seq 1 100); do
  run report members --from="$year-01-01" --to="$year-12-31"
  grep -q '^  total_members: 2$' <<<"$out" && break
  sleep 0.1
done
expect_code 0
expect_out '^  total_members: 2$'
expect_out '^  enrolments: 2$'
expect_out '^  - key: membership$'

run report members --from="$year-01-01" --to="$year-12-31" --csv=by_tier
expect_code 0
expect_out '^tier,members$'
expect_out '^BLUE,2$'

run report members --from="$year-12-31" --to="$year-01-01"
expect_code 1
expect_err '^error: INVALID_ARGUMENT: '
expect_err 'range.to_date'
stop_service reporting

# --- through the gateway, with API keys ----------------------------------------
# The commands above went to the services directly ($MBCTL_<SERVICE>_TARGET);
# without those variables every command goes to the gateway.
settlement_target="$MBCTL_SETTLEMENT_TARGET"
unset MBCTL_MEMBERSHIP_TARGET MBCTL_SETTLEMENT_TARGET MBCTL_REPORTING_TARGET

# The installation's first ADMIN key, as deploy/local/up.sh makes it: the
# gateway's configuration holds only its SHA-256.
admin_id="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
admin_key="mbk_${admin_id}_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
printf '%s\n' "$admin_key" >"$TEST_TMPDIR/admin.key"
printf 'api_keys { key { key_id: "%s" label: "e2e admin" roles: ADMIN } sha256: "%s" }\n' \
  "$admin_id" "$(printf %s "$admin_key" | sha256sum | cut -d' ' -f1)" \
  >"$TEST_TMPDIR/gateway.textproto"
# Accrual, redemption and reporting are not running: nothing here reaches
# them (an agent's adjustment is refused before it would).
start_service gateway "$GATEWAY" --config="$TEST_TMPDIR/gateway.textproto" \
  --server.listen_address=127.0.0.1:0 --http_listen_address=127.0.0.1:0 \
  --membership_target="127.0.0.1:$membership_port" \
  --settlement_target="$settlement_target" \
  --accrual_target=127.0.0.1:1 --redemption_target=127.0.0.1:1 \
  --reporting_target=127.0.0.1:1
export MBCTL_GATEWAY="127.0.0.1:$port"
export MBCTL_API_KEY_FILE="$TEST_TMPDIR/admin.key"

run key create --role=AGENT --office=PEK01 --label="e2e agent"
expect_code 0
expect_out '^    - AGENT$'
expect_out '^  office_code: PEK01$'
expect_out '^secret: mbk_[0-9a-f]{12}_[A-Za-z0-9_-]{43,128}$'
agent_key="$(sed -n 's/^secret: //p' <<<"$out")"
agent_id="$(cut -d_ -f2 <<<"$agent_key")"

run key list
expect_code 0
expect_out "^  - key_id: $agent_id\$"
expect_out "^  - key_id: $admin_id\$"
if grep -q 'secret' <<<"$out"; then fail "key list shows a secret"; fi

# A stream through the gateway carries the key too.
run file download CA CA_000001.ack.csv --out="$TEST_TMPDIR/via-gateway.ack.csv"
expect_code 0
cmp -s "$TEST_TMPDIR/CA_000001.ack.csv" "$TEST_TMPDIR/via-gateway.ack.csv" ||
  fail "the acknowledgement through the gateway differs"

# The agent enrols a member (the gateway sets the actor from the key), but
# may not adjust miles.
run member enrol --family=Sun --given=Mei --birth=1990-06-01 \
  --phone=+8613800138009 --nationality=CN --doc-type=PASSPORT \
  --doc-number=E99887766 --doc-country=CN --api-key="$agent_key"
expect_code 0
expect_out '^  member_number: [0-9]{10}$'
agent_member="$(sed -n 's/^  member_number: \([0-9]*\)$/\1/p' <<<"$out")"

run accrual adjust "$agent_member" 500 --reason=GOODWILL --api-key="$agent_key"
expect_code 1
expect_err '^error: PERMISSION_DENIED: '
expect_err "^hint: the API key's roles do not allow /mileagebank.accrual.v1.Accrual/AdjustMiles "

# The admin finds the refusal in the audit trail.
run audit --key="$agent_id" --operation=/mileagebank.accrual.v1.Accrual/AdjustMiles
expect_code 0
expect_out "^    member_number: $agent_member\$"
expect_out '^    outcome: PERMISSION_DENIED$'
expect_out '^    office_code: PEK01$'
# Everything the agent wrote: the enrolment went through.
run audit --key="$agent_id" --json
expect_code 0
expect_out '"operation": "/mileagebank.membership.v1.Membership/Enrol"'
expect_out '"outcome": "OK"'
# The whole trail, a record per page: mbctl reads every page.
run audit --page-size=1
expect_code 0
expect_out '^    operation: /mileagebank.gateway.v1.Gateway/CreateApiKey$'
expect_out '^    operation: /mileagebank.membership.v1.Membership/Enrol$'
expect_out '^    operation: /mileagebank.accrual.v1.Accrual/AdjustMiles$'
# The pages' token is cleared: 0, there is nothing after the whole trail.
if grep -Eq 'next_after_sequence: [1-9]' <<<"$out"; then
  fail "audit printed a page token"$'\n'"$out"
fi

# --- backups: online through the gateway, ADMIN only; restored locally --------
run backup create --service=membership --destination=backups/e2e
expect_code 0
expect_out '^  - service: membership$'
expect_out '^    store_path: membership$'
expect_out "^    folder: .*/membership-data/backups/e2e/membership\$"
run backup gateway --destination=backups/e2e
expect_code 0
expect_out '^    store_path: gateway/store$'
run backup membership --destination=backups/e2e
expect_code 1
expect_err '^error: ALREADY_EXISTS: destination: '
run backup settlement --destination=../elsewhere
expect_code 1
expect_err '^error: INVALID_ARGUMENT: '
expect_err '^  destination: must be a folder inside the data folder'
run backup gateway --api-key="$agent_key"
expect_code 1
expect_err '^error: PERMISSION_DENIED: '
run backup restore --from="$TEST_TMPDIR/membership-data/backups/e2e" \
  --to="$TEST_TMPDIR/from-backup"
expect_code 0
expect_out "^restored membership \(membership, up to event [0-9]+, [0-9]+ bytes\) into $TEST_TMPDIR/from-backup/membership\$"
run backup restore --from="$TEST_TMPDIR/membership-data/backups/e2e" \
  --to="$TEST_TMPDIR/from-backup"
expect_code 1
expect_err '^error: FAILED_PRECONDITION: '
run backup restore --from="$TEST_TMPDIR/membership-data/backups/e2e"
expect_code 2
expect_err 'to: required'

# No key: refused, with what to set.
unset MBCTL_API_KEY_FILE
run member get "$number"
expect_code 1
expect_err '^error: UNAUTHENTICATED: '
expect_err '^hint: the gateway needs an API key: set --api-key=KEY or \$MBCTL_API_KEY'

# A revoked key authenticates nothing.
run key revoke "$agent_id" --api-key="$admin_key"
expect_code 0
expect_out '^  revoked: '
run member get "$agent_member" --api-key="$agent_key"
expect_code 1
expect_err '^error: UNAUTHENTICATED: '
expect_err '^hint: the gateway refused the API key'

stop_service gateway
unset MBCTL_GATEWAY
export MBCTL_MEMBERSHIP_TARGET="127.0.0.1:$membership_port"
export MBCTL_SETTLEMENT_TARGET="$settlement_target"

# --- stop the services; they are then unreachable ------------------------------
stop_service settlement
stop_service membership

run member get "$number" --timeout=5
expect_code 3
expect_err '^error: UNAVAILABLE: '

run partner list --timeout=5
expect_code 3
expect_err 'is the settlement service running at '

# --- membership on the store restored from its backup ------------------------
# (The later --server.data_dir wins over start_service's own.)
start_service restored "$MEMBERSHIP" --server.data_dir="$TEST_TMPDIR/from-backup"
run member get "$number" --target="127.0.0.1:$port"
expect_code 0
expect_out "^  member_number: $number\$"
stop_service restored

echo "PASS"
