/**
 * One target's canary round in the canary Lambda, wired from the deployed config: the SMTP
 * session, the port probes, the authentication of the from domain (DNS answers kept for the life
 * of the container), which rounds send the canary message (the round trip) and which only check
 * the login, then the health state, the round-trip check and the alerts, raised into the outbox
 * and published to the alert topic.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createDnsLookup } from '#adapters/dns-client.ts';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import type { AlertPublisher } from '#adapters/sns-alert-topic.ts';
import type { SecretReader } from '#adapters/secrets.ts';
import { cachedLookup } from '#core/auth/cache.ts';
import { isLocalTarget, senderAuthentication } from '#core/auth/round.ts';
import type { Config, TargetConfig } from '#core/config.ts';
import type { Status } from '#core/findings.ts';
import { canaryRecordOf } from '#core/health/canary.ts';
import { checkUndelivered, recordRound } from '#core/health/record.ts';
import type { AlertOutbox, Clock, MetricsSink, RandomSource, Store } from '#core/ports.ts';
import { runCanaryRound } from '#core/probe/round.ts';
import { isRoundTripRound, rateMs } from '#core/round-trip.ts';
import { roundContext, targetNamed } from './canary.ts';
import { observeAlerts, observeRound } from './observe.ts';
import { publishAll } from './publish.ts';

/** What one target's round did. */
export interface CanaryOutcome {
  readonly target: string;
  readonly canaryId: string;
  readonly status: Status;
  /** Whether the round sent the canary message (the round trip) or only checked the login. */
  readonly roundTrip: boolean;
  readonly alerts: number;
}

/** What the rounds are run with (built once per cold start by the handler). */
export interface CanaryRoundDeps {
  readonly store: () => Store;
  readonly outbox: () => AlertOutbox;
  readonly topic: AlertPublisher;
  readonly secrets: () => SecretReader;
  readonly logger: Logger;
  readonly sink: MetricsSink;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** `ROUND_INTERVAL_SECONDS`: the gap between two scheduled rounds (a cron schedule has no rate to read). */
  readonly intervalSeconds?: string;
}

/**
 * The round of a target named by the schedule, for its scheduled time (undefined: a round
 * started by hand, which sends the canary).
 * @example const checkTarget = canaryRounds(config, deps); await checkTarget('shop', new Date(input.scheduledTime));
 */
export function canaryRounds(config: Config, deps: CanaryRoundDeps): (name: string, scheduledAt: Date | undefined) => Promise<CanaryOutcome> {
  const roundDeps = { openSession: createSmtpSession(), probePort: createPortProber(), clock: deps.clock, random: deps.random };
  // Kept for the life of the container: a warm canary asks DNS again only when an answer expired (an hour at least).
  const dnsLookup = cachedLookup(createDnsLookup(config.dnsServers ? { servers: config.dnsServers } : {}), { clock: deps.clock });
  /** The from domain's authentication, the latest delivered canary's verdicts and its sending server (core/auth/round.ts). */
  const authentication = (target: TargetConfig) =>
    isLocalTarget(target) && !config.dnsServers
      ? Promise.resolve(null)
      : senderAuthentication(target, { lookup: dnsLookup, store: deps.store(), clock: deps.clock, ...(config.dnsbl ? { dnsbl: config.dnsbl } : {}) });
  const roundTripMs = rateMs(config.roundTripSchedule) ?? 0;
  const intervalMs = deps.intervalSeconds !== undefined ? Number(deps.intervalSeconds) * 1000 : (rateMs(config.schedule) ?? roundTripMs);

  return async (name, scheduledAt) => {
    const target = targetNamed(config, name);
    const roundTrip = scheduledAt === undefined || isRoundTripRound(target.name, scheduledAt, { intervalMs, roundTripMs });
    const ctx = await roundContext(target, config, deps.secrets);
    // Port 25 never answers from Lambda: only the round trip probes, or every round would wait for it.
    const result = await runCanaryRound(roundTrip ? target : { ...target, probePorts: [] }, { ...ctx, loginOnly: !roundTrip }, { ...roundDeps, authentication });
    const health = { store: deps.store(), clock: deps.clock, random: deps.random };
    observeRound(result, { logger: deps.logger, sink: deps.sink, language: config.language, roundTrip });
    const sent = canaryRecordOf(result, { bounceDomain: config.bounceDomain });
    if (sent) await health.store.putCanary(sent);
    const events = [
      ...(await recordRound(result, { ...health, config: config.alerts })),
      ...(await checkUndelivered([target.name], config.deliveryTimeoutMinutes, health)),
    ];
    observeAlerts(events, { logger: deps.logger, language: config.language });
    await publishAll(deps.topic, events, deps.logger, deps.outbox());
    return { target: target.name, canaryId: result.canaryId, status: result.status, roundTrip, alerts: events.length };
  };
}
