/**
 * The one Powertools Metrics instance of a function (namespace and the `service` dimension come
 * from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME) and the MetricsSink over it.
 * No cold-start metric: it would be one more billed metric per function.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createEmfMetricsSink, type EmfMetricsSink } from '#adapters/emf-metrics.ts';

/** EMF metrics, namespace `MailHealth`, dimension `service=mail-health` on every metric. */
export const metrics: Metrics = new Metrics();

/** The MetricsSink the handlers add points to; flushed at the end of each invocation. */
export const metricsSink: EmfMetricsSink = createEmfMetricsSink(metrics);
