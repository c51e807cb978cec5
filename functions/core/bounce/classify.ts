/**
 * From what a bounce says about one recipient (diagnostic text, enhanced status, reply code,
 * DSN action, the SMTP command that failed) to a reason in Sisimai's vocabulary and hard/soft.
 * The knowledge is in tables.ts; this file only decides the order in which it is consulted.
 */
import type { BounceReason } from '../results.ts';
import { ENHANCED_STATUS, REPLY_CODE, REPLY_CODE_WITH_STATUS } from './fields.ts';
import { COMMAND_RULES, HARD_REASONS, REASON_PHRASES, REPLY_CODE_REASONS, REPLY_CODE_WORDS, STATUS_REASONS, type PhraseRow, type SmtpCommand } from './tables.ts';

/** What is known about one failed recipient. */
export interface ClassifyInput {
  readonly diagnostic?: string | null;
  /** Enhanced status, e.g. `5.2.2`. */
  readonly status?: string | null;
  readonly replyCode?: number | null;
  /** The DSN Action field (`failed`, `delayed`, `delivered`, …). */
  readonly action?: string | null;
  /** The SMTP command the remote server was answering when it refused. */
  readonly command?: SmtpCommand | null;
  /** Other text of the bounce, consulted only when the diagnostic decides nothing. */
  readonly context?: string | null;
  /** Delivery was to a local program (a pipe, `x-unix` diagnostics): vague failures are its errors. */
  readonly program?: boolean;
}

/** The decision, with what it rests on (for notes and tests). */
export interface Classification {
  readonly reason: BounceReason;
  readonly hard: boolean;
  readonly basis: 'action' | 'phrase' | 'status' | 'reply-code' | 'context' | 'command' | 'none';
}

// RFC 3463 X.2.1 "mailbox disabled, not accepting messages" says the mailbox exists but refuses:
// a "user unknown" text under it is the recipient's filter speaking, unless the server said it
// at RCPT TO, where many servers (Sendmail's default) send X.2.1 for any unknown address.
// X.7.1 "delivery not authorized, message refused" likewise names a refusal, not a missing mailbox.
const AFTER_DATA_STATUS: ReadonlySet<string> = new Set(['X.2.1', 'X.7.1']);

// The codes MTAs put on a refusal they do not classify (RFC 3463 "other or undefined" status, of
// any kind or of the mail system): under a bare "temporary failure" they leave it undecided (onhold).
const UNCLASSIFIED_STATUS: ReadonlySet<string> = new Set(['X.0.0', 'X.3.0']);

// Statuses of another subject than the recipient that decide nothing about it (protocol X.5.x,
// security "other" and "not authorized"): a weak statement that the recipient address was
// refused ("Recipient address rejected") says more than they do.
const NOT_ABOUT_RECIPIENT_STATUS = /^X\.(?:5\.\d+|7\.[01])$/;

// Causes that name no more than a system, a security or policy rule or the protocol being
// involved: a statement in the same reply that the recipient does not exist is more specific.
const YIELDS_TO_RECIPIENT: ReadonlySet<BounceReason> = new Set(['systemerror', 'securityerror', 'policyviolation', 'syntaxerror', 'onhold']);

// The rows that state the recipient does not exist (not the weak wrappers), in table order.
const RECIPIENT_ROWS: readonly PhraseRow[] = REASON_PHRASES.filter((r) => r.reason === 'userunknown' && !r.weak);

// The first row of RECIPIENT_ROWS that matches a (raw) text.
function recipientRowFor(text: string | null | undefined): PhraseRow | undefined {
  if (!text) return undefined;
  const normalized = normalizeText(text);
  return RECIPIENT_ROWS.find((r) => r.pattern.test(normalized));
}

const STATUS_INDEX = new Map(STATUS_REASONS.map((r) => [r.status, r]));

// A status this precise names the cause; a phrase only overrides it with a reason of the same family.
const DECISIVE_STATUS: Readonly<Record<string, readonly BounceReason[]>> = {
  'X.1.1': ['suspend', 'hasmoved', 'filtered', 'mailboxfull', 'speeding', 'mailererror'],
  'X.1.2': ['notaccept', 'networkerror'],
  'X.1.6': [],
  'X.1.7': [],
  'X.1.8': [],
  'X.2.2': [],
  'X.2.3': ['mesgtoobig'], // a text saying the message is too big for the system (Gmail's size limit under 5.2.3) is mesgtoobig
  'X.3.4': ['exceedlimit'],
  'X.4.7': ['networkerror'],
  'X.6.1': [],
  'X.7.20': [],
  'X.7.21': [],
  'X.7.22': [],
  'X.7.23': [],
  'X.7.24': [],
  'X.7.25': [],
  'X.7.26': [],
  'X.7.27': [],
  'X.4.312': [],
  'X.4.316': [],
  'X.7.509': [],
  'X.7.606': [],
  'X.7.650': [],
};

/** Lower case, one space between words, SMTP continuation prefixes removed. */
export function normalizeText(text: string): string {
  return text
    .toLowerCase()
    .replace(/<<<|>>>/g, ' ')
    .replace(/(^|\s)[245]\d\d[- ](?:#?[245]\.\d{1,3}\.\d{1,3}\s)?/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

// The phrase rows in groups of consecutive rows, each group also as one alternation: a text that
// matches no row of a group is passed over in one test instead of one per row (the table is
// consulted for most recipients; testing row by row was most of the classifier's time). Each
// alternative ends in an empty capture, so a match also names its row: at any one position the
// alternation takes the first row that matches there, and the lowest row over every position
// that matches is the first row that matches at all. The rows are never compiled on their own,
// which in a short process was most of their cost. A row with flags, a back-reference or a
// capture of its own cannot join an alternation (the captures number the rows) and forms a
// group of its own.
const PHRASE_GROUP_SIZE = 12;
interface PhraseGroup {
  /** The rows as one alternation (global, for a scan), or null for a row tested alone. */
  readonly any: RegExp | null;
  readonly rows: readonly PhraseRow[];
}
const PHRASE_GROUPS: readonly PhraseGroup[] = (() => {
  const groups: PhraseGroup[] = [];
  let pending: PhraseRow[] = [];
  const close = () => {
    if (!pending.length) return;
    // Named groups become plain non-capturing ones: only the row markers capture.
    const source = pending.map((r) => `(?:${r.pattern.source.replace(/\(\?<([A-Za-z_$][\w$]*)>/g, '(?:')})()`).join('|');
    groups.push({ any: new RegExp(source, 'g'), rows: pending });
    pending = [];
  };
  for (const row of REASON_PHRASES) {
    const src = row.pattern.source;
    // A capture is an unescaped "(" not followed by "?" (one inside a class or after "\\" is
    // taken for one too: the row is then only tested alone).
    if (row.pattern.flags.replace(/[gy]/g, '') !== '' || /\\[1-9]|\\k</.test(src) || /(?<!\\)\((?!\?)/.test(src)) {
      close();
      groups.push({ any: null, rows: [row] });
      continue;
    }
    pending.push(row);
    if (pending.length === PHRASE_GROUP_SIZE) close();
  }
  close();
  return groups;
})();

/** The first phrase row that matches any of the (raw) texts: the most specific phrase wins. */
export function phraseRowFor(...texts: (string | null | undefined)[]): PhraseRow | undefined {
  const normalized = texts.filter((t): t is string => Boolean(t)).map(normalizeText).filter(Boolean);
  if (!normalized.length) return undefined;
  for (const group of PHRASE_GROUPS) {
    const row = firstRowOf(group, normalized);
    if (row) return row;
  }
  return undefined;
}

// The first row of the group that matches one of the texts.
function firstRowOf(group: PhraseGroup, texts: readonly string[]): PhraseRow | undefined {
  const re = group.any;
  if (!re) return texts.some((t) => group.rows[0]!.pattern.test(t)) ? group.rows[0] : undefined;
  let best = group.rows.length;
  for (let t = 0; t < texts.length; t++) {
    const text = texts[t]!;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while (best > 0 && (m = re.exec(text)) !== null) {
      // Capture i + 1 marks row i; only rows before the best so far can improve on it.
      for (let i = 0; i < best; i++) {
        if (m[i + 1] !== undefined) {
          best = i;
          break;
        }
      }
      re.lastIndex = m.index + 1;
    }
  }
  return group.rows[best];
}

/** The reason the first matching phrase row names, or undefined. */
export function reasonFromPhrase(text: string | null | undefined): BounceReason | undefined {
  return phraseRowFor(text)?.reason;
}

/** The reason an enhanced status code names on its own, or undefined for vague codes. */
export function reasonFromStatus(status: string | null | undefined): BounceReason | undefined {
  const key = statusKey(status);
  return key ? STATUS_INDEX.get(key)?.reason : undefined;
}

function statusKey(status: string | null | undefined): string | null {
  if (!status) return null;
  const m = ENHANCED_STATUS.exec(status);
  return m ? `X.${m[2]}.${m[3]}` : null;
}

/** The enhanced status code in a text, or null. */
export function statusIn(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = ENHANCED_STATUS.exec(text);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
}

/**
 * The SMTP reply code in a text: the three digits that open a reply, never another number of
 * the text (see {@link REPLY_CODE}); null when the text quotes no reply.
 * @example replyCodeIn('host mx.example.jp said: 552 5.2.2 Mailbox full') // 552
 * @example replyCodeIn('message size 1092 exceeds size limit 200 of server mx.example.jp') // null
 */
export function replyCodeIn(text: string | null | undefined): number | null {
  if (!text) return null;
  const m = REPLY_CODE.exec(text);
  if (m) return Number(m[1]);
  const withStatus = REPLY_CODE_WITH_STATUS.exec(text);
  return withStatus ? Number(`${withStatus[1]}${withStatus[2]}`) : null;
}

/**
 * The remote server's own reply inside a longer diagnostic ("Google tried … The error that
 * the other server returned was: 550 5.7.1 …" → "550 5.7.1 …"); null when there is none.
 */
export function serverReplyIn(text: string | null | undefined): string | null {
  if (!text) return null;
  const m = /(?:^|[\s:'"(>\]])([45]\d\d[ -](?:#?[245]\.\d{1,3}\.\d{1,3})?[^\n]*)$/.exec(text);
  if (!m || m.index === 0) return null;
  return m[1]!.trim();
}

// Matched against the lower-cased text: without the i flag V8 can skip ahead on literal text,
// which matters because these run over whole explanations.
const COMMANDS: readonly [SmtpCommand, RegExp][] = [
  ['DATA', /smtp command\W*\n\s*data\b|\bsmtp:data host\b|in reply to (?:end of )?data command|after (?:end of )?data\b|did not like our (?:final )?data|\(data\)|for text command|\[data\]|error following data command/],
  ['RCPT', /in reply to rcpt to command|\bsmtp:rcpt host\b|after rcpt(?: to)?\b|\[rcpt_to\]|error following rcpt command|after rcpt command|did not like our rcpt|does not like recipient/],
  ['MAIL', /in reply to mail from command|\bsmtp:mail host\b|after mail from\b|\[mail_from\]|error following mail command/],
  ['HELO', /in reply to (?:helo|ehlo) command|after (?:helo|ehlo)\b|my name was rejected/],
  ['CONN', /refused to talk to me|after (?:the )?initial connection|in reply to (?:the )?(?:initial )?(?:greeting|banner)|on (?:initial )?connect\b/],
];

/**
 * The SMTP command a refusal answered: from a transcript (the last `>>> CMD` before the first
 * 4xx/5xx `<<<` reply) or from phrases such as "(in reply to RCPT TO command)".
 */
export function commandIn(text: string | null | undefined): SmtpCommand | null {
  if (!text) return null;
  const lower = text.toLowerCase();
  const tail = lastTranscript(lower);
  const transcript = /(?:>>>|sent\s*<<<|\bin:)\s*(helo|ehlo|mail from|rcpt to|data)\b[\s\S]*?(?:<<<|received\s*>>>|\bout:)\s*[45]\d\d/.exec(tail);
  // Under PIPELINING a refusal can show up under ">>> DATA" followed by "503 Need RCPT": the
  // server gave its answer at the DATA stage, and it is read as such (a "user unknown" said
  // there covers for a filter, see the phrase rows' `afterData`).
  if (transcript) {
    return commandName(transcript[1]!);
  }
  for (let i = 0; i < COMMANDS.length; i++) if (COMMANDS[i]![1].test(lower)) return COMMANDS[i]![0];
  return null;
}

// The tail of a (lower-cased) transcript from its last client command that got a refusal.
function lastTranscript(text: string): string {
  const re = /(?:>>>|sent\s*<<<|\bin:)\s*(?:helo|ehlo|mail from|rcpt to|data)\b/g;
  let best = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const after = text.slice(m.index + m[0].length);
    const reply = /(?:<<<|received\s*>>>|\bout:)\s*([2-5])\d\d/.exec(after);
    if (reply && (reply[1] === '4' || reply[1] === '5')) {
      best = m.index;
      break;
    }
  }
  return best < 0 ? '' : text.slice(best);
}

// `s` comes from the lower-cased text commandIn reads.
function commandName(s: string): SmtpCommand {
  return s === 'data' ? 'DATA' : s.startsWith('rcpt') ? 'RCPT' : s.startsWith('mail') ? 'MAIL' : 'HELO';
}

/**
 * Decides the reason for one recipient.
 * @example
 * classifyReason({ diagnostic: '552 5.2.2 <taro@example.jp>: Mailbox full', status: '5.2.2', replyCode: 552 })
 * // { reason: 'mailboxfull', hard: false, basis: 'status' }
 */
export function classifyReason(input: ClassifyInput): Classification {
  const action = input.action?.trim().toLowerCase() ?? '';
  if (/^(?:delivered|deliverable|relayed|expanded)/.test(action)) return { reason: 'delivered', hard: false, basis: 'action' };
  const status = input.status ?? statusIn(input.diagnostic);
  const replyCode = input.replyCode ?? replyCodeIn(input.diagnostic);
  const delayed = /^delayed/.test(action);
  const temporary = status ? status.startsWith('4') : replyCode ? replyCode < 500 : delayed;
  const permanent = !temporary && !delayed;
  // A delay warning, or a failure report quoting a temporary error (or none at all): the queue
  // is giving up on a condition that was never permanent.
  const gaveUp = delayed || temporary || (!status && !replyCode);

  // Before any envelope no mailbox or address has been named: a mailbox or address status on a
  // refused connection (a "421 4.2.1 Service refused" greeting) does not describe a mailbox.
  const statusKeyOf = statusKey(status) ?? '';
  const key = input.command === 'CONN' && /^X\.[12]\./.test(statusKeyOf) ? '' : statusKeyOf;
  const statusRow = STATUS_INDEX.get(key);
  const byStatus = statusRow && gaveUp && statusRow.whenFinal ? statusRow.whenFinal : statusRow?.reason;
  const reply = serverReplyIn(input.diagnostic);
  let row = (reply ? phraseRowFor(reply) : undefined) ?? phraseRowFor(input.diagnostic);
  // A vague cause (a word about the system, security, policy or the protocol) yields to a plain
  // statement in the same final reply that the recipient does not exist: "550 User not found
  // (LDAP lookup)" is about the recipient, whatever the server consulted to say so.
  if (row && !row.weak && YIELDS_TO_RECIPIENT.has(row.reason) && !temporary && !delayed) row = recipientRowFor(input.diagnostic) ?? row;
  let vague = row?.weak === true;
  if (row?.weak) {
    // A generic wrapper yields to a precise phrase elsewhere in the report, then to the status.
    const better = phraseRowFor(input.context);
    if (better && !better.weak) {
      row = better;
      vague = false;
    } else if (byStatus && !(row.reason === 'onhold' && UNCLASSIFIED_STATUS.has(key)) && !(row.aboutRecipient && NOT_ABOUT_RECIPIENT_STATUS.test(key))) row = undefined;
  }
  let reason: BounceReason | undefined;
  let basis: Classification['basis'] = 'none';
  const decisive = DECISIVE_STATUS[key];
  // No status, or one that says "other or undefined": the reply code and its words decide.
  const vagueStatus = !status || /^\d\.0\.0$/.test(status);
  let byWords: BounceReason | undefined;
  if (byStatus && decisive && (!row || !decisive.includes(row.reason))) {
    reason = byStatus;
    basis = 'status';
  } else if (row) {
    reason = rowReason(row, { gaveUp, temporary, command: input.command ?? null, statusKey: key });
    basis = 'phrase';
  } else if (byStatus) {
    reason = byStatus;
    basis = 'status';
  } else if (replyCode && vagueStatus && (byWords = replyCodeWords(replyCode, input.diagnostic))) {
    reason = byWords;
    basis = 'reply-code';
  } else if (replyCode && REPLY_CODE_REASONS[replyCode] && vagueStatus) {
    reason = REPLY_CODE_REASONS[replyCode];
    basis = 'reply-code';
  } else {
    const ctx = phraseRowFor(input.context);
    if (ctx) {
      reason = rowReason(ctx, { gaveUp, temporary, command: input.command ?? null, statusKey: key });
      basis = 'context';
    }
  }
  if ((delayed || temporary) && (!reason || reason === 'undefined')) {
    reason = 'expired';
    basis = 'action';
  }
  if (input.program && (!reason || reason === 'undefined' || vague)) {
    reason = 'mailererror';
    basis = 'phrase';
  }
  // A decisive status code already names the cause; the SMTP stage only reinterprets text.
  // A generic wrapper ("Access denied") under a vague status says nothing the stage does not.
  const wrapperOnly = vague && !decisive;
  if (input.command && (basis !== 'status' || wrapperOnly)) {
    const rule = COMMAND_RULES.find((r) => r.command === input.command && (!r.wrapperOnly || wrapperOnly) && (reason === undefined ? r.from.includes('undefined') : r.from.includes(reason)));
    if (rule) {
      reason = rule.to;
      basis = 'command';
    }
  }
  // The report says this recipient failed, and says something about it, but nothing that names
  // a cause: Sisimai's `onhold` (undecided). `undefined` stays for a recipient with nothing to read.
  if (reason === undefined && input.diagnostic?.trim()) {
    reason = 'onhold';
    basis = 'none';
  }
  reason ??= 'undefined';
  return { reason, hard: isHard(reason, permanent || reason === 'userunknown'), basis };
}

// The reason a reply code gives together with what its reply talks about (REPLY_CODE_WORDS).
function replyCodeWords(replyCode: number, diagnostic: string | null | undefined): BounceReason | undefined {
  if (!diagnostic) return undefined;
  const text = normalizeText(diagnostic);
  return REPLY_CODE_WORDS.find((r) => r.code === replyCode && r.words.test(text))?.reason;
}

function rowReason(row: PhraseRow, when: { gaveUp: boolean; temporary: boolean; command: SmtpCommand | null; statusKey: string }): BounceReason {
  if (row.afterData && (when.command === 'DATA' || (AFTER_DATA_STATUS.has(when.statusKey) && when.command !== 'RCPT' && !row.aboutRecipient))) return row.afterData;
  if (when.temporary && row.ifTemporary) return row.ifTemporary;
  if (when.gaveUp && row.whenFinal) return row.whenFinal;
  return row.reason;
}

/** Hard means the address itself is bad (Sisimai's "hard bounce"): only those reasons, and only when permanent. */
export function isHard(reason: BounceReason, permanent: boolean): boolean {
  return HARD_REASONS.has(reason) && permanent;
}
