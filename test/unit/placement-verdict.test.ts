import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config.ts';
import { placementFindings, receiverFailures, seedLoginFinding } from '#core/placement/findings.ts';
import { placementOfTarget } from '#core/placement/round.ts';
import { advanceSeed, initialSeedState } from '#core/placement/seed-health.ts';
import { decidePlacement, placementRecordsOf, type FoundCopy, type PlacementRecord } from '#core/placement/verdict.ts';

const SENT = '2026-01-05T08:00:00.000Z';
const pending: PlacementRecord = {
  canaryId: '01KDZ1V2Y4M8N9P0Q1R2S3T4V5',
  target: 'shop',
  seed: 'gmail',
  address: 'shop.seed@gmail.com',
  sentAt: SENT,
  verdict: 'pending',
  folder: null,
  arrivedAt: null,
  seconds: null,
  checkedAt: null,
};
const at = (minutes: number) => new Date(Date.parse(SENT) + minutes * 60_000);
const copy = (role: FoundCopy['role'], folder: string, arrivedAt: string | null, extra: Partial<FoundCopy> = {}): FoundCopy => ({
  folder,
  role,
  internalDate: null,
  receiver: { auth: null, arrivedAt },
  removed: true,
  ...extra,
});

describe('decidePlacement', () => {
  it('files a canary found in the spam folder as spam, with the seconds to the receiver\'s arrival', () => {
    const next = decidePlacement(pending, { kind: 'found', copies: [copy('junk', '[Gmail]/Spam', '2026-01-05T08:00:42.000Z')] }, { now: at(1), timeoutMinutes: 15 });
    expect(next).toMatchObject({ verdict: 'spam', folder: '[Gmail]/Spam', seconds: 42, arrivedAt: '2026-01-05T08:00:42.000Z', removed: true, checkedAt: at(1).toISOString() });
  });

  it('takes the worst place of a canary delivered twice, and the earliest arrival', () => {
    const next = decidePlacement(
      pending,
      { kind: 'found', copies: [copy('inbox', 'INBOX', '2026-01-05T08:00:05.000Z'), copy('junk', 'Junk', '2026-01-05T08:03:00.000Z')] },
      { now: at(4), timeoutMinutes: 15 },
    );
    expect(next).toMatchObject({ verdict: 'spam', folder: 'Junk', seconds: 5, copies: 2 });
  });

  it('falls back to INTERNALDATE when the receiver wrote no readable Received date', () => {
    const next = decidePlacement(pending, { kind: 'found', copies: [copy('inbox', 'INBOX', null, { internalDate: '2026-01-05T08:01:00.000Z', category: 'updates' })] }, { now: at(2), timeoutMinutes: 15 });
    expect(next).toMatchObject({ verdict: 'inbox', seconds: 60, category: 'updates' });
  });

  it('keeps a canary not found pending until the delivery timeout, then calls it missing', () => {
    expect(decidePlacement(pending, { kind: 'not-found' }, { now: at(14), timeoutMinutes: 15 }).verdict).toBe('pending');
    expect(decidePlacement(pending, { kind: 'not-found' }, { now: at(15), timeoutMinutes: 15 }).verdict).toBe('missing');
  });

  it('calls a canary unreadable when its seed could never be read in time, missing when it was read without it', () => {
    const failed = { kind: 'failed' as const, error: 'auth: AUTHENTICATIONFAILED' };
    const first = decidePlacement(pending, failed, { now: at(5), timeoutMinutes: 15 });
    expect(first).toMatchObject({ verdict: 'pending', error: 'auth: AUTHENTICATIONFAILED' });
    expect(decidePlacement(first, failed, { now: at(16), timeoutMinutes: 15 }).verdict).toBe('unreadable');
    const readOnce = decidePlacement(pending, { kind: 'not-found' }, { now: at(5), timeoutMinutes: 15 });
    expect(decidePlacement(readOnce, failed, { now: at(16), timeoutMinutes: 15 }).verdict).toBe('missing');
  });

  it('calls a seed that bounced refused, linking the bounce, and never changes a decided record', () => {
    const refused = decidePlacement(pending, { kind: 'not-found' }, { now: at(3), timeoutMinutes: 15, bounce: { key: 'bounce#X#shop.seed@gmail.com', reply: '550 5.7.26 unauthenticated', source: 'raw/2026-01-05/a.eml' } });
    expect(refused).toMatchObject({ verdict: 'refused', refusal: { by: 'bounce', bounceKey: 'bounce#X#shop.seed@gmail.com', source: 'raw/2026-01-05/a.eml' } });
    expect(decidePlacement(refused, { kind: 'found', copies: [copy('inbox', 'INBOX', null)] }, { now: at(4), timeoutMinutes: 15 })).toBe(refused);
  });
});

describe('placementRecordsOf', () => {
  it('opens a pending record per accepted seed and a refused one per seed the provider refused at RCPT', () => {
    const records = placementRecordsOf({
      canaryId: 'C1',
      target: 'shop',
      sentAt: SENT,
      seeds: [
        { name: 'gmail', address: 'a@gmail.com' },
        { name: 'yahoo', address: 'b@yahoo.com' },
      ],
      rcpt: [
        { recipient: 'ok@bounces.example.jp', ok: true },
        { recipient: 'a@gmail.com', ok: true },
        { recipient: 'b@yahoo.com', ok: false, reply: '554 5.7.1 <b@yahoo.com>: Relay access denied' },
      ],
      dataAccepted: true,
    });
    expect(records.map((r) => [r.seed, r.verdict, r.refusal?.reply ?? null])).toEqual([
      ['gmail', 'pending', null],
      ['yahoo', 'refused', '554 5.7.1 <b@yahoo.com>: Relay access denied'],
    ]);
    expect(placementRecordsOf({ canaryId: 'C1', target: 'shop', sentAt: SENT, seeds: [{ name: 'gmail', address: 'a@gmail.com' }], rcpt: [{ recipient: 'a@gmail.com', ok: true }], dataAccepted: false })).toEqual([]);
  });
});

describe('placementFindings', () => {
  const ctx = { fromDomain: 'example.jp', provider: 'gmail', slowSeconds: 300 };

  it('raises PLACEMENT_SPAM (critical) with the reputation advice when the receiver saw authentication pass', () => {
    const r: PlacementRecord = { ...pending, verdict: 'spam', folder: '[Gmail]/Spam', seconds: 10, receiverAuth: { authservId: 'mx.google.com', spf: 'pass', dkim: 'pass', dmarc: 'pass', spfDomain: 'example.jp' } };
    const [f, ...rest] = placementFindings(r, 15, { ...ctx, listedOn: ['bl.spamcop.net'] });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'PLACEMENT_SPAM', severity: 'critical', recipient: 'shop.seed@gmail.com' });
    expect(f!.remedy.en).toContain('reputation');
    expect(f!.remedy.en).toContain('bl.spamcop.net');
    expect(f!.remedy.ja).toContain('bl.spamcop.net');
  });

  it('raises PLACEMENT_AUTH_FAIL beside PLACEMENT_SPAM when the receiver saw DMARC fail, naming the record to fix', () => {
    const r: PlacementRecord = { ...pending, verdict: 'spam', folder: 'Junk', seconds: 10, receiverAuth: { authservId: 'mx.google.com', spf: 'fail', dkim: 'none', dmarc: 'fail', spfDomain: 'example.jp', dmarcPolicy: 'quarantine' } };
    const found = placementFindings(r, 15, ctx);
    expect(found.map((f) => [f.code, f.severity])).toEqual([
      ['PLACEMENT_SPAM', 'critical'],
      ['PLACEMENT_AUTH_FAIL', 'critical'],
    ]);
    expect(found[0]!.remedy.en).toContain('Fix the authentication first');
    expect(found[1]!.remedy.en).toContain('SPF:');
    expect(found[1]!.remedy.en).toContain('DKIM:');
    expect(found[1]!.remedy.en).toContain('DMARC:');
  });

  it('does not blame the shop for an SPF verdict about the bounce domain, and says so in the spam finding', () => {
    const auth = { authservId: 'mx.google.com', spf: 'softfail', dkim: 'pass', dmarc: 'pass', spfDomain: 'bounces.example.net' };
    expect(receiverFailures(auth, 'example.jp')).toEqual([]);
    const [f] = placementFindings({ ...pending, verdict: 'spam', folder: 'Junk', seconds: 3, receiverAuth: auth }, 15, ctx);
    expect(f!.message.en).toContain('bounce domain');
  });

  it('raises PLACEMENT_MISSING and PLACEMENT_SLOW, and nothing for a refused, pending or inbox canary', () => {
    expect(placementFindings({ ...pending, verdict: 'missing' }, 15, ctx).map((f) => f.code)).toEqual(['PLACEMENT_MISSING']);
    expect(placementFindings({ ...pending, verdict: 'inbox', folder: 'INBOX', seconds: 301 }, 15, ctx).map((f) => [f.code, f.severity])).toEqual([['PLACEMENT_SLOW', 'warning']]);
    expect(placementFindings({ ...pending, verdict: 'inbox', folder: 'INBOX', seconds: 12 }, 15, ctx)).toEqual([]);
    expect(placementFindings({ ...pending, verdict: 'refused' }, 15, ctx)).toEqual([]);
    expect(placementFindings(pending, 15, ctx)).toEqual([]);
  });

  it('words SEED_LOGIN_FAILED as a warning about the setup, with the provider\'s own steps', () => {
    const f = seedLoginFinding({ seed: 'outlook', address: 's@outlook.com', kind: 'token', detail: 'invalid_grant', provider: 'microsoft', oauth2: true });
    expect(f).toMatchObject({ code: 'SEED_LOGIN_FAILED', severity: 'warning' });
    expect(f.remedy.en).toContain('Authorize the app again');
    expect(f.remedy.en).toContain('90 days');
    expect(f.message.ja).toContain('invalid_grant');
  });
});

describe('placementOfTarget', () => {
  const config = parseConfig({
    bounceDomain: 'bounces.example.jp',
    targets: [{ name: 'shop', host: 'smtp.example.jp', from: 'shop@example.jp', to: ['ok@bounces.example.jp'], seeds: ['gmail', 'yahoo'] }],
    seeds: [
      { name: 'gmail', address: 'shop.seed@gmail.com', imap: { host: '127.0.0.1', auth: { user: 'shop.seed@gmail.com', passwordEnv: 'G' } } },
      { name: 'yahoo', address: 'shop.seed@yahoo.com', imap: { host: '127.0.0.1', auth: { user: 'shop.seed@yahoo.com', passwordEnv: 'Y' } } },
      { name: 'unused', address: 'x@example.org', imap: { host: 'imap.example.org', auth: { user: 'x', passwordEnv: 'U' } } },
    ],
  });
  const target = config.targets[0]!;

  it('shows per seed the latest decided verdict and raises its findings; a newer pending canary waits', () => {
    const records: PlacementRecord[] = [
      { ...pending, canaryId: '01A', verdict: 'inbox', folder: 'INBOX', seconds: 5 },
      { ...pending, canaryId: '01B', verdict: 'spam', folder: '[Gmail]/Spam', seconds: 6 },
      { ...pending, canaryId: '01C' },
    ];
    const { entries, findings } = placementOfTarget(records, { config, target });
    expect(entries.map((e) => [e.seed, e.verdict, e.canaryId])).toEqual([
      ['gmail', 'spam', '01B'],
      ['yahoo', 'pending', null],
    ]);
    expect(findings.map((f) => f.code)).toEqual(['PLACEMENT_SPAM']);
  });

  it('recovers once a newer canary is decided in the inbox', () => {
    const records: PlacementRecord[] = [
      { ...pending, canaryId: '01B', verdict: 'spam', folder: '[Gmail]/Spam', seconds: 6 },
      { ...pending, canaryId: '01D', verdict: 'inbox', folder: 'INBOX', seconds: 4 },
    ];
    expect(placementOfTarget(records, { config, target }).findings).toEqual([]);
  });
});

describe('advanceSeed', () => {
  const seed = { name: 'gmail', address: 's@gmail.com', provider: 'gmail' };
  const failed = { ok: false as const, kind: 'auth' as const, detail: 'AUTHENTICATIONFAILED' };
  let n = 0;
  const ctx = (minutes: number) => ({ seed, targets: ['shop', 'clinic'], now: at(minutes), threshold: 2, newIncidentId: () => `INC${++n}` });

  it('raises SEED_LOGIN_FAILED once after the threshold, never again while it lasts, and one recovery', () => {
    const s1 = advanceSeed(initialSeedState('gmail'), failed, ctx(0));
    expect(s1.events).toEqual([]);
    const s2 = advanceSeed(s1.state, failed, ctx(5));
    expect(s2.events.map((e) => [e.kind, e.phase, e.status, e.findings[0]?.code])).toEqual([['seed', 'failing', 'warning', 'SEED_LOGIN_FAILED']]);
    expect(s2.events[0]).toMatchObject({ target: null, targets: ['shop', 'clinic'], startedAt: at(0).toISOString() });
    const s3 = advanceSeed(s2.state, failed, ctx(10));
    expect(s3.events).toEqual([]);
    const s4 = advanceSeed(s3.state, { ok: true }, ctx(15));
    expect(s4.events.map((e) => [e.phase, e.durationMs, e.incidentId])).toEqual([['recovered', 15 * 60_000, s2.events[0]!.incidentId]]);
    expect(advanceSeed(s4.state, { ok: true }, ctx(20)).events).toEqual([]);
  });

  it('says nothing for a single failed read that the next read clears', () => {
    const s1 = advanceSeed(initialSeedState('gmail'), failed, ctx(0));
    expect(advanceSeed(s1.state, { ok: true }, ctx(5)).events).toEqual([]);
  });
});
