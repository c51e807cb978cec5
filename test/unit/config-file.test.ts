import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseJsonc } from '#adapters/config-file.ts';
import { ConfigError } from '#core/errors.ts';

describe('parseJsonc', () => {
  it('reads comments and trailing commas, and leaves // inside strings alone', () => {
    // Prepare
    const text = '{\n  // the shop\n  "url": "https://hooks.example/a//b", /* inline */\n  "list": [1, 2,],\n}\n';
    // Act
    const doc = parseJsonc(text, 'c.jsonc');
    // Assess
    expect(doc).toEqual({ url: 'https://hooks.example/a//b', list: [1, 2] });
  });

  it.each([
    ['{\n  "a": 1\n  "b": 2\n}', "c.jsonc:3:3: invalid JSON: ',' expected"],
    ['{\n  "a": 1,\n  /* never closed\n}', 'c.jsonc:3:3: invalid JSON: comment not closed'],
    ['{\n  "a": "open\n}', 'c.jsonc:2:8: invalid JSON: string not closed'],
    ['{ "a": 1 } }', 'c.jsonc:1:12: invalid JSON: nothing more expected'],
    ['', 'c.jsonc:1:1: invalid JSON: a value expected'],
  ])('names the line and column of %j', (text, message) => {
    expect(() => parseJsonc(text, 'c.jsonc')).toThrow(ConfigError);
    expect(() => parseJsonc(text, 'c.jsonc')).toThrow(message);
  });
});

describe('loadConfigFile', () => {
  it('says where the syntax error is in the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailhealth-config-'));
    try {
      const path = join(dir, 'mailhealth.config.json');
      writeFileSync(path, '{\n  "targets": [\n    { "name": "shop", }\n  ],,\n}\n');
      await expect(loadConfigFile(path)).rejects.toThrow(`${path}:4:5: invalid JSON`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
