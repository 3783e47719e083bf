// The OTLP/HTTP metric exporter (http/protobuf or http/json) that sends histogram exemplars: the SDK's own exporter
// base and HTTP delegate (retries, timeouts, compression, concurrency limit, temporality preference all as theirs),
// with a serializer that adds the exemplars the transformer leaves out (otlp-exemplars.ts).
import { OTLPMetricExporterBase, type OTLPMetricExporterOptions } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  convertLegacyHttpOptions, createOtlpHttpExportDelegate, type OTLPExporterNodeConfigBase,
} from '@opentelemetry/otlp-exporter-base/node-http';
import { MetricsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { JSON_EXEMPLAR_SERIALIZER, PROTOBUF_EXEMPLAR_SERIALIZER } from './otlp-exemplars.ts';

export type ExemplarExporterConfig = OTLPExporterNodeConfigBase & OTLPMetricExporterOptions;

/** The semantic-conventions component type the SDK's own OTLP/HTTP metric exporters report. */
const COMPONENT_TYPE = 'otlp_http_metric_exporter';

export class ExemplarMetricExporter extends OTLPMetricExporterBase {
  constructor(protocol: 'http/protobuf' | 'http/json', config: ExemplarExporterConfig) {
    const json = protocol === 'http/json';
    const options = convertLegacyHttpOptions(config, 'METRICS', 'v1/metrics',
      { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
    super(createOtlpHttpExportDelegate(options, json ? JSON_EXEMPLAR_SERIALIZER : PROTOBUF_EXEMPLAR_SERIALIZER,
      COMPONENT_TYPE, MetricsExporterMetricsHelper, undefined), config);
  }
}
