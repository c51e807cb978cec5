/**
 * The authentication part of a canary round: the `from` domain's published records, the latest
 * delivered canary's verdicts and the sending server's reputation, as findings that join the
 * round's (so they raise incidents like any other finding) and as facts kept on the result
 * (the report and the dashboard show them).
 */
import type { Finding, Status } from '../findings.ts';
import { deliveryFindings, type DeliveryVerdicts } from './canary.ts';
import type { DomainReport } from './domain.ts';
import type { IpReport } from './ip.ts';

/** The latest delivered canary's verdicts, with which canary and when. */
export interface DeliveryRecord {
  readonly canaryId: string;
  /** ISO time the canary arrived. */
  readonly at: string;
  readonly verdicts: DeliveryVerdicts;
}

/** What a round knew about its sender's authentication (kept on TargetResult). */
export interface RoundAuthentication {
  /** The domain of the target's `from`. */
  readonly domain: string;
  /** The domain check's status (unknown when DNS did not answer). */
  readonly domainStatus: Status;
  /** SPF ending, DMARC policy and DKIM key sizes as published, for the report. */
  readonly published: {
    readonly spf: string | null;
    readonly spfLookups: number;
    readonly dmarcPolicy: string | null;
    readonly dkim: Readonly<Record<string, number | 'revoked' | 'missing' | null>>;
  };
  /** The latest delivered canary's verdicts; null until one arrived. */
  readonly delivery: DeliveryRecord | null;
  /** The sending server as the latest delivered canary showed it; null until one did. */
  readonly sendingIp: { readonly ip: string; readonly status: Status; readonly ptr: readonly string[]; readonly listedOn: readonly string[] } | null;
}

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
