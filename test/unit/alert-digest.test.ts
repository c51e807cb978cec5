import { describe, expect, it } from 'vitest';
import { closeWindow, digestAlert, groupBounce, MAX_TRACKED_DOMAINS, tallyOfRecords, type DigestWindow } from '#core/alert/digest.ts';
import type { BounceAlert } from '#core/alert/event.ts';
import { bounceFinding } from '#core/bounce/findings.ts';
import type { BounceReason } from '#core/results.ts';
import { at, bounced, canaryAt, T0 } from '../helpers/alert-fixtures.ts';

const WINDOW = 10;
const SEE = { command: 'mailhealth suppressions --state .mailhealth', report: '.mailhealth/report.html' };

/** A bounce alert of the shop's own mail (no canary) at minute `m`. */
function bounce(address: string, reason: BounceReason, m: number, options: { canary?: boolean } = {}): BounceAlert {
  const recipient = bounced({ recipient: address, reason, canaryId: options.canary ? canaryAt(0) : null, status: reason === 'mailboxfull' ? '5.2.2' : '5.1.1' });
  const finding = bounceFinding(recipient)!;
  return {
    kind: 'bounce',
    key: `bounce#unmatched:${address}#${address}`,
    incidentId: 'I',
    target: 'shop',
    at: at(m),
    startedAt: at(m),
    status: finding.severity === 'critical' ? 'critical' : 'warning',
    findings: [finding],
    canaryId: recipient.canaryId,
    bounce: recipient,
  };
}

const now = (m: number) => new Date(T0 + m * 60_000);

/** Feeds bounces through groupBounce as a store would, returning the decisions and the window. */
function feed(list: readonly BounceAlert[], start: DigestWindow | null = null, minute = 0) {
  let window = start;
  const decisions: string[] = [];
  for (const b of list) {
    const g = groupBounce(window, b, { now: now(minute), windowMinutes: WINDOW });
    window = g.window;
    decisions.push(g.decision.kind);
  }
  return { decisions, window: window! };
}

describe('groupBounce', () => {
  it('alerts the first bounce of each kind at once and counts the rest of that kind', () => {
    // Act
    const { decisions, window } = feed([
      bounce('a@one.example', 'userunknown', 0),
      bounce('b@one.example', 'userunknown', 0),
      bounce('c@two.example', 'mailboxfull', 0),
      bounce('d@two.example', 'hostunknown', 0),
      bounce('e@two.example', 'mailboxfull', 0),
    ]);

    // Assess: userunknown and hostunknown are one kind (an invalid address).
    expect(decisions).toEqual(['alert', 'digest', 'alert', 'digest', 'digest']);
    expect(window.alerted).toEqual(['BOUNCE_INVALID_ADDRESS', 'BOUNCE_MAILBOX_FULL']);
    expect(window.tally).toMatchObject({ total: 3, customer: 3, canary: 0, byReason: { userunknown: 1, hostunknown: 1, mailboxfull: 1 }, sample: ['b@one.example', 'd@two.example', 'e@two.example'] });
    expect(window.closesAt).toBe(at(WINDOW));
  });

  it('alerts every bounce when grouping is off (0 minutes)', () => {
    const decisions = [bounce('a@x.example', 'userunknown', 0), bounce('b@x.example', 'userunknown', 0)].map((b) => groupBounce(null, b, { now: now(0), windowMinutes: 0 }).decision.kind);
    expect(decisions).toEqual(['alert', 'alert']);
  });

  it('hands a window that ran out unsent back as closed, and keeps counting the storm in the next one', () => {
    // Prepare: a window with one counted bounce, its digest never sent.
    const { window } = feed([bounce('a@x.example', 'userunknown', 0), bounce('b@x.example', 'userunknown', 0)]);

    // Act: a bounce of the same kind at minute 12.
    const g = groupBounce(window, bounce('c@x.example', 'userunknown', 12), { now: now(12), windowMinutes: WINDOW });

    // Assess
    expect(g.closed?.tally.total).toBe(1);
    expect(g.decision).toEqual({ kind: 'digest', sendAt: at(22) });
    expect(g.window).toMatchObject({ openedAt: at(12), digests: 1, alerted: ['BOUNCE_INVALID_ADDRESS'], tally: { total: 1, sample: ['c@x.example'] } });
  });
});

describe('closeWindow', () => {
  it('gives nothing before the window closes, then the digest and a next window for the storm', () => {
    const { window } = feed([bounce('a@x.example', 'userunknown', 0), bounce('b@x.example', 'userunknown', 0)]);
    expect(closeWindow(window, { now: now(9), windowMinutes: WINDOW })).toBeNull();
    const closed = closeWindow(window, { now: now(10), windowMinutes: WINDOW });
    expect(closed?.digest?.tally.total).toBe(1);
    expect(closed?.next).toMatchObject({ openedAt: at(10), closesAt: at(20), alerted: ['BOUNCE_INVALID_ADDRESS'], tally: { total: 0 } });
  });

  it('ends the storm with a quiet window, after which the next bounce alerts at once again', () => {
    // Prepare: the storm's next window, which counted nothing.
    const { window } = feed([bounce('a@x.example', 'userunknown', 0), bounce('b@x.example', 'userunknown', 0)]);
    const next = closeWindow(window, { now: now(10), windowMinutes: WINDOW })!.next!;

    // Act
    const ended = closeWindow(next, { now: now(20), windowMinutes: WINDOW });
    const after = groupBounce(ended!.next, bounce('c@x.example', 'userunknown', 21), { now: now(21), windowMinutes: WINDOW });

    // Assess
    expect(ended).toEqual({ digest: null, next: null });
    expect(after.decision.kind).toBe('alert');
  });

  it('sends what was counted so far when forced (the shell stops), not an empty window', () => {
    const { window } = feed([bounce('a@x.example', 'userunknown', 0), bounce('b@x.example', 'userunknown', 0)]);
    expect(closeWindow(window, { now: now(3), windowMinutes: WINDOW, force: true })?.digest?.tally.total).toBe(1);
    const empty = feed([bounce('a@x.example', 'userunknown', 0)]).window;
    expect(closeWindow(empty, { now: now(3), windowMinutes: WINDOW, force: true })).toEqual({ digest: null, next: empty });
  });
});

describe('digestAlert', () => {
  it('counts by reason, names the busiest domains and the first addresses, and says where the rest is', () => {
    // Prepare: the first bounce alerts; 12 more across 7 domains, two of them canaries.
    const addresses = ['a@d1.example', 'b@d1.example', 'c@d1.example', 'd@d2.example', 'e@d2.example', 'f@d3.example', 'g@d4.example', 'h@d5.example', 'i@d6.example', 'j@d7.example'];
    const list = [
      bounce('first@d1.example', 'userunknown', 0),
      ...addresses.map((a) => bounce(a, 'userunknown', 1)),
      bounce('k@d1.example', 'mailboxfull', 2),
      bounce('l@d1.example', 'mailboxfull', 2),
      bounce('m@d2.example', 'hostunknown', 3, { canary: true }),
      bounce('n@d2.example', 'userunknown', 3, { canary: true }),
    ];
    const { window } = feed(list);

    // Act
    const event = digestAlert(window, { at: at(10), incidentId: 'INC', seeAlso: SEE });

    // Assess
    expect(event).toMatchObject({
      kind: 'digest',
      key: `digest#shop#${at(0)}`,
      target: 'shop',
      status: 'critical',
      windowStart: at(0),
      windowEnd: at(10),
      total: 13,
      canary: 2,
      customer: 11,
      byReason: [
        { reason: 'userunknown', count: 11 },
        { reason: 'hostunknown', count: 1 },
        { reason: 'mailboxfull', count: 1 },
      ],
      topDomains: [
        { domain: 'd1.example', count: 4 },
        { domain: 'd2.example', count: 4 },
        { domain: 'd3.example', count: 1 },
        { domain: 'd4.example', count: 1 },
        { domain: 'd5.example', count: 1 },
      ],
      otherDomains: 2,
      sample: ['a@d1.example', 'b@d1.example', 'c@d1.example', 'd@d2.example', 'e@d2.example'],
      alertedAtOnce: ['BOUNCE_INVALID_ADDRESS', 'BOUNCE_MAILBOX_FULL'],
      seeAlso: SEE,
    });
  });

  it('sums up the domains beyond the ones it tracks', () => {
    const list = [bounce('first@x.example', 'userunknown', 0), ...Array.from({ length: MAX_TRACKED_DOMAINS + 30 }, (_, i) => bounce(`u@d${i}.example`, 'userunknown', 1))];
    const event = digestAlert(feed(list).window, { at: at(10), incidentId: 'INC', seeAlso: SEE });
    expect(event.total).toBe(MAX_TRACKED_DOMAINS + 30);
    expect(event.topDomains).toHaveLength(5);
    expect(event.otherDomains).toBe(MAX_TRACKED_DOMAINS + 30 - 5);
  });
});

describe('tallyOfRecords (the tally from the history, for many writers at once)', () => {
  /** A bounce as the history records it. */
  const record = (b: BounceAlert) => ({ at: b.startedAt, key: b.key, canaryId: b.canaryId, recipient: b.bounce, finding: b.findings[0]! });

  it('counts what arrived in the window, not the bounce that alerted at once, and carries on from where the window ended', () => {
    // Prepare: the first bounce opens a window (history mode: the window keeps no count of its own).
    const first = bounce('a@one.example', 'userunknown', 1);
    const opened = groupBounce(null, first, { now: now(1), windowMinutes: WINDOW, tallyFromHistory: true });
    const counted = groupBounce(opened.window, bounce('b@one.example', 'userunknown', 2), { now: now(2), windowMinutes: WINDOW, tallyFromHistory: true });
    const history = [
      bounce('late@one.example', 'userunknown', -3), // arrived before the first, processed after it
      first,
      bounce('b@one.example', 'userunknown', 2),
      bounce('c@two.example', 'hostunknown', 9),
      bounce('next@two.example', 'userunknown', 12), // the next window's
    ].map(record);
    const vacation = { ...record(bounce('away@one.example', 'userunknown', 3)), finding: null };

    // Act
    const tally = tallyOfRecords(opened.window, [...history, vacation].reverse());
    const closed = closeWindow({ ...opened.window, tally }, { now: now(12), windowMinutes: WINDOW });

    // Assess
    expect(opened.decision.kind).toBe('alert');
    expect(opened.window.alertedKeys).toEqual([first.key]);
    expect(counted.decision.kind).toBe('digest');
    expect(tally).toMatchObject({ total: 3, sample: ['late@one.example', 'b@one.example', 'c@two.example'], byReason: { userunknown: 2, hostunknown: 1 } });
    expect(closed?.next).toMatchObject({ countFrom: at(1 + WINDOW), alertedKeys: [], alerted: ['BOUNCE_INVALID_ADDRESS'] });
    expect(tallyOfRecords(closed!.next!, history).total).toBe(1);
  });
});
