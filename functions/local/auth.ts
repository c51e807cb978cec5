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
  /** Which targets are checked at all (their rounds and their delivered canaries). @default all */
  readonly targets?: (target: TargetConfig) => boolean;
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

/** Bounds one verification (DKIM, SPF and DMARC lookups together). */
const VERIFY_TIMEOUT_MS = 20_000;

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
  const checked = options.targets ?? (() => true);
  const targets = new Map<string, TargetConfig>(config.targets.filter(checked).map((t) => [t.name, t]));
  return {
    async authenticate(raw, delivered) {
      const target = targets.get(delivered.target);
      if (!target) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        const hop = sendingHopOf(headerBlockOf(raw));
        // A resolver that does not answer must not hold up the intake queue for long.
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no verdict within ${VERIFY_TIMEOUT_MS / 1000} s (DNS not answering?)`)), VERIFY_TIMEOUT_MS);
        });
        const verdicts = await Promise.race([verify(raw, { ip: hop?.ip ?? null, helo: hop?.helo ?? null, sender: target.from }), timeout]);
        await recordDelivery(target.name, { canaryId: delivered.canaryId, at: delivered.at, verdicts }, { store });
      } catch (err) {
        options.onError?.(`the authentication of canary ${delivered.canaryId} could not be verified: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        clearTimeout(timer);
      }
    },
    roundCheck: (target) =>
      !checked(target)
        ? Promise.resolve(null)
        : senderAuthentication(target, {
            lookup,
            store,
            clock,
            ...(config.dnsbl ? { dnsbl: config.dnsbl } : {}),
            ...(options.checkInternalAddresses ? { checkInternalAddresses: true } : {}),
          }),
  };
}
