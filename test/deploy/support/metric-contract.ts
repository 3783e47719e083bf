// The metric names of the metrics contract (docs/metrics.md), as a Prometheus scrape shows them. Dashboards, alerts
// and recording rules may use these names only: anything else is a series no stunnerd ever exports.

const COUNTERS_AND_GAUGES = [
  'stunner_listener_connections',
  'stunner_listener_connections_total',
  'stunner_listener_packets_total',
  'stunner_listener_bytes_total',
  'stunner_cluster_connections',
  'stunner_cluster_connections_total',
  'stunner_cluster_packets_total',
  'stunner_cluster_bytes_total',
  'stunner_allocations_active',
  'stunner_requests_total',
  'stunner_dropped_packets_total',
  'stunner_send_dropped_packets_total',
  'stunner_peer_unreachable_total',
  'stunner_config_reloads_total',
  'stunner_config_last_reload_successful',
  'stunner_build_info',
  'process_cpu_seconds_total',
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_active_resources',
  'nodejs_version_info',
] as const;

const HISTOGRAMS = ['stunner_allocation_duration_seconds', 'nodejs_gc_duration_seconds'] as const;

/** Series names a scrape of stunnerd can contain; histograms appear as their _bucket, _sum and _count series. */
export const CONTRACT_SERIES: ReadonlySet<string> = new Set([
  ...COUNTERS_AND_GAUGES,
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
]);

/** Series that Prometheus itself adds to every scrape target. */
export const SCRAPE_SERIES: ReadonlySet<string> = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
