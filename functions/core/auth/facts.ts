/**
 * The facts the authentication checks keep: on a round's result (RoundAuthentication) and in the
 * store between rounds (SenderAuthMemo). Plain data, so the results and the store's port can
 * name them without importing the checks.
 */
import type { Status } from '../findings.ts';
import type { DeliveryVerdicts } from './canary.ts';
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

/** What the store keeps of a target between rounds (Store.getSenderAuth). */
export interface SenderAuthMemo {
  /** The latest delivered canary's verdicts; null until one arrived. */
  readonly delivery: DeliveryRecord | null;
  /** The last check of the sending server, and when it ran; null until one ran. */
  readonly sendingIp: { readonly checkedAt: string; readonly report: IpReport } | null;
}
