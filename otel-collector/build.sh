#!/usr/bin/env bash
# Builds otelcol-stunner, the OpenTelemetry Collector distribution of builder-config.yaml, with the collector
# builder (ocb) from Go modules, once: the binary is kept in a cache outside the work tree, keyed by the
# distribution's version and a hash of builder-config.yaml, and reused while both are unchanged.
# Progress goes to stderr; the last line of stdout is the binary's path.
#
# Usage: otel-collector/build.sh
# Env:   STUNNER_GO_TOOLS  the cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/stunner-otel/go-tools)
#        GO                the go command (default: go on PATH, else /usr/local/go/bin/go)
# Needs: Go >= 1.25 and the Go module proxy (GOPROXY); no other network.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CONFIG=$HERE/builder-config.yaml
# The builder of the release builder-config.yaml's components are from (see there).
OCB_VERSION=v0.155.0
CACHE=${STUNNER_GO_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/stunner-otel/go-tools}

GO=${GO:-$(command -v go || true)}
[[ -z $GO && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
if [[ -z $GO ]]; then
  echo "otel-collector/build.sh: Go is needed to build the collector and was not found (no go on PATH, no" \
    "/usr/local/go/bin/go). Install Go >= 1.25 (https://go.dev/dl/), or set GO=/path/to/go." >&2
  exit 1
fi
# ocb runs the go it finds on PATH.
export PATH="$(dirname "$GO"):$PATH"

version=$(sed -n 's/^  version: *//p' "$CONFIG")
[[ -n $version ]] || { echo "otel-collector/build.sh: no dist.version in $CONFIG" >&2; exit 1; }
key=otelcol-stunner-$version-$(sha256sum "$CONFIG" | cut -c1-12)
bin=$CACHE/$key/otelcol-stunner
if [[ -x $bin ]]; then
  echo "otel-collector/build.sh: using the cached $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$CACHE"
builder=$CACHE/builder-$OCB_VERSION/builder
if [[ ! -x $builder ]]; then
  echo "otel-collector/build.sh: go install go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
  (cd "$CACHE" && GOBIN=$CACHE/builder-$OCB_VERSION "$GO" install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION") >&2
fi

work=$(mktemp -d "$CACHE/.build-$key-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "otel-collector/build.sh: building $key in $work (several minutes the first time)" >&2
t0=$(date +%s)
# The builder runs `go mod tidy`, which also resolves the imports of the components' own tests; the module proxy
# does not serve every test-only module (pkg/golden, pkg/xk8stest, semconvtest), so tidy runs with -e (GOFLAGS
# flags apply only to the go commands that know them: tidy, not build). A module the binary needs and cannot get
# still fails the `go build` that follows.
(cd "$work" && GOFLAGS="${GOFLAGS:-} -e" "$builder" --config "$CONFIG") >&2
[[ -x $work/otelcol-stunner/otelcol-stunner ]] || { echo "otel-collector/build.sh: the builder made no binary" >&2; exit 1; }
# Another build of the same key may have finished first; either binary will do.
mv -T "$work/otelcol-stunner" "$CACHE/$key" 2>/dev/null || [[ -x $bin ]]
echo "otel-collector/build.sh: built $bin in $(( $(date +%s) - t0 )) s" >&2
echo "$bin"
