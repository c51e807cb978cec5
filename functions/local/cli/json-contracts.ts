/**
 * The machine-readable output of each command, as a contract: scripts, monitoring systems and
 * integrators parse it, so a field is added on purpose and never renamed. docs/REFERENCE.md
 * shows these schemas (`npm run docs`), and the tests validate every command's real output
 * against them (strict: a field not written here fails).
 *
 * Dev-only: the commands do not import this module (zod would grow every bundle); they write
 * their documents themselves, and the tests hold the two together.
 */
import { z } from 'zod';
import { PLACEMENT_VERDICTS } from '#core/placement/verdict.ts';
import { SMTP_STEPS } from '#core/findings.ts';
import { BOUNCE_REASONS } from '#core/results.ts';
import { suppressionCsv } from '#core/suppression/list.ts';

const status = z.enum(['ok', 'warning', 'critical', 'unknown']);
const overall = status.describe('the worst of the statuses below (`unknown`: something could not be checked)');
const severity = z.enum(['info', 'warning', 'critical']);
const localized = z.object({ en: z.string(), ja: z.string() }).strict();
const code = z.string().describe('a finding code (see "Finding codes")');
const reason = z.enum(BOUNCE_REASONS).describe('see "Bounce reasons"');

const finding = z
  .object({
    code,
    severity,
    step: z.enum(SMTP_STEPS).optional().describe('the SMTP step it is about'),
    recipient: z.string().optional().describe('the recipient it is about'),
    reply: z.string().optional().describe("the server's reply as sent"),
    message: localized.describe('what was found, in English and Japanese'),
    remedy: localized.describe('what to do'),
  })
  .strict();

const dnsFinding = z.object({ code, severity, message: localized, remedy: localized }).strict();

const lookupError = z.string().optional().describe('the lookup failed (e.g. `TXT example.jp: ETIMEOUT`): the record is unknown, not missing');

/** `check --json`. */
const checkJson = z
  .object({
    status: overall,
    targets: z.array(
      z
        .object({
          name: z.string(),
          status,
          canaryId: z.string().describe("the canary's id (ULID): also its Message-ID and VERP sender"),
          steps: z.array(
            z
              .object({
                step: z.enum(SMTP_STEPS),
                ok: z.boolean(),
                ms: z.number().describe('milliseconds'),
                reply: z.string().optional().describe("the server's reply (never the AUTH exchange)"),
                recipient: z.string().optional().describe('for `rcpt`: the recipient (RCPT runs once per recipient)'),
              })
              .strict(),
          ),
          ports: z.record(z.string(), z.enum(['open', 'refused', 'timeout', 'unreachable'])).describe('per probed port ("25", "587", "465")'),
          tls: z
            .object({
              version: z.string(),
              cipher: z.string(),
              certDaysLeft: z.number().nullable().describe('whole days until the certificate expires; null when unknown'),
              authorized: z.boolean(),
            })
            .strict()
            .optional()
            .describe('when TLS was negotiated'),
          extensions: z.record(z.string(), z.union([z.number(), z.array(z.string()), z.boolean()])).describe('EHLO extensions: SIZE as a number, AUTH as its mechanisms, others true'),
          findings: z.array(finding),
          placement: z
            .array(
              z
                .object({
                  seed: z.string().describe("the seed's name"),
                  address: z.string(),
                  verdict: z.enum(PLACEMENT_VERDICTS).describe('where the canary landed (`pending`: not found yet when the wait ended)'),
                  folder: z.string().nullable().describe('the IMAP folder it was found in'),
                  seconds: z.number().nullable().describe("from the provider accepting it to the receiver's arrival"),
                  receiverAuth: z
                    .object({ authservId: z.string(), spf: z.string().optional(), dkim: z.string().optional(), dmarc: z.string().optional(), arc: z.string().optional() })
                    .strict()
                    .optional()
                    .describe("the receiver's own Authentication-Results verdicts (`(none)`: Microsoft writes no authserv-id)"),
                  category: z.string().optional().describe("Gmail's category tab of an inbox canary"),
                })
                .strict(),
            )
            .optional()
            .describe('inbox placement per seed, for targets with seeds'),
        })
        .strict(),
    ),
  })
  .strict();

/** One message of `bounce --json`, and one line of `bounce --jsonl`. */
const bounceMessage = z
  .object({
    file: z.string().describe('the input it came from (`-` for stdin)'),
    isBounce: z.boolean().describe('false for mail that is no bounce (a delivered canary; an auto-reply, a read receipt or a challenge-response request read as such; anything else)'),
    recipients: z.array(
      z
        .object({
          recipient: z.string(),
          reason,
          status: z.string().nullable().describe('the RFC 3463 enhanced status, e.g. `5.2.2`'),
          replyCode: z.number().nullable().describe('the three digits that open the SMTP reply, never another number of the text'),
          hard: z.boolean().describe('the address itself is bad: sending again will not succeed'),
          diagnostic: z.string().nullable().describe("the remote server's words"),
          remoteMta: z.string().nullable(),
          canaryId: z.string().nullable().describe('the canary it returns, from VERP, X-Mail-Health-Canary or Message-ID'),
          recipientInferred: z.literal(true).optional().describe('the report did not name the recipient: taken from the canary record or the returned message'),
          recipientDomainInvalid: z.literal(true).optional().describe("the recipient's domain is no host name mail can be routed to (an underscore, a one-letter or numeric top label, a single label): kept as the report wrote it, with its cause"),
        })
        .strict(),
    ),
  })
  .strict();

/** `dns --json`. */
const dnsJson = z
  .object({
    status: overall,
    domains: z.array(
      z
        .object({
          domain: z.string(),
          status,
          records: z
            .object({
              spf: z.object({ records: z.array(z.string()), lookups: z.number().describe('DNS-querying terms counted (the limit is 10)'), ending: z.string().nullable().describe('the `all` term'), error: lookupError }).strict(),
              dmarc: z
                .object({
                  record: z.string().nullable(),
                  foundAt: z.string().nullable().describe('the domain whose `_dmarc` record applies (a parent covers subdomains)'),
                  policy: z.string().nullable(),
                  error: lookupError,
                  reports: z
                    .array(
                      z
                        .object({
                          tag: z.enum(['rua', 'ruf']),
                          address: z.string(),
                          domain: z.string(),
                          external: z.boolean().describe('at another organisation\'s domain: it must authorise the reports'),
                          recordName: z.string().nullable().describe('`<domain>._report._dmarc.<destination>`, for an external destination'),
                          authorized: z.boolean().nullable().describe('whether that record says v=DMARC1; null when not external or DNS did not answer'),
                        })
                        .strict(),
                    )
                    .optional()
                    .describe('where its reports go (`mailto:` of `rua=`/`ruf=`), when there are any'),
                })
                .strict(),
              mx: z.object({ exchanges: z.array(z.object({ exchange: z.string(), priority: z.number() }).strict()), nullMx: z.boolean(), error: lookupError }).strict(),
              dkim: z
                .record(
                  z.string(),
                  z
                    .object({
                      record: z.string().nullable(),
                      keyType: z.string().optional(),
                      bits: z.number().nullable().optional(),
                      revoked: z.boolean().optional(),
                      error: lookupError,
                    })
                    .strict(),
                )
                .optional()
                .describe('per selector, with --selector'),
            })
            .strict(),
          findings: z.array(dnsFinding),
        })
        .strict(),
    ),
    ips: z.array(
      z
        .object({
          ip: z.string(),
          status,
          records: z
            .object({
              ptr: z.object({ names: z.array(z.string()), confirmed: z.boolean().describe('a name resolves back to the address'), error: lookupError }).strict(),
              dnsbl: z.array(
                z
                  .object({
                    zone: z.string(),
                    listed: z.boolean().nullable().describe('null: the list did not answer usefully (unknown, never a listing)'),
                    codes: z.array(z.string()).describe('the 127.0.0.x answers'),
                    text: z.string().nullable(),
                    error: lookupError,
                  })
                  .strict(),
              ),
            })
            .strict(),
          findings: z.array(dnsFinding),
        })
        .strict(),
    ),
  })
  .strict();

/** `address --json`. */
const addressJson = z
  .object({
    addresses: z.array(
      z
        .object({
          input: z.string().describe('the address exactly as given'),
          normalized: z.string().nullable().describe('with the certain fixes only (full-width to ASCII, spaces removed, `,` to `.`); null when none can be made'),
          ok: z.boolean().describe('valid as written'),
          findings: z.array(z.object({ code, severity, suggestion: z.string().optional().describe('the whole address as probably meant'), message: localized }).strict()),
        })
        .strict(),
    ),
  })
  .strict();

/** `suppressions --json`. */
const suppressionsJson = z
  .object({
    addresses: z.array(
      z
        .object({
          address: z.string().describe('lower case'),
          reason: reason.describe('of its latest qualifying bounce'),
          count: z.number().describe('qualifying bounces recorded'),
          firstSeen: z.string().describe('ISO 8601 time'),
          lastSeen: z.string().describe('ISO 8601 time'),
          targets: z.array(z.string()).describe('whose mail bounced; empty for mail that matched no target'),
        })
        .strict(),
    ),
  })
  .strict();

/** One machine-readable output of a command. */
export interface OutputContract {
  /** The option that asks for it, e.g. `--json`. */
  readonly option: string;
  /** What it is, in a line. */
  readonly summary: string;
  /** The document (or, for `--jsonl`, each line). */
  readonly schema?: z.ZodType;
  /** For a text format: its first lines, as the code writes them. */
  readonly header?: string;
}

/** `status --json`. */
const statusJsonContract = z
  .object({
    status: overall.describe('the worst target (`unknown` when the state holds no target, or one never reported a round)'),
    generatedAt: z.string().describe('ISO time the view was made'),
    stateDir: z.string().describe('the state directory read'),
    lastRoundAt: z.string().nullable().describe('ISO start of the newest round of the local loop'),
    counts: z.object({ failing: z.number(), warning: z.number(), ok: z.number(), unknown: z.number() }).strict().describe('targets per health'),
    targets: z.array(
      z
        .object({
          name: z.string(),
          health: z.enum(['failing', 'warning', 'ok', 'unknown']).describe("the health state machine's verdict (`unknown`: no round yet)"),
          status,
          since: z.string().nullable().describe('ISO time the health has been what it is'),
          lastRoundAt: z.string().nullable(),
          lastRoundStatus: status.nullable(),
          problem: z
            .object({ step: z.enum(SMTP_STEPS).nullable(), code, severity: z.enum(['warning', 'critical']) })
            .strict()
            .nullable()
            .describe('the worst finding of the latest round'),
          roundTrip: z
            .object({
              canaryId: z.string(),
              sentAt: z.string(),
              state: z.enum(['arrived', 'late', 'on-the-way']),
              seconds: z.number().nullable().describe('from the provider accepting it to its arrival'),
            })
            .strict()
            .nullable()
            .describe('the newest canary that must arrive'),
          placement: z.object({ status, summary: z.string() }).strict().nullable().describe('inbox placement at the seeds, when the target has seeds'),
          dmarc: z
            .object({ domains: z.array(z.string()), day: z.string().nullable().describe('the latest report day (UTC)'), findings: z.array(z.string()).describe("that day's finding codes, worst first; empty: all passed") })
            .strict()
            .optional()
            .describe("the DMARC and TLS reports about the target's domains, when there are any"),
        })
        .strict(),
    ).describe('worst first'),
  })
  .strict();

/** `dmarc --json` (functions/local/cli/dmarc.ts). */
const dmarcSource = z
  .object({
    ip: z.string(),
    ptr: z.string().nullable().describe('its reverse name'),
    org: z.string().nullable().describe('the sending service the reverse name shows'),
    sender: z.string().describe('the organisation, the reverse name\'s domain, or the /24 (IPv6 /48) network'),
    count: z.number(),
    spf: z.string().describe('the raw SPF result'),
    dkim: z.string().describe('the raw DKIM result: pass when any signature verified'),
    dmarc: z.enum(['pass', 'fail']).describe('the aligned verdict'),
    spfAligned: z.boolean(),
    dkimAligned: z.boolean(),
    disposition: z.string().describe('none, quarantine or reject: the most severe applied'),
    known: z.boolean().describe("the domain's own mail: its sender passed DMARC aligned (in the files given, or the state's history)"),
    forwarded: z.boolean().describe('the receiver saw forwarding or a mailing list'),
    days: z.array(z.string()),
    reporters: z.array(z.string()),
  })
  .strict();
const dmarcJson = z
  .object({
    status: overall,
    reports: z.array(
      z
        .object({
          file: z.string(),
          kind: z.enum(['dmarc', 'tlsrpt']),
          org: z.string().nullable(),
          reportId: z.string().nullable(),
          domain: z.string().nullable(),
          begin: z.string().nullable(),
          end: z.string().nullable(),
          error: z.string().optional().describe('why this file (or archive entry) gave no report'),
          code: z.string().optional().describe('the refusal: TOO_LARGE, RATIO_EXCEEDED, XML_DOCTYPE, … (README "Bad input")'),
          skipped: z.array(z.string()).optional().describe('records left out of a report, each with why'),
        })
        .strict(),
    ),
    domains: z.array(
      z
        .object({
          domain: z.string(),
          status,
          messages: z.number(),
          passed: z.number().describe('messages that passed DMARC'),
          reporters: z.array(z.string()),
          policy: z.object({ p: z.string().nullable(), sp: z.string().nullable(), pct: z.number().nullable(), adkim: z.string().nullable(), aspf: z.string().nullable() }).strict().nullable(),
          days: z.array(z.object({ day: z.string(), messages: z.number(), passed: z.number() }).strict()),
          senders: z.array(z.object({ sender: z.string(), org: z.string().nullable(), known: z.boolean(), messages: z.number(), passed: z.number(), failed: z.number(), ips: z.array(z.string()) }).strict()),
          sources: z.array(dmarcSource).describe('failing first, then the busiest'),
          tls: z
            .object({
              successful: z.number(),
              failed: z.number(),
              enforced: z.boolean(),
              reporters: z.array(z.string()),
              failures: z.array(z.object({ resultType: z.string(), mx: z.string().nullable(), count: z.number(), days: z.array(z.string()) }).strict()),
              days: z.array(z.object({ day: z.string(), successful: z.number(), failed: z.number() }).strict()),
            })
            .strict()
            .nullable(),
          findings: z.array(finding),
          recommendation: z.object({ current: z.string(), suggested: z.enum(['none', 'quarantine', 'reject']), message: localized }).strict().nullable(),
        })
        .strict(),
    ),
  })
  .strict();

/** The machine-readable outputs, by command name. */
export const OUTPUT_CONTRACTS: Readonly<Record<string, readonly OutputContract[]>> = {
  check: [{ option: '--json', summary: 'one JSON document on stdout', schema: checkJson }],
  bounce: [
    { option: '--json', summary: 'one JSON document on stdout, written as results come', schema: z.object({ messages: z.array(bounceMessage) }).strict() },
    { option: '--jsonl', summary: 'one JSON object per line, per message: an element of `--json`\'s `messages`', schema: bounceMessage },
  ],
  dns: [{ option: '--json', summary: 'one JSON document on stdout', schema: dnsJson }],
  dmarc: [{ option: '--json', summary: 'one JSON document on stdout', schema: dmarcJson }],
  address: [{ option: '--json', summary: 'one JSON document on stdout', schema: addressJson }],
  suppressions: [
    { option: '--json', summary: 'one JSON document on stdout', schema: suppressionsJson },
    { option: '--csv', summary: 'RFC 4180 CSV with CRLF line ends, targets joined by `;`', header: suppressionCsv([]).trimEnd() },
  ],
  status: [{ option: '--json', summary: 'one JSON document on stdout', schema: statusJsonContract }],
};

/**
 * Validates a command's output against its contract; throws an error naming every field that
 * does not fit (tests call this on real outputs).
 * @example expectContract('check', '--json', JSON.parse(stdout))
 */
export function expectContract(command: string, option: string, doc: unknown): void {
  const contract = OUTPUT_CONTRACTS[command]?.find((c) => c.option === option);
  if (!contract?.schema) throw new Error(`no ${option} contract for ${command}`);
  const parsed = contract.schema.safeParse(doc);
  if (!parsed.success) throw new Error(`${command} ${option} breaks its contract: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
}
