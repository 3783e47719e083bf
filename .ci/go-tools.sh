#!/usr/bin/env bash
# Builds the Go programs the stack tests (npm run test:stack) run, from Go modules, into one cache outside the work
# tree, reusing what is already built:
#   - otelcol-stunner, the OpenTelemetry Collector of otel-collector/builder-config.yaml (otel-collector/build.sh);
#   - Jaeger v2 (jaeger), the tool of the .ci/jaeger module, keyed by its version and a hash of its go.sum;
#   - upstream STUNner's stunnerd and turncat (github.com/l7mp/stunner, the version .ci/upstream/go.mod requires),
#     keyed by that version and a hash of .ci/upstream/go.sum;
#   - cds-harness (.ci/upstream/cds-harness): upstream's CDS server behind a control API for tests, keyed by a hash
#     of .ci/upstream/go.sum and its sources.
# Writes their paths to <cache>/paths.env (read by test-stack/helpers/go-tools.ts and upstream.ts) and prints them.
# Usage: bash .ci/go-tools.sh
# Env:   STUNNER_GO_TOOLS  the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/stunner-otel/go-tools); GO as in build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${STUNNER_GO_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/stunner-otel/go-tools}
export STUNNER_GO_TOOLS=$CACHE

OTELCOL=$(bash otel-collector/build.sh | tail -n 1)

GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
[[ -n $GO ]] || { echo ".ci/go-tools.sh: Go is needed to build Jaeger and was not found" >&2; exit 1; }
jaeger_version=$(sed -n 's#^[[:space:]]*github.com/jaegertracing/jaeger \(v[^ ]*\).*#\1#p' .ci/jaeger/go.mod)
[[ -n $jaeger_version ]] || { echo ".ci/go-tools.sh: no github.com/jaegertracing/jaeger requirement in .ci/jaeger/go.mod" >&2; exit 1; }
key=jaeger-$jaeger_version-$(sha256sum .ci/jaeger/go.sum | cut -c1-12)
JAEGER=$CACHE/$key/jaeger
if [[ -x $JAEGER ]]; then
  echo ".ci/go-tools.sh: using the cached $JAEGER" >&2
else
  echo ".ci/go-tools.sh: building $key (several minutes the first time)" >&2
  t0=$(date +%s)
  work=$(mktemp -d "$CACHE/.build-$key-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # -mod=readonly: the build reads .ci/jaeger/go.mod and go.sum and never rewrites them.
  (cd .ci/jaeger && GOFLAGS=-mod=readonly "$GO" build -o "$work/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv -T "$work" "$CACHE/$key" 2>/dev/null || [[ -x $JAEGER ]]
  echo ".ci/go-tools.sh: built $JAEGER in $(( $(date +%s) - t0 )) s" >&2
fi

# build_into KEY CMD...: runs CMD (which writes its binaries into $OUT) unless $CACHE/KEY exists, then moves the
# result to $CACHE/KEY in one rename, so a failed or concurrent build never leaves a half-filled directory.
build_into() {
  local key=$1; shift
  if [[ -d $CACHE/$key ]]; then
    echo ".ci/go-tools.sh: using the cached $CACHE/$key" >&2
    return
  fi
  echo ".ci/go-tools.sh: building $key" >&2
  local t0 work
  t0=$(date +%s)
  work=$(mktemp -d "$CACHE/.build-$key-XXXXXX")
  OUT=$work "$@" || { rm -rf "$work"; return 1; }
  mv -T "$work" "$CACHE/$key" 2>/dev/null || rm -rf "$work"
  echo ".ci/go-tools.sh: built $CACHE/$key in $(( $(date +%s) - t0 )) s" >&2
}

# Upstream STUNner from the Go module proxy, built as its Makefile and Dockerfile do (static, version stamped).
stunner_version=$(sed -n 's#^[[:space:]]*github.com/l7mp/stunner \(v[^ ]*\).*#\1#p' .ci/upstream/go.mod)
[[ -n $stunner_version ]] || { echo ".ci/go-tools.sh: no github.com/l7mp/stunner requirement in .ci/upstream/go.mod" >&2; exit 1; }
build_upstream() {
  (cd .ci/upstream && for cmd in stunnerd turncat; do
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" "$GO" build -ldflags "-X main.version=$stunner_version" \
      -o "$OUT/$cmd" "github.com/l7mp/stunner/cmd/$cmd" || exit 1
  done)
}
build_harness() {
  (cd .ci/upstream && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" "$GO" build -o "$OUT/cds-harness" ./cds-harness)
}
upstream_key=stunnerd-$stunner_version-$(sha256sum .ci/upstream/go.sum | cut -c1-12)
# The harness key hashes go.sum and then its .go files in byte order (test-stack/helpers/upstream.ts checks it).
harness_key=cds-harness-$(LC_ALL=C; cat .ci/upstream/go.sum .ci/upstream/cds-harness/*.go | sha256sum | cut -c1-12)
build_into "$upstream_key" build_upstream
build_into "$harness_key" build_harness

printf 'OTELCOL=%s\nJAEGER=%s\nUPSTREAM_STUNNERD=%s\nUPSTREAM_TURNCAT=%s\nCDS_HARNESS=%s\n' "$OTELCOL" "$JAEGER" \
  "$CACHE/$upstream_key/stunnerd" "$CACHE/$upstream_key/turncat" "$CACHE/$harness_key/cds-harness" > "$CACHE/paths.env.tmp"
mv "$CACHE/paths.env.tmp" "$CACHE/paths.env"
cat "$CACHE/paths.env"
