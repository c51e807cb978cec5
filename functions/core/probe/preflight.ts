/**
 * The probe's address preflight: the canary's sender and recipients get the same diagnosis a
 * support desk would give (functions/core/address), before anything is sent. Config load has
 * already refused addresses that cannot be sent, so what remains here are the doubts: a likely
 * domain typo, a carrier address many servers refuse, characters providers reject.
 */
import { diagnoseAddress } from '../address/index.ts';
import type { TargetConfig } from '../config.ts';
import type { Finding, Localized } from '../findings.ts';

const CHECK_WITH_RECIPIENT: Localized = {
  en: 'Confirm the address with its owner, and correct it in the config if it is wrong.',
  ja: 'アドレスの持ち主に確認し、誤っていれば設定を修正してください。',
};

function remedyOf(suggestion: string | undefined): Localized {
  if (!suggestion) return CHECK_WITH_RECIPIENT;
  return {
    en: `Did you mean ${suggestion}? ${CHECK_WITH_RECIPIENT.en}`,
    ja: `${suggestion} の誤りではありませんか？ ${CHECK_WITH_RECIPIENT.ja}`,
  };
}

/**
 * Findings (warning or critical) for the target's `from` and each `to` address.
 * @example addressPreflight({ ...target, to: ['owner@gmial.com'] })[0]?.code // 'DOMAIN_TYPO'
 */
export function addressPreflight(target: Pick<TargetConfig, 'from' | 'to'>, knownDomains: readonly string[] = []): Finding[] {
  const findings: Finding[] = [];
  const inspect = (address: string, step: 'mail' | 'rcpt') => {
    for (const f of diagnoseAddress(address, { knownDomains }).findings) {
      if (f.severity === 'info') continue;
      findings.push({ code: f.code, severity: f.severity, step, recipient: address, message: f.message, remedy: remedyOf(f.suggestion) });
    }
  };
  inspect(target.from, 'mail');
  for (const to of target.to) inspect(to, 'rcpt');
  return findings;
}
