/**
 * mailauth (postalsys/mailauth 4.x) behind two small functions: verifying a delivered canary as
 * its receiving server would (DKIM signatures, SPF for the connecting IP, DMARC with alignment)
 * and DKIM-signing a message (the demo provider). Every DNS question goes through the DnsLookup
 * port, so tests and the demo answer from their own DNS server. Only the DKIM, SPF and DMARC
 * parts of mailauth are loaded (not ARC, BIMI or its certificate checks).
 */
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dmarc } from 'mailauth/lib/dmarc/index.js';
import { spf } from 'mailauth/lib/spf/index.js';
import { relaxedAligned, type AuthResult, type DeliveryVerdicts } from '#core/auth/canary.ts';
import type { DnsLookup, DnsRecordType } from '#core/ports.ts';

/** The SMTP facts of the delivering connection, and whose mail the message is. */
export interface VerifyConnection {
  /** The connecting client's IP; null when unknown (SPF is then not evaluated). */
  readonly ip: string | null;
  readonly helo: string | null;
  /** The address SPF is evaluated for (see README: the target's `from`, as the shop's own mail uses it). */
  readonly sender: string;
}

/** Verifies a received message; never rejects for what the message contains. */
export type MessageVerifier = (raw: Uint8Array, connection: VerifyConnection) => Promise<DeliveryVerdicts>;

/** mailauth asks DNS the way node:dns answers; this speaks that through the DnsLookup port. */
export function nodeStyleResolver(lookup: DnsLookup): (name: string, rrtype: string) => Promise<unknown> {
  const known = new Set<DnsRecordType>(['TXT', 'MX', 'A', 'AAAA', 'PTR']);
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase() as DnsRecordType;
    if (!known.has(type)) throw Object.assign(new Error(`${rrtype} lookups are not supported here`), { code: 'ENODATA' });
    const answer = await lookup(name, type);
    return answer.records.map((r) => (Array.isArray(r) ? [...r] : r));
  };
}

const RESULTS = new Set<AuthResult>(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror', 'policy']);

function result(value: unknown): AuthResult {
  const v = String(value ?? 'none').toLowerCase();
  return RESULTS.has(v as AuthResult) ? (v as AuthResult) : v === 'temperr' ? 'temperror' : 'none';
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Creates the verifier.
 * @example
 * const verify = createMailauthVerifier({ lookup, mta: 'bounces.example.jp' });
 * const verdicts = await verify(raw, { ip: '192.0.2.25', helo: 'smtp.example.jp', sender: 'shop@example.jp' });
 */
export function createMailauthVerifier(options: { readonly lookup: DnsLookup; readonly mta?: string }): MessageVerifier {
  const resolver = nodeStyleResolver(options.lookup);
  const mta = options.mta ?? 'mail-health';
  return async (raw, connection) => {
    const message = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const dkimResult = await dkimVerify(message, { resolver: resolver as never, sender: connection.sender });
    const fromDomain = (dkimResult.headerFrom?.[0] ?? domainOf(connection.sender)).toLowerCase().replace(/^.*@/, '');
    const helo = connection.helo ?? (connection.ip ? `[${connection.ip}]` : null);
    const spfResult = connection.ip ? await spf({ ip: connection.ip, helo: helo ?? undefined, sender: connection.sender, mta, resolver: resolver as never }) : null;
    const spfDomain = spfResult ? String(spfResult.domain ?? domainOf(connection.sender)).toLowerCase() : domainOf(connection.sender);
    const spfVerdict = spfResult ? result(spfResult.status?.result) : 'temperror';
    const signatures = (dkimResult.results ?? []).filter((r) => r.signingDomain);
    const dmarcResult = await dmarc({
      headerFrom: dkimResult.headerFrom ?? fromDomain,
      spfDomains: spfVerdict === 'pass' ? [spfDomain] : [],
      dkimDomains: signatures
        .filter((r) => r.status.result === 'pass')
        .map((r) => ({ id: r.id, domain: r.signingDomain, aligned: r.status.aligned, underSized: r.status.underSized })),
      resolver: resolver as never,
    } as never);
    return {
      source: 'local',
      fromDomain,
      ip: connection.ip,
      helo: connection.helo,
      spf: { result: spfVerdict, domain: spfDomain, aligned: relaxedAligned(spfDomain, fromDomain) },
      dkim: signatures.map((r) => ({
        domain: String(r.signingDomain).toLowerCase(),
        selector: r.selector ?? null,
        result: result(r.status.result),
        aligned: Boolean(r.status.aligned),
      })),
      dmarc: dmarcResult
        ? { result: result(dmarcResult.status?.result), policy: dmarcResult.policy ? String(dmarcResult.policy).toLowerCase() : null }
        : { result: 'none', policy: null },
    };
  };
}

/** A DKIM key to sign with. */
export interface DkimSigningKey {
  readonly domain: string;
  readonly selector: string;
  readonly privateKeyPem: string;
}

/**
 * Returns the message with a DKIM-Signature header (relaxed/relaxed, rsa-sha256) in front.
 * @example const signed = await signDkim(raw, { domain: 'example.jp', selector: 'mail2025', privateKeyPem });
 */
export async function signDkim(raw: Buffer, key: DkimSigningKey, signTime?: Date): Promise<Buffer> {
  // The signer reads the keys from signatureData only (its typings ask for top-level ones).
  const options = {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
    ...(signTime ? { signTime } : {}),
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKeyPem }],
  };
  const signed = await dkimSign(raw, options as unknown as Parameters<typeof dkimSign>[1]);
  if (signed.errors.length > 0) throw new Error(`DKIM signing failed: ${String((signed.errors[0] as Error)?.message ?? signed.errors[0])}`);
  return Buffer.concat([Buffer.from(signed.signatures, 'latin1'), raw]);
}
