/**
 * The config as the Lambdas read it from their bundle (`mailhealth.config.json`), made from the
 * config file at synth.
 *
 * Every field has a rule here: deployed as given, deployed changed (a CA path into the bundle,
 * `auth` without its secrets), left out on purpose with the reason (secrets, local-only
 * settings), or refused with a message naming it (a throw inside its rule). The rule tables are
 * typed over the config's own types, so a field added to the schema does not compile until it
 * has a rule; and at synth a field no rule knows is refused, never dropped in silence.
 */
import type { AlertsConfig, Config, TargetConfig } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { canaryCaBundlePath } from './canary.ts';

/** What the deployment does with one field whose value is `V`, inside an object `P`. */
type Rule<V, P> =
  /** Into the bundles as given. */
  | 'deploy'
  /** Left out on purpose; the reason says why the Lambdas do not need it. */
  | { readonly notDeployed: string }
  /** Into the bundles as this returns it (undefined: left out); throws a ConfigError to refuse it. */
  | ((value: V, at: string, parent: P) => V | undefined);

/** One rule for each field of `T`, optional fields included. */
type Rules<T> = { readonly [K in keyof T]-?: Rule<Exclude<T[K], undefined>, T> };

type AuthConfig = NonNullable<TargetConfig['auth']>;
type SlackConfig = NonNullable<AlertsConfig['slack']>;
type RouteConfig = AlertsConfig['routes'][number];

const AUTH_RULES: Rules<AuthConfig> = {
  user: 'deploy',
  password: { notDeployed: 'a secret: in AWS the canary reads the password from auth.secretName' },
  passwordEnv: { notDeployed: 'local runs only: in AWS the canary reads the password from auth.secretName' },
  secretName: 'deploy',
  secretKey: 'deploy',
};

const TARGET_RULES: Rules<TargetConfig> = {
  name: 'deploy',
  host: 'deploy',
  port: 'deploy',
  tls: 'deploy',
  // The PEM is copied into the canary's bundle (lib/canary.ts); the path is relative to the config file.
  ca: (_ca, _at, target) => canaryCaBundlePath(target.name),
  servername: 'deploy',
  ehloName: 'deploy',
  auth: (auth, at) => {
    if (!auth.secretName) {
      throw new ConfigError(
        `${at}.secretName: required for the AWS deployment (the canary Lambda reads the SMTP password from Secrets Manager; password and passwordEnv are for local runs)`,
        `${at}.secretName`,
      );
    }
    return applyRules(auth, AUTH_RULES, at);
  },
  from: 'deploy',
  to: 'deploy',
  probePorts: 'deploy',
  port25ReferenceHost: 'deploy',
  maxMessageBytes: 'deploy',
  timeouts: 'deploy',
  slowStepMs: 'deploy',
  dkimSelectors: 'deploy',
  // The alert Lambda sends the target's alerts to this route.
  route: 'deploy',
};

const SLACK_RULES: Rules<SlackConfig> = {
  webhookUrlEnv: { notDeployed: 'local runs only: in AWS the alert Lambda reads the webhook URL from alerts.slack.secretName' },
  secretName: 'deploy',
};

const ROUTE_SLACK_RULES: Rules<SlackConfig> = {
  webhookUrlEnv: { notDeployed: "local runs only: in AWS the alert Lambda reads the route's webhook URL from its slack.secretName" },
  secretName: 'deploy',
};

const ROUTE_RULES: Rules<RouteConfig> = {
  name: 'deploy',
  language: 'deploy',
  // A route's Slack without a secret is refused by lib/alerting.ts, which names the route.
  slack: (slack, at) => applyRules(slack, ROUTE_SLACK_RULES, at),
  email: 'deploy',
};

const ALERTS_RULES: Rules<AlertsConfig> = {
  failureThreshold: 'deploy',
  recoveryThreshold: 'deploy',
  reminderMinutes: 'deploy',
  bounceDigestMinutes: 'deploy',
  slack: (slack, at) => applyRules(slack, SLACK_RULES, at),
  email: 'deploy',
  routes: (routes, at) => routes.map((r, i) => applyRules(r, ROUTE_RULES, `${at}[${i}]`)),
  // The stack subscribes these to the alarm topic; deployed too, so the file tells the whole config.
  alarmEmails: 'deploy',
};

const CONFIG_RULES: Rules<Config> = {
  $schema: { notDeployed: "the editor's JSON Schema reference" },
  language: 'deploy',
  bounceDomain: 'deploy',
  schedule: 'deploy',
  roundTripSchedule: 'deploy',
  deliveryTimeoutMinutes: 'deploy',
  targets: (targets, at) => targets.map((t, i) => applyRules(t, TARGET_RULES, `${at}[${i}]`)),
  alerts: (alerts, at) => applyRules(alerts, ALERTS_RULES, at),
  retention: 'deploy',
  dnsbl: 'deploy',
  dnsServers: 'deploy',
  local: { notDeployed: 'settings of `mailhealth run` on this machine' },
};

function applyRules<T extends object>(value: T, rules: Rules<T>, at: string): T {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const here = at === '' ? key : `${at}.${key}`;
    const rule = (rules as Record<string, Rule<unknown, T> | undefined>)[key];
    if (rule === undefined) {
      throw new ConfigError(`${here}: the AWS deployment does not know this field yet, so the Lambdas would not see it; give it a rule in lib/deployed-config.ts`, here);
    }
    if (rule === 'deploy') out[key] = v;
    else if (typeof rule === 'function') {
      const changed = rule(v, here, value);
      if (changed !== undefined) out[key] = changed;
    }
  }
  return out as T;
}

/**
 * The config as the Lambdas read it from their bundle: resolved (defaults filled), secrets and
 * local-only fields removed, CA files pointing into the bundle (relative to the config file).
 * Throws a ConfigError naming the field when the config cannot be deployed: a target with auth
 * but no `secretName`, or a field no rule here knows.
 * @example writeFileSync(file, JSON.stringify(deployedConfig(config)))
 */
export function deployedConfig(config: Config): Config {
  return applyRules(config, CONFIG_RULES, '');
}
