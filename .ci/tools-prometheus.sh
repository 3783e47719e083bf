#!/usr/bin/env bash
# Fetch Prometheus 2.53.3 + promtool from Debian trixie (NB: Debian patched its OTLP receiver out) without touching apt sources,
# and unpack them (dpkg -x, no install) into DIR; idempotent. VM=1 also unpacks victoria-metrics 1.112 (has OTLP ingest).
# Usage: .ci/tools-prometheus.sh [DIR=<repo>/.cache/tools/prom]   -> DIR/usr/bin/{prometheus,promtool}  (VM=1: +victoria-metrics)
# (Copied from shared/tools/prometheus-get.sh; only the default DIR differs.)
# Env:   APTDIR=/tmp/trixie-apt (private apt lists dir), SUITE=trixie
# Runs on Debian 12: binaries are static Go, need only libc6 >= 2.34 (bookworm has 2.36).
set -euo pipefail
DIR=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache/tools/prom}
APTDIR=${APTDIR:-/tmp/trixie-apt}
SUITE=${SUITE:-trixie}
PKGS=(prometheus promtool)
[[ ${VM:-0} == 1 ]] && PKGS+=(victoria-metrics)

have_all() {
  [[ -x $DIR/usr/bin/prometheus && -x $DIR/usr/bin/promtool ]] || return 1
  [[ ${VM:-0} != 1 || -x $DIR/usr/bin/victoria-metrics ]]
}
if have_all; then
  echo "already present: $("$DIR/usr/bin/prometheus" --version 2>&1 | head -1)"; exit 0
fi

mkdir -p "$APTDIR/lists/partial" "$APTDIR/debs" "$DIR"
printf 'deb [arch=amd64] http://deb.debian.org/debian %s main\n' "$SUITE" > "$APTDIR/sources.list"
A=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$APTDIR/lists"
   -o APT::Sandbox::User=root)
if ! ls "$APTDIR"/lists/*_dists_"${SUITE}"_main_binary-amd64_Packages* >/dev/null 2>&1; then
  apt-get "${A[@]}" update -qq
fi
cd "$APTDIR/debs"
for p in "${PKGS[@]}"; do
  ls "${p}"_*.deb >/dev/null 2>&1 || apt-get "${A[@]}" download "$p"
  dpkg -x "$(ls -1 "${p}"_*.deb | tail -1)" "$DIR"
done
"$DIR/usr/bin/prometheus" --version 2>&1 | head -1
"$DIR/usr/bin/promtool" --version 2>&1 | head -1
[[ ${VM:-0} == 1 ]] && echo "victoria-metrics 1.112 (Debian build prints an empty -version)"
echo "unpacked into $DIR/usr/bin"
