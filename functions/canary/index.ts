/**
 * The canary Lambda: the rounds of the targets a schedule names (side by side), each with the
 * authentication of its from domain, the latest delivered canary and its sending server, then
 * for each its health state, the round-trip check and the alerts, which go to the alert topic
 * (the alert Lambda delivers them). A round sends the canary message only when its scheduled
 * time is the target's round trip (config `roundTripSchedule`); the others check the login and
 * send nothing, and leave the port probes to the round trip too: from Lambda port 25 never
 * answers, so its probe would make every round wait `timeouts.probeMs`, for a finding that does
 * not change.
 */
import { createDnsLookup } from '#adapters/dns-client.ts';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import { createSnsAlertTopic } from '#adapters/sns-alert-topic.ts';
import { cachedLookup } from '#core/auth/cache.ts';
import { isLocalTarget, senderAuthentication } from '#core/auth/round.ts';
import type { TargetConfig } from '#core/config.ts';
import { canaryRecordOf } from '#core/health/canary.ts';
import { checkUndelivered, recordRound } from '#core/health/record.ts';
import type { Status } from '#core/findings.ts';
import { runCanaryRound } from '#core/probe/round.ts';
import { isRoundTripRound, rateMs } from '#core/round-trip.ts';
import { roundContext, targetNamed } from '../lambda/canary.ts';
import { optionalEnv, readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { parseEvent, schedulerInputSchema } from '../lambda/events.ts';
import { metricsSink } from '../lambda/metrics.ts';
import { observeAlerts, observeRound } from '../lambda/observe.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { publishAll } from '../lambda/publish.ts';
import { secretReader } from '../lambda/secrets.ts';
import { tableStore } from '../lambda/store.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

const config = readDeployedConfig();
const store = tableStore(requiredEnv('TABLE_NAME'), config.retention);
const topic = createSnsAlertTopic({ topicArn: requiredEnv('ALERT_TOPIC_ARN') });
const roundDeps = { openSession: createSmtpSession(), probePort: createPortProber(), clock: systemClock, random: systemRandom };
// Kept for the life of the container: a warm canary asks DNS again only when an answer expired (an hour at least).
const dnsLookup = cachedLookup(createDnsLookup(config.dnsServers ? { servers: config.dnsServers } : {}), { clock: systemClock });
/** The from domain's authentication, the latest delivered canary's verdicts and its sending server (core/auth/round.ts). */
const authentication = (target: TargetConfig) =>
  isLocalTarget(target) && !config.dnsServers
    ? Promise.resolve(null)
    : senderAuthentication(target, { lookup: dnsLookup, store: store(), clock: systemClock, ...(config.dnsbl ? { dnsbl: config.dnsbl } : {}) });
const roundTripMs = rateMs(config.roundTripSchedule) ?? 0;
// The gap between two scheduled rounds: the stack sets it (a cron schedule has no rate to read).
const intervalSeconds = optionalEnv('ROUND_INTERVAL_SECONDS');
const intervalMs = intervalSeconds !== undefined ? Number(intervalSeconds) * 1000 : (rateMs(config.schedule) ?? roundTripMs);

/** What one target's round did. */
export interface CanaryOutcome {
  readonly target: string;
  readonly canaryId: string;
  readonly status: Status;
  /** Whether the round sent the canary message (the round trip) or only checked the login. */
  readonly roundTrip: boolean;
  readonly alerts: number;
}

/** What one invocation did (async invocations drop it; handy in a console test run). */
export interface CanaryInvocation {
  readonly rounds: readonly CanaryOutcome[];
}

/**
 * Entry point: the scheduler's input `{"targets":[…],"scheduledTime":"…"}`, or `{"target":"<name>"}`
 * for a round started by hand. One target failing (a missing secret) does not stop the others;
 * the invocation then fails with its error, so the errors alarm sees it.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<CanaryInvocation> {
  useContext(context);
  const input = parseEvent(schedulerInputSchema, event, 'canary schedule input');
  const names = input.targets ?? [input.target!];
  const scheduledAt = input.scheduledTime !== undefined ? new Date(input.scheduledTime) : undefined;
  try {
    const settled = await Promise.allSettled(names.map((name) => checkTarget(name, scheduledAt)));
    const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ target: names[i]!, error: s.reason as unknown }] : []));
    for (const f of failures) logger.error('round failed', { target: f.target, error: f.error instanceof Error ? f.error.message : String(f.error) });
    if (failures.length > 0) throw failures[0]!.error;
    return { rounds: settled.map((s) => (s as PromiseFulfilledResult<CanaryOutcome>).value) };
  } finally {
    metricsSink.flush();
  }
}

async function checkTarget(name: string, scheduledAt: Date | undefined): Promise<CanaryOutcome> {
  const target = targetNamed(config, name);
  const roundTrip = scheduledAt === undefined || isRoundTripRound(target.name, scheduledAt, { intervalMs, roundTripMs });
  const ctx = await roundContext(target, config, secretReader);
  const result = await runCanaryRound(roundTrip ? target : { ...target, probePorts: [] }, { ...ctx, loginOnly: !roundTrip }, { ...roundDeps, authentication });
  const deps = { store: store(), clock: roundDeps.clock, random: roundDeps.random };
  observeRound(result, { logger, sink: metricsSink, language: config.language, roundTrip });
  const sent = canaryRecordOf(result, { bounceDomain: config.bounceDomain });
  if (sent) await deps.store.putCanary(sent);
  const events = [
    ...(await recordRound(result, { ...deps, config: config.alerts })),
    ...(await checkUndelivered([target.name], config.deliveryTimeoutMinutes, deps)),
  ];
  observeAlerts(events, { logger, language: config.language });
  await publishAll(topic, events, logger);
  return { target: target.name, canaryId: result.canaryId, status: result.status, roundTrip, alerts: events.length };
}
