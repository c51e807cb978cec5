import { describe, expect, it } from 'vitest';
import { BOUNCE_REASONS } from '#core/results.ts';
import { classifyReason, commandIn, normalizeText, reasonFromPhrase, reasonFromStatus, replyCodeIn, serverReplyIn } from '#core/bounce/classify.ts';
import { COMMAND_RULES, HARD_REASONS, LIST_MANAGER_NOTICES, ORIGINAL_MARKERS, POWERMTA_CATEGORIES, REASON_PHRASES, REMOTE_HOST_CONVENTIONS, REPLY_CODE_REASONS, REPORTER_CONVENTIONS, REPORTER_VERDICTS, STATUS_REASONS } from '#core/bounce/tables.ts';

describe('bounce classification tables', () => {
  it('uses only reasons of the docs/REFERENCE.md vocabulary', () => {
    // Prepare
    const known = new Set<string>(BOUNCE_REASONS);
    const used: string[] = [
      ...REASON_PHRASES.flatMap((r) => [r.reason, r.whenFinal, r.afterData, r.ifTemporary]),
      ...STATUS_REASONS.flatMap((r) => [r.reason, r.whenFinal]),
      ...Object.values(REPLY_CODE_REASONS),
      ...COMMAND_RULES.flatMap((r) => [...r.from, r.to]),
      ...REPORTER_CONVENTIONS.flatMap((r) => [...r.from, r.to]),
      ...REMOTE_HOST_CONVENTIONS.flatMap((r) => [...r.from, r.to]),
      ...REPORTER_VERDICTS.map((r) => r.reason),
      ...Object.values(POWERMTA_CATEGORIES),
      ...LIST_MANAGER_NOTICES.map((r) => r.reason),
      ...HARD_REASONS,
    ].filter((r) => r !== undefined);
    // Act
    const unknown = used.filter((r) => !known.has(r));
    // Assess
    expect(unknown).toEqual([]);
  });

  it('lists each enhanced status code once, in the X.subject.detail form', () => {
    const codes = STATUS_REASONS.map((r) => r.status);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^X\.\d{1,3}\.\d{1,3}$/);
  });

  it('has phrase patterns that match lower-case text only (they run on normalized text)', () => {
    for (const row of REASON_PHRASES) {
      expect(row.pattern.flags).not.toContain('g');
      expect(row.pattern.source).not.toMatch(/[A-Z]{2,}/);
    }
  });

  it.each([
    ['X.1.1', 'userunknown'],
    ['X.1.2', 'hostunknown'],
    ['X.2.2', 'mailboxfull'],
    ['X.2.3', 'exceedlimit'],
    ['X.3.4', 'mesgtoobig'],
    ['X.4.7', 'expired'],
    ['X.7.26', 'authfailure'],
    ['X.7.25', 'requireptr'],
  ])('maps the status %s to %s (RFC 3463 / 5248)', (status, reason) => {
    expect(reasonFromStatus(status.replace('X', '5'))).toBe(reason);
  });

  it('leaves vague status codes to the text', () => {
    expect(reasonFromStatus('5.0.0')).toBeUndefined();
    expect(reasonFromStatus('5.5.0')).toBeUndefined();
    expect(reasonFromStatus(null)).toBeUndefined();
  });

  it.each([
    ['552 5.2.2 <taro@example.jp>: Mailbox full', 'mailboxfull'],
    ['452 4.2.2 user is over quota', 'mailboxfull'],
    ['The email account that you tried to reach is over quota', 'mailboxfull'],
    ['550 5.1.1 <taro@example.jp>: Recipient address rejected: User unknown in local recipient table', 'userunknown'],
    ['Sorry, no mailbox here by that name. (#5.1.1)', 'userunknown'],
    ['User taro (taro@example.jp) not listed in Domino Directory', 'userunknown'],
    ['Host or domain name not found. Name service error for name=example.invalid type=A: Host not found', 'hostunknown'],
    ['552 5.3.4 Message size exceeds fixed maximum message size', 'mesgtoobig'],
    ['552 5.2.3 Message length exceeds administrative limit', 'exceedlimit'],
    ['550 5.7.26 Unauthenticated email from example.jp is not accepted due to domain\'s DMARC policy', 'authfailure'],
    ['450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]', 'requireptr'],
    ['554 5.7.1 <taro@example.jp>: Relay access denied', 'norelaying'],
    ['554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', 'blocked'],
    ['550 5.7.1 Message rejected as spam by Content Filtering', 'spamdetected'],
    ['554 5.7.9 Message not accepted for policy reasons', 'policyviolation'],
    ['550 5.2.1 The email account that you tried to reach is disabled', 'suspend'],
    ['受信拒否設定により拒否されました', 'filtered'],
    ['宛先のユーザーが見つかりません', 'userunknown'],
    ['メールボックスが一杯です', 'mailboxfull'],
  ])('reads "%s" as %s', (text, reason) => {
    expect(reasonFromPhrase(text)).toBe(reason);
  });

  it('recognizes the lines that start a returned original, not the sendmail preamble', () => {
    const marks = (line: string) => ORIGINAL_MARKERS.some((re) => re.test(line));
    expect(marks('----- Original message -----')).toBe(true);
    expect(marks('------ This is a copy of the message, including all the headers. ------')).toBe(true);
    expect(marks('--- Below this line is a copy of the message.')).toBe(true);
    expect(marks('The original message was received at Thu, 29 Apr 2010 23:34:45 +0900')).toBe(false);
  });
});

describe('classifyReason', () => {
  it('lets a precise status decide over a looser phrase', () => {
    // Prepare: 5.2.2 is mailbox full whatever wording the server chose
    const input = { diagnostic: '552 5.2.2 <taro@example.jp>... Requested mail action aborted: mailbox unavailable', status: '5.2.2' };
    // Act
    const result = classifyReason(input);
    // Assess
    expect(result).toEqual({ reason: 'mailboxfull', hard: false, basis: 'status' });
  });

  it('marks only permanent invalid-address reasons as hard', () => {
    expect(classifyReason({ diagnostic: '550 5.1.1 User unknown', status: '5.1.1' }).hard).toBe(true);
    expect(classifyReason({ diagnostic: '550 5.1.2 Host not found', status: '5.1.2' }).hard).toBe(true);
    expect(classifyReason({ diagnostic: '552 5.2.2 Mailbox full', status: '5.2.2' }).hard).toBe(false);
    expect(classifyReason({ diagnostic: 'DNS lookup failed: Host not found', status: '4.4.3' }).hard).toBe(false);
  });

  it('reads a delay warning as expired', () => {
    const result = classifyReason({ diagnostic: 'connect to mx.example.jp[192.0.2.1]:25: Connection timed out', status: '4.4.1', action: 'delayed' });
    expect(result.reason).toBe('expired');
  });

  it('reads a failure that quotes a temporary connection error as expired (the queue gave up)', () => {
    expect(classifyReason({ diagnostic: 'Connection timed out', status: '4.4.1', action: 'failed' }).reason).toBe('expired');
  });

  it('keeps a temporary DNS failure apart from a missing domain', () => {
    const temporary = classifyReason({ diagnostic: "DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found", status: '4.0.0' });
    const permanent = classifyReason({ diagnostic: "DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found", status: '5.1.2' });
    expect(temporary.reason).toBe('networkerror');
    expect(permanent.reason).toBe('hostunknown');
  });

  it('reads "user unknown" said only after DATA as the recipient\'s filter', () => {
    const atRcpt = classifyReason({ diagnostic: '550 Unknown user taro@example.jp', command: 'RCPT' });
    const afterData = classifyReason({ diagnostic: '550 Unknown user taro@example.jp', command: 'DATA' });
    expect(atRcpt.reason).toBe('userunknown');
    expect(afterData.reason).toBe('filtered');
  });

  it('reads a refusal at MAIL FROM as the sender being rejected', () => {
    expect(classifyReason({ diagnostic: '553 5.1.0 Address rejected', status: '5.1.0', command: 'MAIL' }).reason).toBe('rejected');
  });

  it('lets a generic wrapper yield to a precise line elsewhere in the report', () => {
    const result = classifyReason({ diagnostic: '554 <taro@example.jp>... Service unavailable', status: '5.5.0', context: 'mail.local: unknown user: taro' });
    expect(result.reason).toBe('userunknown');
  });

  it('falls back to the reply code, then to onhold, then to undefined', () => {
    expect(classifyReason({ diagnostic: '552 Requested mail action aborted', replyCode: 552 }).reason).toBe('mailboxfull');
    expect(classifyReason({ diagnostic: 'Something odd happened' }).reason).toBe('onhold');
    expect(classifyReason({ diagnostic: null }).reason).toBe('undefined');
  });

  it('reads a bare temporary failure as onhold but a named failing service as systemerror', () => {
    expect(classifyReason({ diagnostic: '450 4.0.0 Temporary failure', status: '4.0.0', replyCode: 450 }).reason).toBe('onhold');
    expect(classifyReason({ diagnostic: '554 Service currently unavailable', status: '5.0.0', replyCode: 554 }).reason).toBe('systemerror');
    expect(classifyReason({ diagnostic: '421 4.2.0 Service refused, please try later', status: '4.2.0', replyCode: 421 }).reason).toBe('systemerror');
    expect(classifyReason({ diagnostic: '451 4.3.0 Could not be delivered due to an error. Please try again later.', status: '4.3.0', replyCode: 451 }).reason).toBe('onhold');
    expect(classifyReason({ diagnostic: '451 4.3.5 Please try again later', status: '4.3.5', replyCode: 451 }).reason).toBe('systemerror');
  });

  it('reads a receiver lacking a required feature (X.3.3) as systemerror', () => {
    expect(classifyReason({ diagnostic: '500 Remote server does not support TLS (state 6).', replyCode: 500 }).reason).toBe('systemerror');
    expect(classifyReason({ diagnostic: '530 5.7.0 Must issue a STARTTLS command first', status: '5.7.0', replyCode: 530 }).reason).toBe('securityerror');
  });

  it('reads "you are an open relay" as a block on the sending host, not a refusal to relay', () => {
    expect(classifyReason({ diagnostic: '501 no access from mail server [198.51.100.7] which is an open relay.', replyCode: 501 }).reason).toBe('blocked');
    expect(classifyReason({ diagnostic: '554 5.7.1 <kuro@example.org>: Relay access denied', status: '5.7.1', replyCode: 554 }).reason).toBe('norelaying');
  });

  it('reads a refusal naming the client IP with a block-list tag as blocked', () => {
    expect(classifyReason({ diagnostic: '554 IP=198.51.100.7 - Refused. See our postmaster page. (BL)', status: '5.0.0', replyCode: 554 }).reason).toBe('blocked');
  });

  it('reads a DSN delivery action as delivered', () => {
    expect(classifyReason({ action: 'delivered', status: '2.0.0' }).reason).toBe('delivered');
  });

  it('blames a local delivery program for a vague failure', () => {
    expect(classifyReason({ diagnostic: 'temporary failure', status: '4.3.0', program: true }).reason).toBe('mailererror');
  });
});

describe('commandIn', () => {
  it('finds the command a transcript was answering', () => {
    const transcript = '>>> MAIL From:<shop@example.jp>\n<<< 250 ok\n>>> RCPT To:<taro@example.jp>\n<<< 550 5.1.1 User unknown';
    expect(commandIn(transcript)).toBe('RCPT');
  });

  it('reads Postfix and Exim wording', () => {
    expect(commandIn('said: 550 Unknown user (in reply to end of DATA command)')).toBe('DATA');
    expect(commandIn('SMTP error from remote mail server after MAIL FROM:<a@example.jp> SIZE=1234:')).toBe('MAIL');
    expect(commandIn('SMTP error from remote mail server after initial connection:')).toBe('CONN');
    expect(commandIn('550 5.1.1 User unknown')).toBeNull();
  });
});

describe('replyCodeIn', () => {
  it('reads the three digits that open an SMTP reply', () => {
    expect(replyCodeIn('550 5.1.1 <taro@example.jp>... User unknown')).toBe(550);
    expect(replyCodeIn('host mx.example.jp[192.0.2.1] said: 552-5.2.2 Mailbox full (in reply to RCPT TO command)')).toBe(552);
    expect(replyCodeIn('<<< 450 4.7.1 Try again later')).toBe(450);
    expect(replyCodeIn('The error that the other server returned was: 550 5.7.1 Denied')).toBe(550);
    expect(replyCodeIn('Remote server replied 554 5.7.1 Message refused')).toBe(554);
  });

  it('never takes another number of the text for a reply code', () => {
    // Postfix's own verdict on a too-large message names the server's limit, not a reply.
    expect(replyCodeIn('message size 1092 exceeds size limit 200 of server mx.example.jp[192.0.2.1]')).toBeNull();
    expect(replyCodeIn('message size 1092 exceeds size limit 452 of server mx.example.jp[192.0.2.1]')).toBeNull();
    expect(replyCodeIn('Delivery to 250 recipients failed after 421 attempts')).toBeNull();
    expect(replyCodeIn('connect to mx.example.jp[203.0.113.250]:25: Connection timed out')).toBeNull();
  });
});

describe('normalizeText and serverReplyIn', () => {
  it('joins a multi-line SMTP reply into one sentence', () => {
    expect(normalizeText('550-5.7.26 This mail is\n550-5.7.26 unauthenticated')).toBe('this mail is unauthenticated');
  });

  it('finds the remote reply inside a provider\'s explanation', () => {
    const text = 'Google tried to deliver your message. The error that the other server returned was: 550 5.1.1 User unknown';
    expect(serverReplyIn(text)).toBe('550 5.1.1 User unknown');
    expect(serverReplyIn('550 5.1.1 User unknown')).toBeNull();
  });
});

describe('classifyReason with the SMTP stage and the status of a "user unknown"', () => {
  it('reads "user unknown" under X.2.1 without a stage as the recipient\'s filter', () => {
    // Prepare
    const input = { diagnostic: '550 5.2.1 <shiro@closed.example.org>... User Unknown', status: '5.2.1', replyCode: 550 };
    // Act
    const c = classifyReason(input);
    // Assess
    expect(c.reason).toBe('filtered');
    expect(c.hard).toBe(false);
  });

  it('keeps "user unknown" under X.2.1 a missing mailbox when it answered RCPT TO', () => {
    // Act
    const c = classifyReason({ diagnostic: '550 5.2.1 <shiro@closed.example.org>... User Unknown', status: '5.2.1', replyCode: 550, command: 'RCPT' });
    // Assess
    expect(c.reason).toBe('userunknown');
    expect(c.hard).toBe(true);
  });

  it('keeps "invalid recipient" a missing mailbox even after DATA', () => {
    // Act
    const c = classifyReason({ diagnostic: '550 5.5.0 Adresse destinataire invalide. Invalid recipient.', status: '5.5.0', replyCode: 550, command: 'DATA' });
    // Assess
    expect(c.reason).toBe('userunknown');
  });

  it('reads the provider wordings of the convention rows', () => {
    // Act
    const reasons = [
      '550 5.2.0 Mail rejete. Mail rejected. ofr_50',
      '554 Host network not allowed',
      '554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: a@example.jp',
      'Sorry, you are sending to/from an address that has been blacklisted',
      "You're sending this from a different address or alias using the 'Send mail as' feature.",
      '550 5.1.0 <news@example.jp> sender rejected. Refer to Error Codes section for more information. AUP#CDRBL',
      '550 5.1.0 <news@example.jp> sender rejected. Please see the error codes page. AUP#In-1310',
    ].map((diagnostic) => classifyReason({ diagnostic }).reason);
    // Assess
    expect(reasons).toEqual(['spamdetected', 'policyviolation', 'norelaying', 'rejected', 'rejected', 'blocked', 'toomanyconn']);
  });

  it('reads "Insecure Mail Relay" as a refusal to relay and a Mimecast spam signature as spam', () => {
    // Act
    const relay = classifyReason({ diagnostic: '550 Insecure Mail Relay', command: 'MAIL' });
    const mimecast = classifyReason({ diagnostic: '554 email rejected due to security policies - MCSpamSignature.sa.41.7' });
    // Assess
    expect(relay.reason).toBe('norelaying');
    expect(mimecast.reason).toBe('spamdetected');
  });

  it('reads the remote reply inside Amazon SES\'s "5.1.0 - Unknown address error" title, not the title', () => {
    // Prepare: SES titles the reply with its own label; the reply refuses the envelope sender
    const diagnostic = "5.1.0 - Unknown address error 550-'5.7.1 <0100018c@email-bounces.example.com>... Access denied' (delivery attempts: 0)";
    // Act
    const c = classifyReason({ diagnostic, status: '5.7.1', replyCode: 550, context: `The reason for the problem: ${diagnostic}` });
    // Assess
    expect(c.reason).toBe('securityerror');
  });

  it('does not read a mailbox status on a refused connection as a disabled mailbox', () => {
    // Prepare: a greeting that turns the client away, with a mailbox status (X.2.1) the server misused
    const input = { diagnostic: '421 4.2.1 Service refused, please try later.', status: '4.2.1', replyCode: 421, command: 'CONN' as const };
    // Act
    const atConnection = classifyReason(input);
    const atRcpt = classifyReason({ ...input, command: 'RCPT' });
    // Assess
    expect(atConnection.reason).toBe('blocked');
    expect(atRcpt.reason).toBe('suspend');
  });
});

describe('classifyReason at MAIL FROM', () => {
  it('reads a bare "Access denied" to MAIL FROM as the sender refused, a stated AUTH need as security', () => {
    // Act
    const bare = classifyReason({ diagnostic: '550 5.7.1 Access denied', status: '5.7.1', replyCode: 550, command: 'MAIL' });
    const auth = classifyReason({ diagnostic: '550 Unauthenticated senders not allowed', status: '5.0.0', replyCode: 550, command: 'MAIL' });
    // Assess
    expect(bare.reason).toBe('rejected');
    expect(auth.reason).toBe('securityerror');
  });
});

describe('commandIn on reporters\' stage phrases', () => {
  it('reads qmail\'s and DragonFly\'s RCPT wording as RCPT', () => {
    // Act
    const stages = ['192.0.2.153 does not like recipient.\nRemote host said: 550 5.2.1 <a@example.jp>... User Unknown', 'mx.example.net [192.0.2.25] did not like our RCPT TO:\n550 5.2.1 <a@example.net>: User unknown'].map(commandIn);
    // Assess
    expect(stages).toEqual(['RCPT', 'RCPT']);
  });

  it('reads the "SMTP:RCPT host" wording as RCPT', () => {
    // Act
    const stage = commandIn('SMTP:RCPT host 192.0.2.8: 553 5.3.0 <a@example.com>... No such user here');
    // Assess
    expect(stage).toBe('RCPT');
  });

  it('reads a Sendmail transcript refusal under ">>> DATA" as DATA', () => {
    // Act
    const stage = commandIn('>>> DATA\n<<< 550 5.0.0 <a@example.jp>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)');
    // Assess
    expect(stage).toBe('DATA');
  });
});

describe('classifyReason on Status 5.0.0 with wordings no phrase row knows', () => {
  it.each([
    ['550 Mailbox error for kim', 'userunknown'], // RFC 5321 550 "mailbox unavailable", about a mailbox
    ['550 kim@example.org: recipient problem', 'userunknown'],
    ['553 mailbox kim: not here', 'userunknown'], // 553 "mailbox name not allowed"
    ['552 mailbox kim: storage problem', 'mailboxfull'], // 552 "exceeded storage allocation"
    ['552 message of 20480000 bytes refused', 'mesgtoobig'], // RFC 1870: 552 for a message over SIZE
  ])('reads the reply code with what %j talks about as %s', (diagnostic, reason) => {
    // Act
    const c = classifyReason({ diagnostic, status: '5.0.0' });
    // Assess
    expect(c).toMatchObject({ reason, basis: 'reply-code' });
  });

  it('leaves a reply that names nothing undecided (onhold), and lets a precise status decide over the words', () => {
    expect(classifyReason({ diagnostic: '550 rejected', status: '5.0.0' }).reason).toBe('onhold');
    expect(classifyReason({ diagnostic: '550 mailbox kim: see you', status: '5.2.2' }).reason).toBe('mailboxfull');
  });

  it.each([
    ["552-5.2.3 Your message exceeded Google's message size limits", 'mesgtoobig'],
    ['552 5.3.4 Error: message file too big', 'mesgtoobig'],
    ['550 The message was rejected: size of message exceeds limit', 'mesgtoobig'],
    ["550 The user's mailbox is over the allowed size", 'mailboxfull'],
    ['550 Recipient kim@example.org has exceeded their storage quota', 'mailboxfull'],
    ['550 Bad destination mailbox address', 'userunknown'],
    ['550 5.1.1 <kim@example.org>: Recipient address rejected: unverified address: host mx.example.org said: 550 no', 'userunknown'],
    ['550 Recipient address is invalid', 'userunknown'],
    ['550 mx.example.org: Name or service not known', 'hostunknown'],
    ['The users mailfolder is over the allowed quota (size). (#5.2.2)', 'mailboxfull'],
    ['550 The mailbox you tried to reach is full', 'mailboxfull'],
    ['552 Requested mail action aborted: exceeded mailsize limit', 'mesgtoobig'],
  ])('knows the documented wording %j as %s', (diagnostic, reason) => {
    expect(classifyReason({ diagnostic, status: '5.0.0' }).reason).toBe(reason);
  });
});
