/**
 * The MetricsSink of the Lambdas: CloudWatch Embedded Metric Format through Powertools Metrics.
 * Points are buffered and written at `flush()`, one EMF line per dimension set: EMF applies a
 * line's dimensions to every metric on it, and our metrics do not share one set (`Bounces` has
 * no `Target`, `StepLatency` adds `Step`).
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricsSink } from '#core/ports.ts';

type Unit = Parameters<MetricsSink['add']>[2];

interface Point {
  readonly name: string;
  readonly value: number;
  readonly unit: Unit;
}

/** A MetricsSink that also writes what it holds. */
export interface EmfMetricsSink extends MetricsSink {
  /** Writes the buffered points (one EMF line per dimension set) and empties the buffer. */
  flush(): void;
}

/**
 * Wraps the function's one Powertools Metrics instance (namespace and `service` dimension from
 * POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME).
 * @example
 * const sink = createEmfMetricsSink(new Metrics());
 * sink.add('CanarySuccess', 1, 'Count', { Target: 'shop' });
 * sink.flush();
 */
export function createEmfMetricsSink(metrics: Metrics): EmfMetricsSink {
  const groups = new Map<string, { dimensions: [string, string][]; points: Point[] }>();
  return {
    add(name, value, unit, dimensions = {}) {
      if (!Number.isFinite(value)) return;
      const entries = Object.entries(dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const key = JSON.stringify(entries);
      let group = groups.get(key);
      if (!group) {
        group = { dimensions: entries, points: [] };
        groups.set(key, group);
      }
      group.points.push({ name, value, unit });
    },
    flush() {
      for (const { dimensions, points } of groups.values()) {
        for (const [k, v] of dimensions) metrics.addDimension(k, v);
        for (const p of points) metrics.addMetric(p.name, p.unit, p.value);
        // Writes one line and clears the metrics and dimensions for the next set.
        metrics.publishStoredMetrics();
      }
      groups.clear();
    },
  };
}
