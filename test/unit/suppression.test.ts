import { describe, expect, it } from 'vitest';
import { bounceFinding } from '#core/bounce/findings.ts';
import type { BounceRecord } from '#core/health/records.ts';
import type { BounceReason } from '#core/results.ts';
import { suppressionCsv, suppressionList } from '#core/suppression/list.ts';
import { bounced } from '../helpers/alert-fixtures.ts';

const HOUR = 3600_000;
const T = Date.parse('2026-03-01T00:00:00Z');
const iso = (hours: number) => new Date(T + hours * HOUR).toISOString();

function record(address: string, reason: BounceReason, hours: number, options: { target?: string | null; hard?: boolean } = {}): BounceRecord {
  const recipient = bounced({ recipient: address, reason, canaryId: null, hard: options.hard ?? ['userunknown', 'hostunknown'].includes(reason) });
  return { at: iso(hours), key: `bounce#unmatched:${address}:${hours}#${address}`, target: options.target ?? null, canaryId: null, recipient, finding: bounceFinding(recipient) };
}

describe('suppressionList', () => {
  it('lists hard bounces at once, and full mailboxes only when they stay full for a day', () => {
    // Prepare
    const records = [
      record('Taro@Example.com', 'userunknown', 0, { target: 'shop' }),
      record('taro@example.com', 'userunknown', 5, { target: 'clinic' }),
      record('nobody@gone.example', 'hostunknown', 1),
      record('full@example.jp', 'mailboxfull', 0),
      record('full@example.jp', 'mailboxfull', 30),
      record('briefly@example.jp', 'mailboxfull', 0),
      record('briefly@example.jp', 'mailboxfull', 3),
      record('once@example.jp', 'mailboxfull', 40),
      record('slow@example.jp', 'expired', 2),
    ];

    // Act
    const list = suppressionList(records);

    // Assess
    expect(list).toEqual([
      { address: 'full@example.jp', reason: 'mailboxfull', count: 2, firstSeen: iso(0), lastSeen: iso(30), targets: [] },
      { address: 'taro@example.com', reason: 'userunknown', count: 2, firstSeen: iso(0), lastSeen: iso(5), targets: ['clinic', 'shop'] },
      { address: 'nobody@gone.example', reason: 'hostunknown', count: 1, firstSeen: iso(1), lastSeen: iso(1), targets: [] },
    ]);
  });

  it('takes a hard bounce over full mailboxes of the same address, and keeps only what bounced since a time', () => {
    const records = [record('a@example.jp', 'mailboxfull', 0), record('a@example.jp', 'userunknown', 50), record('b@example.jp', 'userunknown', 10)];
    expect(suppressionList(records).map((e) => [e.address, e.reason, e.count])).toEqual([
      ['a@example.jp', 'userunknown', 1],
      ['b@example.jp', 'userunknown', 1],
    ]);
    expect(suppressionList(records, { since: iso(20) }).map((e) => e.address)).toEqual(['a@example.jp']);
  });

  it('writes CSV with the header of docs/REFERENCE.md, quoting what needs it', () => {
    const csv = suppressionCsv(suppressionList([record('"first last"@example.jp', 'userunknown', 0, { target: 'shop' }), record('x@example.jp', 'userunknown', 1)]));
    expect(csv.split('\r\n')).toEqual([
      'address,reason,count,first_seen,last_seen,targets',
      `x@example.jp,userunknown,1,${iso(1)},${iso(1)},`,
      `"""first last""@example.jp",userunknown,1,${iso(0)},${iso(0)},shop`,
      '',
    ]);
  });
});
