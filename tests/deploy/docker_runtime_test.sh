#!/usr/bin/env bash
# The image's run-time stage (deploy/docker/Dockerfile) installs a list of
# Debian packages by hand. No Docker engine runs where the tests do, so this
# checks the list the other way: every shared library the built binaries
# load (ldd) must come from a package in the list or in what those packages
# depend on, and every package in the list must exist. A new library in
# third_party/system/BUILD without its package fails here, not in a pod.
set -euo pipefail

runfiles=${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-mileagebank}
dockerfile=$runfiles/deploy/docker/Dockerfile

# The run-time stage: from the last FROM on, the words of its apt-get
# install that name packages.
listed=$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' \
    "$dockerfile" |
  sed -n '/apt-get install/,/&&/p' | tr ' \\' '\n\n' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vx -e apt-get -e install -e rm || true)
if [ -z "$listed" ]; then
  echo "FAIL: no packages found in the run-time stage of $dockerfile" >&2
  exit 1
fi

# The packages `listed` brings: itself and its dependencies, as this
# machine's dpkg knows them (each is installed here, by the -dev packages).
declare -A closure=()
queue=($listed)
while [ ${#queue[@]} -gt 0 ]; do
  package=${queue[0]}
  queue=("${queue[@]:1}")
  [ -n "${closure[$package]:-}" ] && continue
  if ! depends=$(dpkg-query -W -f='${Depends},${Pre-Depends}' "$package" 2>/dev/null); then
    if grep -qx "$package" <<<"$listed"; then
      echo "FAIL: $package (in the Dockerfile) is not a package installed here" >&2
      exit 1
    fi
    continue  # An alternative that is not installed.
  fi
  closure[$package]=1
  for dependency in $(tr ',|' '\n\n' <<<"$depends" | sed -e 's/(.*)//' -e 's/:any//' | tr -d ' '); do
    [ -n "$dependency" ] && queue+=("$dependency")
  done
done

binaries="services/membership/membership services/accrual/accrual
  services/redemption/redemption services/settlement/settlement
  services/reporting/reporting services/gateway/gateway tools/mbctl/mbctl"
libraries=$(for binary in $binaries; do
    ldd "$runfiles/$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
  done | sort -u)
# Which package owns each library, in one dpkg call (one per library is
# slow). Debian 12 merged /lib into /usr/lib, but dpkg records either path.
declare -A owner=()
while IFS= read -r line; do
  owner[${line#*: }]=${line%%:*}
done < <(for library in $libraries; do
    echo "$library" "/usr$library" "${library#/usr}"
  done | xargs dpkg -S 2>/dev/null | grep -v '^diversion' || true)

failures=0
for library in $libraries; do
  package=${owner[$library]:-${owner[/usr$library]:-${owner[${library#/usr}]:-}}}
  if [ -z "$package" ]; then
    echo "FAIL: the binaries load $library, which no package owns" >&2
    failures=$((failures + 1))
  elif [ -z "${closure[$package]:-}" ]; then
    echo "FAIL: the binaries load $library from $package, which the image does not install" >&2
    failures=$((failures + 1))
  fi
done
[ $failures -eq 0 ] || exit 1
echo "docker_runtime_test: the image's $(wc -w <<<"$listed") packages bring" \
  "all $(wc -w <<<"$libraries") libraries the 7 binaries load"
