/**
 * The suppression list: the addresses a shop should stop mailing or fix, from the recorded
 * bounces (`mailhealth suppressions`, docs/REFERENCE.md "Commands"). Pure: records in, list out.
 *
 * An address is listed when
 * - it bounced hard: the address itself is bad (an invalid address: no such user, no such
 *   domain, moved, refuses all mail; or any bounce the classifier marked hard), or
 * - its mailbox was full on two days at least a day apart: one full mailbox clears up, one
 *   that stays full is abandoned.
 */
import { alertGroupOf } from '../bounce/alert-groups.ts';
import type { BounceRecord } from '../health/records.ts';
import type { BounceReason } from '../results.ts';

/** A full mailbox counts only once it was seen this far apart (first to last). */
export const FULL_MAILBOX_MIN_SPAN_HOURS = 24;

/** One address of the list (the `suppressions --json` contract). */
export interface SuppressionEntry {
  /** Lower case. */
  readonly address: string;
  /** The reason of its latest qualifying bounce (Sisimai's vocabulary). */
  readonly reason: BounceReason;
  /** Qualifying bounces recorded for it. */
  readonly count: number;
  /** ISO times of the first and the last of them. */
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** The targets whose mail bounced (none for mail that matched no target). */
  readonly targets: readonly string[];
}

/** Whether a bounce says the address itself is bad. */
export function isHardBounce(record: BounceRecord): boolean {
  const reason = record.recipient.reason;
  if (alertGroupOf(reason) === 'invalid-address') return true;
  return record.recipient.hard && reason !== 'mailboxfull';
}

function entryOf(address: string, records: readonly BounceRecord[]): SuppressionEntry {
  const sorted = [...records].sort((a, b) => a.at.localeCompare(b.at));
  const last = sorted[sorted.length - 1]!;
  const targets = [...new Set(sorted.map((r) => r.target).filter((t): t is string => t !== null))].sort();
  return { address, reason: last.recipient.reason, count: sorted.length, firstSeen: sorted[0]!.at, lastSeen: last.at, targets };
}

/**
 * Builds the list from bounce records (each once; `since`: only addresses whose last
 * qualifying bounce is at or after that ISO time). Newest first, then by address.
 * @example suppressionList(await readAllBounces('.mailhealth'), { since: '2026-03-01T00:00:00.000Z' })
 */
export function suppressionList(records: readonly BounceRecord[], options: { readonly since?: string } = {}): SuppressionEntry[] {
  const byAddress = new Map<string, BounceRecord[]>();
  for (const r of records) {
    const address = r.recipient.recipient.toLowerCase();
    const list = byAddress.get(address);
    if (list) list.push(r);
    else byAddress.set(address, [r]);
  }
  const out: SuppressionEntry[] = [];
  for (const [address, list] of byAddress) {
    const hard = list.filter(isHardBounce);
    if (hard.length > 0) {
      out.push(entryOf(address, hard));
      continue;
    }
    const full = list.filter((r) => r.recipient.reason === 'mailboxfull');
    if (full.length < 2) continue;
    const times = full.map((r) => Date.parse(r.at));
    if (Math.max(...times) - Math.min(...times) >= FULL_MAILBOX_MIN_SPAN_HOURS * 3600_000) out.push(entryOf(address, full));
  }
  const since = options.since;
  return out
    .filter((e) => since === undefined || e.lastSeen >= since)
    .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen) || a.address.localeCompare(b.address));
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The list as CSV for a mailing tool: `address,reason,count,first_seen,last_seen,targets`
 * (several targets separated by `;`), CRLF line ends as RFC 4180 has them.
 * @example suppressionCsv(suppressionList(records))
 */
export function suppressionCsv(entries: readonly SuppressionEntry[]): string {
  const lines = ['address,reason,count,first_seen,last_seen,targets'];
  for (const e of entries) lines.push([e.address, e.reason, String(e.count), e.firstSeen, e.lastSeen, e.targets.join(';')].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
