/**
 * docs/REFERENCE.md, the reference users and integrators read: generated from the code
 * (scripts/write-reference.ts), so it must be exactly what the script writes now, and the
 * tables it is written from must describe what the code does.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DNSBL_ZONES } from '#core/auth/ip.ts';
import { bounceCodeOf, bounceFinding } from '#core/bounce/findings.ts';
import { FINDING_DOCS } from '#core/finding-docs.ts';
import { ADDRESS_CODES, AUTH_CODES, BOUNCE_CODES, PROBE_CODES } from '#core/findings.ts';
import { BOUNCE_REASONS } from '#core/results.ts';
import { COMMANDS } from '#local/cli/commands.ts';
import { OUTPUT_CONTRACTS } from '#local/cli/json-contracts.ts';
import { configFieldDocs, keySignature } from '../../scripts/config-docs.ts';
import { REFERENCE_FILE, referenceContent } from '../../scripts/write-reference.ts';

describe('docs/REFERENCE.md', () => {
  const { text, gaps } = referenceContent();

  it('is what `npm run docs` writes from the code now (run it after changing a command, a code, a contract or the config)', () => {
    expect(readFileSync(REFERENCE_FILE, 'utf8')).toBe(text);
  });

  // What is added elsewhere (a command, a code list, a config field) appears at the next `npm run
  // docs`: described, or listed as not described yet and named on stderr (`gaps`), never left out.
  it('picks up a code list added to findings.ts, listing its codes even before they are described', () => {
    const added = referenceContent({ extraCodeLists: { PLACEMENT_CODES: ['SOMETHING_NEW'] } });
    expect(added.gaps).toEqual([...gaps, 'finding SOMETHING_NEW: no row in functions/core/finding-docs.ts']);
    expect(added.text).toContain('### Placement\n\n| code | severity | meaning |\n|---|---|---|\n| `SOMETHING_NEW` |  | not described yet |');
  });

  it('has a section per command of the table, with the shape of each machine-readable output', () => {
    for (const spec of COMMANDS) expect(text).toContain(`### \`mailhealth ${spec.name}\``);
    for (const [command, options] of Object.entries({ check: ['--json'], bounce: ['--json', '--jsonl'], address: ['--json'], dns: ['--json'], suppressions: ['--json', '--csv'], status: ['--json'] })) {
      expect(OUTPUT_CONTRACTS[command]?.map((c) => c.option)).toEqual(options);
    }
    const outputs = Object.values(OUTPUT_CONTRACTS).reduce((n, list) => n + list.length, 0);
    expect(text.match(/^Output of `--(json|jsonl|csv)`/gm)).toHaveLength(outputs);
  });

  it('is linked from the README and shipped in the package', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { files: string[] };
    expect(readme).toContain('](docs/REFERENCE.md)');
    expect(pkg.files).toContain('docs/');
  });
});

describe('the finding table (functions/core/finding-docs.ts)', () => {
  it('has a row for every code of the lists', () => {
    for (const code of [...PROBE_CODES, ...AUTH_CODES, ...BOUNCE_CODES, ...ADDRESS_CODES]) expect(FINDING_DOCS[code], code).toBeDefined();
  });

  it('gives each bounce code the severity its bounces are raised with', () => {
    for (const reason of BOUNCE_REASONS) {
      const finding = bounceFinding({ recipient: 'x@example.jp', reason, status: '5.0.0', replyCode: 550, hard: false, diagnostic: null, remoteMta: null, canaryId: null });
      if (!finding) continue;
      expect(finding.code).toBe(bounceCodeOf(reason));
      expect(FINDING_DOCS[finding.code]?.severity, reason).toEqual([finding.severity]);
    }
  });

  it('explains when for every code raised with more than one severity, and only then', () => {
    for (const [code, doc] of Object.entries(FINDING_DOCS)) expect(doc.when !== undefined, code).toBe(doc.severity.length > 1);
  });
});

describe('the config documentation (TSDoc of functions/core/config.ts)', () => {
  it('states the blocklists a config without dnsbl asks, as the code has them', () => {
    const docs = configFieldDocs();
    const top = [...docs.entries()].find(([signature]) => signature.split(',').includes('dnsbl'))?.[1];
    expect(top?.get('dnsbl')?.defaultText).toBe(DEFAULT_DNSBL_ZONES.join(', '));
  });

  it('reads a field comment and its tags by the keys of its object', () => {
    const docs = configFieldDocs(`const s = z.object({\n  /** The thing.\n   * @scope local\n   * @default two */\n  a: z.string(),\n  b,\n});`);
    expect(docs.get(keySignature(['b', 'a']))?.get('a')).toEqual({ description: 'The thing.', scope: 'local', defaultText: 'two' });
  });
});
