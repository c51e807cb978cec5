/**
 * The authentication health of the local runtime: what SES inbound and the bounce Lambda do in
 * AWS, on this machine. A delivered canary is verified as the bounce domain's server would
 * (mailauth, with the IP and HELO of its Received header and the target's `from` as the sender
 * whose SPF counts) and its verdicts are kept; every round checks the `from` domain, those
 * verdicts and the sending server (core/auth/round.ts). DNS goes through one cached lookup, so a
 * round asks again only when an answer's TTL (at least an hour) ran out.
 */
import { createMailauthVerifier } from '#adapters/mailauth.ts';
import { cachedLookup } from '#core/auth/cache.ts';
import { headerBlockOf, sendingHopOf } from '#core/auth/received.ts';
import { recordDelivery, senderAuthentication } from '#core/auth/round.ts';
export { isLocalTarget } from '#core/auth/round.ts';
import type { Config, TargetConfig } from '#core/config.ts';
import type { Clock, DnsLookup, Store } from '#core/ports.ts';
import type { CanaryRoundDeps } from '#core/probe/round.ts';

/** What the local authentication check is built from. */
export interface LocalAuthOptions {
  readonly config: Config;
  /** DNS: the configured resolvers, the demo's embedded server, a test's. Cached here. */
  readonly lookup: DnsLookup;
  readonly store: Store;
  readonly clock: Clock;
  /** Check the sending server even at an internal address (the demo on 127.0.0.1). */
  readonly checkInternalAddresses?: boolean;
  /** Told when a delivered canary could not be verified (it is then simply not counted). */
  readonly onError?: (message: string) => void;
}

/** The two hooks the runtime plugs in. */
export interface LocalAuthentication {
  /** For the intake: verifies a delivered canary and keeps its verdicts. Never rejects. */
  authenticate(raw: Uint8Array, delivered: { readonly canaryId: string; readonly target: string; readonly at: string }): Promise<void>;
  /** For the round (CanaryRoundDeps.authentication). */
  readonly roundCheck: NonNullable<CanaryRoundDeps['authentication']>;
}

/**
 * Creates the local authentication check.
 * @example
 * const auth = createLocalAuthentication({ config, lookup: createDnsLookup(), store, clock });
 * const intake = createBounceIntake({ …, authenticate: auth.authenticate });
 */
export function createLocalAuthentication(options: LocalAuthOptions): LocalAuthentication {
  const { config, store, clock } = options;
  const lookup = cachedLookup(options.lookup, { clock });
  const verify = createMailauthVerifier({ lookup, mta: config.bounceDomain });
  const targets = new Map<string, TargetConfig>(config.targets.map((t) => [t.name, t]));
  return {
    async authenticate(raw, delivered) {
      const target = targets.get(delivered.target);
      if (!target) return;
      try {
        const hop = sendingHopOf(headerBlockOf(raw));
        const verdicts = await verify(raw, { ip: hop?.ip ?? null, helo: hop?.helo ?? null, sender: target.from });
        await recordDelivery(target.name, { canaryId: delivered.canaryId, at: delivered.at, verdicts }, { store });
      } catch (err) {
        options.onError?.(`the authentication of canary ${delivered.canaryId} could not be verified: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    roundCheck: (target) =>
      senderAuthentication(target, {
        lookup,
        store,
        clock,
        ...(config.dnsbl ? { dnsbl: config.dnsbl } : {}),
        ...(options.checkInternalAddresses ? { checkInternalAddresses: true } : {}),
      }),
  };
}
