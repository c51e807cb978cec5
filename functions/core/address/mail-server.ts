/**
 * NO_MAIL_SERVER: does the recipient's domain accept mail at all? The one address check that
 * needs DNS, so it goes through the Resolver port and stays optional (`address --dns`).
 */
import type { Localized } from '../findings.ts';
import type { Resolver } from '../resolver.ts';
import type { AddressDiagnosis, AddressFinding } from './diagnose.ts';
import { MESSAGES, suggestionSentence } from './messages.ts';

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : 'ERROR';
}

/** The name to look up: lower case, no trailing dot, IDNs as A-labels; null for IP literals. */
function lookupName(domain: string): string | null {
  const d = domain.trim().toLowerCase().replace(/\.+$/, '');
  if (d === '' || d.startsWith('[')) return null;
  if (!/[^\x00-\x7f]/.test(d)) return d;
  try {
    return new URL(`http://${d}/`).hostname;
  } catch {
    return null;
  }
}

const finding = (message: Localized, severity: AddressFinding['severity'] = 'critical'): AddressFinding => ({
  code: 'NO_MAIL_SERVER',
  severity,
  message,
});

/**
 * Checks that a domain can receive mail: an MX record, or else (RFC 5321 §5.1, the implicit MX)
 * an A or AAAA record. Returns a critical NO_MAIL_SERVER finding when the domain does not exist,
 * has neither, or publishes a null MX (RFC 7505); an info finding when DNS could not answer
 * (timeout, SERVFAIL): no evidence either way; null when mail can be delivered.
 *
 * @example
 * await checkMailServer('example.jp', createDnsResolver()); // null
 * await checkMailServer('no-such-domain.example', resolver); // { code: 'NO_MAIL_SERVER', severity: 'critical', … }
 */
export async function checkMailServer(domain: string, resolver: Resolver): Promise<AddressFinding | null> {
  const name = lookupName(domain);
  if (name === null) return null;
  try {
    const mx = await resolver(name, 'MX');
    // A null MX is a single record whose exchange is the root ("." or "" as node:dns gives it).
    if (mx.length > 0 && mx.every((r) => r.exchange === '' || r.exchange === '.')) return finding(MESSAGES.nullMx(domain));
    if (mx.length > 0) return null;
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOTFOUND') return finding(MESSAGES.domainNotFound(domain));
    if (code !== 'ENODATA') return finding(MESSAGES.dnsUnavailable(domain, code), 'info');
  }
  const answers = await Promise.allSettled([resolver(name, 'A'), resolver(name, 'AAAA')]);
  if (answers.some((a) => a.status === 'fulfilled' && a.value.length > 0)) return null;
  const failure = answers.find((a) => a.status === 'rejected' && !['ENOTFOUND', 'ENODATA'].includes(errorCode(a.reason)));
  if (failure?.status === 'rejected') return finding(MESSAGES.dnsUnavailable(domain, errorCode(failure.reason)), 'info');
  return finding(MESSAGES.noMailServer(domain));
}

/**
 * A diagnosis with the mail-server check added: the domain of `normalized` is looked up unless
 * the address could not be normalized or its domain is already known to be malformed. A domain
 * that does not exist gets the typo suggestion of the diagnosis, if it has one.
 *
 * @example
 * const d = await withMailServerCheck(diagnoseAddress('info@gmial.com'), resolver);
 * d.findings.map((f) => f.code); // ['NO_MAIL_SERVER', 'DOMAIN_TYPO'] when gmial.com has no MX
 */
export async function withMailServerCheck(diagnosis: AddressDiagnosis, resolver: Resolver): Promise<AddressDiagnosis> {
  const { normalized } = diagnosis;
  if (normalized === null) return diagnosis;
  if (diagnosis.findings.some((f) => f.code === 'DOMAIN_INVALID' && f.severity === 'critical')) return diagnosis;
  const domain = normalized.slice(normalized.lastIndexOf('@') + 1);
  const found = await checkMailServer(domain, resolver);
  if (found === null) return diagnosis;
  const elsewhere = diagnosis.findings.find((f) => f.suggestion !== undefined && !f.suggestion.endsWith(`@${domain}`))?.suggestion;
  let added = found;
  if (found.severity === 'critical' && elsewhere !== undefined) {
    const sentence = suggestionSentence(elsewhere, true);
    added = {
      code: found.code,
      severity: found.severity,
      suggestion: elsewhere,
      message: { en: `${found.message.en} ${sentence.en}`, ja: `${found.message.ja}${sentence.ja}` },
    };
  }
  const findings = [...diagnosis.findings, added].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  return { ...diagnosis, ok: diagnosis.ok && added.severity === 'info', findings };
}
