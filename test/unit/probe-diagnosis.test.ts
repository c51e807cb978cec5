import { describe, expect, it } from 'vitest';
import { PROBE_CODES, type SmtpStep } from '#core/findings.ts';
import { CERT_EXPIRING_DAYS, DIAGNOSIS_RULES, classifyStep, diagnoseSession, stepSucceeded, tlsModeSuspect, type SessionContext } from '#core/probe/diagnosis.ts';
import { parseEhlo } from '#core/probe/ehlo.ts';
import { isTransient, parseReply, replyClass } from '#core/probe/reply.ts';
import { probeText } from '#core/probe/texts.ts';
import type { SessionTranscript, StepFailureKind, TranscriptStep } from '#core/probe/types.ts';

const NOW = new Date('2026-03-01T00:00:00Z');
const ctx: SessionContext = {
  host: 'smtp.example.jp',
  port: 587,
  sender: 'bounce+01J00000000000000000000000@bounces.example.jp',
  maxMessageBytes: 10 * 1024 * 1024,
  slowStepMs: 5_000,
  timeouts: { connectMs: 10_000, stepMs: 15_000 },
  now: NOW,
};

const EHLO = '250-smtp.example.jp\n250-PIPELINING\n250-SIZE 26214400\n250-AUTH PLAIN LOGIN\n250-8BITMIME\n250 SMTPUTF8';
const ok = (step: SmtpStep, reply?: string, extra: Partial<TranscriptStep> = {}): TranscriptStep => ({ step, ms: 5, ...(reply ? { reply } : {}), ...extra });
const happy: TranscriptStep[] = [
  ok('connect'),
  ok('greeting', '220 smtp.example.jp ESMTP'),
  ok('ehlo', `${EHLO.replace('250 SMTPUTF8', '250-SMTPUTF8')}\n250 STARTTLS`),
  ok('starttls', '220 2.0.0 Ready to start TLS'),
  ok('ehlo', EHLO),
  ok('auth', '235 2.7.0 Authentication successful', { command: 'AUTH PLAIN' }),
  ok('mail', '250 2.1.0 Ok'),
  ok('rcpt', '250 2.1.5 Ok', { recipient: 'owner@example.jp' }),
  ok('data', '250 2.0.0 Ok: queued as 4Xyz'),
  ok('quit', '221 2.0.0 Bye'),
];

/** The happy session with the step at `index` replaced and everything after it cut. */
function failingAt(step: TranscriptStep): SessionTranscript {
  const index = happy.findIndex((s) => s.step === step.step);
  return { steps: [...happy.slice(0, index), step] };
}

describe('parseReply', () => {
  it('splits code, enhanced status and text', () => {
    expect(parseReply('550 5.1.1 <x@example.jp>: Recipient address rejected')).toEqual({ code: 550, status: '5.1.1', text: '<x@example.jp>: Recipient address rejected' });
    expect(parseReply('421 Service not available')).toEqual({ code: 421, status: null, text: 'Service not available' });
    expect(parseReply('250-first\n250 last')).toEqual({ code: 250, status: null, text: 'first' });
    expect(parseReply('HTTP/1.1 400 Bad Request')).toBeNull();
  });

  it('decides transient versus permanent in one place', () => {
    expect([250, 354, 451, 552].map(replyClass)).toEqual(['positive', 'intermediate', 'transient', 'permanent']);
    expect(isTransient(452)).toBe(true);
    expect(isTransient(552)).toBe(false);
  });
});

describe('parseEhlo', () => {
  it('reads SIZE as a number, AUTH as mechanisms and other keywords as flags', () => {
    expect(parseEhlo('250-mx.example.jp greets you\n250-SIZE 10240000\n250-AUTH=LOGIN\n250-AUTH PLAIN LOGIN CRAM-MD5\n250-8BITMIME\n250 STARTTLS')).toEqual({
      SIZE: 10240000,
      AUTH: ['LOGIN', 'PLAIN', 'CRAM-MD5'],
      '8BITMIME': true,
      STARTTLS: true,
    });
  });

  it('treats a SIZE without a number as no fixed limit (0)', () => {
    expect(parseEhlo('250-mx\n250 SIZE')).toEqual({ SIZE: 0 });
  });
});

describe('classifyStep (the diagnosis table)', () => {
  const cases: [string, TranscriptStep, string | null, string?][] = [
    ['connection refused', { step: 'connect', ms: 1, failure: { kind: 'refused' } }, 'PORT_UNREACHABLE', 'critical'],
    ['port silently dropped', { step: 'connect', ms: 10_000, failure: { kind: 'timeout' } }, 'PORT_UNREACHABLE', 'critical'],
    ['host name unknown', { step: 'connect', ms: 3, failure: { kind: 'dns' } }, 'DNS_NOT_FOUND', 'critical'],
    ['no greeting', { step: 'greeting', ms: 15_000, failure: { kind: 'timeout' } }, 'GREETING_TIMEOUT', 'critical'],
    ['greeting 554', ok('greeting', '554 5.7.1 No SMTP service here'), 'GREETING_REJECTED', 'critical'],
    ['greeting 421', ok('greeting', '421 4.7.0 Too many connections'), 'GREETING_REJECTED', 'critical'],
    ['EHLO refused', ok('ehlo', '550 5.7.1 Bad HELO hostname'), 'GREETING_REJECTED', 'critical'],
    ['STARTTLS refused', ok('starttls', '502 5.5.1 Command not implemented'), 'STARTTLS_UNAVAILABLE', 'critical'],
    ['STARTTLS 454', ok('starttls', '454 4.7.0 TLS not available'), 'STARTTLS_UNAVAILABLE', 'critical'],
    ['self-signed certificate', { step: 'starttls', ms: 9, failure: { kind: 'tls-untrusted' } }, 'TLS_CERT_INVALID', 'critical'],
    ['expired certificate', { step: 'starttls', ms: 9, failure: { kind: 'tls-expired' } }, 'TLS_CERT_INVALID', 'critical'],
    ['certificate for another name', { step: 'connect', ms: 9, failure: { kind: 'tls-hostname' } }, 'TLS_CERT_INVALID', 'critical'],
    ['no common TLS version', { step: 'starttls', ms: 9, failure: { kind: 'tls-handshake' } }, 'TLS_HANDSHAKE_FAILED', 'critical'],
    ['AUTH not offered', { step: 'auth', ms: 0, failure: { kind: 'not-offered' } }, 'AUTH_UNAVAILABLE', 'critical'],
    ['AUTH 535', ok('auth', '535 5.7.8 Authentication credentials invalid'), 'AUTH_FAILED', 'critical'],
    ['AUTH 454 temporary', ok('auth', '454 4.7.0 Temporary authentication failure'), 'TEMPORARY_FAILURE', 'warning'],
    ['MAIL 553', ok('mail', '553 5.7.1 Sender address rejected: not owned by user'), 'SENDER_REJECTED', 'critical'],
    ['MAIL 530 auth required', ok('mail', '530 5.7.0 Authentication required'), 'AUTH_FAILED', 'critical'],
    ['MAIL 552 declared size', ok('mail', '552 5.3.4 Message size exceeds fixed limit'), 'MESSAGE_TOO_LARGE', 'critical'],
    ['MAIL 451', ok('mail', '451 4.3.0 Try again later'), 'TEMPORARY_FAILURE', 'warning'],
    ['relay denied', ok('rcpt', '554 5.7.1 <x@example.com>: Relay access denied'), 'RELAY_DENIED', 'critical'],
    ['relay denied without status', ok('rcpt', '554 Relay access denied'), 'RELAY_DENIED', 'critical'],
    ['unknown user', ok('rcpt', '550 5.1.1 <x@example.jp>: User unknown'), 'RECIPIENT_UNKNOWN', 'critical'],
    ['unknown user without status', ok('rcpt', '550 No such user here'), 'RECIPIENT_UNKNOWN', 'critical'],
    ['null MX domain', ok('rcpt', '556 5.1.10 Domain does not accept mail'), 'RECIPIENT_UNKNOWN', 'critical'],
    ['mailbox full, temporary', ok('rcpt', '452 4.2.2 Mailbox full'), 'MAILBOX_FULL', 'warning'],
    ['mailbox full, permanent', ok('rcpt', '552 5.2.2 Mailbox full'), 'MAILBOX_FULL', 'critical'],
    ['insufficient storage without status', ok('rcpt', '452 Insufficient system storage'), 'MAILBOX_FULL', 'warning'],
    ['greylisting', ok('rcpt', '450 4.2.0 Greylisted, please try again'), 'TEMPORARY_FAILURE', 'warning'],
    ['451 at RCPT', ok('rcpt', '451 4.3.0 Temporary lookup failure'), 'TEMPORARY_FAILURE', 'warning'],
    ['policy refusal at RCPT', ok('rcpt', '554 5.7.0 Rejected by policy'), 'MESSAGE_REJECTED', 'critical'],
    ['message too big', ok('data', '552 5.3.4 Message too big for system'), 'MESSAGE_TOO_LARGE', 'critical'],
    ['message over admin limit', ok('data', '552 5.2.3 Message length exceeds administrative limit'), 'MESSAGE_TOO_LARGE', 'critical'],
    ['552 after data without status', ok('data', '552 Too much mail data'), 'MESSAGE_TOO_LARGE', 'critical'],
    ['quota at end of data', ok('data', '552 5.2.2 Quota exceeded'), 'MAILBOX_FULL', 'critical'],
    ['spam refusal', ok('data', '554 5.7.1 Message rejected as spam'), 'MESSAGE_REJECTED', 'critical'],
    ['451 at data', ok('data', '451 4.3.0 Local error in processing'), 'TEMPORARY_FAILURE', 'warning'],
    ['dropped during data', { step: 'data', ms: 4, reply: '354 go ahead', failure: { kind: 'closed' } }, 'CONNECTION_LOST', 'critical'],
    ['slow RCPT over the limit', { step: 'rcpt', ms: 15_000, failure: { kind: 'timeout' } }, 'STEP_TIMEOUT', 'critical'],
    ['not SMTP at all', ok('greeting', 'HTTP/1.1 400 Bad Request'), 'GREETING_REJECTED', 'critical'],
    ['garbage in the middle of a session', ok('mail', 'what?'), 'CONNECTION_LOST', 'critical'],
    ['QUIT trouble after acceptance', { step: 'quit', ms: 15_000, failure: { kind: 'timeout' } }, null],
    ['a success', ok('rcpt', '250 2.1.5 Ok'), null],
  ];

  it.each(cases)('%s', (_label, step, code, severity) => {
    const verdict = classifyStep(step);
    if (code === null) expect(verdict).toBeNull();
    else expect(verdict).toEqual({ code, severity });
  });

  it('covers every failure kind with some row', () => {
    const kinds: StepFailureKind[] = ['timeout', 'closed', 'refused', 'unreachable', 'dns', 'tls-handshake', 'tls-untrusted', 'tls-hostname', 'tls-expired', 'not-offered', 'error'];
    for (const kind of kinds) expect(classifyStep({ step: 'mail', ms: 1, failure: { kind } }), kind).not.toBeNull();
  });

  it('only names probe codes', () => {
    for (const rule of DIAGNOSIS_RULES) if (rule.code !== null) expect(PROBE_CODES).toContain(rule.code);
  });

  it('counts 2xx and 3xx replies as success and everything else as failure', () => {
    expect(stepSucceeded(ok('data', '354 End data with <CR><LF>.<CR><LF>'))).toBe(true);
    expect(stepSucceeded(ok('connect'))).toBe(true);
    expect(stepSucceeded(ok('mail', '451 later'))).toBe(false);
    expect(stepSucceeded({ step: 'starttls', ms: 1, reply: '220 go', failure: { kind: 'tls-expired' } })).toBe(false);
  });
});

describe('diagnoseSession', () => {
  it('gives no findings, every step ok and the extensions of the last EHLO for a clean session', () => {
    // Act
    const d = diagnoseSession({ steps: happy, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, certValidTo: '2026-05-30T12:00:00Z' } }, ctx);

    // Assess
    expect(d.findings).toEqual([]);
    expect(d.steps.every((s) => s.ok)).toBe(true);
    expect(d.steps[2]?.reply).toBe('250-smtp.example.jp');
    expect(d.extensions).toEqual({ PIPELINING: true, SIZE: 26214400, AUTH: ['PLAIN', 'LOGIN'], '8BITMIME': true, SMTPUTF8: true, STARTTLS: true });
    expect(d.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, certDaysLeft: 90 });
  });

  it('puts the step, the recipient and the reply on a finding', () => {
    const d = diagnoseSession(failingAt(ok('rcpt', '550 5.1.1 <typo@example.jp>: User unknown', { recipient: 'typo@example.jp' })), ctx);
    expect(d.findings).toMatchObject([{ code: 'RECIPIENT_UNKNOWN', step: 'rcpt', recipient: 'typo@example.jp', reply: '550 5.1.1 <typo@example.jp>: User unknown' }]);
    expect(d.findings[0]?.message.en).toContain('typo@example.jp');
    expect(d.findings[0]?.message.ja).toContain('typo@example.jp');
  });

  it('does not diagnose what follows a refused sender (pipelined 503s are consequences)', () => {
    const steps = [
      ...happy.slice(0, 6),
      ok('mail', '553 5.7.1 Sender address rejected'),
      ok('rcpt', '503 5.5.1 Error: need MAIL command', { recipient: 'owner@example.jp' }),
      ok('data', '503 5.5.1 Error: need RCPT command'),
      ok('quit', '221 Bye'),
    ];
    expect(diagnoseSession({ steps }, ctx).findings.map((f) => f.code)).toEqual(['SENDER_REJECTED']);
  });

  it('gives each refused recipient its finding and skips the DATA refusal that follows', () => {
    const steps = [
      ...happy.slice(0, 7),
      ok('rcpt', '550 5.1.1 User unknown', { recipient: 'a@example.jp' }),
      ok('rcpt', '552 5.2.2 Mailbox full', { recipient: 'b@example.jp' }),
      ok('data', '554 5.5.1 Error: no valid recipients'),
      ok('quit', '221 Bye'),
    ];
    expect(diagnoseSession({ steps }, ctx).findings.map((f) => [f.code, f.recipient])).toEqual([
      ['RECIPIENT_UNKNOWN', 'a@example.jp'],
      ['MAILBOX_FULL', 'b@example.jp'],
    ]);
  });

  it('does not report a refused EHLO when the HELO fallback went through', () => {
    const steps = [happy[0]!, happy[1]!, ok('ehlo', '502 5.5.2 EHLO not supported', { command: 'EHLO' }), ok('ehlo', '250 smtp.example.jp', { command: 'HELO' }), ...happy.slice(6)];
    expect(diagnoseSession({ steps }, ctx).findings).toEqual([]);
  });

  it('warns SIZE_LIMIT_LOW with the limit in MB when SIZE is below maxMessageBytes', () => {
    const d = diagnoseSession({ steps: happy }, { ...ctx, maxMessageBytes: 30 * 1024 * 1024 });
    expect(d.findings).toMatchObject([{ code: 'SIZE_LIMIT_LOW', severity: 'warning' }]);
    expect(d.findings[0]?.message.en).toContain('at most 25 MB, less than the 30 MB');
  });

  it('does not warn about SIZE 0, which means no fixed limit', () => {
    const steps = happy.map((s, i) => (i === 4 ? ok('ehlo', '250-smtp\n250 SIZE 0') : s));
    expect(diagnoseSession({ steps }, ctx).findings).toEqual([]);
  });

  it('names the announced limit in a MESSAGE_TOO_LARGE finding', () => {
    const d = diagnoseSession(failingAt(ok('data', '552 5.3.4 Message too big')), ctx);
    expect(d.findings[0]?.message.en).toContain('at most 25 MB');
    expect(d.findings[0]?.remedy.ja).toContain('25MB未満');
  });

  it(`warns TLS_CERT_EXPIRING below ${CERT_EXPIRING_DAYS} days left`, () => {
    const soon = diagnoseSession({ steps: happy, tls: { version: 'TLSv1.3', cipher: 'x', authorized: true, certValidTo: '2026-03-08T00:00:00Z' } }, ctx);
    expect(soon.findings).toMatchObject([{ code: 'TLS_CERT_EXPIRING', severity: 'warning', step: 'starttls' }]);
    expect(soon.findings[0]?.message.en).toContain('7 days');
    const later = diagnoseSession({ steps: happy, tls: { version: 'TLSv1.3', cipher: 'x', authorized: true, certValidTo: '2026-03-20T00:00:00Z' } }, ctx);
    expect(later.findings).toEqual([]);
  });

  it('warns SLOW_STEP for each successful step over slowStepMs', () => {
    const steps = happy.map((s) => (s.step === 'greeting' ? { ...s, ms: 6_000 } : s));
    expect(diagnoseSession({ steps }, ctx).findings).toMatchObject([{ code: 'SLOW_STEP', severity: 'warning', step: 'greeting' }]);
  });

  it('never puts a reply on a finding whose step failed without one', () => {
    const d = diagnoseSession(failingAt({ step: 'starttls', ms: 3, reply: '220 Ready', failure: { kind: 'tls-expired', detail: 'CERT_HAS_EXPIRED' } }), ctx);
    expect(d.findings).toHaveLength(1);
    expect(d.findings[0]).not.toHaveProperty('reply');
  });
});

describe('TLS mode mismatch', () => {
  const implicitOnPlain: SessionTranscript = { steps: [{ step: 'connect', ms: 4, failure: { kind: 'tls-handshake', detail: 'ERR_SSL_WRONG_VERSION_NUMBER' } }] };
  const starttlsOnImplicit: SessionTranscript = { steps: [ok('connect'), { step: 'greeting', ms: 15_000, failure: { kind: 'timeout' } }] };

  it('suspects the other mode only for the failures a wrong "tls" setting causes', () => {
    expect(tlsModeSuspect(implicitOnPlain, 'implicit')).toEqual({ index: 0, otherMode: 'starttls' });
    expect(tlsModeSuspect(starttlsOnImplicit, 'starttls')).toEqual({ index: 1, otherMode: 'implicit' });
    // a refused or silent port, a bad certificate or a clean session say nothing about the mode
    expect(tlsModeSuspect({ steps: [{ step: 'connect', ms: 1, failure: { kind: 'refused' } }] }, 'implicit')).toBeNull();
    expect(tlsModeSuspect({ steps: [{ step: 'connect', ms: 1, failure: { kind: 'tls-untrusted' } }] }, 'implicit')).toBeNull();
    expect(tlsModeSuspect({ steps: happy }, 'starttls')).toBeNull();
    expect(tlsModeSuspect(starttlsOnImplicit, 'implicit')).toBeNull();
  });

  it('reports TLS_MODE_MISMATCH at the failed step when the other mode answered, with the remedy for each direction', () => {
    // Act
    const implicit = diagnoseSession(implicitOnPlain, { ...ctx, port: 587, tlsMode: 'implicit', otherTlsModeAnswers: true });
    const starttls = diagnoseSession(starttlsOnImplicit, { ...ctx, port: 465, tlsMode: 'starttls', otherTlsModeAnswers: true });

    // Assess
    expect(implicit.findings).toMatchObject([{ code: 'TLS_MODE_MISMATCH', severity: 'critical', step: 'connect' }]);
    expect(implicit.findings[0]?.message.en).toMatch(/speaks plain SMTP first/);
    expect(implicit.findings[0]?.remedy.en).toMatch(/"tls": "starttls".*587.*465.*"tls": "implicit"/);
    expect(implicit.findings[0]?.remedy.ja).toMatch(/"tls": "starttls"/);
    expect(starttls.findings).toMatchObject([{ code: 'TLS_MODE_MISMATCH', severity: 'critical', step: 'greeting' }]);
    expect(starttls.findings[0]?.message.en).toMatch(/never greets in plain text/);
    expect(starttls.findings[0]?.remedy.en).toMatch(/"tls": "implicit"/);
  });

  it('keeps the plain diagnosis when the other mode did not answer either', () => {
    expect(diagnoseSession(implicitOnPlain, { ...ctx, tlsMode: 'implicit', otherTlsModeAnswers: false }).findings.map((f) => f.code)).toEqual(['TLS_HANDSHAKE_FAILED']);
    expect(diagnoseSession(starttlsOnImplicit, { ...ctx, tlsMode: 'starttls' }).findings.map((f) => f.code)).toEqual(['GREETING_TIMEOUT']);
  });
});

describe('probeText', () => {
  it('has a message and a remedy in English and Japanese for every probe code', () => {
    for (const code of PROBE_CODES) {
      const text = probeText(code, { host: 'smtp.example.jp', port: 587, recipient: 'a@example.jp', reply: '550 no', sizeLimitBytes: 5_242_880, maxMessageBytes: 10_485_760, daysLeft: 3, ms: 6000, limitMs: 5000, openPorts: [587], tlsMode: 'implicit' });
      for (const s of [text.message.en, text.message.ja, text.remedy.en, text.remedy.ja]) expect(s.length, code).toBeGreaterThan(10);
      expect(text.message.ja, code).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
      expect(text.message.en, code).not.toMatch(/undefined|NaN/);
      expect(text.message.ja, code).not.toMatch(/undefined|NaN/);
    }
  });
});
