import { describe, expect, it } from 'vitest';
import { alertGroupOf } from '#core/bounce/alert-groups.ts';
import { bounceCodeOf, bounceFinding, reasonText } from '#core/bounce/findings.ts';
import { BOUNCE_CODES } from '#core/findings.ts';
import { BOUNCE_REASONS, type BouncedRecipient, type BounceReason } from '#core/results.ts';

const bounced = (reason: BounceReason, extra: Partial<BouncedRecipient> = {}): BouncedRecipient => ({
  recipient: 'taro@example.jp',
  reason,
  status: null,
  replyCode: null,
  hard: false,
  diagnostic: null,
  remoteMta: null,
  canaryId: null,
  ...extra,
});

describe('alertGroupOf', () => {
  it.each([
    ['mailboxfull', 'mailbox-full'],
    ['userunknown', 'invalid-address'],
    ['hostunknown', 'invalid-address'],
    ['hasmoved', 'invalid-address'],
    ['notaccept', 'invalid-address'],
    ['mesgtoobig', 'too-large'],
    ['exceedlimit', 'too-large'],
    ['spamdetected', 'blocked'],
    ['authfailure', 'blocked'],
    ['expired', 'transient'],
    ['toomanyconn', 'transient'],
    ['undefined', 'other'],
    ['vacation', null],
    ['feedback', null],
    ['delivered', null],
  ] as const)('puts %s in the %s group (docs/REFERENCE.md)', (reason, group) => {
    expect(alertGroupOf(reason)).toBe(group);
  });

  it('has a group (or a deliberate none) and a description for every reason', () => {
    for (const reason of BOUNCE_REASONS) {
      expect(alertGroupOf(reason)).not.toBeUndefined();
      expect(reasonText(reason).en).not.toBe('');
      expect(reasonText(reason).ja).not.toBe('');
    }
  });
});

describe('bounceFinding', () => {
  it('maps every failure reason to one of the closed bounce codes', () => {
    for (const reason of BOUNCE_REASONS) {
      const code = bounceCodeOf(reason);
      if (code) expect(BOUNCE_CODES).toContain(code);
    }
  });

  it('raises nothing for auto-replies, complaints and deliveries', () => {
    expect(bounceFinding(bounced('vacation'))).toBeNull();
    expect(bounceFinding(bounced('feedback'))).toBeNull();
    expect(bounceFinding(bounced('delivered'))).toBeNull();
  });

  it('tells a shop owner what happened and what to do, in both languages', () => {
    // Prepare
    const r = bounced('mailboxfull', { status: '5.2.2', diagnostic: '552 5.2.2 Mailbox full' });
    // Act
    const finding = bounceFinding(r);
    // Assess
    expect(finding).toMatchInlineSnapshot(`
      {
        "code": "BOUNCE_MAILBOX_FULL",
        "message": {
          "en": "The mailbox of taro@example.jp is full, so the message was returned.",
          "ja": "taro@example.jp のメールボックスが満杯のため、メールが返送されました。",
        },
        "recipient": "taro@example.jp",
        "remedy": {
          "en": "Ask the recipient to delete old mail or enlarge the mailbox, then send again. Reach them another way (phone, SMS) meanwhile.",
          "ja": "受信者に古いメールの削除か容量の拡大を依頼してから再送してください。それまでは電話やSMSなど別の方法で連絡してください。",
        },
        "reply": "552 5.2.2 Mailbox full",
        "severity": "warning",
      }
    `);
  });

  it('rates mail that can never arrive as critical', () => {
    expect(bounceFinding(bounced('userunknown'))?.severity).toBe('critical');
    expect(bounceFinding(bounced('blocked'))?.severity).toBe('critical');
    expect(bounceFinding(bounced('expired'))?.severity).toBe('warning');
  });

  it('appends the address diagnosis to an invalid address, and only there', () => {
    const note = { en: 'There is a dot right before @.', ja: '@の直前にドットがあります。' };
    const invalid = bounceFinding(bounced('userunknown'), { addressNote: note });
    const full = bounceFinding(bounced('mailboxfull'), { addressNote: note });
    expect(invalid?.code).toBe('BOUNCE_INVALID_ADDRESS');
    expect(invalid?.message.en).toMatch(/dot right before @\.$/);
    expect(invalid?.message.ja).toMatch(/ドットがあります。$/);
    expect(full?.message.en).not.toMatch(/dot/);
  });

  it('gives each failure group its own code', () => {
    expect(bounceFinding(bounced('mesgtoobig'))?.code).toBe('BOUNCE_MESSAGE_TOO_LARGE');
    expect(bounceFinding(bounced('spamdetected'))?.code).toBe('BOUNCE_BLOCKED');
    expect(bounceFinding(bounced('networkerror'))?.code).toBe('BOUNCE_TRANSIENT');
    expect(bounceFinding(bounced('onhold'))?.code).toBe('BOUNCE_OTHER');
  });
});

describe('bounceFinding with the address diagnosis', () => {
  it('explains what looks wrong with an address that bounced as unknown', () => {
    // Prepare: a carrier address with a dot right before @, bounced as unknown.
    const r = { recipient: 'taro.@docomo.ne.jp', reason: 'userunknown', status: '5.1.1', replyCode: 550, hard: true, diagnostic: '550 5.1.1 unknown', remoteMta: null, canaryId: null } as const;
    // Act
    const finding = bounceFinding(r);
    // Assess
    expect(finding?.code).toBe('BOUNCE_INVALID_ADDRESS');
    expect(finding?.message.en).toMatch(/dot \(\.\) right before the @/);
    expect(finding?.message.ja).toMatch(/@ の直前にドット/);
  });

  it('adds nothing when the address itself looks right', () => {
    const r = { recipient: 'taro@example.jp', reason: 'userunknown', status: '5.1.1', replyCode: 550, hard: true, diagnostic: null, remoteMta: null, canaryId: null } as const;
    expect(bounceFinding(r)?.message.en).not.toMatch(/dot|typing mistake/);
  });
});

describe('bounceFinding for a Japanese mobile carrier\'s filter', () => {
  it('asks the recipient to allow the sending domain when a carrier\'s reception settings refused the mail', () => {
    // Prepare: docomo's reception settings turned the sender away after DATA
    const r = bounced('rejected', { recipient: 'hana@docomo.ne.jp', replyCode: 550, diagnostic: '550 Unknown user hana@docomo.ne.jp' });
    // Act
    const finding = bounceFinding(r);
    // Assess
    expect(finding?.code).toBe('BOUNCE_BLOCKED');
    expect(finding?.remedy.en).toMatch(/designated-domain reception/);
    expect(finding?.remedy.ja).toMatch(/ドメイン指定受信/);
  });

  it('keeps the sender-side remedy for the same refusal elsewhere, and for a carrier\'s block of the sending server', () => {
    // Act
    const elsewhere = bounceFinding(bounced('filtered', { recipient: 'hana@example.net' }));
    const carrierBlock = bounceFinding(bounced('blocked', { recipient: 'hana@ezweb.ne.jp' }));
    // Assess
    expect(elsewhere?.remedy.en).toMatch(/SPF, DKIM and DMARC/);
    expect(carrierBlock?.remedy.en).toMatch(/SPF, DKIM and DMARC/);
  });
});
