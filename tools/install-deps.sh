#!/usr/bin/env bash
# Installs the Debian packages the mileage bank builds, runs and tests with.
# Safe to run again: when every package is present it does nothing, so CI
# and repeated runs of the README commands stay fast.
set -euo pipefail

packages=(
  # build
  bazel-bootstrap bazel-rules-java g++ git ca-certificates
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev grpc-proto
  libabsl-dev librocksdb-dev prometheus-cpp-dev libsodium-dev
  libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
  # end-to-end tests and the run command
  python3 curl procps openssl
  # the fuzz test (services/settlement:accrual_file_fuzz_test): clang with
  # libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # the portal's browser tests (tests/portal): Debian's browser, and a font
  # with Chinese characters for the zh-CN pages
  chromium fonts-wqy-microhei
  # the Kubernetes manifests' checker (tests/deploy) reads kubectl's YAML
  libyaml-cpp-dev
  # monitoring (tests/monitoring): promtool checks deploy/prometheus, and a
  # real Prometheus server scrapes the running system; python3-yaml reads the
  # rules to check their metric names
  prometheus python3-yaml
)
# tests/deploy renders deploy/k8s with `kubectl kustomize`. Debian's kubectl
# (kubernetes-client) only when there is none: another one (Google's Cloud
# SDK's, say) owns /usr/bin/kubectl, and the two packages would clash.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
