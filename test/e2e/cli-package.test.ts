/**
 * The packed CLI as an operator installs it: `npm pack` of the repository, installed into an
 * empty folder without the registry (`--offline`: the tarball must need nothing), then
 * `mailhealth --help`, `init`, `address`, `bounce` and `check --config F` against a local SMTP server.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, HOST, makePki, PASSWORD, SERVERNAME, startSmtpServer, USER } from '../helpers/smtp.ts';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'bounces');
// npm of the Node running the tests (the one on PATH may be another version's).
const NPM_CLI = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const npm = existsSync(NPM_CLI) ? [process.execPath, NPM_CLI] : ['npm'];
const PACK_TIMEOUT_MS = 120_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the packed CLI, installed on its own', () => {
  let dir: string;
  let app: string;
  let bin: string;
  const env = () => ({ ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, LANG: 'C', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });

  const mailhealth = (args: readonly string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    execFileAsync(bin, [...args], { cwd: app, env: { ...env(), ...extraEnv }, timeout: 30_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' }),
    );

  beforeAll(async () => {
    // Prepare: pack the build (the global setup made dist/ current), install the tarball offline.
    dir = await mkdtemp(join(tmpdir(), 'mailhealth-pack-'));
    app = join(dir, 'app');
    const [command, ...prefix] = npm;
    await execFileAsync(command!, [...prefix, 'pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, env: env(), timeout: PACK_TIMEOUT_MS });
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'ops-checks', private: true }));
    await execFileAsync(command!, [...prefix, 'install', '--offline', '--ignore-scripts', join(dir, tarball)], { cwd: app, env: env(), timeout: PACK_TIMEOUT_MS });
    bin = join(app, 'node_modules', '.bin', 'mailhealth');
  }, PACK_TIMEOUT_MS * 2);

  afterAll(async () => {
    await closeAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds only the built CLI, the reference, the README and the licence, and pulls in no dependency', async () => {
    const installed = join(app, 'node_modules');
    expect(readdirSync(installed).filter((d) => !d.startsWith('.')).sort()).toEqual(['mail-health']);
    const pkg = join(installed, 'mail-health');
    expect(readdirSync(pkg).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'docs', 'package.json']);
    expect(readdirSync(join(pkg, 'docs'))).toEqual(['REFERENCE.md']);
    expect(await readFile(join(pkg, 'docs', 'REFERENCE.md'), 'utf8')).toBe(await readFile(join(ROOT, 'docs', 'REFERENCE.md'), 'utf8'));
    const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { dependencies?: object };
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it('answers --help', async () => {
    const run = await mailhealth(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: mailhealth <command>/);
  });

  it('diagnoses an address as JSON', async () => {
    const run = await mailhealth(['address', 'a@example.jp', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ addresses: [{ input: 'a@example.jp', normalized: 'a@example.jp', ok: true, findings: [] }] });
  });

  it('gives a starting point: init writes the commented config and its schema, which check then reads', async () => {
    // Act
    const init = await mailhealth(['init', '--out', 'starter/mailhealth.config.json']);
    const check = await mailhealth(['check', '--config', 'starter/mailhealth.config.json'], { SHOP_SMTP_PASSWORD: '' });
    // Assess
    expect(init.code).toBe(0);
    expect(await readFile(join(app, 'starter', 'mailhealth.config.json'), 'utf8')).toBe(await readFile(join(ROOT, 'mailhealth.config.example.jsonc'), 'utf8'));
    expect(await readFile(join(app, 'starter', 'mailhealth.config.schema.json'), 'utf8')).toBe(await readFile(join(ROOT, 'mailhealth.config.schema.json'), 'utf8'));
    expect(check.code).toBe(3);
    expect(check.stderr).toBe('mailhealth: targets[0].auth.passwordEnv: environment variable SHOP_SMTP_PASSWORD is not set\n');
  });

  it('classifies a bounce file', async () => {
    const run = await mailhealth(['bounce', join(FIXTURES, 'sendmail-mailboxfull.eml'), '--jsonl']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ isBounce: true, recipients: [{ reason: 'mailboxfull' }] });
  });

  it('checks a provider from a config file: a local SMTP server with STARTTLS and AUTH', async () => {
    // Prepare
    const pki = makePki();
    const server = await startSmtpServer(pki);
    await writeFile(join(app, 'ca.pem'), pki.caPem);
    await writeFile(
      join(app, 'mailhealth.config.jsonc'),
      `{
        // the shop's provider, on loopback
        "language": "en",
        "bounceDomain": "bounces.example.jp",
        "targets": [{
          "name": "shop", "host": "${HOST}", "port": ${server.port}, "servername": "${SERVERNAME}", "ca": "ca.pem",
          "auth": { "user": "${USER}", "passwordEnv": "SHOP_SMTP_PASSWORD" },
          "from": "${USER}", "to": ["owner@example.jp"], "probePorts": [],
          "timeouts": { "connectMs": 2000, "stepMs": 2000, "probeMs": 500 },
        }],
      }`,
    );
    // Act
    const run = await mailhealth(['check', '--config', 'mailhealth.config.jsonc', '--json'], { SHOP_SMTP_PASSWORD: PASSWORD });
    // Assess
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as { status: string; targets: { name: string; steps: { step: string; ok: boolean }[] }[] };
    expect(report.targets[0]!.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['starttls', 'auth', 'rcpt', 'data']));
    expect(report.targets[0]!.steps.every((s) => s.ok)).toBe(true);
    expect([report.status, run.code]).toEqual(['ok', 0]);
    expect(server.received).toHaveLength(1);
  });
});
