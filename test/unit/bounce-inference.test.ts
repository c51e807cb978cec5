import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileStore } from '#adapters/file-store.ts';
import { createMailParser } from '#adapters/mail-parser.ts';
import { analyzeBounce } from '#core/bounce/analyze.ts';
import { canaryRecipientsFromStore } from '#core/bounce/canary.ts';
import type { CanaryRecipientLookup } from '#core/ports.ts';
import type { TargetResult } from '#core/results.ts';

const CANARY = '01JDQ7Z3K4M5N6P7Q8R9S0T1V2';
const parse = createMailParser();
const enc = (s: string) => new TextEncoder().encode(s.replace(/\n/g, '\r\n'));

/** A notice that states its cause but names no recipient; the original's To and the subject vary. */
function anonymousNotice(options: { originalTo: string; subject?: string; failedHeader?: string }): Uint8Array {
  return enc(
    [
      'From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>',
      `To: bounce+${CANARY}@bounces.example.jp`,
      `Subject: ${options.subject ?? 'Undeliverable Mail'}`,
      ...(options.failedHeader ? [`X-Failed-Recipients: ${options.failedHeader}`] : []),
      'Content-Type: text/plain',
      '',
      'Your message could not be delivered: the recipient\'s mailbox is full.',
      '',
      '------ Original message follows ------',
      `Message-ID: <${CANARY}@mail-health>`,
      'From: shop@example.jp',
      `To: ${options.originalTo}`,
      'Subject: mail-health canary',
      '',
      'canary',
      '',
    ].join('\n'),
  );
}

describe('analyzeBounce, a report that does not name its recipient', () => {
  it('takes the recipient from the canary record, marked as inferred, with the reason the text states', async () => {
    // Prepare: the canary went to the bounce domain's own mailbox and to a customer
    const lookup: CanaryRecipientLookup = async (id) => (id === CANARY ? [`canary@bounces.example.jp`, 'hana@example.net'] : null);
    // Act
    const analysis = await analyzeBounce(anonymousNotice({ originalTo: 'undisclosed-recipients:;' }), { parse, canaryRecipients: lookup });
    // Assess
    expect(analysis.canaryId).toBe(CANARY);
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'mailboxfull', recipientInferred: true, canaryId: CANARY }]);
    expect(analysis.notes.join(' ')).toMatch(/canary record/);
  });

  it('prefers the canary recipient the returned message names, when the canary had several', async () => {
    const lookup: CanaryRecipientLookup = () => ['hana@example.net', 'ken@example.org'];
    const analysis = await analyzeBounce(anonymousNotice({ originalTo: 'ken@example.org' }), { parse, canaryRecipients: lookup });
    expect(analysis.recipients.map((r) => r.recipient)).toEqual(['ken@example.org']);
  });

  it('without a canary record, takes the returned message\'s To when it has one address', async () => {
    const analysis = await analyzeBounce(anonymousNotice({ originalTo: 'Hana <hana@example.net>' }), { parse });
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'mailboxfull', recipientInferred: true }]);
  });

  it('does not guess among several To addresses, and falls back to the subject', async () => {
    // Act
    const several = await analyzeBounce(anonymousNotice({ originalTo: 'hana@example.net, ken@example.org' }), { parse });
    const subject = await analyzeBounce(anonymousNotice({ originalTo: 'hana@example.net, ken@example.org', subject: 'Undeliverable: ume@example.com' }), { parse });
    // Assess
    expect(several.isBounce).toBe(true);
    expect(several.recipients).toEqual([]);
    expect(several.notes.join(' ')).toMatch(/names no recipient/);
    expect(subject.recipients).toMatchObject([{ recipient: 'ume@example.com', recipientInferred: true }]);
  });

  it('does not mark a recipient the report names itself (X-Failed-Recipients) as inferred', async () => {
    const analysis = await analyzeBounce(anonymousNotice({ originalTo: 'hana@example.net', failedHeader: 'ken@example.org' }), { parse });
    expect(analysis.recipients).toHaveLength(1);
    expect(analysis.recipients[0]).toMatchObject({ recipient: 'ken@example.org', reason: 'mailboxfull' });
    expect(analysis.recipients[0]!.recipientInferred).toBeUndefined();
  });

  it('never asks the canary record when the report names its recipient', async () => {
    // Prepare
    let asked = 0;
    const lookup: CanaryRecipientLookup = () => {
      asked++;
      return ['someone@example.com'];
    };
    const named = enc(`From: MAILER-DAEMON@mx.example.net\nTo: bounce+${CANARY}@bounces.example.jp\nSubject: Undelivered Mail Returned to Sender\n\n<hana@example.net>: host mx.example.net said: 550 5.1.1 User unknown\n`);
    // Act
    const analysis = await analyzeBounce(named, { parse, canaryRecipients: lookup });
    // Assess
    expect(asked).toBe(0);
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'userunknown' }]);
    expect(analysis.recipients[0]!.recipientInferred).toBeUndefined();
  });

  it('still gives its result, with a note, when the canary lookup fails', async () => {
    const lookup: CanaryRecipientLookup = async () => {
      throw new Error('table unavailable');
    };
    const analysis = await analyzeBounce(anonymousNotice({ originalTo: 'hana@example.net' }), { parse, canaryRecipients: lookup });
    expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', recipientInferred: true }]);
    expect(analysis.notes.join(' ')).toMatch(/canary record lookup failed \(table unavailable\)/);
  });
});

describe('canaryRecipientsFromStore', () => {
  it('finds the recipients the provider accepted for a canary in its target\'s recorded round', async () => {
    // Prepare: a state directory holding the round and the canary record, as the local loop writes them
    const dir = await mkdtemp(join(tmpdir(), 'mh-canary-lookup-'));
    try {
      const store = createFileStore({ dir });
      const round: TargetResult = {
        name: 'shop',
        status: 'ok',
        canaryId: CANARY,
        startedAt: '2025-04-01T09:00:00.000Z',
        steps: [
          { step: 'rcpt', ok: true, ms: 3, reply: '250 2.1.5 Ok', recipient: 'canary@bounces.example.jp' },
          { step: 'rcpt', ok: true, ms: 3, reply: '250 2.1.5 Ok', recipient: 'hana@example.net' },
          { step: 'rcpt', ok: false, ms: 3, reply: '550 5.1.1 No such user', recipient: 'gone@example.net' },
          { step: 'data', ok: true, ms: 9, reply: '250 2.0.0 Ok: queued' },
        ],
        ports: {},
        extensions: {},
        findings: [],
      };
      await store.appendRound(round);
      await store.putCanary({ id: CANARY, target: 'shop', sentAt: round.startedAt, recipients: ['canary@bounces.example.jp'], deliveredAt: null });
      const lookup = canaryRecipientsFromStore(store);

      // Act
      const recipients = await lookup(CANARY);
      const unknown = await lookup('01JDQ7Z3K4M5N6P7Q8R9S0T1V3');
      const analysis = await analyzeBounce(anonymousNotice({ originalTo: 'undisclosed-recipients:;' }), { parse, canaryRecipients: lookup });

      // Assess
      expect(recipients).toEqual(['canary@bounces.example.jp', 'hana@example.net']);
      expect(unknown).toBeNull();
      expect(analysis.recipients).toMatchObject([{ recipient: 'hana@example.net', reason: 'mailboxfull', recipientInferred: true }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
