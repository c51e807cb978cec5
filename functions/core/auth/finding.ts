/**
 * One place that turns an authentication code, its severity and its facts into a Finding.
 */
import type { AuthCode, Finding, Severity } from '../findings.ts';
import { AUTH_TEXTS, type AuthTextParams } from './texts.ts';

/**
 * Builds an authentication finding with its en/ja message and remedy.
 * @example authFinding('SPF_MISSING', 'warning', { domain: 'example.jp' })
 */
export function authFinding<C extends AuthCode>(code: C, severity: Severity, params: AuthTextParams[C]): Finding {
  const text = AUTH_TEXTS[code](params);
  return { code, severity, message: text.message, remedy: text.remedy };
}

const ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Findings worst first, keeping the order of equals (the order the checks ran). */
export function worstFirst(findings: readonly Finding[]): Finding[] {
  return findings.map((f, i) => ({ f, i })).sort((a, b) => ORDER[a.f.severity] - ORDER[b.f.severity] || a.i - b.i).map(({ f }) => f);
}
