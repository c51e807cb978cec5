/**
 * The authentication part of a canary round: the `from` domain's published records, the latest
 * delivered canary's verdicts and the sending server's reputation, as findings that join the
 * round's (so they raise incidents like any other finding) and as facts kept on the result
 * (the report and the dashboard show them).
 */
import type { TargetConfig } from '../config.ts';
import type { Finding } from '../findings.ts';
import type { Clock, Store } from '../ports.ts';
import type { DnsLookup } from '../resolver.ts';
import { deliveryFindings } from './canary.ts';
import { checkDomain, type DomainReport } from './domain.ts';
import { expandIPv6, isIPv4 } from './ip-text.ts';
import { checkSendingIp, type IpReport } from './ip.ts';
import type { DeliveryRecord, RoundAuthentication, SenderAuthMemo } from './facts.ts';

/**
 * Combines the three checks into the round's findings (domain, then delivery, then sending
 * server) and facts. A domain check that DNS could not answer contributes its certain findings
 * only; nothing is invented for what was not checked.
 * @example
 * const { findings, facts } = roundAuthentication({ domain: await checkDomain(d, opts, { lookup }), delivery, ip: null });
 */
export function roundAuthentication(input: { readonly domain: DomainReport; readonly delivery: DeliveryRecord | null; readonly ip: IpReport | null }): { findings: Finding[]; facts: RoundAuthentication } {
  const { domain, delivery, ip } = input;
  const findings = [...domain.findings, ...(delivery ? deliveryFindings(delivery.verdicts) : []), ...(ip ? ip.findings : [])];
  const dkim: Record<string, number | 'revoked' | 'missing' | null> = {};
  for (const [selector, key] of Object.entries(domain.records.dkim ?? {})) {
    dkim[selector] = key.record === null ? 'missing' : key.revoked ? 'revoked' : (key.bits ?? null);
  }
  const spfRecord = domain.records.spf.records;
  return {
    findings,
    facts: {
      domain: domain.domain,
      domainStatus: domain.status,
      published: {
        spf: spfRecord.length === 0 ? null : (domain.records.spf.ending ?? 'no all'),
        spfLookups: domain.records.spf.lookups,
        dmarcPolicy: domain.records.dmarc.policy,
        dkim,
      },
      delivery,
      sendingIp: ip
        ? {
            ip: ip.ip,
            status: ip.status,
            ptr: ip.records.ptr.names,
            listedOn: ip.records.dnsbl.filter((l) => l.listed === true).map((l) => l.zone),
          }
        : null,
    },
  };
}

/** How long a sending-server check (PTR, blocklists) holds: "at most once an hour". */
export const SENDING_IP_CHECK_SECONDS = 3600;

/**
 * Keeps a delivered canary's verdicts as the target's latest, unless a newer canary's are kept
 * already (ids sort by time: a late arrival of an older canary changes nothing).
 * @example await recordDelivery('shop', { canaryId, at, verdicts }, { store });
 */
export async function recordDelivery(target: string, record: DeliveryRecord, deps: { readonly store: Store }): Promise<boolean> {
  const kept = (await deps.store.getSenderAuth(target)).delivery;
  if (kept && kept.canaryId > record.canaryId) return false;
  await deps.store.putSenderAuth(target, { delivery: record });
  return true;
}

/**
 * Addresses no blocklist or reverse zone speaks for (RFC 1918, loopback, link-local, unique
 * local): a Received header naming one shows a hop inside a network, not a sender on the Internet.
 */
export function isInternalAddress(ip: string): boolean {
  if (isIPv4(ip)) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a === 0;
  }
  const full = expandIPv6(ip);
  if (full === null) return false;
  const first = parseInt(full.slice(0, 4), 16);
  return full === '0000:0000:0000:0000:0000:0000:0000:0001' || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/** What the per-round check needs. */
export interface SenderAuthDeps {
  /** DNS, usually through `cachedLookup` so a round asks again only when an answer expired. */
  readonly lookup: DnsLookup;
  readonly store: Store;
  readonly clock: Clock;
  /** Blocklist zones for the sending server. @default DEFAULT_DNSBL_ZONES */
  readonly dnsbl?: readonly string[];
  /** Check a sending server even at an internal address (the demo world on 127.0.0.1). */
  readonly checkInternalAddresses?: boolean;
}

/**
 * The authentication part of one target's round: the `from` domain's records (with the
 * target's DKIM selectors), the latest delivered canary's verdicts, and its sending server,
 * checked again only when the last check is older than an hour or the address changed (a check
 * DNS could not complete is not kept, so the next round tries again).
 * @example
 * const auth = await senderAuthentication(target, { lookup: cachedLookup(createDnsLookup(), { clock }), store, clock });
 * auth.findings.map((f) => f.code) // ['CANARY_SPF_FAIL']
 */
export async function senderAuthentication(target: TargetConfig, deps: SenderAuthDeps): Promise<{ findings: Finding[]; facts: RoundAuthentication }> {
  const domainName = target.from.slice(target.from.lastIndexOf('@') + 1);
  const [domain, memo] = await Promise.all([checkDomain(domainName, { selectors: target.dkimSelectors ?? [] }, { lookup: deps.lookup }), deps.store.getSenderAuth(target.name)]);
  const ip = memo.delivery?.verdicts.ip ?? null;
  let report: IpReport | null = null;
  if (ip !== null && (deps.checkInternalAddresses || !isInternalAddress(ip))) {
    const last = memo.sendingIp;
    const fresh = last !== null && last.report.ip === ip && deps.clock().getTime() - Date.parse(last.checkedAt) < SENDING_IP_CHECK_SECONDS * 1000;
    if (fresh) report = last.report;
    else {
      report = await checkSendingIp(ip, deps.dnsbl ? { dnsbl: deps.dnsbl } : {}, { lookup: deps.lookup });
      if (report.troubles.length === 0) await deps.store.putSenderAuth(target.name, { sendingIp: { checkedAt: deps.clock().toISOString(), report } });
    }
  }
  return roundAuthentication({ domain, delivery: memo.delivery, ip: report });
}

/**
 * A target whose host is this machine (127.0.0.1, ::1, localhost): a test or a local relay.
 * Without configured resolvers (`dnsServers`) its `from` domain is not checked against public DNS.
 */
export function isLocalTarget(target: TargetConfig): boolean {
  const host = target.host.toLowerCase().replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
