/**
 * End to end through the real CLI: `mailhealth check --state DIR` run as separate processes
 * against a real SMTP server, alerts posted to a local Slack stand-in. The health state lives
 * only in the state dir, so this also proves a restart between runs loses nothing.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpCapture, type HttpCapture } from '../helpers/http-capture.ts';
import { closeAll, HOST, makePki, PASSWORD, SERVERNAME, smtpError, startSmtpServer, USER } from '../helpers/smtp.ts';
import { BUILT_CLI } from '../helpers/built-cli.ts';

const run = promisify(execFile);

describe('mailhealth check --state', () => {
  let dir: string;
  let slack: HttpCapture;
  let healthy = false;
  let configPath: string;

  beforeAll(async () => {
    // Prepare: a provider whose AUTH fails until the test heals it, and a Slack webhook stand-in.
    const pki = makePki();
    const server = await startSmtpServer(pki, {
      onAuth(auth, _session, callback) {
        if (healthy && auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
        callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      },
    });
    slack = await startHttpCapture();
    dir = await mkdtemp(join(tmpdir(), 'mh-check-state-'));
    await writeFile(join(dir, 'ca.pem'), pki.caPem);
    configPath = join(dir, 'config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        language: 'en',
        bounceDomain: 'bounces.example.jp',
        targets: [
          {
            name: 'shop',
            host: HOST,
            port: server.port,
            servername: SERVERNAME,
            ca: 'ca.pem',
            auth: { user: USER, passwordEnv: 'SHOP_SMTP_PASSWORD' },
            from: USER,
            to: ['owner@example.jp'],
            probePorts: [],
            timeouts: { connectMs: 2000, stepMs: 2000, probeMs: 500 },
          },
        ],
        alerts: { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' } },
      }),
    );
  });

  afterAll(async () => {
    await closeAll();
    await slack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function check(): Promise<number> {
    try {
      await run(process.execPath, [BUILT_CLI, 'check', '--config', configPath, '--state', join(dir, 'state'), '--json'], {
        env: { ...process.env, SHOP_SMTP_PASSWORD: PASSWORD, SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/secret`, LANG: 'C' },
        timeout: 30_000,
      });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it('posts one Slack alert for three failing runs, and one recovery for two healthy runs', async () => {
    // Act: three rounds while AUTH is refused.
    const failing = [await check(), await check(), await check()];
    const afterFailure = slack.requests.length;
    healthy = true;
    const healed = [await check(), await check()];

    // Assess
    expect(failing).toEqual([2, 2, 2]);
    expect(healed).toEqual([0, 0]);
    expect(afterFailure).toBe(1);
    expect(slack.requests).toHaveLength(2);
    const [alert, recovery] = slack.requests.map((r) => r.json<{ text: string; blocks: unknown[] }>());
    expect(alert?.text).toMatch(/failing/i);
    expect(JSON.stringify(alert?.blocks)).toContain('AUTH_FAILED');
    expect(recovery?.text).toMatch(/recovered/i);
    // Kept for people to read (artifacts/ is git-ignored): what Slack received.
    const artifacts = join(import.meta.dirname, '../../artifacts');
    await mkdir(artifacts, { recursive: true });
    await writeFile(join(artifacts, 'slack-payloads.json'), JSON.stringify([alert, recovery], null, 2));
  }, 120_000);
});
