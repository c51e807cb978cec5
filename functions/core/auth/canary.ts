/**
 * The delivered canary's authentication: what the receiving side (the bounce domain's mail
 * server) concluded about SPF, DKIM and DMARC, and the findings a shop owner acts on. The
 * verdicts come from a local verification of the received message (mailauth, passed the
 * connecting IP, HELO and sender) or from the SES receipt event in AWS; both end up in
 * `DeliveryVerdicts`, and `deliveryFindings` decides the same way for both.
 */
import type { Config } from '../config.ts';
import type { Finding } from '../findings.ts';
import { authFinding } from './finding.ts';
import { sendingHopOf } from './received.ts';

/** The result words of RFC 8601 Authentication-Results that verifiers use. */
export type AuthResult = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy';

/** One DKIM signature as verified. */
export interface DkimVerdict {
  /** The signing domain (d=). */
  readonly domain: string;
  /** The selector (s=); null when the source does not say (SES). */
  readonly selector: string | null;
  readonly result: AuthResult;
  /** The signing domain aligns with the From domain (relaxed: same organizational domain). */
  readonly aligned: boolean;
}

/** What the receiving side concluded about one delivered canary. */
export interface DeliveryVerdicts {
  /** Where the verdicts come from: verified on this machine, or read from the SES receipt event. */
  readonly source: 'local' | 'ses';
  /** The domain of the From header: whose authentication this is. */
  readonly fromDomain: string;
  /** The server that delivered it to the bounce domain, from the Received header; null when unknown. */
  readonly ip: string | null;
  readonly helo: string | null;
  readonly spf: {
    readonly result: AuthResult;
    /** The domain SPF was checked for (the envelope sender's); null when unknown. */
    readonly domain: string | null;
    /** The SPF domain aligns with the From domain, so SPF can carry DMARC. */
    readonly aligned: boolean;
  };
  /** Every signature found; empty when the message was not signed. */
  readonly dkim: readonly DkimVerdict[];
  readonly dmarc: {
    readonly result: AuthResult;
    /** The policy of the From domain (p=, or sp= for a subdomain); null when it has none. */
    readonly policy: string | null;
  };
}

const FAILED: ReadonlySet<AuthResult> = new Set(['fail', 'softfail', 'neutral', 'none', 'permerror', 'policy']);

/**
 * The findings of a delivered canary:
 * - `CANARY_SPF_FAIL` when SPF for the From domain did not pass (a DNS hiccup, temperror, is
 *   no verdict); critical when no DKIM signature passed either: the mail is then
 *   unauthenticated, which Gmail and Yahoo refuse;
 * - `CANARY_DKIM_FAIL` when no signature passed, or none was present; critical likewise;
 * - `CANARY_DMARC_FAIL` when DMARC failed: critical under p=quarantine or p=reject (junked or
 *   refused), a warning under p=none. A domain without DMARC gets no canary finding (the
 *   domain check reports DMARC_MISSING).
 * SPF verdicts about another domain than From (the canary's VERP envelope sender at the bounce
 * domain, as SES checks it) say nothing about the shop's mail and raise nothing.
 * @example deliveryFindings(verdicts).map((f) => f.code) // ['CANARY_DMARC_FAIL', 'CANARY_SPF_FAIL']
 */
export function deliveryFindings(v: DeliveryVerdicts): Finding[] {
  const out: Finding[] = [];
  const dkimPassed = v.dkim.filter((d) => d.result === 'pass');
  const spfAboutFrom = v.spf.domain === null || v.spf.aligned;
  const spfPassed = spfAboutFrom && v.spf.result === 'pass';
  const unauthenticated = !spfPassed && dkimPassed.length === 0;

  if (v.dmarc.result === 'fail') {
    const severity = v.dmarc.policy === 'quarantine' || v.dmarc.policy === 'reject' ? 'critical' : 'warning';
    out.push(
      authFinding('CANARY_DMARC_FAIL', severity, {
        domain: v.fromDomain,
        policy: v.dmarc.policy,
        spfDomain: v.spf.domain,
        spfResult: v.spf.result,
        dkimDomains: dkimPassed.map((d) => d.domain),
      }),
    );
  }
  if (spfAboutFrom && FAILED.has(v.spf.result)) {
    out.push(authFinding('CANARY_SPF_FAIL', unauthenticated ? 'critical' : 'warning', { domain: v.fromDomain, result: v.spf.result, ip: v.ip, helo: v.helo, mailFrom: v.spf.domain }));
  }
  const dkimTemporary = v.dkim.length > 0 && v.dkim.every((d) => d.result === 'temperror');
  if (dkimPassed.length === 0 && !dkimTemporary) {
    out.push(
      authFinding('CANARY_DKIM_FAIL', unauthenticated ? 'critical' : 'warning', {
        domain: v.fromDomain,
        signatures: v.dkim.map((d) => ({ domain: d.domain, selector: d.selector, result: d.result })),
      }),
    );
  }
  return out;
}

/** The organizational part used for relaxed alignment without a public suffix list: the last two labels, three under a two-letter country's second level (example.co.jp). */
export function organizationalDomain(domain: string): string {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  const keep = labels.length >= 3 && labels.at(-1)!.length === 2 && /^(ac|co|ne|or|go|ed|gr|lg|ad|com|net|org|gov|edu)$/.test(labels.at(-2)!) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/** Relaxed alignment (RFC 7489 §3.1): the same organizational domain. */
export function relaxedAligned(a: string, b: string): boolean {
  return organizationalDomain(a) === organizationalDomain(b);
}

/** An SES receipt verdict (`receipt.spfVerdict` etc.). */
export interface SesVerdict {
  readonly status: string;
}

const SES_RESULT: Record<string, AuthResult> = { PASS: 'pass', FAIL: 'fail', GRAY: 'none', PROCESSING_FAILED: 'temperror' };

/**
 * The verdicts SES wrote into its receipt event, in the shape `deliveryFindings` reads. SES
 * checks SPF for the envelope sender, which for a canary is its VERP address at the bounce
 * domain, and gives one DKIM verdict for all signatures (GRAY: none found).
 * @example sesVerdicts({ spfVerdict: { status: 'PASS' }, dkimVerdict: { status: 'GRAY' }, dmarcVerdict: { status: 'FAIL' }, dmarcPolicy: 'reject' }, { fromDomain: 'example.jp', envelopeDomain: 'bounces.example.jp' })
 */
export function sesVerdicts(
  receipt: { readonly spfVerdict?: SesVerdict; readonly dkimVerdict?: SesVerdict; readonly dmarcVerdict?: SesVerdict; readonly dmarcPolicy?: string },
  context: { readonly fromDomain: string; readonly envelopeDomain: string | null; readonly ip?: string | null; readonly helo?: string | null },
): DeliveryVerdicts {
  const read = (v: SesVerdict | undefined): AuthResult => SES_RESULT[v?.status?.toUpperCase() ?? ''] ?? 'none';
  const dkim = read(receipt.dkimVerdict);
  const dmarc = read(receipt.dmarcVerdict);
  const policy = receipt.dmarcPolicy?.toLowerCase();
  return {
    source: 'ses',
    fromDomain: context.fromDomain,
    ip: context.ip ?? null,
    helo: context.helo ?? null,
    spf: { result: read(receipt.spfVerdict), domain: context.envelopeDomain, aligned: context.envelopeDomain !== null && relaxedAligned(context.envelopeDomain, context.fromDomain) },
    // SES names no signing domain. With SPF unaligned (the VERP envelope), DMARC passes only
    // through an aligned signature: a passing one is the From domain's exactly when DMARC passed.
    dkim: dkim === 'none' ? [] : [{ domain: dkim === 'pass' && dmarc !== 'pass' ? `(not ${context.fromDomain})` : context.fromDomain, selector: null, result: dkim, aligned: dmarc === 'pass' }],
    dmarc: { result: dmarc, policy: policy === 'none' || policy === 'quarantine' || policy === 'reject' ? policy : null },
  };
}

/** The receipt fields `sesVerdicts` reads. */
export type SesReceipt = Parameters<typeof sesVerdicts>[0];

/**
 * The verdicts of a canary of `target` that SES received, or null when the receipt carries none
 * (no verdict is not a failure) or the target is not in the config. The From domain is the
 * target's `from`; the sending server comes from the topmost Received header SES wrote.
 * @example canaryVerdicts(config, 'shop', { receipt, envelopeSender: mail.source, headers: headerBlockOf(raw) })
 */
export function canaryVerdicts(
  config: Pick<Config, 'targets'>,
  target: string,
  input: { readonly receipt: SesReceipt; readonly envelopeSender: string | null; readonly headers: string },
): DeliveryVerdicts | null {
  const t = config.targets.find((x) => x.name === target);
  const { receipt } = input;
  if (!t || (!receipt.spfVerdict && !receipt.dkimVerdict && !receipt.dmarcVerdict)) return null;
  const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  const hop = sendingHopOf(input.headers);
  return sesVerdicts(receipt, {
    fromDomain: domainOf(t.from),
    envelopeDomain: input.envelopeSender ? domainOf(input.envelopeSender) : null,
    ip: hop?.ip ?? null,
    helo: hop?.helo ?? null,
  });
}
