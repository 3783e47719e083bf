// Component type names of the OpenTelemetry Collector contrib distribution (otelcol-contrib, v0.104 and later),
// by kind. A config naming a type outside these lists would not start: "unknown type".
// Not the full distribution: the components a gateway's telemetry pipeline plausibly uses. Add a name here when a
// config needs it, after checking it exists in the contrib distribution's components list.

export const OTELCOL_CONTRIB_COMPONENTS = {
  receivers: new Set(['otlp', 'prometheus', 'prometheus_simple', 'hostmetrics', 'kubeletstats', 'k8s_cluster',
    'k8sobjects', 'k8s_events', 'filelog', 'journald', 'jaeger', 'zipkin', 'statsd', 'syslog', 'udplog', 'tcplog',
    'httpcheck', 'docker_stats', 'receiver_creator', 'otlpjsonfile', 'fluentforward', 'kafka', 'influxdb', 'carbon',
    'redis', 'postgresql', 'sqlquery', 'nop']),
  processors: new Set(['batch', 'memory_limiter', 'attributes', 'resource', 'resourcedetection', 'k8sattributes',
    'filter', 'transform', 'metricstransform', 'cumulativetodelta', 'deltatocumulative', 'deltatorate',
    'groupbyattrs', 'groupbytrace', 'probabilistic_sampler', 'tail_sampling', 'redaction', 'span', 'interval',
    'metricsgeneration', 'schema', 'logdedup']),
  exporters: new Set(['otlp', 'otlphttp', 'debug', 'nop', 'prometheus', 'prometheusremotewrite', 'file', 'kafka',
    'loadbalancing', 'elasticsearch', 'zipkin', 'influxdb', 'clickhouse', 'splunk_hec', 'awsemf', 'googlecloud',
    'googlemanagedprometheus', 'datadog', 'carbon']),
  extensions: new Set(['health_check', 'pprof', 'zpages', 'basicauth', 'bearertokenauth', 'headers_setter',
    'oauth2client', 'oidc', 'file_storage', 'k8s_observer', 'docker_observer', 'host_observer', 'sigv4auth']),
  connectors: new Set(['forward', 'count', 'spanmetrics', 'servicegraph', 'routing', 'exceptions', 'failover',
    'roundrobin', 'sum']),
} as const;

export const PIPELINE_SIGNALS = new Set(['traces', 'metrics', 'logs']);
