import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonc } from '#adapters/config-file.ts';
import { PROJECT_ROOT } from '../../lib/mail-function.ts';
import { EXAMPLE_CONFIG_PATH } from './helpers.ts';

const TSX = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const APP = join(PROJECT_ROOT, 'bin', 'mail-health.ts');

let scratch: string;

/** Runs the CDK app the way the cdk CLI does: context and output directory through the environment. */
function runApp(context: Record<string, unknown>, outdir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [APP],
      {
        cwd: scratch,
        // No credentials and no account: the synth must not need them.
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
        },
        timeout: 90_000,
      },
      (err, _stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }),
    );
  });
}

function writeConfig(name: string, patch: (doc: Record<string, any>) => void): string {
  const doc = parseJsonc(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), EXAMPLE_CONFIG_PATH) as Record<string, any>;
  patch(doc);
  const path = join(scratch, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'mail-health-app-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

// Each run starts a fresh node process that loads aws-cdk-lib: allow for a slow, shared machine.
describe('bin/mail-health.ts', { timeout: 120_000 }, () => {
  it('synthesizes offline from the committed example when mailhealth.config.json is absent, and says so', async () => {
    // Prepare
    const outdir = join(scratch, 'out-fallback');
    // Act
    const { code, stderr } = await runApp({}, outdir);
    // Assess
    expect(stderr).toContain('mailhealth.config.json not found, synthesizing with the committed example mailhealth.config.example.jsonc');
    expect(code).toBe(0);
    expect(existsSync(join(outdir, 'MailHealthStack.template.json'))).toBe(true);
  });

  it('fails the synth with the message naming the bad field', async () => {
    // Prepare
    const path = writeConfig('bad-port.json', (doc) => {
      doc.targets[0].port = 'submission';
    });
    // Act
    const { code, stderr } = await runApp({ config: path }, join(scratch, 'out-bad'));
    // Assess
    expect(code).toBe(1);
    expect(stderr).toMatch(/^mail-health: .*bad-port\.json: invalid config: targets\[0\]\.port: /m);
    expect(existsSync(join(scratch, 'out-bad', 'MailHealthStack.template.json'))).toBe(false);
  });

  it('fails the synth when a target cannot be deployed, naming the field', async () => {
    // Prepare
    const path = writeConfig('no-secret.json', (doc) => {
      delete doc.targets[0].auth.secretName;
    });
    // Act
    const { code, stderr } = await runApp({ config: path }, join(scratch, 'out-no-secret'));
    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('no-secret.json: targets[0].auth.secretName: required for the AWS deployment');
  });
});
