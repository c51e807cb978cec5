/**
 * `mailhealth address ADDR... [--json] [--dns]`: diagnoses recipient addresses.
 * Exit 0 when every address is fine, 1 on warnings, 2 on errors (info notes do not count).
 */
import { createDnsResolver } from '#adapters/dns-resolver.ts';
import { diagnoseAddress, withMailServerCheck, type AddressDiagnosis } from '#core/address/index.ts';
import { UsageError } from '#core/errors.ts';
import { exitCodeOf, statusOf, worstStatus, type Language, type Severity, type Status } from '#core/findings.ts';
import type { Resolver } from '#core/ports.ts';
import { parseCommandArgs, usageLine } from './commands.ts';
import { languageFromEnv, padDisplay, styler, writeJson, type CliIO, type Command } from './io.ts';

const VERDICT: Record<Language, Record<Exclude<Status, 'unknown'> | 'valid-warning', string>> = {
  en: { ok: 'OK', warning: 'CHECK', critical: 'ERROR', 'valid-warning': 'VALID, CHECK' },
  ja: { ok: '問題なし', warning: '要確認', critical: 'エラー', 'valid-warning': '有効・要確認' },
};
const SEVERITY_LABEL: Record<Language, Record<Severity, string>> = {
  en: { critical: 'error', warning: 'warning', info: 'note' },
  ja: { critical: 'エラー', warning: '注意', info: '参考' },
};
const SUGGESTION_LABEL: Record<Language, string> = { en: 'Suggestion:', ja: '候補:' };
const NORMALIZED_LABEL: Record<Language, string> = { en: 'Normalized:', ja: '正規化:' };

/** What the command needs from outside; tests pass a declarative resolver. */
export interface AddressCommandDeps {
  /** The resolver used with `--dns`; created on first use. @default createDnsResolver() */
  readonly resolver?: () => Resolver;
}

function parse(argv: readonly string[]): { addresses: string[]; json: boolean; dns: boolean } {
  const { values, positionals } = parseCommandArgs('address', argv, { allowPositionals: true });
  if (positionals.length === 0) throw new UsageError(`address needs at least one address\n${usageLine('address')}`);
  return { addresses: positionals, json: values.flag('json'), dns: values.flag('dns') };
}

function printHuman(io: CliIO, diagnoses: readonly AddressDiagnosis[]): void {
  const lang = languageFromEnv(io.env);
  const s = styler(io);
  // padDisplay counts East Asian wide characters as two columns; measure the inputs the same way.
  const displayWidth = (text: string) => {
    const room = 2 * text.length + 1;
    return room - (padDisplay(text, room).length - text.length);
  };
  const width = Math.max(...diagnoses.map((d) => displayWidth(d.input))) + 2;
  for (const d of diagnoses) {
    const status = statusOf(d.findings) as Exclude<Status, 'unknown'>;
    const mark = status === 'ok' ? s.green('✓') : status === 'warning' ? s.yellow('!') : s.red('✗');
    // A warning on a valid address (a quoted name part many services refuse) says both.
    const warning = d.ok ? VERDICT[lang]['valid-warning'] : VERDICT[lang].warning;
    const verdict = status === 'ok' ? s.green(VERDICT[lang].ok) : status === 'warning' ? s.yellow(warning) : s.red(VERDICT[lang].critical);
    io.stdout.write(`${mark} ${s.bold(padDisplay(d.input, width))}${verdict}\n`);
    for (const f of d.findings) {
      const label = padDisplay(SEVERITY_LABEL[lang][f.severity], 8);
      const colour = f.severity === 'critical' ? s.red : f.severity === 'warning' ? s.yellow : s.dim;
      io.stdout.write(`    ${colour(label)} ${s.dim(f.code)}\n      ${f.message[lang]}\n`);
    }
    const suggestion = d.findings.find((f) => f.suggestion !== undefined)?.suggestion;
    if (suggestion !== undefined) io.stdout.write(`    ${s.cyan('→')} ${SUGGESTION_LABEL[lang]} ${s.bold(suggestion)}\n`);
    else if (d.normalized !== null && d.normalized !== d.input) io.stdout.write(`    ${NORMALIZED_LABEL[lang]} ${d.normalized}\n`);
  }
}

/** Builds the `address` command; `addressCommand` is this with the real DNS resolver. */
export function createAddressCommand(deps: AddressCommandDeps = {}): Command {
  return async (argv, io) => {
    const { addresses, json, dns } = parse(argv);
    let diagnoses = addresses.map((a) => diagnoseAddress(a));
    if (dns) {
      const resolver = (deps.resolver ?? (() => createDnsResolver()))();
      diagnoses = await Promise.all(diagnoses.map((d) => withMailServerCheck(d, resolver)));
    }
    if (json) {
      writeJson(io, {
        addresses: diagnoses.map((d) => ({
          input: d.input,
          normalized: d.normalized,
          ok: d.ok,
          findings: d.findings.map((f) => ({ code: f.code, severity: f.severity, ...(f.suggestion !== undefined ? { suggestion: f.suggestion } : {}), message: f.message })),
        })),
      });
    } else printHuman(io, diagnoses);
    return exitCodeOf(worstStatus(diagnoses.map((d) => statusOf(d.findings))));
  };
}

/** `mailhealth address ADDR... [--json] [--dns]`. */
export const addressCommand: Command = createAddressCommand();
