/**
 * Reads the config file from disk (JSON with comments, through jsonc-parser): syntax errors
 * become a ConfigError naming the file, line and column; schema errors one naming the field. Relative `ca` paths resolve against the file.
 */
import { readFile } from 'node:fs/promises';
import { parse, printParseErrorCode, type ParseError, type ParseErrorCode } from 'jsonc-parser';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseConfig, type Config } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';

/**
 * Parses JSON with comments and trailing commas (JSONC, as editors accept it, so the committed
 * example can explain itself). A syntax error is a ConfigError naming `source`, the line and
 * the column (1-based) and what was expected there.
 * @example parseJsonc('{ "language": "ja", // comment\n }', 'x.jsonc') // { language: 'ja' }
 */
export function parseJsonc(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  const doc: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineAndColumn(text, first.offset);
    const found = text.slice(first.offset, first.offset + Math.min(Math.max(first.length, 1), 20)).replace(/\s+/g, ' ');
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''} after it)` : '';
    throw new ConfigError(`${source}:${line}:${column}: invalid JSON: ${describeError(first.error)}${found ? ` at '${found}'` : ''}${more}`);
  }
  return doc;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

// jsonc-parser's error codes in words a config author acts on.
const ERROR_TEXT: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'malformed number',
  PropertyNameExpected: 'a property name in double quotes expected',
  ValueExpected: 'a value expected',
  ColonExpected: "':' expected",
  CommaExpected: "',' expected",
  CloseBraceExpected: "'}' expected",
  CloseBracketExpected: "']' expected",
  EndOfFileExpected: 'nothing more expected after the closing brace',
  InvalidCommentToken: 'malformed comment',
  UnexpectedEndOfComment: 'comment not closed (*/ missing)',
  UnexpectedEndOfString: 'string not closed (" missing)',
  UnexpectedEndOfNumber: 'number cut short',
  InvalidUnicode: 'malformed \\u escape',
  InvalidEscapeCharacter: 'unknown escape after \\',
  InvalidCharacter: 'a control character inside a string',
};

function describeError(code: ParseErrorCode): string {
  const name = printParseErrorCode(code);
  return ERROR_TEXT[name] ?? name;
}

export async function loadConfigFile(path: string, env: { locale?: string } = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, undefined, { cause: err });
  }
  const doc = parseJsonc(text, path);
  let config: Config;
  try {
    config = parseConfig(doc, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.message}`, err.field, { cause: err });
    throw err;
  }
  const base = dirname(resolve(path));
  return {
    ...config,
    targets: config.targets.map((t) => (t.ca && !isAbsolute(t.ca) ? { ...t, ca: resolve(base, t.ca) } : t)),
    ...(config.seeds ? { seeds: config.seeds.map((s) => (s.imap.ca && !isAbsolute(s.imap.ca) ? { ...s, imap: { ...s.imap, ca: resolve(base, s.imap.ca) } } : s)) } : {}),
  };
}
