/** An OpenTelemetry SDK with in-memory exporters, and lookups over what it recorded. */
import type { SpanContext } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface Telemetry {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  propagator: CompositePropagator;
  spans(): ReadableSpan[];
  /** Exports the metrics now and returns them by name. */
  metrics(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function createTelemetry(): Telemetry {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exported on demand (forceFlush), never by the timer during a test.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    spans: () => spanExporter.getFinishedSpans(),
    async metrics() {
      metricExporter.reset();
      await meterProvider.forceFlush();
      const byName = new Map<string, MetricData>();
      for (const resource of metricExporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The sum of `valueOf` over a metric's points per entrypoint, only points whose attributes include `where`. */
function perEntrypoint<T extends MetricData>(
  metric: MetricData | undefined,
  type: DataPointType,
  where: Record<string, unknown>,
  valueOf: (point: T['dataPoints'][number]) => number,
): Record<string, number> {
  const result: Record<string, number> = {};
  if (metric === undefined) return result;
  if (metric.dataPointType !== type) throw new Error(`${metric.descriptor.name} is not of type ${DataPointType[type]}`);
  for (const point of (metric as T).dataPoints) {
    if (!Object.entries(where).every(([key, value]) => point.attributes[key] === value)) continue;
    const entrypoint = String(point.attributes['messaging.destination.name']);
    result[entrypoint] = (result[entrypoint] ?? 0) + valueOf(point);
  }
  return result;
}

/** A counter's value per entrypoint, only points whose attributes include `where`. */
export function counts(metric: MetricData | undefined, where: Record<string, unknown> = {}): Record<string, number> {
  return perEntrypoint<SumMetricData>(metric, DataPointType.SUM, where, (point) => point.value);
}

/** A histogram's number of recordings per entrypoint, only points whose attributes include `where`. */
export function histogramCounts(metric: MetricData | undefined, where: Record<string, unknown> = {}): Record<string, number> {
  return perEntrypoint<HistogramMetricData>(metric, DataPointType.HISTOGRAM, where, (point) => point.value.count);
}

export function sameSpan(a: SpanContext | undefined, b: SpanContext): boolean {
  return a !== undefined && a.traceId === b.traceId && a.spanId === b.spanId;
}
