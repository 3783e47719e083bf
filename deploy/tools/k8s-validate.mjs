#!/usr/bin/env node
// Offline check of Kubernetes manifests (no cluster, no downloads), e.g. the output of `kustomize build`:
//  1. schema: every document against the OpenAPI schemas bundled in the npm packages `kubernetes-models` (core
//     kinds) and `@kubernetes-models/prometheus-operator` (PodMonitor, ServiceMonitor, PrometheusRule); wrong types
//     and missing required fields fail. Unknown fields are NOT flagged (no kubeconform -strict equivalent).
//  2. references, which schemas cannot see: selectors of Services, PDBs and monitors match the pods of a workload,
//     named ports exist, HPA targets and mounted ConfigMaps exist, and $(VAR) in env refers to a variable declared
//     before it (Kubernetes leaves a forward reference unexpanded, silently).
// Usage: K8S_VALIDATE_MODULES=DIR node deploy/tools/k8s-validate.mjs a.yaml [b.yaml ...]  -> exit 1 if anything fails
//   DIR holds node_modules with kubernetes-models@5, @kubernetes-models/prometheus-operator@6 and yaml@2 (Node >= 22).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const modulesDir = resolve(process.env.K8S_VALIDATE_MODULES ?? process.cwd());
const requireFrom = createRequire(join(modulesDir, 'noop.js'));
// The model packages are ESM-only with subpath exports ("./apps/v1/Deployment" -> "./apps/v1/Deployment.js").
const loadModel = (pkg, subpath) => import(pathToFileURL(join(modulesDir, 'node_modules', pkg, `${subpath}.js`)).href);
const YAML = requireFrom('yaml');

const problems = [];
const fail = (where, msg) => problems.push(`${where}: ${msg}`);

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const [pkg, subpath] = group === 'monitoring.coreos.com'
    ? ['@kubernetes-models/prometheus-operator', `${group}/${version}/${kind}`]
    : ['kubernetes-models', group ? `${group}/${version}/${kind}` : `${version}/${kind}`];
  try {
    return (await loadModel(pkg, subpath))[kind];
  } catch {
    return undefined;
  }
}

const docs = [];
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) { fail(file, `YAML: ${doc.errors[0].message}`); continue; }
    const o = doc.toJS();
    if (o) docs.push({ file, o });
  }
}
if (docs.length === 0) fail('input', 'no Kubernetes documents');

// 1. Schemas.
for (const { file, o } of docs) {
  const where = `${file}: ${o.kind}/${o.metadata?.name}`;
  if (!o.apiVersion || !o.kind) { fail(file, 'document without apiVersion/kind'); continue; }
  const Model = await modelFor(o.apiVersion, o.kind);
  if (!Model) { fail(where, `no bundled schema for ${o.apiVersion} ${o.kind}`); continue; }
  try { new Model(o).validate(); } catch (e) { fail(where, `schema: ${String(e.message).slice(0, 600)}`); }
}

// 2. References, within each file (one `kustomize build` output is one installable unit).
for (const file of new Set(docs.map((d) => d.file))) checkReferences(file, docs.filter((d) => d.file === file));

for (const p of problems) console.log(`INVALID ${p}`);
console.log(`${docs.length} documents checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);

function checkReferences(file, docs) {
  const fail = (where, msg) => problems.push(`${file}: ${where}: ${msg}`);
  const ns = (o) => o.metadata?.namespace ?? 'default';
  const workloads = docs.map((d) => d.o).filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
  const podsSelectedBy = (o, selector) =>
    workloads.filter((w) => ns(w) === ns(o) && selector && Object.keys(selector).length > 0
      && matches(selector, w.spec.template.metadata?.labels));
  const portNames = (w) => new Set(w.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
  const byKindName = (kind, name, namespace) =>
    docs.find((d) => d.o.kind === kind && d.o.metadata?.name === name && ns(d.o) === namespace);

  for (const w of workloads) {
    const where = `${w.kind}/${w.metadata.name}`;
    if (!matches(w.spec.selector?.matchLabels, w.spec.template.metadata?.labels)) fail(where, 'selector does not match its pod template labels');
    for (const c of w.spec.template.spec.containers) {
      const declared = new Set();
      for (const e of c.env ?? []) {
        for (const m of String(e.value ?? '').matchAll(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
          if (!declared.has(m[1])) fail(`${where} container ${c.name}`, `env ${e.name} uses $(${m[1]}) before ${m[1]} is declared: Kubernetes will not expand it`);
        }
        declared.add(e.name);
      }
      const names = new Set((c.ports ?? []).map((p) => p.name));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const port = c[probe]?.httpGet?.port;
        if (typeof port === 'string' && !names.has(port)) fail(`${where} container ${c.name}`, `${probe} port "${port}" is not a container port name`);
      }
    }
    for (const v of w.spec.template.spec.volumes ?? []) {
      if (v.configMap && !byKindName('ConfigMap', v.configMap.name, ns(w))) fail(where, `volume ${v.name}: ConfigMap ${v.configMap.name} is not in the output`);
    }
    const sa = w.spec.template.spec.serviceAccountName;
    if (sa && !byKindName('ServiceAccount', sa, ns(w))) fail(where, `ServiceAccount ${sa} is not in the output`);
  }
  for (const { o } of docs) {
    const where = `${o.kind}/${o.metadata?.name}`;
    if (o.kind === 'Service') {
      const pods = podsSelectedBy(o, o.spec.selector);
      if (pods.length === 0) { fail(where, 'selects no pods of any workload in the output'); continue; }
      for (const p of o.spec.ports ?? []) {
        if (typeof p.targetPort === 'string' && !pods.every((w) => portNames(w).has(p.targetPort))) fail(where, `targetPort "${p.targetPort}" is not a container port name`);
      }
    }
    if (o.kind === 'PodDisruptionBudget' && podsSelectedBy(o, o.spec.selector?.matchLabels).length === 0) fail(where, 'selects no pods');
    if (o.kind === 'HorizontalPodAutoscaler') {
      const t = o.spec.scaleTargetRef;
      if (!byKindName(t.kind, t.name, ns(o))) fail(where, `scale target ${t.kind}/${t.name} is not in the output`);
    }
    if (o.kind === 'PodMonitor') {
      const pods = podsSelectedBy(o, o.spec.selector?.matchLabels);
      if (pods.length === 0) fail(where, 'selects no pods');
      for (const e of o.spec.podMetricsEndpoints ?? []) {
        if (!pods.every((w) => portNames(w).has(e.port))) fail(where, `port "${e.port}" is not a container port name of the selected pods`);
      }
    }
    if (o.kind === 'ServiceMonitor') {
      const services = docs.map((d) => d.o).filter((s) => s.kind === 'Service' && ns(s) === ns(o) && matches(o.spec.selector?.matchLabels, s.metadata?.labels));
      if (services.length === 0) fail(where, 'selects no Service');
      for (const e of o.spec.endpoints ?? []) {
        if (!services.every((s) => s.spec.ports.some((p) => p.name === e.port))) fail(where, `port "${e.port}" is not a port name of the selected Services`);
      }
    }
  }
}
