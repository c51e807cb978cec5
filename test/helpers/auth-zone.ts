/**
 * A zone with one domain or address per authentication finding, for the embedded DNS server
 * (functions/local/dns-server.ts). The DKIM keys are generated when the zone is made, never
 * committed. Names are under `.test` (RFC 2606): nothing here exists outside the test.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Zone, ZoneRecord } from '#local/dns-server.ts';

/** A generated RSA key pair: the PEM private key and the base64 DER public key DKIM publishes. */
export interface DkimKeyPair {
  readonly privateKeyPem: string;
  readonly publicKeyBase64: string;
}

/** Generates an RSA key for DKIM. */
export function dkimKeyPair(bits: number): DkimKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** The DKIM record of a key. */
export function dkimRecord(key: DkimKeyPair | string): ZoneRecord {
  return { type: 'TXT', data: `v=DKIM1; k=rsa; p=${typeof key === 'string' ? key : key.publicKeyBase64}` };
}

/** The addresses of the zone's sending-IP cases. */
export const IPS = {
  clean: '192.0.2.25',
  noPtr: '192.0.2.66',
  mismatch: '192.0.2.77',
  listed: '192.0.2.99',
  cleanV6: '2001:db8::25',
} as const;

/** The blocklist zones of the test: one that lists, one that refuses like Spamhaus through a public resolver. */
export const DNSBL = { lists: 'bl.dnsbl.test', refuses: 'zen.refusing.test' } as const;

const spf = (data: string): ZoneRecord => ({ type: 'TXT', data });
const mx = (exchange: string, priority = 10): ZoneRecord => ({ type: 'MX', data: { exchange, priority } });

/** An SPF chain of `n` includes, each with one `a` term: 2n + 1 lookups in all. */
function includeChain(prefix: string, n: number): Record<string, ZoneRecord[]> {
  const out: Record<string, ZoneRecord[]> = {};
  for (let i = 0; i < n; i++) {
    const next = i + 1 < n ? ` include:${prefix}${i + 1}.provider.test` : '';
    out[`${prefix}${i}.provider.test`] = [spf(`v=spf1 a:relay${i}.provider.test${next} -all`)];
  }
  return out;
}

/** The zone and the keys behind it. */
export interface AuthWorld {
  readonly zone: Zone;
  readonly keys: { readonly strong: DkimKeyPair; readonly k1024: DkimKeyPair; readonly k512: DkimKeyPair };
}

/**
 * Builds the zone:
 * - `clean.test`: SPF through an include ending in -all, DMARC p=reject, a 2048-bit DKIM key at
 *   `s2048` (its record longer than 255 bytes, so split), MX: nothing above info.
 * - one domain per SPF/DMARC/MX finding, selectors for every DKIM finding on `keys.test`,
 * - addresses for PTR_MISSING, PTR_MISMATCH, DNSBL_LISTED and a clean one (v4 and v6).
 */
export function authWorld(): AuthWorld {
  const strong = dkimKeyPair(2048);
  const k1024 = dkimKeyPair(1024);
  const k512 = dkimKeyPair(512);
  const zone: Record<string, ZoneRecord[]> = {
    'clean.test': [spf('v=spf1 include:_spf.provider.test -all'), mx('mx.clean.test')],
    '_spf.provider.test': [spf(`v=spf1 ip4:${IPS.clean} ip6:2001:db8::/64 -all`)],
    '_dmarc.clean.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject; rua=mailto:dmarc@clean.test' }],
    's2048._domainkey.clean.test': [dkimRecord(strong)],
    'mx.clean.test': [{ type: 'A', data: '192.0.2.10' }],
    // SPF_MISSING, DMARC_MISSING, MX_MISSING: a domain with a web server only.
    'bare.test': [{ type: 'A', data: '192.0.2.80' }],
    'multiple.test': [spf('v=spf1 include:_spf.provider.test -all'), spf('v=spf1 ip4:192.0.2.1 -all'), mx('mx.clean.test')],
    'syntax.test': [spf('v=spf1 ip4:192.0.2.300 -all'), mx('mx.clean.test')],
    'broken-include.test': [spf('v=spf1 include:_spf.gone.test -all'), mx('mx.clean.test')],
    'toomany.test': [spf('v=spf1 include:chain0.provider.test mx -all'), mx('mx.clean.test')],
    ...includeChain('chain', 5),
    'allowall.test': [spf('v=spf1 +all'), mx('mx.clean.test')],
    'soft.test': [spf(`v=spf1 ip4:${IPS.clean} ~all`), mx('mx.clean.test')],
    '_dmarc.soft.test': [{ type: 'TXT', data: 'v=DMARC1; p=quarantine' }],
    'dmarc-syntax.test': [spf(`v=spf1 ip4:${IPS.clean} -all`), mx('mx.clean.test')],
    '_dmarc.dmarc-syntax.test': [{ type: 'TXT', data: 'v=DMARC1; p=rejet; rua=mailto:dmarc@dmarc-syntax.test' }],
    'dmarc-none.test': [spf(`v=spf1 ip4:${IPS.clean} -all`), mx('mx.clean.test')],
    '_dmarc.dmarc-none.test': [{ type: 'TXT', data: 'v=DMARC1; p=none; rua=mailto:dmarc@dmarc-none.test' }],
    'nullmx.test': [spf('v=spf1 -all'), mx('.', 0)],
    '_dmarc.nullmx.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
    // A shop whose SPF names another server than the one its mail leaves from: the canary
    // from IPS.clean fails SPF, is unsigned, so DMARC (p=reject) fails too.
    'spf-broken.test': [spf('v=spf1 ip4:198.51.100.7 -all'), mx('mx.clean.test')],
    '_dmarc.spf-broken.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
    'keys.test': [spf(`v=spf1 ip4:${IPS.clean} -all`), mx('mx.clean.test')],
    '_dmarc.keys.test': [{ type: 'TXT', data: 'v=DMARC1; p=reject' }],
    's1024._domainkey.keys.test': [dkimRecord(k1024)],
    's512._domainkey.keys.test': [dkimRecord(k512)],
    'old._domainkey.keys.test': [{ type: 'TXT', data: 'v=DKIM1; k=rsa; p=' }],
    // A CNAME to the provider's key, as hosted DKIM is usually published.
    'hosted._domainkey.keys.test': [{ type: 'CNAME', data: 'key1.dkim.provider.test' }],
    'key1.dkim.provider.test': [dkimRecord(strong)],
    // Sending addresses.
    '25.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'mail.clean.test' }],
    'mail.clean.test': [{ type: 'A', data: IPS.clean }, { type: 'AAAA', data: IPS.cleanV6 }],
    '5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': [{ type: 'PTR', data: 'mail.clean.test' }],
    '77.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'dynamic-77.isp.test' }],
    'dynamic-77.isp.test': [{ type: 'A', data: '192.0.2.177' }],
    '99.2.0.192.in-addr.arpa': [{ type: 'PTR', data: 'mail.listed.test' }],
    'mail.listed.test': [{ type: 'A', data: IPS.listed }],
    [`99.2.0.192.${DNSBL.lists}`]: [
      { type: 'A', data: '127.0.0.2' },
      { type: 'TXT', data: `Listed for sending spam; see https://${DNSBL.lists}/lookup?ip=${IPS.listed}` },
    ],
    // The list's own test entry exists, so the zone is there and other addresses are NXDOMAIN.
    [`2.0.0.127.${DNSBL.lists}`]: [{ type: 'A', data: '127.0.0.2' }],
    [`*.${DNSBL.refuses}`]: [{ type: 'A', data: '127.255.255.254' }],
  };
  return { zone, keys: { strong, k1024, k512 } };
}
