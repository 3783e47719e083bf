// The spans stunnerd exports and the attributes they carry, as the dashboards may query them: one SERVER span per
// answered TURN request (named after the method) and one span per ended allocation, under service.name "stunner"
// (src/telemetry/turn-tracer.ts makes them). Anything else in a TraceQL query is a span or attribute no stunnerd sends.

export const TRACE_SERVICE_NAME = 'stunner';

export const SPAN_NAMES: ReadonlySet<string> = new Set([
  'turn.Allocate',
  'turn.Refresh',
  'turn.CreatePermission',
  'turn.ChannelBind',
  'turn.Connect',
  'turn.ConnectionBind',
  'turn.Binding',
  'turn.allocation',
]);

export const SPAN_ATTRIBUTES: ReadonlySet<string> = new Set([
  'turn.listener',
  'turn.cluster',
  'network.transport',
  'client.address',
  'turn.response.code',
  'error.type',
  'turn.allocation.end_reason',
]);

/** The resource stunnerd sets (OTEL_RESOURCE_ATTRIBUTES may add more, which a shipped dashboard cannot rely on). */
export const RESOURCE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'service.name',
  'service.namespace',
  'service.version',
  'service.instance.id',
]);
