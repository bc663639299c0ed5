#!/bin/bash
# The member portal in a real browser against the whole system: starts
# membership, settlement, accrual, redemption and the gateway (serving the
# portal) on free ports with fresh data, seeds members through the gateway
# and mbctl (seed.mjs), then drives Debian's chromium with playwright-core
# (portal.test.mjs).
#
# Needs, from outside Bazel: Node.js, /usr/bin/chromium (tools/install-deps.sh)
# and playwright-core installed in tests/portal/node_modules (tools/test.sh
# runs `npm ci` there and passes --test_env=PORTAL_NODE_MODULES=...).
# Screenshots go to $PORTAL_SCREENSHOTS when set (pass it with --test_env),
# else to the test's undeclared outputs (bazel-testlogs/tests/portal/
# portal_test/test.outputs/).
set -euo pipefail

readonly ROOT="$TEST_SRCDIR/mileagebank"
readonly MEMBERSHIP="$ROOT/services/membership/membership"
readonly SETTLEMENT="$ROOT/services/settlement/settlement"
readonly ACCRUAL="$ROOT/services/accrual/accrual"
readonly REDEMPTION="$ROOT/services/redemption/redemption"
readonly GATEWAY="$ROOT/services/gateway/gateway"
readonly HERE="$ROOT/tests/portal"

fail() {
  echo "FAIL: $*" >&2
  for log in "$TEST_TMPDIR"/*.log; do
    [[ -e "$log" ]] || continue
    echo "--- $log (last 30 lines):" >&2
    tail -n 30 "$log" >&2 || true
  done
  exit 1
}

# playwright-core: from the environment, else beside the source package.json
# (the test runs unsandboxed, so its runfiles link back to the source tree).
modules="${PORTAL_NODE_MODULES:-}"
if [[ -z "$modules" ]]; then
  modules="$(dirname "$(readlink -f "$HERE/package.json")")/node_modules"
fi
[[ -d "$modules/playwright-core" ]] ||
  fail "no playwright-core in '$modules': run 'npm ci' in tests/portal (tools/test.sh does) or pass --test_env=PORTAL_NODE_MODULES=<dir>"
readonly CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] || fail "no $CHROMIUM: install Debian's chromium (tools/install-deps.sh)"
command -v node >/dev/null || fail "no node on PATH"

# Chromium wants a writable home.
export HOME="$TEST_TMPDIR/home"
mkdir -p "$HOME"

declare -A server_pids=()
stop_servers() {
  # Callers first, then what they call.
  for name in gateway redemption accrual settlement membership; do
    local pid="${server_pids[$name]:-}"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      wait "$pid" || true
    fi
  done
}
trap stop_servers EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts service $1 (binary $2, then its flags) and waits for its port file.
data="$TEST_TMPDIR/data"
mkdir -p "$data"
start_service() {
  local name=$1 binary=$2
  shift 2
  local ports="$TEST_TMPDIR/$name.ports"
  rm -f "$ports"
  "$binary" --server.data_dir="$data" --server.port_file="$ports" "$@" \
    >"$TEST_TMPDIR/$name.log" 2>&1 &
  server_pids[$name]=$!
  for _ in $(seq 1 300); do
    [[ -s "$ports" ]] && return
    kill -0 "${server_pids[$name]}" 2>/dev/null || fail "$name exited before serving"
    sleep 0.1
  done
  fail "$name wrote no port file"
}

membership="127.0.0.1:$(free_port)"
settlement="127.0.0.1:$(free_port)"
accrual="127.0.0.1:$(free_port)"
redemption="127.0.0.1:$(free_port)"

start_service membership "$MEMBERSHIP" --server.listen_address="$membership" \
  --accrual_target="$accrual" --password_hash_ops=1 --password_hash_memory_kib=8
start_service settlement "$SETTLEMENT" --server.listen_address="$settlement" \
  --membership_target="$membership" --accrual_target="$accrual" \
  --redemption_target="$redemption" --disable_daily_outbound=true
start_service accrual "$ACCRUAL" --server.listen_address="$accrual" \
  --membership_target="$membership" --settlement_target="$settlement" \
  --disable_daily_expiry
start_service redemption "$REDEMPTION" --server.listen_address="$redemption" \
  --membership_target="$membership" --accrual_target="$accrual" \
  --settlement_target="$settlement"
# Reporting is not started: no portal page reads it.
start_service gateway "$GATEWAY" --server.listen_address=127.0.0.1:0 \
  --membership_target="$membership" --accrual_target="$accrual" \
  --redemption_target="$redemption" --settlement_target="$settlement" \
  --reporting_target=127.0.0.1:1 --http_listen_address=127.0.0.1:0 \
  --portal_dir="$ROOT/services/gateway/portal"
http_port="$(sed -n 's/^http_port=//p' "$TEST_TMPDIR/gateway.ports")"
[[ -n "$http_port" ]] || fail "no http_port in the gateway's port file"

export PORTAL_URL="http://127.0.0.1:$http_port"
export PORTAL_DIR="$ROOT/services/gateway/portal"
export PORTAL_NODE_MODULES="$modules"
export PORTAL_SEED="$TEST_TMPDIR/seed.json"
export PORTAL_SCREENSHOTS="${PORTAL_SCREENSHOTS:-${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}/screenshots}"
export CHROMIUM
export MBCTL="$ROOT/tools/mbctl/mbctl"
export MBCTL_ACCRUAL_TARGET="$accrual"
export MBCTL_REDEMPTION_TARGET="$redemption"
export MBCTL_MEMBERSHIP_TARGET="$membership"

node "$HERE/seed.mjs" || fail "seeding through $PORTAL_URL failed"

# Results as JUnit XML too, so that tools/test.sh counts each case.
reporters=(--test-reporter=spec --test-reporter-destination=stdout)
if [[ -n "${XML_OUTPUT_FILE:-}" ]]; then
  reporters+=(--test-reporter=junit --test-reporter-destination="$XML_OUTPUT_FILE")
fi
node --test "${reporters[@]}" "$HERE/portal.test.mjs" || fail "browser tests failed"
echo "screenshots: $PORTAL_SCREENSHOTS"
