/**
 * The built CLI (dist/mailhealth.js) as a user runs it: help and version from the command
 * table, usage errors, exit codes. The build is made current by the global setup.
 */
import { execFile, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseJsonc } from '#adapters/config-file.ts';
import { COMMANDS } from '#local/cli/commands.ts';
import { IMPLEMENTED_COMMANDS } from '#local/cli/loaders.ts';
import { EXAMPLE_CONFIG_PATH, exampleTextWithChannels } from '../../scripts/example-config.ts';
import { BUILT_CLI } from '../helpers/built-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'bounces');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function mailhealth(args: readonly string[], options: { cli?: string; cwd?: string; input?: string; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[] } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const argv = [...(options.nodeArgs ?? []), options.cli ?? BUILT_CLI, ...args];
    const child = execFile(process.execPath, argv, { cwd: options.cwd, timeout: 20_000, env: { ...process.env, LANG: 'C', ...options.env } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

describe('mailhealth (built)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    const run = await mailhealth(['--version']);
    expect(run).toEqual({ code: 0, stdout: `mailhealth ${version}\n`, stderr: '' });
  });

  it('has an implementation for every command of the table, and no other', () => {
    expect([...IMPLEMENTED_COMMANDS].sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  it('lists every command in the top-level help', async () => {
    const run = await mailhealth(['--help']);
    expect(run.code).toBe(0);
    for (const c of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
  });

  it.each(COMMANDS.map((c) => c.name))('answers `%s --help` with its usage, every option and its default, and two examples', async (name) => {
    // Act
    const run = await mailhealth([name, '--help']);
    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^usage: mailhealth ${name} `));
    const spec = COMMANDS.find((c) => c.name === name)!;
    for (const option of Object.keys(spec.options)) expect(run.stdout).toMatch(new RegExp(`--${option}\\b.*\\(default: [^)]+\\)`));
    const examples = run.stdout.split('examples:\n')[1]!.split('\n\n')[0]!;
    expect(examples.match(/^ {2}\S.*$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(run.stdout).toContain('exit codes:');
  });

  it("says in `run --help` where the demo keeps its state under --state DIR", async () => {
    const run = await mailhealth(['run', '--help']);
    expect(run.stdout).toMatch(/--state DIR +state, history and report \(the demo keeps its own in DIR\/demo, started afresh each time\) \(default: \.mailhealth\)/);
  });

  it('runs a round of the demo as built: every embedded server starts, the seed mailbox (IMAP) included', async () => {
    // Prepare: the demo's own state under a fresh directory.
    const state = join(dir, 'demo-round');

    // Act: `npm start` is this command; one round, no waiting for what it sent.
    const run = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [BUILT_CLI, 'run', '--rounds', '1', '--drain', '0', '--state', state], { timeout: 120_000, env: { ...process.env, LANG: 'C' } }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });

    // Assess: the round ran and wrote its report; nothing of the bundle was missing.
    expect(run.stderr + run.stdout).not.toMatch(/unexpected error|not found in bundle/i);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('a mailbox read over IMAP');
    expect(existsSync(join(state, 'demo', 'report.html'))).toBe(true);
  }, 150_000);

  it('serves help without loading the command (its file removed, help still answers)', async () => {
    // Prepare: a copy of the build without the bounce command's own file.
    const copy = join(dir, 'dist-without-bounce');
    cpSync(join(BUILT_CLI, '..'), copy, { recursive: true });
    rmSync(join(copy, 'lib', 'bounce.js'));
    const cli = join(copy, 'mailhealth.js');
    // Act
    const help = await mailhealth(['bounce', '--help'], { cli });
    const running = await mailhealth(['bounce', join(FIXTURES, 'postfix-userunknown.eml')], { cli });
    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: mailhealth bounce/);
    expect(running.code).not.toBe(0);
  });

  it('ends a one-shot command on the first Ctrl-C (bounce waiting on stdin)', async () => {
    // Prepare: `bounce -` with a standard input that stays open
    const child = spawn(process.execPath, [BUILT_CLI, 'bounce', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Act: one SIGINT; a second one only if the first did not end it within 5 s
    child.kill('SIGINT');
    const second = setTimeout(() => child.kill('SIGKILL'), 5_000);
    const end = await ended;
    clearTimeout(second);
    // Assess
    expect(end.signal).toBe('SIGINT');
  });

  it('names the command usage and exits 3 on a wrong option', async () => {
    const run = await mailhealth(['bounce', '--jsn', 'x.eml']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("Unknown option '--jsn'");
    expect(run.stderr).toContain('usage: mailhealth bounce FILE_OR_DIR...');
    expect(run.stderr).toContain("Run 'mailhealth bounce --help'");
  });

  // Each command's file of the build has its own copy of the error classes, so the entry
  // recognises them by their code: a usage or config error is one clean message, never a bug report.
  it.each([
    ['a wrong option', ['bounce', '--jsn', 'x.eml'], /^mailhealth: bounce: Unknown option '--jsn'/],
    ['a bad option value', ['run', '--rounds', 'two'], /^mailhealth: --rounds needs a positive whole number \(got two\)/],
    ['a missing config file', ['check', '--config', '/nonexistent/mailhealth.config.json'], /^mailhealth: cannot read config file \/nonexistent\/mailhealth.config.json: ENOENT\n$/],
    ['no state directory', ['suppressions', '--state', '/nonexistent/state'], /^mailhealth: no state directory \/nonexistent\/state/],
  ])('prints %s as one message without a stack trace, exit 3', async (_what, args, message) => {
    const run = await mailhealth(args);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('unexpected error');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('exits 3 on an unknown command, listing the commands', async () => {
    const run = await mailhealth(['bonce']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/unknown command 'bonce'[^]*commands:/);
  });

  it('classifies a bounce as a process: JSON on stdout, the exit code of what it found', async () => {
    const run = await mailhealth(['bounce', '--json', join(FIXTURES, 'postfix-userunknown.eml'), join(FIXTURES, 'delivered-canary.eml')]);
    expect(run.code).toBe(2);
    const doc = JSON.parse(run.stdout) as { messages: { isBounce: boolean; recipients: { reason: string }[] }[] };
    expect(doc.messages.map((m) => [m.isBounce, m.recipients.map((r) => r.reason)])).toEqual([
      [true, ['userunknown']],
      [false, []],
    ]);
  });

  it('says that nothing was read, exit 3, for an empty folder, an empty file or an empty stdin', async () => {
    // Prepare
    const empty = join(dir, 'no-bounces');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    writeFileSync(join(empty, 'notes.txt'), 'not a message file\n');
    const zero = join(dir, 'zero.eml');
    writeFileSync(zero, '');
    // Act
    const table = await mailhealth(['bounce', empty]);
    const json = await mailhealth(['bounce', '--json', empty, zero]);
    const stdin = await mailhealth(['bounce', '-'], { input: '' });
    // Assess
    expect(table.code).toBe(3);
    expect(table.stdout).toBe('');
    expect(table.stderr).toBe(`mailhealth: bounce: no message read: ${empty} holds no .eml file (a folder is searched for *.eml; give an mbox file by its name)\n`);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({ messages: [] });
    expect(json.stderr).toContain(`${zero} is empty`);
    expect(stdin.code).toBe(3);
    expect(stdin.stderr).toContain('no message read: standard input (-) is empty');
  });

  it('reads a pasted bounce from stdin with -', async () => {
    const run = await mailhealth(['bounce', '-', '--jsonl'], { input: '<taro@example.jp>: host mx.example.jp said: 550 5.1.1 User unknown\n' });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ file: '-', isBounce: true, recipients: [{ recipient: 'taro@example.jp', reason: 'userunknown' }] });
  });

  it('names the line and column of a JSONC syntax error in the config, exit 3', async () => {
    const config = join(dir, 'broken.jsonc');
    writeFileSync(config, '{\n  // the shop\n  "targets": [\n    { "name": "shop" "host": "smtp.example.jp" }\n  ]\n}\n');
    const run = await mailhealth(['check', '--config', config]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${config}:4:22: invalid JSON: ',' expected`);
  });
  it('gives the same results, in the same order, on worker threads as in one thread', async () => {
    // Prepare: a folder past the size that uses workers, of every fixture.
    const folder = join(dir, 'many');
    const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));
    mkdirSync(folder);
    for (let i = 0; i < 80; i++) copyFileSync(join(FIXTURES, fixtures[i % fixtures.length]!), join(folder, `${String(i).padStart(3, '0')}.eml`));
    // Act
    const threads = await mailhealth(['bounce', folder, '--json', '--jobs', '2']);
    const one = await mailhealth(['bounce', folder, '--json', '--jobs', '1']);
    // Assess
    expect(threads.code).toBe(one.code);
    expect(threads.stdout).toBe(one.stdout);
    expect((JSON.parse(threads.stdout) as { messages: unknown[] }).messages).toHaveLength(80);
  });

  it('gives the same results on worker threads for an mbox past the size read whole', async () => {
    // Prepare: an mbox of 1.2 MB (read as a stream, shared with a worker under --jobs 2).
    const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));
    const messages = fixtures.map((f) => `From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n${readFileSync(join(FIXTURES, f), 'latin1').replace(/^(>*From )/gm, '>$1').replace(/\n*$/, '\n\n')}`);
    let mbox = '';
    while (mbox.length < 1.2 * 1024 * 1024) mbox += messages.join('');
    const path = join(dir, 'export.mbox');
    writeFileSync(path, mbox, 'latin1');
    // Act
    const threads = await mailhealth(['bounce', path, '--jsonl', '--jobs', '2']);
    const one = await mailhealth(['bounce', path, '--jsonl']);
    // Assess
    expect(threads.code).toBe(one.code);
    expect(threads.stdout).toBe(one.stdout);
    expect(threads.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(fixtures.length);
  });

  it('stops with a message, not a hang, when a worker thread fails', async () => {
    // Prepare: a copy of the build whose worker dies on its first batch; 60 files, --jobs 2.
    const copy = join(dir, 'dist-broken-worker');
    cpSync(join(BUILT_CLI, '..'), copy, { recursive: true });
    writeFileSync(join(copy, 'lib', 'bounce-worker.js'), "const { parentPort } = require('node:worker_threads');\nparentPort.on('message', () => { throw new Error('worker broke'); });\n");
    const folder = join(dir, 'sixty');
    mkdirSync(folder);
    const fixture = readdirSync(FIXTURES).find((f) => f.endsWith('.eml'))!;
    for (let i = 0; i < 60; i++) copyFileSync(join(FIXTURES, fixture), join(folder, `${String(i).padStart(3, '0')}.eml`));
    const cli = join(copy, 'mailhealth.js');
    // Act
    const threads = await mailhealth(['bounce', folder, '--jsonl', '--jobs', '2'], { cli });
    const one = await mailhealth(['bounce', folder, '--jsonl'], { cli });
    // Assess: the worker's failure is reported (the one-thread run never loads it)
    expect(threads.code).not.toBe(0);
    expect(threads.code).not.toBe(one.code);
    expect(threads.stderr).toContain('worker broke');
    expect(one.stdout.split('\n').filter(Boolean)).toHaveLength(60);
  });
});

describe('mailhealth (built): init', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-init-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the commented starting config, with no alert channel on, and its schema beside it', async () => {
    // Act
    const run = await mailhealth(['init'], { cwd: dir });
    // Assess
    expect(run.code).toBe(0);
    const config = readFileSync(join(dir, 'mailhealth.config.json'), 'utf8');
    expect(config).toBe(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'));
    expect(config).toMatch(/^\/\/ /);
    expect(readFileSync(join(dir, 'mailhealth.config.schema.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'mailhealth.config.schema.json'), 'utf8'));
    const parsed = await loadConfigFile(join(dir, 'mailhealth.config.json'));
    expect(parsed.alerts.slack).toBeUndefined();
    expect(parsed.alerts.email).toBeUndefined();
    expect(run.stdout).toContain('3. mailhealth check ');
  });

  it('makes a config `check` reads at once: it asks for the password, nothing else', async () => {
    const run = await mailhealth(['check'], { cwd: dir, env: { SHOP_SMTP_PASSWORD: '' } });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe('mailhealth: targets[0].auth.passwordEnv: environment variable SHOP_SMTP_PASSWORD is not set\n');
  });

  it('never overwrites: a second init exits 3 and leaves the file as it was', async () => {
    // Prepare
    const path = join(dir, 'mailhealth.config.json');
    writeFileSync(path, '{ "edited": true }\n');
    // Act
    const run = await mailhealth(['init'], { cwd: dir });
    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`mailhealth: init: ${path} already there, not overwritten (move it away, or pass --out FILE)\n`);
    expect(readFileSync(path, 'utf8')).toBe('{ "edited": true }\n');
  });

  it('writes to --out, creating its folder, and refuses a different schema already beside it', async () => {
    // Prepare: a schema of another version in a second folder
    const other = join(dir, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'mailhealth.config.schema.json'), '{}\n');
    // Act
    const nested = await mailhealth(['init', '--out', 'etc/mailhealth/shop.json'], { cwd: dir });
    const refused = await mailhealth(['init', '--out', join(other, 'shop.json')], { cwd: dir });
    // Assess
    expect(nested.code).toBe(0);
    expect(existsSync(join(dir, 'etc', 'mailhealth', 'shop.json'))).toBe(true);
    expect(existsSync(join(dir, 'etc', 'mailhealth', 'mailhealth.config.schema.json'))).toBe(true);
    expect(nested.stdout).toContain('3. mailhealth check --config etc/mailhealth/shop.json ');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`${join(other, 'mailhealth.config.schema.json')} already there, not overwritten`);
    expect(existsSync(join(other, 'shop.json'))).toBe(false);
  });
});

describe('mailhealth (built): which alert channels are live', () => {
  let dir: string;
  let closedPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-channels-'));
    // A port on 127.0.0.1 nothing listens on: the round fails at once, raising no alert (threshold 2).
    const server = createServer();
    closedPort = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
    await new Promise((resolve) => server.close(resolve));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The committed example (channels as in the file, or turned on), its target pointed at the closed port. */
  function config(name: string, text: string): string {
    const doc = parseJsonc(text, name) as { targets: Record<string, unknown>[] };
    doc.targets[0] = { ...doc.targets[0], host: '127.0.0.1', port: closedPort, auth: { user: 'shop@example.jp', password: 'x' }, probePorts: [], dkimSelectors: undefined, timeouts: { connectMs: 2000, stepMs: 2000, probeMs: 300 } };
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc));
    return path;
  }
  // No AWS call can happen (no alert is raised), and none could reach AWS if one did.
  const offline = { AWS_REGION: 'ap-northeast-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', SLACK_WEBHOOK_URL: '' };

  it('says at the start of `run` that no channel of the example config is live', async () => {
    const run = await mailhealth(['run', '--once', '--drain', '0', '--config', config('example.json', readFileSync(EXAMPLE_CONFIG_PATH, 'utf8')), '--state', join(dir, 'state-run')], { env: offline });
    expect(run.code).toBe(2);
    const head = run.stdout.split('\n').slice(0, 3).join('\n');
    expect(head).toContain('alerts: no channel is live, nothing leaves this machine');
  });

  it('names every live channel at the start of `check --state`: Slack by its variable, email by region and sender', async () => {
    const path = config('channels.json', exampleTextWithChannels());
    const on = await mailhealth(['check', '--config', path, '--state', join(dir, 'state-check'), '--json'], { env: { ...offline, SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook' } });
    const slackUnset = await mailhealth(['check', '--config', path, '--state', join(dir, 'state-check-2')], { env: offline });
    expect(on.code).toBe(2);
    expect(JSON.parse(on.stdout)).toMatchObject({ status: 'critical' });
    expect(on.stderr).toContain('mailhealth: alerts: Slack (env SLACK_WEBHOOK_URL); email through SES in ap-northeast-1 as monitor@example.jp to owner@example.jp\n');
    expect(slackUnset.stderr).toContain('mailhealth: Slack alerts off: set SLACK_WEBHOOK_URL to the webhook URL\n');
    expect(slackUnset.stderr).toContain('mailhealth: alerts: email through SES in ap-northeast-1 as monitor@example.jp to owner@example.jp\n');
    expect(on.stderr).not.toContain('127.0.0.1:9/hook');
  });
});

describe('mailhealth (built): the code cache of a command file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailhealth-code-cache-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const bounceArgs = [join(FIXTURES, 'postfix-userunknown.eml'), '--jsonl'];
  const cacheFiles = (home: string) => {
    const cache = join(home, 'mailhealth');
    return existsSync(cache) ? readdirSync(cache).map((f) => join(cache, f)) : [];
  };

  it('is written on the first run, used unchanged on the next, and the results stay the same', async () => {
    // Prepare
    const home = join(dir, 'fresh');
    const plain = await mailhealth(['bounce', ...bounceArgs], { env: { MAILHEALTH_CODE_CACHE: '0' } });
    // Act
    const first = await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: home } });
    const written = cacheFiles(home);
    const before = written.map((f) => statSync(f).mtimeMs);
    const second = await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: home } });
    // Assess
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(new RegExp(`bounce-[0-9a-f]{8}-${process.version}-${process.arch}-\\d+-\\d+\\.partial\\.cache$`));
    expect(statSync(written[0]!).size).toBeGreaterThan(10_000);
    expect(statSync(join(home, 'mailhealth')).mode & 0o777).toBe(0o700);
    expect(cacheFiles(home).map((f) => statSync(f).mtimeMs)).toEqual(before);
    expect(first.stdout).toBe(plain.stdout);
    expect(second.stdout).toBe(plain.stdout);
    expect(second.code).toBe(plain.code);
  });

  it('replaces the cache of a short run once, by the first long run', async () => {
    // Prepare: a short run (one file) leaves a partial cache; a long run reads 800 files.
    const home = join(dir, 'grows');
    const folder = join(dir, 'eight-hundred');
    mkdirSync(folder);
    const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));
    for (let i = 0; i < 800; i++) copyFileSync(join(FIXTURES, fixtures[i % fixtures.length]!), join(folder, `${String(i).padStart(3, '0')}.eml`));
    await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: home } });
    const [partial] = cacheFiles(home);
    // Act
    const long = await mailhealth(['bounce', folder, '--jsonl'], { env: { XDG_CACHE_HOME: home } });
    const afterLong = cacheFiles(home);
    const kept = afterLong.map((f) => statSync(f).mtimeMs);
    await mailhealth(['bounce', folder, '--jsonl'], { env: { XDG_CACHE_HOME: home } });
    await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: home } });
    // Assess: one full cache, larger than the partial one was, then left alone
    expect(partial).toMatch(/\.partial\.cache$/);
    expect(long.stdout.split('\n').filter(Boolean)).toHaveLength(800);
    expect(afterLong).toHaveLength(1);
    expect(afterLong[0]).toBe(partial!.replace(/\.partial\.cache$/, '.cache'));
    expect(cacheFiles(home).map((f) => statSync(f).mtimeMs)).toEqual(kept);
  });

  it('replaces a damaged cache file and still gives the right results', async () => {
    // Prepare
    const home = join(dir, 'damaged');
    const plain = await mailhealth(['bounce', ...bounceArgs], { env: { MAILHEALTH_CODE_CACHE: '0' } });
    await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: home } });
    const [file] = cacheFiles(home);
    writeFileSync(file!, Buffer.alloc(4096, 0x5a));
    // Act
    const run = await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: home } });
    // Assess
    expect(run.stdout).toBe(plain.stdout);
    expect(readFileSync(file!).equals(Buffer.alloc(4096, 0x5a))).toBe(false);
  });

  it('is not used when turned off, when others may write to its folder, or with --enable-source-maps', async () => {
    // Prepare
    const off = join(dir, 'off');
    const shared = join(dir, 'shared');
    mkdirSync(join(shared, 'mailhealth'), { recursive: true });
    chmodSync(join(shared, 'mailhealth'), 0o777);
    const mapped = join(dir, 'mapped');
    // Act
    const runs = [
      await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: off, MAILHEALTH_CODE_CACHE: '0' } }),
      await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: shared } }),
      await mailhealth(['bounce', ...bounceArgs], { env: { XDG_CACHE_HOME: mapped }, nodeArgs: ['--enable-source-maps'] }),
    ];
    // Assess
    for (const run of runs) expect(run.stdout).toContain('"reason":"userunknown"');
    expect(existsSync(off)).toBe(false);
    expect(cacheFiles(shared)).toEqual([]);
    expect(cacheFiles(mapped)).toEqual([]);
  });
});
