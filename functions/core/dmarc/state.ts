/**
 * What the monitor remembers of a domain's reports, and what changed when a new report comes:
 * the senders seen (known: their mail passed DMARC aligned on some day; the others), which
 * known senders are failing since when, and whether TLS sessions to the domain fail. A report
 * changes something only when a sender of the domain's own mail starts or stops failing, new
 * unknown senders appear, or TLS failures start or stop; every other report only updates the
 * memory. Reports come late and out of order (each receiver sends its own, a day or two after):
 * a report about an older day than what the memory already knows never reopens what a newer
 * day closed. Pure.
 */
import type { Finding } from '../findings.ts';
import type { ParsedReport, PublishedPolicy } from './model.ts';
import { reportDay } from './model.ts';
import { summarizeReports, unknownSourcesFinding, type DomainSummary, type SenderSummary, type SourceLine } from './summary.ts';

/** What is remembered of one sender key (sources.ts `senderOf`). */
export interface SenderMemo {
  /** How the sender was called when last seen. */
  readonly label: string;
  readonly known: boolean;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** The latest day its mail passed / failed DMARC (`YYYY-MM-DD`). */
  readonly lastPass: string | null;
  readonly lastFail: string | null;
  /** A known sender failing: the day it started (an alert went out). */
  readonly failingSince: string | null;
}

/** TLS sessions to the domain. */
export interface TlsMemo {
  readonly failingSince: string | null;
  readonly lastFail: string | null;
  readonly lastOk: string | null;
}

/** The memory of one domain. */
export interface DmarcDomainState {
  readonly domain: string;
  readonly senders: Readonly<Record<string, SenderMemo>>;
  readonly tls: TlsMemo;
  /** ISO time of the last report applied. */
  readonly updatedAt: string;
}

/** One change a report made (what an alert tells). */
export type DmarcChange =
  | { readonly kind: 'failing' | 'passing'; readonly domain: string; readonly day: string; readonly key: string; readonly sender: SenderSummary; readonly sources: readonly SourceLine[]; readonly finding: Finding | null }
  | { readonly kind: 'unknown'; readonly domain: string; readonly day: string; readonly senders: readonly SenderSummary[]; readonly sources: readonly SourceLine[]; readonly finding: Finding }
  | { readonly kind: 'tls-failing' | 'tls-ok'; readonly domain: string; readonly day: string; readonly sessions: number; readonly finding: Finding | null };

/** What applying a report gave. */
export interface Applied {
  readonly state: DmarcDomainState;
  readonly changes: readonly DmarcChange[];
  /** The report's summary for this domain (with what the memory knew). */
  readonly summary: DomainSummary;
  readonly policy: PublishedPolicy | null;
}

/** Unknown senders remembered per domain at most (the busiest botnets rotate addresses); known ones are always kept. */
export const MAX_UNKNOWN_SENDERS = 5000;

/** A domain that has no memory yet. */
export function emptyDomainState(domain: string, at: string): DmarcDomainState {
  return { domain, senders: {}, tls: { failingSince: null, lastFail: null, lastOk: null }, updatedAt: at };
}

/** The keys of the senders known for a domain. */
export function knownKeys(state: DmarcDomainState | null): Set<string> {
  const out = new Set<string>();
  if (state) for (const [key, memo] of Object.entries(state.senders)) if (memo.known) out.add(key);
  return out;
}

const later = (a: string | null, b: string): string => (a === null || b > a ? b : a);

/**
 * Applies one report to a domain's memory and says what changed.
 * @example
 * const { state, changes } = applyReport(current ?? emptyDomainState('example.jp', now), report, 'example.jp', { ptrOf, at: now });
 * changes.map((c) => c.kind) // ['failing']
 */
export function applyReport(state: DmarcDomainState, report: ParsedReport, domain: string, inputs: { readonly ptrOf: (ip: string) => string | null; readonly at: string }): Applied {
  const day = reportDay(report);
  const [summary] = summarizeReports([report], { ptrOf: inputs.ptrOf, knownOf: () => knownKeys(state) }).filter((s) => s.domain === domain);
  if (!summary) throw new Error(`applyReport: report ${report.reportId} is not about ${domain}`);
  const senders: Record<string, SenderMemo> = { ...state.senders };
  const changes: DmarcChange[] = [];
  const newUnknown: SenderSummary[] = [];
  const sourcesOf = (s: SenderSummary) => summary.sources.filter((l) => l.sender === s.sender);

  for (const s of summary.senders) {
    const existed = s.keys.some((k) => k in state.senders);
    for (const key of s.keys) {
      const m = senders[key];
      senders[key] = {
        label: s.sender,
        known: (m?.known ?? false) || s.passed > 0,
        firstSeen: m === undefined || day < m.firstSeen ? day : m.firstSeen,
        lastSeen: later(m?.lastSeen ?? null, day),
        lastPass: s.passed > 0 ? later(m?.lastPass ?? null, day) : (m?.lastPass ?? null),
        lastFail: s.failed > 0 ? later(m?.lastFail ?? null, day) : (m?.lastFail ?? null),
        failingSince: m?.failingSince ?? null,
      };
    }
    if (s.failed > 0 && !s.known) {
      if (!existed) newUnknown.push(s);
      continue;
    }
    // The episode lives on the sender's most telling known key.
    const key = s.keys.find((k) => senders[k]!.known);
    if (key === undefined) continue;
    const memo = senders[key]!;
    if (s.failed > 0) {
      // A newer day that passed (without failing) already says this sender is fine now.
      const passedSince = memo.lastPass !== null && memo.lastPass > day && (memo.lastFail === null || memo.lastFail <= day);
      if (memo.failingSince === null && !passedSince) {
        senders[key] = { ...memo, failingSince: day };
        changes.push({ kind: 'failing', domain, day, key, sender: s, sources: sourcesOf(s), finding: s.finding });
      }
    } else if (s.passed > 0 && memo.failingSince !== null && (memo.lastFail === null || day > memo.lastFail)) {
      senders[key] = { ...memo, failingSince: null };
      changes.push({ kind: 'passing', domain, day, key, sender: s, sources: sourcesOf(s), finding: null });
    }
  }
  if (newUnknown.length > 0) {
    const finding = unknownSourcesFinding(domain, newUnknown.map((s) => ({ label: s.sender, ips: s.ips, count: s.failed })));
    changes.push({ kind: 'unknown', domain, day, senders: newUnknown, sources: summary.sources.filter((l) => newUnknown.some((s) => s.sender === l.sender)), finding });
  }

  let tls = state.tls;
  if (summary.tls) {
    const { failed, successful } = summary.tls;
    if (failed > 0) {
      const okSince = tls.lastOk !== null && tls.lastOk > day && (tls.lastFail === null || tls.lastFail <= day);
      const starts = tls.failingSince === null && !okSince;
      tls = { ...tls, lastFail: later(tls.lastFail, day), failingSince: starts ? day : tls.failingSince };
      if (starts) changes.push({ kind: 'tls-failing', domain, day, sessions: failed, finding: summary.findings.find((f) => f.code === 'TLSRPT_FAILURE') ?? null });
    } else if (successful > 0) {
      const ends = tls.failingSince !== null && (tls.lastFail === null || day > tls.lastFail);
      tls = { ...tls, lastOk: later(tls.lastOk, day), failingSince: ends ? null : tls.failingSince };
      if (ends) changes.push({ kind: 'tls-ok', domain, day, sessions: 0, finding: null });
    }
  }

  return { state: { domain, senders: pruneUnknown(senders), tls, updatedAt: inputs.at }, changes, summary, policy: summary.policy };
}

/** Keeps every known sender and the most recently seen unknown ones. */
function pruneUnknown(senders: Record<string, SenderMemo>): Record<string, SenderMemo> {
  const unknown = Object.entries(senders).filter(([, m]) => !m.known);
  if (unknown.length <= MAX_UNKNOWN_SENDERS) return senders;
  const drop = new Set(unknown.sort(([ka, a], [kb, b]) => a.lastSeen.localeCompare(b.lastSeen) || ka.localeCompare(kb)).slice(0, unknown.length - MAX_UNKNOWN_SENDERS).map(([k]) => k));
  return Object.fromEntries(Object.entries(senders).filter(([k]) => !drop.has(k)));
}
