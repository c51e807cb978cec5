/**
 * What the Lambdas write about their work: the structured log lines the dashboard's Logs
 * Insights widgets read, and the metric points (lib/mail-health-stack.ts "Metrics").
 *
 * Metric cost is per distinct metric, so a round emits few: `CanarySuccess`, `StepLatency`
 * once for the whole SMTP session (`Step=session`), `TlsCertDaysLeft`, and `Findings` only
 * for warning and critical findings (an info finding such as PORT25_BLOCKED, which every
 * Lambda round has, would be one more metric that never changes). The per-step timings go
 * into the round's log line instead (`stepMs.<step>`), where they cost only log bytes.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AlertEvent } from '#core/alert/event.ts';
import type { Finding, Language, SmtpStep } from '#core/findings.ts';
import type { MetricsSink } from '#core/ports.ts';
import type { BouncedRecipient, StepResult, TargetResult } from '#core/results.ts';

/** The `Step` dimension value of the one StepLatency metric per target. */
export const SESSION_STEP = 'session';

/** The log message of the one line per canary round (the latency chart filters on it). */
export const ROUND_LOG_MESSAGE = 'canary round';

/** The timings of a session: the total and the total per step (EHLO twice, RCPT per recipient). */
export function stepTimings(steps: readonly StepResult[]): { sessionMs: number; stepMs: Partial<Record<SmtpStep, number>> } {
  const stepMs: Partial<Record<SmtpStep, number>> = {};
  let sessionMs = 0;
  for (const s of steps) {
    stepMs[s.step] = (stepMs[s.step] ?? 0) + s.ms;
    sessionMs += s.ms;
  }
  return { sessionMs, stepMs };
}

/** Whether the provider accepted the round's message (DATA answered 250). */
export function mailAccepted(result: Pick<TargetResult, 'steps'>): boolean {
  return result.steps.some((s) => s.step === 'data' && s.ok);
}

/**
 * One log line for a finding, with the fields the dashboard's findings table reads:
 * `finding.code`, `finding.severity`, `target` and the message in the config's language.
 */
export function logFinding(logger: Logger, finding: Finding, context: { readonly target: string | null; readonly language: Language; readonly canaryId?: string | null }): void {
  const fields = {
    target: context.target,
    ...(context.canaryId ? { canaryId: context.canaryId } : {}),
    finding: {
      code: finding.code,
      severity: finding.severity,
      ...(finding.step !== undefined ? { step: finding.step } : {}),
      ...(finding.recipient !== undefined ? { recipient: finding.recipient } : {}),
      ...(finding.reply !== undefined ? { reply: finding.reply } : {}),
    },
  };
  if (finding.severity === 'info') logger.info(finding.message[context.language], fields);
  else logger.warn(finding.message[context.language], fields);
}

/**
 * Logs a canary round (one summary line with the per-step timings, one line per finding) and
 * adds its metric points.
 * @example observeRound(result, { logger, sink: metricsSink, language: config.language });
 */
export function observeRound(result: TargetResult, deps: { readonly logger: Logger; readonly sink: MetricsSink; readonly language: Language }): void {
  const { logger, sink } = deps;
  const target = result.name;
  const { sessionMs, stepMs } = stepTimings(result.steps);
  const accepted = mailAccepted(result);
  logger.info(ROUND_LOG_MESSAGE, {
    target,
    status: result.status,
    canaryId: result.canaryId,
    accepted,
    sessionMs,
    stepMs,
    ports: result.ports,
    ...(result.tls ? { tls: result.tls } : {}),
    findings: result.findings.map((f) => f.code),
  });
  for (const f of result.findings) logFinding(logger, f, { target, language: deps.language, canaryId: result.canaryId });

  sink.add('CanarySuccess', accepted ? 1 : 0, 'Count', { Target: target });
  if (result.steps.length > 0) sink.add('StepLatency', sessionMs, 'Milliseconds', { Target: target, Step: SESSION_STEP });
  const days = result.tls?.certDaysLeft;
  if (days !== undefined && days !== null) sink.add('TlsCertDaysLeft', days, 'None', { Target: target });
  for (const f of result.findings) if (f.severity !== 'info') sink.add('Findings', 1, 'Count', { Target: target, Code: f.code });
}

/**
 * Logs the alerts a handler raised. The round trip's CANARY_NOT_DELIVERED findings exist only
 * in their alert, so they also get their finding line and `Findings` point here.
 */
export function observeAlerts(events: readonly AlertEvent[], deps: { readonly logger: Logger; readonly sink: MetricsSink; readonly language: Language }): void {
  for (const e of events) {
    deps.logger.info('alert raised', { kind: e.kind, key: e.key, target: e.target, status: e.status, incidentId: e.incidentId });
    if (e.kind !== 'undelivered') continue;
    for (const f of e.findings) {
      logFinding(deps.logger, f, { target: e.target, language: deps.language, canaryId: e.canaryId });
      deps.sink.add('Findings', 1, 'Count', { Target: e.target, Code: f.code });
    }
  }
}

/** One `Bounces` point per bounced recipient, by reason only (reasons × targets would multiply metrics). */
export function countBounces(recipients: readonly BouncedRecipient[], sink: MetricsSink): void {
  for (const r of recipients) sink.add('Bounces', 1, 'Count', { Reason: r.reason });
}
