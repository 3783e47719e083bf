// The gateway metric families of docs/metrics.md: exact names, help text and OTLP units.
// Names already carry the Prometheus suffixes (`_total`, `_seconds`, `_bytes`) and units are either curly-brace
// annotations or units whose Prometheus word is already in the name, so that the Prometheus exposition, the OTLP
// name and a backend's OTLP->Prometheus translation (VictoriaMetrics -opentelemetry.usePrometheusNaming, Mimir,
// the collector's Prometheus exporters: unit word appended unless present, `total` moved last on counters)
// all yield the same string. Never unit "1": translators append `_ratio` to such gauges.
import { ValueType } from '@opentelemetry/api';
import type { MetricDescriptor } from '@opentelemetry/sdk-metrics';

export type FamilyKind = 'counter' | 'gauge' | 'histogram';

export interface Family {
  readonly kind: FamilyKind;
  readonly descriptor: MetricDescriptor;
}

function family(kind: FamilyKind, name: string, unit: string, description: string): Family {
  const valueType = kind === 'histogram' ? ValueType.DOUBLE : ValueType.INT;
  return { kind, descriptor: { name, unit, description, valueType } };
}

export const FAMILIES = {
  listenerConnections: family('gauge', 'stunner_listener_connections', '{connection}',
    'Number of active downstream connections at a listener.'),
  listenerConnectionsTotal: family('counter', 'stunner_listener_connections_total', '{connection}',
    'Number of downstream connections at a listener.'),
  listenerPackets: family('counter', 'stunner_listener_packets_total', '{packet}',
    'Number of datagrams or framed messages received (rx) or sent (tx) at a listener.'),
  listenerBytes: family('counter', 'stunner_listener_bytes_total', 'By',
    'Number of bytes received (rx) or sent (tx) at a listener.'),
  clusterConnections: family('gauge', 'stunner_cluster_connections', '{connection}',
    'Number of active upstream connections on behalf of a listener.'),
  clusterConnectionsTotal: family('counter', 'stunner_cluster_connections_total', '{connection}',
    'Number of upstream connections on behalf of a listener.'),
  clusterPackets: family('counter', 'stunner_cluster_packets_total', '{packet}',
    'Number of datagrams received from (rx) or sent to (tx) peers of a cluster on behalf of a listener.'),
  clusterBytes: family('counter', 'stunner_cluster_bytes_total', 'By',
    'Number of payload bytes received from (rx) or sent to (tx) peers of a cluster on behalf of a listener.'),
  allocationsActive: family('gauge', 'stunner_allocations_active', '{allocation}',
    'Number of TURN allocations alive now at a listener.'),
  allocationDuration: family('histogram', 'stunner_allocation_duration_seconds', 's',
    'Lifetime of ended TURN allocations at a listener.'),
  requests: family('counter', 'stunner_requests_total', '{request}',
    'Number of STUN/TURN requests answered, by method and response code.'),
  droppedPackets: family('counter', 'stunner_dropped_packets_total', '{packet}',
    'Number of datagrams or frames dropped, by reason.'),
  sendDroppedPackets: family('counter', 'stunner_send_dropped_packets_total', '{packet}',
    'Number of datagrams dropped because the send buffer towards the client or the peer was full.'),
  peerUnreachable: family('counter', 'stunner_peer_unreachable_total', '{error}',
    'Number of ICMP errors (port unreachable, prohibited) reported for datagrams relayed to peers over channels.'),
  configReloads: family('counter', 'stunner_config_reloads_total', '{reload}',
    'Number of configuration (re)loads, by result.'),
  configLastReloadSuccessful: family('gauge', 'stunner_config_last_reload_successful', '',
    'Whether the last configuration (re)load succeeded (1) or was rejected (0).'),
  workerRestarts: family('counter', 'stunner_worker_restarts_total', '{restart}',
    'Number of dataplane worker threads restarted after they died.'),
  buildInfo: family('gauge', 'stunner_build_info', '',
    'Always 1; labels carry the gateway version and the Node.js runtime version.'),
} as const satisfies Record<string, Family>;
