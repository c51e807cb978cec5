/**
 * What the Lambdas write about their work: the structured log lines the dashboard's Logs
 * Insights widgets read, and the metric points (lib/mail-health-stack.ts "Metrics").
 *
 * Every distinct metric (name and dimension values) is billed each month, so the one metric per
 * target is `CanarySuccess`: what the per-target graphs and the fleet's worst-targets query need.
 * Everything else a round measures goes into its log line (`sessionMs`, `stepMs.<step>`,
 * `tls.certDaysLeft`, the finding codes), and each finding has its own line, where they cost
 * only log bytes and the dashboard's Logs Insights widgets chart them for any number of targets.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AlertEvent } from '#core/alert/event.ts';
import type { Finding, Language, SmtpStep } from '#core/findings.ts';
import type { MetricsSink } from '#core/ports.ts';
import type { BouncedRecipient, StepResult, TargetResult } from '#core/results.ts';

/** The metrics a round adds per target (each distinct metric is billed every month). */
export const PER_TARGET_METRICS = ['CanarySuccess'] as const;

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
 * `CanarySuccess` of a round: 1 when it is a good round for the health state machine (ok or
 * warning: the provider took what the round asked, the login or the message), else 0.
 */
export function canarySuccess(result: Pick<TargetResult, 'status'>): 0 | 1 {
  return result.status === 'ok' || result.status === 'warning' ? 1 : 0;
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
 * adds its one metric point, `CanarySuccess {Target}`.
 * @param deps.roundTrip whether the round sent the canary message (false: it checked the login only)
 * @example observeRound(result, { logger, sink: metricsSink, language: config.language, roundTrip: true });
 */
export function observeRound(
  result: TargetResult,
  deps: { readonly logger: Logger; readonly sink: MetricsSink; readonly language: Language; readonly roundTrip?: boolean },
): void {
  const { logger, sink } = deps;
  const target = result.name;
  const { sessionMs, stepMs } = stepTimings(result.steps);
  logger.info(ROUND_LOG_MESSAGE, {
    target,
    status: result.status,
    canaryId: result.canaryId,
    roundTrip: deps.roundTrip ?? true,
    accepted: mailAccepted(result),
    sessionMs,
    stepMs,
    ports: result.ports,
    ...(result.tls ? { tls: result.tls } : {}),
    findings: result.findings.map((f) => f.code),
  });
  for (const f of result.findings) logFinding(logger, f, { target, language: deps.language, canaryId: result.canaryId });
  sink.add(PER_TARGET_METRICS[0], canarySuccess(result), 'Count', { Target: target });
}

/**
 * Logs the alerts a handler raised. The round trip's CANARY_NOT_DELIVERED findings exist only
 * in their alert, so they also get their finding line here.
 */
export function observeAlerts(events: readonly AlertEvent[], deps: { readonly logger: Logger; readonly language: Language }): void {
  for (const e of events) {
    deps.logger.info('alert raised', { kind: e.kind, key: e.key, target: e.target, status: e.status, incidentId: e.incidentId });
    if (e.kind !== 'undelivered') continue;
    for (const f of e.findings) logFinding(deps.logger, f, { target: e.target, language: deps.language, canaryId: e.canaryId });
  }
}

/** One `Bounces` point per bounced recipient, by reason only (reasons × targets would multiply metrics). */
export function countBounces(recipients: readonly BouncedRecipient[], sink: MetricsSink): void {
  for (const r of recipients) sink.add('Bounces', 1, 'Count', { Reason: r.reason });
}
