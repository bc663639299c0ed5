#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything and
# runs every test, then prints one summary line counting the test cases.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh || exit 1

# The portal's browser tests (tests/portal) drive chromium with
# playwright-core, installed from package-lock.json when missing.
if [ ! -d tests/portal/node_modules ]; then
  (cd tests/portal && npm ci --no-audit --no-fund) || exit 1
fi

# Results are never taken from the cache: every run runs every test.
bazel test //... --cache_test_results=no \
  --test_env=PORTAL_NODE_MODULES="$PWD/tests/portal/node_modules" "$@"
status=$?

bazel query 'tests(//...)' 2>/dev/null | python3 tools/test_summary.py bazel-testlogs
summary_status=$?
[ "$status" -eq 0 ] || exit "$status"
exit "$summary_status"
