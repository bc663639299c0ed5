#!/usr/bin/env bash
# Renders deploy/k8s's overlays with kubectl's own kustomize (as an operator
# would: `kubectl apply -k`) and checks them with manifest_check; then
# breaks copies in the ways a careless edit would and expects manifest_check
# to catch each one, so that a check that has stopped checking fails here.
set -euo pipefail

runfiles=${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-mileagebank}
check=$runfiles/tests/deploy/manifest_check
work=${TEST_TMPDIR:-$(mktemp -d)}

command -v kubectl >/dev/null || {
  echo "kubectl is missing: run tools/install-deps.sh" >&2
  exit 1
}
# kustomize refuses files that resolve outside the kustomization's folder,
# and Bazel's runfiles are links into the source tree: work on a copy.
fresh_copy() {
  rm -rf "$work/k8s"
  cp -RL "$runfiles/deploy/k8s" "$work/k8s"
}

# overlay, shard count: renders and checks.
check_overlay() {
  kubectl kustomize "$work/k8s/overlays/$1" >"$work/$1.yaml"
  "$check" --rendered="$work/$1.yaml" --shards="$2" \
    --sharded=membership,accrual,redemption --front_door=gateway \
    --autoscaled=gateway --state_owners=gateway-state \
    --local_configs="$runfiles/deploy/local" \
    --external_secrets=gateway-token-key
}

fresh_copy
check_overlay demo 1
check_overlay production 3

failures=0
# description, file under deploy/k8s, sed expression, what the check must
# say: the breakage must be reported with that message.
expect_caught() {
  fresh_copy
  sed -i -e "$3" "$work/k8s/$2"
  if cmp -s "$runfiles/deploy/k8s/$2" "$work/k8s/$2"; then
    echo "FAIL: $1: the edit changed nothing in $2" >&2
    failures=$((failures + 1))
    return
  fi
  local overlay=production shards=3
  case $2 in overlays/demo/*) overlay=demo shards=1 ;; esac
  local output
  if output=$(check_overlay $overlay $shards 2>&1); then
    echo "FAIL: $1: not caught" >&2
    failures=$((failures + 1))
  elif ! grep -qF -- "$4" <<<"$output"; then
    echo "FAIL: $1: caught, but not with \"$4\":" >&2
    echo "$output" >&2
    failures=$((failures + 1))
  else
    echo "caught: $1"
  fi
}

expect_caught "a shard too few" overlays/production/shards.yaml \
  '0,/replicas: 3/s//replicas: 2/' \
  "server.shard_count 3 but 2 replicas"
expect_caught "an address list a shard short" overlays/production/kustomization.yaml \
  's/,accrual-2.accrual:7102//' \
  "names 2 pods of accrual, which has 3"
expect_caught "a shard count the replicas do not match" overlays/production/kustomization.yaml \
  's/SHARD_COUNT=3/SHARD_COUNT=2/' \
  "server.shard_count 2 but 3 replicas"
expect_caught "a probe lost" base/reporting.yaml \
  '/readinessProbe:/,/failureThreshold: 2/d' \
  "readinessProbe must be a gRPC probe"
expect_caught "a probe on the wrong port" base/settlement.yaml \
  '0,/^            port: 7104$/s//            port: 9104/' \
  "must ask the gRPC port for its health"
expect_caught "no memory limit" base/membership.yaml \
  '/limits:/,/memory:/{/memory:/d}' \
  "resources.limits.memory required"
expect_caught "no volume claims" base/redemption.yaml \
  '/volumeClaimTemplates:/,$d' \
  "volumeClaimTemplates required"
expect_caught "a caller the network policies forgot" base/network-policies.yaml \
  '/name: redemption-from-callers/,/ports:/{/- podSelector:/{N;N;/name: settlement$/d}}' \
  "settlement calls redemption on port 7103 but no NetworkPolicy lets it"
expect_caught "a caller too many" base/network-policies.yaml \
  '/name: reporting-from-callers/,$s/name: gateway$/name: accrual/' \
  "lets accrual reach reporting's port 7105, which its configuration never calls"
expect_caught "a service opened to everyone" base/network-policies.yaml \
  '/name: reporting-from-callers/,$s/  - from:/  - ports: [{port: 7105}]\n  - from:/' \
  "opens reporting to every source"
expect_caught "a service behind a load balancer" base/reporting.yaml \
  's/clusterIP: None/type: LoadBalancer/' \
  "exposes StatefulSet reporting outside the cluster"
expect_caught "a configuration that does not parse" base/config/membership.textproto \
  's/password_max_attempts: 5/password_max_attempts: five/' \
  "does not parse as mileagebank.config.v1.MembershipConfig"
expect_caught "a flag the service does not know" base/accrual.yaml \
  's/--server.data_dir=/--server.datadir=/' \
  "unknown setting"
expect_caught "a listener on loopback" base/config/redemption.textproto \
  's/0.0.0.0:7103/127.0.0.1:7103/' \
  "server.listen_address \"127.0.0.1:7103\" must be 0.0.0.0"
expect_caught "a product rule that drifted from deploy/local" base/config/accrual.textproto \
  's/gold_bonus_percent: 50/gold_bonus_percent: 55/' \
  "differs from"
expect_caught "a Service selecting nothing" base/settlement.yaml \
  '0,/app.kubernetes.io\/name: settlement/s//app.kubernetes.io\/name: settlements/' \
  "Service settlement: selects no pods"
expect_caught "the store on a scratch folder" base/gateway-state.yaml \
  's/--server.data_dir=\/var\/lib\/mileagebank/--server.data_dir=\/run\/mileagebank/' \
  "is on no volumeClaimTemplate's volume"
expect_caught "a topology variable misspelt" base/membership.yaml \
  's/$(ACCRUAL_TARGET)/$(ACCRUAL_TARGETS)/' \
  "\$(ACCRUAL_TARGETS) is not in the environment"
expect_caught "a Secret that no one makes" base/gateway.yaml \
  's/secretName: gateway-token-key/secretName: gateway-token/' \
  "no Secret gateway-token"
expect_caught "a gateway pod keeping a store of its own" base/gateway.yaml \
  '/--state_target=/d' \
  "configuration must keep no store"
expect_caught "the gateway without its autoscaler" base/gateway.yaml \
  '/^apiVersion: autoscaling\/v2$/,/averageUtilization/d' \
  "Deployment gateway: no HorizontalPodAutoscaler targets it"
expect_caught "an autoscaler on memory alone" base/gateway.yaml \
  's/name: cpu$/name: memory/' \
  "needs a Resource metric on cpu"
expect_caught "replicas fixed under an autoscaler" base/gateway.yaml \
  's/^  selector:$/  replicas: 3\n  selector:/' \
  "sets spec.replicas, which its autoscaler owns"
expect_caught "two state owners" base/gateway-state.yaml \
  's/replicas: 1$/replicas: 2/' \
  "a state owner is one pod"
expect_caught "the gateway's state owner unreachable" base/network-policies.yaml \
  '/name: gateway-state-from-gateway/,/---/{/- from:/,/- port: 7100/d}' \
  "gateway calls gateway-state on port 7100 but no NetworkPolicy lets it"

if [ $failures -ne 0 ]; then
  echo "$failures breakages were not caught as expected" >&2
  exit 1
fi
echo "k8s_manifests_test: both overlays pass; every breakage was caught"
