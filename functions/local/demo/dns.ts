/**
 * The demo world's DNS: an embedded DNS server on 127.0.0.1 (functions/local/dns-server.ts)
 * answering for the demo domains, so the authentication checks of `npm start` ask nothing
 * outside this machine, and the DKIM key the demo provider signs with (made at each start,
 * never stored).
 *
 * Two sending domains, one per account:
 * - clinic's `demo.mail-health.test` is set up as Gmail and Yahoo ask: SPF naming the
 *   provider's outgoing server (127.0.0.1 in the demo), a 2048-bit DKIM key the provider signs
 *   with, DMARC p=reject; its canaries pass SPF, DKIM and DMARC.
 * - shop's `shop.mail-health.test` moved to this provider and never updated DNS: its SPF still
 *   names only the old provider's server, the new provider does not sign for it, and DMARC is
 *   p=quarantine. The record looks fine to a glance (and to `mailhealth dns`); the delivered
 *   canary shows what receivers see: CANARY_SPF_FAIL, CANARY_DKIM_FAIL, CANARY_DMARC_FAIL.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createDnsLookup } from '#adapters/dns-client.ts';
import { signDkim } from '#adapters/mailauth.ts';
import type { DnsLookup } from '#core/ports.ts';
import { startDnsServer, type Zone } from '../dns-server.ts';
import { DEMO_BOUNCE_DOMAIN } from './provider.ts';
import { DEMO_NEWSLETTER_IP, DEMO_NEWSLETTER_PTR, DEMO_PROVIDER_IP } from './reports.ts';

/** clinic's sending domain: SPF, DKIM and DMARC in order. */
export const DEMO_SIGNED_DOMAIN = 'demo.mail-health.test';
/** shop's sending domain: its SPF names the old provider only. */
export const DEMO_BROKEN_DOMAIN = 'shop.mail-health.test';
/** The selector the demo provider signs with. */
export const DEMO_DKIM_SELECTOR = 'demo2026';
/** The blocklist zone of the demo world (it lists nobody but its own test entry). */
export const DEMO_DNSBL_ZONE = 'bl.demo.mail-health.test';
/** The old provider's outgoing server that shop's SPF still names (TEST-NET-2). */
export const DEMO_OLD_PROVIDER_IP = '198.51.100.25';

/** The demo DNS, running. */
export interface DemoDns {
  /** DNS through the embedded server only. */
  readonly lookup: DnsLookup;
  /** `host:port`, as `mailhealth dns --dns-server` takes it. */
  readonly address: string;
  /** The provider's outbound signing: signs mail whose From is at a domain it has a key for. */
  sign(raw: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

/** The From header's domain of a raw message, lower case; null when it has none. */
function fromDomainOf(raw: Buffer): string | null {
  const head = raw.subarray(0, 64 * 1024).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const m = /^from:[^\r\n]*?@([A-Za-z0-9.-]+)/im.exec(end < 0 ? head : head.slice(0, end));
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * Starts the demo DNS. `sendingIp` is the address the provider's mail leaves from (the bounce
 * listener sees 127.0.0.1).
 * @example const dns = await startDemoDns({ providerName: 'smtp.demo.mail-health.test', sendingIp: '127.0.0.1' });
 */
export async function startDemoDns(options: { readonly providerName: string; readonly sendingIp: string; readonly mxName: string }): Promise<DemoDns> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const reverse = `${options.sendingIp.split('.').reverse().join('.')}.in-addr.arpa`;
  const mx = { type: 'MX', data: { exchange: options.mxName, priority: 10 } } as const;
  const zone: Zone = {
    [DEMO_SIGNED_DOMAIN]: [{ type: 'TXT', data: `v=spf1 ip4:${options.sendingIp} -all` }, mx],
    // Both domains send their reports to the monitor, which the bounce domain authorises (RFC 7489 §7.1).
    [`_dmarc.${DEMO_SIGNED_DOMAIN}`]: [{ type: 'TXT', data: `v=DMARC1; p=reject; rua=mailto:dmarc@${DEMO_BOUNCE_DOMAIN}` }],
    [`_smtp._tls.${DEMO_SIGNED_DOMAIN}`]: [{ type: 'TXT', data: `v=TLSRPTv1; rua=mailto:tlsrpt@${DEMO_BOUNCE_DOMAIN}` }],
    [`${DEMO_SIGNED_DOMAIN}._report._dmarc.${DEMO_BOUNCE_DOMAIN}`]: [{ type: 'TXT', data: 'v=DMARC1' }],
    [`${DEMO_BROKEN_DOMAIN}._report._dmarc.${DEMO_BOUNCE_DOMAIN}`]: [{ type: 'TXT', data: 'v=DMARC1' }],
    // The senders in the receivers' reports: shop's newsletter service and the provider.
    [`${DEMO_NEWSLETTER_IP.split('.').reverse().join('.')}.in-addr.arpa`]: [{ type: 'PTR', data: DEMO_NEWSLETTER_PTR }],
    [`${DEMO_PROVIDER_IP.split('.').reverse().join('.')}.in-addr.arpa`]: [{ type: 'PTR', data: options.providerName }],
    [`${DEMO_DKIM_SELECTOR}._domainkey.${DEMO_SIGNED_DOMAIN}`]: [{ type: 'TXT', data: `v=DKIM1; k=rsa; p=${p}` }],
    [DEMO_BROKEN_DOMAIN]: [{ type: 'TXT', data: `v=spf1 ip4:${DEMO_OLD_PROVIDER_IP} -all` }, mx],
    [`_dmarc.${DEMO_BROKEN_DOMAIN}`]: [{ type: 'TXT', data: `v=DMARC1; p=quarantine; rua=mailto:dmarc@${DEMO_BOUNCE_DOMAIN}` }],
    [options.mxName]: [{ type: 'A', data: '127.0.0.1' }],
    // The provider's outgoing server: reverse DNS that resolves back (forward-confirmed).
    [reverse]: [{ type: 'PTR', data: options.providerName }],
    [options.providerName]: [{ type: 'A', data: options.sendingIp }],
    // A blocklist that exists (its RFC 5782 test entry answers) and lists nobody else.
    [`2.0.0.127.${DEMO_DNSBL_ZONE}`]: [{ type: 'A', data: '127.0.0.2' }],
  };
  const server = await startDnsServer({ zone });
  const keys: Record<string, { domain: string; selector: string; privateKeyPem: string }> = {
    [DEMO_SIGNED_DOMAIN]: { domain: DEMO_SIGNED_DOMAIN, selector: DEMO_DKIM_SELECTOR, privateKeyPem },
  };
  return {
    lookup: createDnsLookup({ servers: [server.address] }),
    address: server.address,
    async sign(raw) {
      const key = keys[fromDomainOf(raw) ?? ''];
      return key ? signDkim(raw, key) : raw;
    },
    close: () => server.close(),
  };
}
