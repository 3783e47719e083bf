#!/usr/bin/env bash
# Builds the Go programs the stack tests (npm run test:stack) run, from Go modules, into one cache outside the work
# tree, reusing what is already built:
#   - otelcol-stunner, the OpenTelemetry Collector of otel-collector/builder-config.yaml (otel-collector/build.sh);
#   - Jaeger v2 (jaeger), the tool of the .ci/jaeger module, keyed by its version and a hash of its go.sum.
# Writes their paths to <cache>/paths.env (read by test-stack/helpers/go-tools.ts) and prints them.
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

printf 'OTELCOL=%s\nJAEGER=%s\n' "$OTELCOL" "$JAEGER" > "$CACHE/paths.env.tmp"
mv "$CACHE/paths.env.tmp" "$CACHE/paths.env"
cat "$CACHE/paths.env"
