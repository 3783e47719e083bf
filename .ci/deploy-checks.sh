#!/usr/bin/env bash
# Offline checks of deploy/ and otel-collector/: kustomize build + schema/reference validation of the output, the
# shipped stunnerd configs through `stunnerd render` (the daemon's own validator),
# promtool check config / check rules / test rules, and the structural tests of the collector configs, dashboards,
# image recipe and compose stack. Installs its tools first (.ci/tools-deploy.sh, .ci/tools-prometheus.sh); a missing
# tool fails the check. Needs Node.js >= 22 on PATH (kubernetes-models 5), npm registry and Debian archive access.
# Usage: bash .ci/deploy-checks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${TOOLS_DIR:-$PWD/.cache/tools}
OUT=$PWD/.cache/deploy-checks
rm -rf "$OUT" && mkdir -p "$OUT"
t0=$(date +%s)
step() { printf '\n== %s\n' "$*"; }

node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' \
  || { echo "deploy-checks: need Node.js >= 22 on PATH, found $(node --version)" >&2; exit 1; }

step "tools"
bash .ci/tools-deploy.sh "$TOOLS"
bash .ci/tools-prometheus.sh "$TOOLS/prom"
KUSTOMIZE=$TOOLS/bin/kustomize
PROMTOOL=$TOOLS/prom/usr/bin/promtool
for t in "$KUSTOMIZE" "$PROMTOOL"; do [[ -x $t ]] || { echo "deploy-checks: $t missing" >&2; exit 1; }; done

step "kustomize build + offline validation"
builds=()
for k in deploy/kubernetes/base deploy/kubernetes/overlays/*/; do
  k=${k%/}
  out="$OUT/$(echo "$k" | tr / _).yaml"
  "$KUSTOMIZE" build "$k" > "$out"
  echo "$k: $(grep -c '^kind:' "$out") objects"
  builds+=("$out")
done
K8S_VALIDATE_MODULES=$TOOLS/k8s-validate node deploy/tools/k8s-validate.mjs "${builds[@]}"

step "stunnerd configs accepted by stunnerd's own validator (stunnerd render)"
# The stunnerd.conf of every built ConfigMap, and the compose stack's config, as the daemon will load them.
for out in "${builds[@]}"; do
  conf="${out%.yaml}.stunnerd.conf"
  node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs"; import { createRequire } from "node:module";
    const YAML = createRequire(process.argv[1] + "/noop.js")("yaml");
    const cm = YAML.parseAllDocuments(readFileSync(process.argv[2], "utf8")).map((d) => d.toJS())
      .find((o) => o?.kind === "ConfigMap" && o.data?.["stunnerd.conf"]);
    if (!cm) { console.error(`${process.argv[2]}: no ConfigMap with stunnerd.conf`); process.exit(1); }
    writeFileSync(process.argv[3], cm.data["stunnerd.conf"]);' "$TOOLS/k8s-validate" "$out" "$conf"
  STUNNER_ADDR=10.0.0.1 node src/cmd/stunnerd.ts render -c "$conf" > /dev/null
  echo "$conf: accepted"
done
STUNNER_ADDR=172.28.0.10 node src/cmd/stunnerd.ts render -c deploy/compose/stunnerd.yaml > /dev/null
echo "deploy/compose/stunnerd.yaml: accepted"

step "promtool check config"
for c in deploy/prometheus/prometheus.yml deploy/prometheus/prometheus-kubernetes.yml deploy/compose/prometheus.yml; do
  "$PROMTOOL" check config "$c"
done

step "promtool check rules"
"$PROMTOOL" check rules deploy/prometheus/rules/*.yaml

step "promtool test rules"
"$PROMTOOL" test rules deploy/prometheus/tests/*.yaml

step "structural tests (collector configs, dashboards, image, compose)"
node --test test/deploy/otel-collector.test.ts test/deploy/dashboards-static.test.ts test/deploy/compose-and-image.test.ts

echo
echo "deploy-checks: all passed in $(( $(date +%s) - t0 )) s"
