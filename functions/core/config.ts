/**
 * The one config file read by the CLI and the CDK app (docs/REFERENCE.md "Config").
 * Validated with zod; `configJsonSchema()` derives the JSON Schema editors use. The TSDoc of
 * each field is its documentation: `npm run schema` puts it into the JSON Schema and `npm run
 * docs` into the reference (a `@scope local` or `@scope aws` tag says where a field applies).
 * Pure: the caller reads the file and passes the environment's language hint.
 */
import { z } from 'zod';
import { diagnoseAddress } from './address/index.ts';
import { ConfigError } from './errors.ts';
import type { Language, Localized } from './findings.ts';
import { languageFromLocale } from './language.ts';

/** Anything that ends up in an SMTP command or a header must be a single line. */
const singleLine = (what: string) =>
  z.string().min(1, `${what} must not be empty`).refine((s) => !/[\r\n]/.test(s), {
    message: `${what} must not contain CR or LF (they would inject SMTP commands or headers)`,
  });

// An address that certainly cannot be sent (critical finding) is refused at load, with the
// address diagnosis' own explanation; warnings are reported by configWarnings() instead.
const mailbox = (what: string) =>
  singleLine(what).superRefine((s, ctx) => {
    const critical = diagnoseAddress(s).findings.find((f) => f.severity === 'critical');
    if (critical) {
      const hint = critical.suggestion ? ` (did you mean ${critical.suggestion}?)` : '';
      ctx.addIssue({ code: 'custom', message: `${what} "${s}" is not a usable address: ${critical.code}: ${critical.message.en}${hint}` });
    }
  });

const hostname = (what: string) =>
  singleLine(what).refine((s) => /^[A-Za-z0-9.:\-[\]]+$/.test(s), {
    message: `${what} must be a host name or IP address`,
  });

const port = z.number().int().min(1).max(65535);

const authSchema = z
  .object({
    /** The user name for SMTP AUTH, usually the sending address. */
    user: singleLine('auth.user'),
    /**
     * The password inline: for a quick local try only, never commit it.
     * @scope local
     */
    password: z.string().optional(),
    /**
     * The environment variable that holds the password.
     * @scope local
     */
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    /**
     * The Secrets Manager secret that holds the password as plain text; required for every target with `auth` in AWS.
     * @scope aws
     */
    secretName: z.string().min(1).optional(),
    /**
     * When one secret holds the passwords of several targets as a JSON object
     * (`{"shop": "…", "clinic": "…"}`): the field holding this target's password.
     * @scope aws
     */
    secretKey: z.string().min(1).optional(),
  })
  .strict()
  .refine((a) => a.password !== undefined || a.passwordEnv !== undefined || a.secretName !== undefined, {
    message: 'auth needs one of password, passwordEnv or secretName',
  })
  .refine((a) => a.secretKey === undefined || a.secretName !== undefined, {
    message: 'auth.secretKey names a field of the secret auth.secretName, which is missing',
    path: ['secretKey'],
  });

export const targetSchema = z
  .object({
    /** The target's name in alerts, the report and the metrics (dimension `Target`): letters, digits, `-` and `_`. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'name: letters, digits, - and _ only (it becomes a metric dimension)'),
    /** The submission server: a host name or IP address. */
    host: hostname('host'),
    /** The submission port: 587 (STARTTLS) or 465 (TLS from the start). */
    port: port.default(587),
    /** `starttls`: plain text, then STARTTLS, required before AUTH; `implicit`: TLS from the first byte (465). */
    tls: z.enum(['starttls', 'implicit']).default('starttls'),
    /** A PEM file of extra trusted CA certificates (a private CA), relative to the config file. */
    ca: z.string().optional(),
    /** Host name the certificate must match, when `host` is an IP address. */
    servername: hostname('servername').optional(),
    /**
     * The name to announce in EHLO.
     * @default this machine's host name
     */
    ehloName: hostname('ehloName').optional(),
    /** SMTP AUTH; leave it out for a server that takes mail without a login. */
    auth: authSchema.optional(),
    /** The canary's sender (its From header); the envelope sender is the canary's VERP address at `bounceDomain`. */
    from: mailbox('from'),
    /** The canary's recipients: put a mailbox of `bounceDomain` among them, so the round trip is measured. */
    to: z.array(mailbox('to[]')).min(1, 'to needs at least one recipient'),
    /** The ports probed each round trip, to tell OP25B (25 blocked) from a server that is down. */
    probePorts: z.array(port).default([25, 587, 465]),
    /** A host known to accept connections on port 25 (e.g. an MX), to confirm an OP25B diagnosis. */
    port25ReferenceHost: hostname('port25ReferenceHost').optional(),
    /** The largest message you expect to send, in bytes: a smaller EHLO SIZE limit is SIZE_LIMIT_LOW. */
    maxMessageBytes: z.number().int().positive().default(10 * 1024 * 1024),
    /** Time limits of the canary's SMTP session, in milliseconds. */
    timeouts: z
      .object({
        /** Milliseconds to open the TCP connection. */
        connectMs: z.number().int().positive().default(10_000),
        /** Milliseconds to wait for each SMTP reply (STEP_TIMEOUT past it). */
        stepMs: z.number().int().positive().default(15_000),
        /** Milliseconds per port probe: short, a silent port is the answer, not a failure. */
        probeMs: z.number().int().positive().default(3_000),
      })
      .strict()
      .prefault({}),
    /** A step slower than this many milliseconds is SLOW_STEP. */
    slowStepMs: z.number().int().positive().default(5_000),
    /** DKIM selectors of `from`'s domain whose keys every round checks (DKIM_KEY_MISSING, _WEAK, _REVOKED). */
    dkimSelectors: z
      .array(z.string().regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i, 'dkimSelectors[]: a DKIM selector is the s= of the signature, e.g. "mail2025"'))
      .optional(),
    /**
     * The alert route (`alerts.routes[].name`) this target's health alerts, bounce alerts and
     * digests go to. Default: the channels of `alerts` itself.
     */
    route: z.string().min(1).optional(),
  })
  .strict();

/** A Slack incoming webhook: its URL from an environment variable (local) or a secret (AWS). */
const slackChannelSchema = z
  .object({
    /**
     * The environment variable that holds the webhook URL; unset, Slack is off (the run says so).
     * @scope local
     */
    webhookUrlEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
    /**
     * The Secrets Manager secret (name or full ARN) whose plain-text value is the webhook URL;
     * left out in `alerts.slack`, the stack creates an empty one to fill.
     * @scope aws
     */
    secretName: z.string().min(1).optional(),
  })
  .strict();

/** One alert route (config `alerts.routes[]`). */
export const routeSchema = z
  .object({
    /** What targets call this route by (`targets[].route`). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'alerts.routes[].name: letters, digits, - and _ only'),
    /** The language of this route's alerts. Default: the config's `language`. */
    language: z.enum(['en', 'ja']).optional(),
    /** This route's own Slack webhook (in AWS by `secretName`, one secret per route). */
    slack: slackChannelSchema.optional(),
    /** This route's own email recipients, sent through SES. */
    email: z
      .object({
        /** The recipients (in the SES sandbox, each must be verified too). */
        to: z.array(mailbox('alerts.routes[].email.to[]')).min(1),
        /** The verified SES sender. Default: `alerts.email.from`. */
        from: mailbox('alerts.routes[].email.from').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const alertsSchema = z
  .object({
    /** Failing (or warning) rounds in a row before the alert goes out. */
    failureThreshold: z.number().int().min(1).default(2),
    /** Good rounds in a row before "recovered". */
    recoveryThreshold: z.number().int().min(1).default(2),
    /** While a target keeps failing, a reminder every this many minutes (0: none); the same bounce alerts again only after this long. */
    reminderMinutes: z.number().int().min(0).default(60),
    /**
     * Bounce alerts are grouped: the first bounce of a kind (per target) alerts at once, the
     * rest within this many minutes goes into one digest per target. 0: every bounce alerts.
     */
    bounceDigestMinutes: z.number().min(0).default(10),
    /** Alerts to Slack through an incoming webhook (Block Kit); off when left out. */
    slack: slackChannelSchema.optional(),
    /** Alert email through Amazon SES (locally with the shell's AWS credentials and region); off when left out. */
    email: z
      .object({
        /** The sender: an SES-verified address or domain. */
        from: mailbox('alerts.email.from'),
        /** The recipients (in the SES sandbox, each must be verified too). */
        to: z.array(mailbox('alerts.email.to[]')).min(1),
        /** Alert emails sent per second at most (the SES account's sending rate; 1 in the SES sandbox). */
        maxPerSecond: z.number().positive().default(1),
      })
      .strict()
      .optional(),
    /**
     * Who hears about which target: a support desk's customers each with their own Slack
     * webhook, email recipients and language. A target names its route (`targets[].route`);
     * alerts about the monitor itself (a Lambda failing, targets gone silent) always go to the
     * channels above.
     */
    routes: z.array(routeSchema).default([]),
    /**
     * In AWS, addresses the stack's CloudWatch alarms are emailed to by SNS directly, besides
     * the alert Lambda: the path that still works when the alert Lambda, Slack or SES does not.
     * Each address confirms its subscription once (a link in an email from AWS). Default:
     * `alerts.email.to`; `[]` leaves the alarms to the alert Lambda alone.
     */
    alarmEmails: z
      .array(mailbox('alerts.alarmEmails[]'))
      .refine((list) => new Set(list.map((a) => a.toLowerCase())).size === list.length, { message: 'alerts.alarmEmails: each address once' })
      .optional(),
  })
  .strict();

/** The local loop's own settings (`mailhealth run`); the AWS deployment leaves them out. */
export const localSchema = z
  .object({
    /**
     * Seconds between rounds of `mailhealth run`, overriding `schedule` (`--interval` overrides both).
     * @default from schedule
     */
    intervalSeconds: z.number().int().min(1).optional(),
    /** An embedded SMTP server for the bounce domain (the local stand-in for SES inbound): point its MX, or your MTA's transport, at it. */
    bounceListener: z
      .object({
        /** The address it listens on. */
        host: hostname('local.bounceListener.host').default('127.0.0.1'),
        /** The port it listens on. */
        port,
      })
      .strict()
      .optional(),
    /** A folder of .eml files (relative to the config file) to read bounces from, instead of or besides the listener; only read, never moved. */
    bounceDir: z.string().optional(),
  })
  .strict();

/** How long what mail-health receives and records is kept, in AWS and locally alike. */
export const retentionSchema = z
  .object({
    /** Days raw received messages are kept: the S3 bucket's lifecycle in AWS, `<state>/raw/` locally. */
    rawMailDays: z.number().int().min(1).default(30),
    /** Days rounds, bounces and alerts stay in the history (the table's TTL in AWS, the state directory locally). */
    historyDays: z.number().int().min(1).default(35),
    /**
     * Locally: at most this many records per target and list (rounds, bounces, alerts); the oldest go first.
     * @scope local
     */
    historyMaxRecords: z.number().int().min(100).default(100_000),
  })
  .strict();

export const configSchema = z
  .object({
    /** The JSON Schema of this file, for editors (`mailhealth init` writes it beside the config); mail-health ignores it. */
    $schema: z.string().optional(),
    /**
     * The language of alerts, findings and the report: `ja` or `en`.
     * @default from LANG: ja when it starts with ja, else en
     */
    language: z.enum(['en', 'ja']).optional(),
    /**
     * The domain that receives bounces and delivered canaries (its MX points at SES inbound in
     * AWS, at `local.bounceListener` locally); canaries are sent from `bounce+<id>@` it.
     */
    bounceDomain: hostname('bounceDomain'),
    /** How often each target is checked: `rate(N minutes|hours|days)` or `cron(…)` in UTC (EventBridge Scheduler syntax). */
    schedule: z
      .string()
      .regex(/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/, 'schedule must be rate(N minutes) or cron(...)')
      .default('rate(5 minutes)'),
    /**
     * In AWS, how often a target's round sends the canary message (the round trip through SES
     * inbound, which is billed per message received); the rounds in between check the submission
     * server up to AUTH and send nothing. A rate no slower than `schedule` sends it every round.
     * The local loop and `check` send it every round.
     * @scope aws
     */
    roundTripSchedule: z
      .string()
      .regex(/^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/, 'roundTripSchedule must be rate(N minutes|hours|days)')
      .default('rate(1 hour)'),
    /** A canary not seen at the bounce domain's mailbox within this time is CANARY_NOT_DELIVERED. */
    deliveryTimeoutMinutes: z.number().int().positive().default(15),
    /** The submission servers to check, each with its own canary. */
    targets: z
      .array(targetSchema)
      .min(1, 'targets needs at least one target')
      .refine((ts) => new Set(ts.map((t) => t.name)).size === ts.length, { message: 'target names must be unique' }),
    /** When alerts go out and where to. */
    alerts: alertsSchema.prefault({}),
    /** How long received mail and the history are kept, in AWS and locally alike. */
    retention: retentionSchema.prefault({}),
    /**
     * DNS blocklist zones the sending server (as the delivered canary's Received header shows
     * it) is checked against, at most once an hour.
     * @default zen.spamhaus.org, bl.spamcop.net, b.barracudacentral.org, psbl.surriel.com
     */
    dnsbl: z.array(hostname('dnsbl[]').refine((s) => s.includes('.'), { message: 'dnsbl[] must be a blocklist zone such as bl.spamcop.net' })).optional(),
    /**
     * Resolvers the authentication checks ask (`HOST[:PORT]`). Targets on this machine
     * (127.0.0.1, ::1, localhost: tests, a local relay) are checked only when set.
     * @default the system's resolvers
     */
    dnsServers: z.array(hostname('dnsServers[]')).min(1).optional(),
    /**
     * The local loop's own settings (`mailhealth run`); the AWS deployment leaves them out.
     * @scope local
     */
    local: localSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const routes = new Set<string>();
    c.alerts.routes.forEach((r, i) => {
      if (routes.has(r.name)) ctx.addIssue({ code: 'custom', path: ['alerts', 'routes', i, 'name'], message: `route name "${r.name}" is used twice` });
      routes.add(r.name);
      if (r.email && !r.email.from && !c.alerts.email) {
        ctx.addIssue({ code: 'custom', path: ['alerts', 'routes', i, 'email', 'from'], message: 'a route that sends email needs a sender: set its email.from, or alerts.email.from' });
      }
    });
    c.targets.forEach((t, i) => {
      if (t.route !== undefined && !routes.has(t.route)) {
        const known = routes.size > 0 ? `the routes are ${[...routes].join(', ')}` : 'alerts.routes is empty';
        ctx.addIssue({ code: 'custom', path: ['targets', i, 'route'], message: `names the route "${t.route}", which alerts.routes does not have (${known})` });
      }
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
export type AlertsConfig = z.output<typeof alertsSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type RetentionConfig = z.output<typeof retentionSchema>;
export type Config = Omit<z.output<typeof configSchema>, 'language'> & { language: Language };

export { languageFromLocale } from './language.ts';

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/**
 * Validates a parsed config document and fills in the defaults.
 * Throws a ConfigError whose message names the first bad field and the problem.
 * @example parseConfig(JSON.parse(text), { locale: lang })
 */
export function parseConfig(doc: unknown, env: { locale?: string } = {}): Config {
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const lines = issues.map((i) => `${fieldPath(i.path)}: ${i.message}`);
    throw new ConfigError(`invalid config: ${lines.join('; ')}`, fieldPath(issues[0]?.path ?? []));
  }
  return { ...parsed.data, language: parsed.data.language ?? languageFromLocale(env.locale) };
}

/** A doubt about a config value that does not stop the monitor (e.g. a likely typo). */
export interface ConfigWarning {
  readonly field: string;
  readonly code: string;
  readonly message: Localized;
}

/**
 * Warnings about the addresses of a valid config: the canary recipients and senders that the
 * address diagnosis doubts (a domain typo, a carrier address many servers refuse).
 * @example configWarnings(parseConfig(doc)).map((w) => `${w.field}: ${w.message.en}`)
 */
export function configWarnings(config: Config): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  const check = (field: string, address: string) => {
    for (const f of diagnoseAddress(address, { knownDomains: [config.bounceDomain] }).findings) {
      if (f.severity === 'warning') warnings.push({ field, code: f.code, message: f.message });
    }
  };
  config.targets.forEach((t, i) => {
    check(`targets[${i}].from`, t.from);
    t.to.forEach((to, j) => check(`targets[${i}].to[${j}]`, to));
  });
  config.alerts.email?.to.forEach((to, j) => check(`alerts.email.to[${j}]`, to));
  config.alerts.routes.forEach((r, i) => r.email?.to.forEach((to, j) => check(`alerts.routes[${i}].email.to[${j}]`, to)));
  return warnings;
}

/** The JSON Schema of the config file, for editors (`npm run schema` writes it). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input' }) as Record<string, unknown>;
}
