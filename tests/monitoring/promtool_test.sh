#!/bin/bash
# deploy/prometheus checked by Debian's promtool, as Prometheus would load it:
# both configurations (with their target files and rules), the local one
# also with the 3-shard targets added, the rules, and the rules' unit tests
# (alerts_test.yml).
set -euo pipefail

readonly ROOT="$TEST_SRCDIR/mileagebank"
readonly PROMETHEUS="$ROOT/deploy/prometheus"
command -v promtool >/dev/null ||
  { echo "FAIL: no promtool: install Debian's prometheus (tools/install-deps.sh)" >&2; exit 1; }

promtool check config "$PROMETHEUS/prometheus.yml"
promtool check config "$PROMETHEUS/prometheus-k8s.yml"
promtool check rules "$PROMETHEUS/alerts.yml"

# The 3-shard layout: local-3-shards.yml copied into targets/ beside
# local.yml, as prometheus.yml's header says.
sharded="$TEST_TMPDIR/sharded"
mkdir -p "$sharded/targets"
cp "$PROMETHEUS/prometheus.yml" "$PROMETHEUS/alerts.yml" "$sharded/"
cp "$PROMETHEUS/targets/local.yml" "$PROMETHEUS/local-3-shards.yml" \
  "$sharded/targets/"
promtool check config "$sharded/prometheus.yml"
# Twelve processes, each scraped once.
addresses=$(grep -ho '127\.0\.0\.1:[0-9]*' "$sharded"/targets/*.yml | sort)
[[ $(wc -l <<<"$addresses") -eq 12 ]] ||
  { echo "FAIL: the 3-shard layout has not 12 targets: $addresses" >&2; exit 1; }
[[ -z $(uniq -d <<<"$addresses") ]] ||
  { echo "FAIL: a target listed twice: $(uniq -d <<<"$addresses")" >&2; exit 1; }

promtool test rules "$ROOT/tests/monitoring/alerts_test.yml"
echo "PASS"
