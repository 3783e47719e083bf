#!/usr/bin/env bash
# Installs what the tests need and is not an npm package: coturn (turnutils_uclient, turnutils_peer,
# turnserver for the benchmarks), openssl, iproute2 (ss), chromium (a real WebRTC client), and Prometheus/promtool/VictoriaMetrics
# unpacked from Debian packages into .cache/tools/prom. Idempotent; fails when something cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=
[[ $(id -u) == 0 ]] || SUDO=sudo
missing=()
command -v turnutils_uclient >/dev/null || missing+=(coturn)
command -v openssl >/dev/null || missing+=(openssl)
command -v ss >/dev/null || missing+=(iproute2)
command -v bc >/dev/null || missing+=(bc)
command -v chromium >/dev/null || missing+=(chromium)
if (( ${#missing[@]} )); then
  echo "test-tools: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for t in turnutils_uclient turnutils_peer turnserver openssl ss chromium; do
  command -v "$t" >/dev/null || { echo "test-tools: $t is missing after install" >&2; exit 1; }
done
VM=1 bash .ci/tools-prometheus.sh "$PWD/.cache/tools/prom"
