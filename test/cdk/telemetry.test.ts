/**
 * The CDK CLI sends nothing off the machine: its telemetry is off in cdk.json (every `cdk`
 * command of a checkout) and in the environment of CI, the lint script and `npm run synth`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../lib/mail-function.ts';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');

describe('CDK CLI telemetry', () => {
  it('is off in cdk.json, CI, the cfn-lint script and npm run synth', () => {
    expect((JSON.parse(read('cdk.json')) as { context: Record<string, unknown> }).context['cli-telemetry']).toBe(false);
    expect(read('.ci/run')).toMatch(/^export CDK_DISABLE_CLI_TELEMETRY=true$/m);
    expect(read('scripts/cfn-lint.sh')).toMatch(/^export CDK_DISABLE_CLI_TELEMETRY=true$/m);
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.synth).toMatch(/^CDK_DISABLE_CLI_TELEMETRY=true cdk /);
  });
});
