/**
 * `mailhealth run [--config F] [--state DIR] [--once]`, interim version: one check round and
 * exit with its code. Without a config it starts the embedded demo provider on 127.0.0.1
 * (submission with STARTTLS and AUTH, and a port 25 that never answers), so `npm start` shows
 * the OP25B diagnosis and a full, timed session in seconds. The scheduled loop replaces this.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '#adapters/config-file.ts';
import { createPortProber } from '#adapters/port-probe.ts';
import { createSmtpSession } from '#adapters/smtp-session.ts';
import { UsageError } from '#core/errors.ts';
import { exitCodeOf } from '#core/findings.ts';
import { runCanaryRound } from '#core/probe/round.ts';
import { startDemoProvider } from '#local/demo/provider.ts';
import { checkConfig, endpointsOf, formatCheckReport, type CheckCommandDeps } from './check.ts';
import { languageFromEnv, styler, type CliIO, type Command } from './io.ts';

const USAGE = 'usage: mailhealth run [--config F] [--state DIR] [--once]';

const DEMO_INTRO = {
  en: 'mail-health demo: an embedded provider on 127.0.0.1 (port "587" with STARTTLS and AUTH, "465" with TLS, and a port "25" that never answers, like a network with OP25B).\n',
  ja: 'mail-health デモ: 127.0.0.1 上の組み込みプロバイダー（STARTTLS と認証ありの「587」、TLS の「465」、OP25B のネットワークのように応答しない「25」）に対して確認します。\n',
};

function parse(argv: readonly string[]) {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { config: { type: 'string', short: 'c' }, state: { type: 'string' }, once: { type: 'boolean', default: false } },
      allowPositionals: false,
      strict: true,
    });
    return values;
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`, { cause: err });
  }
}

async function runDemo(io: CliIO, deps: CheckCommandDeps): Promise<number> {
  const language = languageFromEnv(io.env);
  const s = styler(io);
  io.stdout.write(s.dim(DEMO_INTRO[language]) + '\n');
  const demo = await startDemoProvider();
  try {
    const result = await runCanaryRound(
      demo.target,
      { bounceDomain: demo.bounceDomain, password: demo.password, ca: demo.caPem },
      {
        openSession: deps.openSession ?? createSmtpSession(),
        probePort: deps.probePort ?? createPortProber(),
        clock: deps.clock ?? (() => new Date()),
        random: deps.random ?? ((n) => randomBytes(n)),
        portOverrides: demo.ports,
      },
    );
    const report = { status: result.status, targets: [result] };
    io.stdout.write(formatCheckReport(report, { language, style: s, endpoints: { [result.name]: `${demo.target.host}:587 → :${demo.ports[587]}` } }));
    return exitCodeOf(report.status);
  } finally {
    await demo.close();
  }
}

/** Builds the `run` command (interim: one round). */
export function createRunCommand(deps: CheckCommandDeps = {}): Command {
  return async (argv, io) => {
    const args = parse(argv);
    if (!args.config) return runDemo(io, deps);
    const config = await loadConfigFile(resolve(io.cwd, args.config), { locale: io.env.LC_ALL || io.env.LC_MESSAGES || io.env.LANG });
    const report = await checkConfig(config, { env: io.env }, deps);
    io.stdout.write(formatCheckReport(report, { language: config.language, style: styler(io), endpoints: endpointsOf(config) }));
    return exitCodeOf(report.status);
  };
}

/** `mailhealth run [--config F] [--state DIR] [--once]`. */
export const runCommand: Command = createRunCommand();
