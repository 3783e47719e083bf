// Which series each gateway family has, read from the stats objects: one table used by both the OTLP producer
// (data points) and the Prometheus writer (text), so pull and push cannot disagree on names, labels or values.
import type { Attributes } from '@opentelemetry/api';
import type { ListenerStats } from '../stats/listener-stats.ts';
import type { ClusterStats } from '../stats/cluster-stats.ts';
import type { GatewayStats } from '../stats/registry.ts';
import { FAMILIES, type Family } from './families.ts';
import { clusterLabels, listenerLabels, requestLabels } from './labels.ts';

export type Emit = (attributes: Attributes, value: number) => void;

export interface SeriesTable<S> {
  readonly family: Family;
  readonly each: (stats: S, emit: Emit) => void;
}

const F = FAMILIES;

/** Scalar listener families (the allocation-duration histogram is separate). */
export const LISTENER_SERIES: readonly SeriesTable<ListenerStats>[] = [
  { family: F.listenerConnections, each: (s, emit) => emit(listenerLabels(s).name, s.connections) },
  { family: F.listenerConnectionsTotal, each: (s, emit) => emit(listenerLabels(s).name, s.connectionsTotal) },
  { family: F.listenerPackets, each: (s, emit) => {
    const l = listenerLabels(s);
    emit(l.rx, s.rxPackets);
    emit(l.tx, s.txPackets);
  } },
  { family: F.listenerBytes, each: (s, emit) => {
    const l = listenerLabels(s);
    emit(l.rx, s.rxBytes);
    emit(l.tx, s.txBytes);
  } },
  { family: F.allocationsActive, each: (s, emit) => emit(listenerLabels(s).name, s.allocationsActive) },
  { family: F.requests, each: (s, emit) => {
    const l = listenerLabels(s);
    for (const [key, count] of s.requests) emit(requestLabels(s, l, key), count);
  } },
  { family: F.droppedPackets, each: (s, emit) => {
    const l = listenerLabels(s);
    for (let i = 0; i < s.drops.length; i++) emit(l.drops[i], s.drops[i]);
  } },
  { family: F.sendDroppedPackets, each: (s, emit) => {
    const l = listenerLabels(s);
    for (let i = 0; i < s.sendDrops.length; i++) emit(l.sendDrops[i], s.sendDrops[i]);
  } },
  { family: F.peerUnreachable, each: (s, emit) => {
    const l = listenerLabels(s);
    for (let i = 0; i < s.peerUnreachable.length; i++) emit(l.peerUnreachable[i], s.peerUnreachable[i]);
  } },
];

export const CLUSTER_SERIES: readonly SeriesTable<ClusterStats>[] = [
  { family: F.clusterConnections, each: (s, emit) => emit(clusterLabels(s).pair, s.connections) },
  { family: F.clusterConnectionsTotal, each: (s, emit) => emit(clusterLabels(s).pair, s.connectionsTotal) },
  { family: F.clusterPackets, each: (s, emit) => {
    const c = clusterLabels(s);
    emit(c.rx, s.rxPackets);
    emit(c.tx, s.txPackets);
  } },
  { family: F.clusterBytes, each: (s, emit) => {
    const c = clusterLabels(s);
    emit(c.rx, s.rxBytes);
    emit(c.tx, s.txBytes);
  } },
];

const NO_LABELS: Attributes = Object.freeze({});
const RELOAD_SUCCESS: Attributes = Object.freeze({ result: 'success' });
const RELOAD_FAILURE: Attributes = Object.freeze({ result: 'failure' });

export const GATEWAY_SERIES: readonly SeriesTable<GatewayStats>[] = [
  { family: F.configReloads, each: (g, emit) => {
    emit(RELOAD_SUCCESS, g.configReloadsSuccess);
    emit(RELOAD_FAILURE, g.configReloadsFailure);
  } },
  { family: F.configLastReloadSuccessful, each: (g, emit) => emit(NO_LABELS, g.lastReloadSuccessful) },
  { family: F.workerRestarts, each: (g, emit) => emit(NO_LABELS, g.workerRestarts) },
];

/** stunner_build_info labels: the gateway version and the Node.js runtime version. */
export function buildInfoLabels(version: string): Attributes {
  return Object.freeze({ version, runtime_version: process.version });
}
