/**
 * The canary Lambda: one canary round for the target the schedule names (with the
 * authentication of its from domain, the latest delivered canary and its sending server), then
 * its health state, the round-trip check and the alerts, which go to the alert topic (the alert Lambda
 * delivers them).
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
import { roundContext, targetNamed } from '../lambda/canary.ts';
import { readDeployedConfig, requiredEnv } from '../lambda/env.ts';
import { parseEvent, schedulerInputSchema } from '../lambda/events.ts';
import { metricsSink } from '../lambda/metrics.ts';
import { observeAlerts, observeRound } from '../lambda/observe.ts';
import { logger, useContext, type LambdaContext } from '../lambda/powertools.ts';
import { publishAll } from '../lambda/publish.ts';
import { secretReader } from '../lambda/secrets.ts';
import { tableStore } from '../lambda/store.ts';
import { systemClock, systemRandom } from '#adapters/clock.ts';

const config = readDeployedConfig();
const store = tableStore(requiredEnv('TABLE_NAME'));
const topic = createSnsAlertTopic({ topicArn: requiredEnv('ALERT_TOPIC_ARN') });
const roundDeps = { openSession: createSmtpSession(), probePort: createPortProber(), clock: systemClock, random: systemRandom };
// Kept for the life of the container: a warm canary asks DNS again only when an answer expired (an hour at least).
const dnsLookup = cachedLookup(createDnsLookup(config.dnsServers ? { servers: config.dnsServers } : {}), { clock: systemClock });
/** The from domain's authentication, the latest delivered canary's verdicts and its sending server (core/auth/round.ts). */
const authentication = (target: TargetConfig) =>
  isLocalTarget(target) && !config.dnsServers
    ? Promise.resolve(null)
    : senderAuthentication(target, { lookup: dnsLookup, store: store(), clock: systemClock, ...(config.dnsbl ? { dnsbl: config.dnsbl } : {}) });

/** What one invocation did (async invocations drop it; handy in a console test run). */
export interface CanaryOutcome {
  readonly target: string;
  readonly canaryId: string;
  readonly status: Status;
  readonly alerts: number;
}

/** Entry point: the scheduler's input `{"target":"<name>"}`. */
export async function handler(event: unknown, context?: LambdaContext): Promise<CanaryOutcome> {
  useContext(context);
  const { target: name } = parseEvent(schedulerInputSchema, event, 'canary schedule input');
  const target = targetNamed(config, name);
  const ctx = await roundContext(target, config, secretReader);
  const result = await runCanaryRound(target, ctx, { ...roundDeps, authentication });
  const deps = { store: store(), clock: roundDeps.clock, random: roundDeps.random };
  try {
    observeRound(result, { logger, sink: metricsSink, language: config.language });
    const sent = canaryRecordOf(result, { bounceDomain: config.bounceDomain });
    if (sent) await deps.store.putCanary(sent);
    const events = [
      ...(await recordRound(result, { ...deps, config: config.alerts })),
      ...(await checkUndelivered([target.name], config.deliveryTimeoutMinutes, deps)),
    ];
    observeAlerts(events, { logger, sink: metricsSink, language: config.language });
    await publishAll(topic, events, logger);
    return { target: target.name, canaryId: result.canaryId, status: result.status, alerts: events.length };
  } finally {
    metricsSink.flush();
  }
}
