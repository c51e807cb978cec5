/**
 * The command table of `mailhealth`: what each command is called, its usage, every option with
 * its default, examples and exit codes. `--help` and usage errors are served from here without
 * loading the command's implementation (loaders.ts imports it only when the command runs). The
 * commands parse their arguments here, so this module imports none of them.
 *
 * Adding a command is one entry in COMMANDS below: its name, summary, usage line, options (the
 * same spec the command then parses with `parseCommandArgs`), at least two examples and its exit
 * codes; and one line in loaders.ts naming its implementation. The top-level help, `--help` and
 * dispatch all read this table.
 *
 * Keep this module light (it is loaded on every start): node built-ins and `#core/errors.ts` only.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '#core/errors.ts';

/** One option of a command, as `parseArgs` reads it and `--help` shows it. */
export interface OptionSpec {
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  /** The option may be given several times; its values are collected in order. */
  readonly multiple?: boolean;
  /** The placeholder shown after a string option in help, e.g. `FILE`. */
  readonly value?: string;
  /** One line: what it does. */
  readonly description: string;
  /** What applies when the option is not given, as help shows it (`off` for flags). */
  readonly default: string;
}

/** One command of the table. */
export interface CommandSpec {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  /** The usage line after `mailhealth `. */
  readonly usage: string;
  /** What the positional arguments are, when the command takes any. */
  readonly operands?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Whole command lines, each with a one-line comment. */
  readonly examples: readonly [Example, Example, ...Example[]];
  /** The exit codes, one line each. */
  readonly exitCodes: readonly string[];
  /**
   * A command that runs until stopped: the first Ctrl-C (or SIGTERM) asks it to finish what it
   * is doing (io.stopSignal). Any other command ends at once on Ctrl-C, as programs do.
   */
  readonly runsUntilStopped?: true;
}

interface Example {
  readonly command: string;
  readonly comment: string;
}

/** Looked for in the working directory when --config is not given (`mailhealth init` writes it there). */
export const DEFAULT_CONFIG_FILE = 'mailhealth.config.json';

const MONITORING_EXIT_CODES = ['0  OK', '1  WARNING', '2  CRITICAL', '3  UNKNOWN: bad config or usage'];

/** Every command, in the order the top-level help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'check',
    summary: 'one canary round per target: ports, a timed SMTP session, findings',
    usage: 'check [--config F] [--target NAME] [--json] [--state DIR]',
    options: {
      config: { type: 'string', short: 'c', value: 'F', description: 'the config file (JSON with comments)', default: './mailhealth.config.json' },
      target: { type: 'string', short: 't', value: 'NAME', description: 'check only this target', default: 'every target' },
      json: { type: 'boolean', description: 'print the JSON report (its fields: docs/REFERENCE.md) instead of the human one', default: 'off' },
      state: { type: 'string', value: 'DIR', description: 'record the round there and send the alerts it raises', default: 'none: nothing recorded' },
    },
    examples: [
      { command: 'mailhealth check --config mailhealth.config.json', comment: 'every target, human report' },
      { command: 'mailhealth check --target shop --json', comment: 'one target as JSON, for scripts and monitoring' },
    ],
    exitCodes: MONITORING_EXIT_CODES,
  },
  {
    name: 'bounce',
    summary: 'classify returned mail (.eml files, folders, mbox, or a paste on stdin)',
    usage: 'bounce FILE_OR_DIR...|- [--json|--jsonl] [--summary] [--quiet] [--state DIR] [--jobs N]',
    operands: 'FILE_OR_DIR  a message (.eml), an mbox file, or a folder (searched for *.eml); - reads stdin',
    options: {
      json: { type: 'boolean', description: 'one JSON document (its fields: docs/REFERENCE.md), written as results come', default: 'off' },
      jsonl: { type: 'boolean', description: 'one JSON line per message, for pipes', default: 'off' },
      summary: { type: 'boolean', description: 'only the summary: counts by reason, top recipient domains (large inputs get it after the table)', default: 'off' },
      quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr (shown only when stderr is a terminal)', default: 'off' },
      state: { type: 'string', value: 'DIR', description: "the local state, to take a canary's recipients from its record", default: 'none' },
      jobs: { type: 'string', short: 'j', value: 'N', description: 'classify on N threads, this one and N-1 workers, for 48 files or more or an mbox (helps on an idle multi-core machine)', default: '1' },
    },
    examples: [
      { command: 'mailhealth bounce returned/ --summary', comment: 'a folder of .eml files: counts by reason and domain' },
      { command: 'mailhealth bounce export.mbox --jsonl | jq -c "select(.isBounce)"', comment: 'a mailbox, one line per message' },
      { command: 'xclip -o | mailhealth bounce -', comment: 'a bounce pasted from a mail client' },
    ],
    exitCodes: ['0  no failure found', '1  only temporary failures (delays, transient reasons)', '2  a failure the sender must act on (invalid address, mailbox full, too large, blocked, …)', '3  bad usage, an unreadable input, or no message read at all'],
  },
  {
    name: 'address',
    summary: 'diagnose recipient addresses (typos, carrier addresses, full-width characters)',
    usage: 'address ADDR... [--json] [--dns]',
    operands: 'ADDR  an address as the customer typed it (quote it for the shell)',
    options: {
      json: { type: 'boolean', description: 'print the JSON report (its fields: docs/REFERENCE.md)', default: 'off' },
      dns: { type: 'boolean', description: 'also ask DNS whether the domain has a mail server', default: 'off' },
    },
    examples: [
      { command: "mailhealth address 'taro.@docomo.ne.jp' 'shop＠example．jp'", comment: 'human report in the language of LANG' },
      { command: 'mailhealth address --json info@gmial.com', comment: 'JSON, with the suggested address' },
    ],
    exitCodes: ['0  every address is fine', '1  warnings', '2  errors', '3  bad usage'],
  },
  {
    name: 'dns',
    summary: "a sending domain's SPF, DMARC, DKIM keys and MX; a sending server's reverse DNS and blocklists",
    usage: 'dns [DOMAIN...] [--selector NAME]... [--ip ADDR]... [--dnsbl ZONE]... [--dns-server HOST[:PORT]] [--json]',
    operands: 'DOMAIN  the domain of your sending address (the part after @)',
    options: {
      selector: { type: 'string', short: 's', multiple: true, value: 'NAME', description: 'a DKIM selector whose key to check (the s= of your signatures)', default: 'none: no DKIM key checked' },
      ip: { type: 'string', multiple: true, value: 'ADDR', description: "a sending server's address: reverse DNS and blocklists", default: 'none' },
      dnsbl: { type: 'string', multiple: true, value: 'ZONE', description: 'a blocklist to ask about --ip (replaces the default list)', default: 'zen.spamhaus.org, bl.spamcop.net, b.barracudacentral.org, psbl.surriel.com' },
      'dns-server': { type: 'string', value: 'HOST[:PORT]', description: 'send every lookup to this DNS server', default: "the system's resolvers" },
      json: { type: 'boolean', description: 'print the JSON report (its fields: docs/REFERENCE.md)', default: 'off' },
    },
    examples: [
      { command: 'mailhealth dns example.jp --selector mail2025', comment: 'SPF, DMARC, MX and the DKIM key of selector mail2025' },
      { command: 'mailhealth dns --ip 203.0.113.25 --json', comment: "a sending server's reverse DNS and blocklist listings, as JSON" },
      { command: 'mailhealth dns example.jp --dns-server 127.0.0.1:5353', comment: 'every lookup to a DNS server of your choice' },
    ],
    exitCodes: [...MONITORING_EXIT_CODES.slice(0, 3), '3  UNKNOWN: bad usage, or a DNS server that did not answer'],
  },
  {
    name: 'dmarc',
    summary: 'read DMARC aggregate and TLS reports: who sends as your domain, and does it pass',
    usage: 'dmarc FILE_OR_DIR...|- [--json] [--domain D] [--state DIR] [--dns-server HOST[:PORT]] [--no-ptr]',
    operands: 'FILE_OR_DIR  a report (.xml, .xml.gz, .zip, .json, .json.gz), a saved report mail (.eml), or a folder of them; - reads stdin',
    options: {
      json: { type: 'boolean', description: 'print the JSON report', default: 'off' },
      domain: { type: 'string', value: 'D', description: 'only the reports about this domain', default: 'every domain' },
      state: { type: 'string', value: 'DIR', description: "also count as your own mail the senders that passed in the state's reports (read only)", default: 'none' },
      'dns-server': { type: 'string', value: 'HOST[:PORT]', description: "ask this DNS server for the sources' reverse names", default: "the system's resolvers" },
      'no-ptr': { type: 'boolean', description: 'do not look up reverse names (offline)', default: 'off' },
    },
    examples: [
      { command: 'mailhealth dmarc ~/Downloads/google.com!example.jp!1772323200!1772409599.zip', comment: 'one report from Google: sources, results, what to do' },
      { command: 'mailhealth dmarc reports/ --domain example.jp --json', comment: 'a folder of reports and report mails, one domain, as JSON' },
      { command: 'mailhealth dmarc reports/ --state .mailhealth', comment: 'with the senders the monitor already knows as your own' },
    ],
    exitCodes: ['0  all mail passes', '1  failures from unknown senders only (or TLS failures)', "2  a sender of the domain's own mail fails", '3  bad usage, or no input could be read'],
  },
  {
    name: 'run',
    runsUntilStopped: true,
    summary: 'the scheduled loop on this machine (no config: the embedded demo)',
    usage: 'run [--config F] [--state DIR] [--once] [--rounds N] [--interval SECONDS] [--drain SECONDS]',
    options: {
      config: { type: 'string', short: 'c', value: 'F', description: 'the config file', default: './mailhealth.config.json, else the demo' },
      state: { type: 'string', value: 'DIR', description: 'state, history and report (the demo keeps its own in DIR/demo, started afresh each time)', default: '.mailhealth' },
      once: { type: 'boolean', description: 'one round, exit with its status', default: 'off' },
      rounds: { type: 'string', value: 'N', description: 'stop after N rounds', default: 'run until Ctrl-C' },
      interval: { type: 'string', value: 'SECONDS', description: "seconds between rounds, overriding the config's schedule", default: 'the schedule (demo: 10)' },
      drain: { type: 'string', value: 'SECONDS', description: 'with --once or --rounds: how long to wait after the last round for the mail it sent (0: do not wait)', default: '60' },
    },
    examples: [
      { command: 'mailhealth run', comment: 'the demo world on 127.0.0.1 (what npm start runs)' },
      { command: 'mailhealth run --config mailhealth.config.json --once', comment: 'one round from cron, exit 0/1/2/3' },
    ],
    exitCodes: ['0  stopped (with --once: OK)', '1  WARNING (with --once)', '2  CRITICAL (with --once)', '3  bad config or usage'],
  },
  {
    name: 'report',
    summary: 'an HTML dashboard of the local history',
    usage: 'report [--state DIR] [--out FILE] [--lang ja|en]',
    options: {
      state: { type: 'string', value: 'DIR', description: 'the state directory to read', default: '.mailhealth' },
      out: { type: 'string', short: 'o', value: 'FILE', description: 'where to write the page', default: 'DIR/report.html' },
      lang: { type: 'string', value: 'ja|en', description: 'the language of the page', default: "the last run's, else LANG" },
    },
    examples: [
      { command: 'mailhealth report', comment: 'writes .mailhealth/report.html' },
      { command: 'mailhealth report --state .mailhealth/demo --out /tmp/mail-health.html --lang en', comment: "the demo's history, in English" },
    ],
    exitCodes: ['0  written', '3  bad usage or no state directory'],
  },
  {
    name: 'status',
    summary: 'one line per target, worst first: health, since when, failing step or finding, last round trip',
    usage: 'status [--state DIR] [--json]',
    options: {
      state: { type: 'string', value: 'DIR', description: 'the state directory to read', default: '.mailhealth' },
      json: { type: 'boolean', description: 'print one JSON document (status, counts, a row per target) instead of the table', default: 'off' },
    },
    examples: [
      { command: 'mailhealth status', comment: 'the fleet at a glance, failing targets first' },
      { command: 'mailhealth status --state .mailhealth --json | jq -r \'.targets[] | select(.health == "failing") | .name\'', comment: 'the names of the failing targets, for a script' },
    ],
    exitCodes: ['0  every target OK', '1  the worst target is WARNING', '2  the worst target is FAILING (CRITICAL)', '3  UNKNOWN: a target not checked yet, no target, bad usage or no state directory'],
  },
  {
    name: 'suppressions',
    summary: 'addresses to stop mailing or fix: hard bounces, mailboxes that stay full',
    usage: 'suppressions [--state DIR] [--json|--csv] [--since DATE] [--table NAME]',
    options: {
      state: { type: 'string', value: 'DIR', description: 'the state directory whose bounces to read', default: '.mailhealth' },
      json: { type: 'boolean', description: 'print the JSON list (its fields: docs/REFERENCE.md)', default: 'off' },
      csv: { type: 'boolean', description: 'print CSV for a mailing tool: address,reason,count,first_seen,last_seen,targets', default: 'off' },
      since: { type: 'string', value: 'DATE', description: 'only addresses that bounced at or after DATE (2026-03-01 or an ISO time)', default: 'all recorded' },
      table: { type: 'string', value: 'NAME', description: "read the AWS deployment's DynamoDB table instead (AWS credentials and region from the environment)", default: 'none: the state directory' },
    },
    examples: [
      { command: 'mailhealth suppressions', comment: 'the list from .mailhealth, as a table' },
      { command: 'mailhealth suppressions --csv --since 2026-03-01 > suppress.csv', comment: 'for import into a mailing tool' },
      { command: 'mailhealth suppressions --table MailHealth-StateTable --json', comment: 'the list of the AWS deployment' },
    ],
    exitCodes: ['0  listed (also when the list is empty)', '3  bad usage, or no state directory'],
  },
  {
    name: 'init',
    summary: 'write a commented starting config (no alert channel on) and its JSON Schema beside it',
    usage: 'init [--out F]',
    options: {
      out: { type: 'string', short: 'o', value: 'F', description: 'where to write the config; the schema goes beside it (mailhealth.config.schema.json)', default: './mailhealth.config.json' },
    },
    examples: [
      { command: 'mailhealth init', comment: 'mailhealth.config.json here, which check and run read by default' },
      { command: 'mailhealth init --out /etc/mailhealth/config.json', comment: 'somewhere else: then pass --config to check and run' },
    ],
    exitCodes: ['0  written', '3  a file is already there (never overwritten), or bad usage'],
  },
];

/** The command of that name, or undefined. */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `mailhealth --help` and `mailhealth` alone. */
export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = [
    'usage: mailhealth <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'mailhealth <command> --help' for its options, defaults and examples.",
    "'mailhealth --version' prints the version.",
  ];
  return `${lines.join('\n')}\n`;
}

/** `mailhealth <command> --help`: usage, every option with its default, examples, exit codes. */
export function commandHelp(spec: CommandSpec): string {
  const label = (name: string, o: OptionSpec) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' (repeatable)' : ''}`;
  const entries = Object.entries(spec.options);
  const width = Math.max(16, ...entries.map(([n, o]) => label(n, o).length)) + 2;
  const lines = [`usage: mailhealth ${spec.usage}`, '', spec.summary, ''];
  if (spec.operands) lines.push(`  ${spec.operands}`, '');
  lines.push('options:');
  for (const [name, o] of entries) lines.push(`  ${label(name, o).padEnd(width)}${o.description} (default: ${o.default})`);
  lines.push(`  ${'-h, --help'.padEnd(width)}this help`, '', 'examples:');
  for (const e of spec.examples) lines.push(`  ${e.command}`, `      ${e.comment}`);
  lines.push('', 'exit codes:', ...spec.exitCodes.map((c) => `  ${c}`));
  return `${lines.join('\n')}\n`;
}

/** The one-line usage to append to a usage error. */
export function usageLine(name: string): string {
  const spec = commandSpec(name);
  return spec ? `usage: mailhealth ${spec.usage}\nRun 'mailhealth ${name} --help' for details.` : 'usage: mailhealth <command> [options]';
}

/** True when the arguments ask for help (before any `--` end-of-options marker). */
export function asksForHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/**
 * Parses a command's arguments with its table entry (strict: an unknown option or a missing
 * value is a UsageError naming the command's usage, which the CLI turns into exit 3).
 */
export function parseCommandArgs(name: string, argv: readonly string[], options: { allowPositionals: boolean }) {
  const spec = commandSpec(name);
  if (!spec) throw new Error(`no command '${name}' in the command table`);
  const parseOptions: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const [key, o] of Object.entries(spec.options)) {
    parseOptions[key] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: parseOptions, allowPositionals: options.allowPositionals, strict: true });
    return { values: new ParsedOptions(values as Record<string, unknown>), positionals };
  } catch (err) {
    throw new UsageError(`${name}: ${err instanceof Error ? err.message : String(err)}\n${usageLine(name)}`, { cause: err });
  }
}

/** The option values of one parse, read by type. */
export class ParsedOptions {
  constructor(private readonly values: Readonly<Record<string, unknown>>) {}
  /** A flag: true when given. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }
  /** A string option's value, or undefined when not given. */
  text(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }
  /** A repeatable string option's values, in order (empty when not given). */
  texts(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
  }
}
