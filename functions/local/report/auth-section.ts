/**
 * The report's "Mail authentication" section: per target, what its latest round knew (the
 * round's `authentication` facts, core/auth/round.ts): the from domain's published SPF, DMARC
 * and DKIM keys, the latest delivered canary's SPF/DKIM/DMARC verdicts, and its sending server.
 * The findings themselves are in the report's findings section with their remedies.
 */
import type { AuthResult } from '#core/auth/canary.ts';
import type { RoundAuthentication } from '#core/auth/facts.ts';
import type { Language } from '#core/findings.ts';
import { esc } from './svg.ts';

const T = {
  heading: { en: 'Mail authentication (will Gmail and Yahoo accept it?)', ja: '送信ドメイン認証（Gmail・Yahoo に受け取ってもらえるか）' },
  help: {
    en: 'The from domain as published, the latest canary as the receiving side verified it, and the server it was sent from. Findings and what to do are listed under Findings.',
    ja: '送信元ドメインの公開設定、受信側で検証した最新のテストメールの結果、送信元サーバーです。検出事項と対処方法は「検出事項」にあります。',
  },
  none: { en: 'Not checked (no DNS for this target, or no round yet).', ja: '未確認（この対象は DNS 確認の対象外、またはまだ実行されていません）。' },
  published: { en: 'Published', ja: '公開設定' },
  canary: { en: 'Latest canary', ja: '最新のテストメール' },
  server: { en: 'Sending server', ja: '送信元サーバー' },
  noCanary: { en: 'none arrived yet', ja: 'まだ届いていません' },
  noServer: { en: 'not known yet', ja: '未確認' },
  lookups: { en: 'DNS lookups', ja: 'DNS 参照' },
  missing: { en: 'missing', ja: 'なし' },
  revoked: { en: 'revoked', ja: '失効' },
  listedOn: { en: 'listed on', ja: '掲載' },
  notListed: { en: 'on no list checked', ja: 'ブラックリスト掲載なし' },
  noPtr: { en: 'no reverse DNS', ja: '逆引きなし' },
  via: { en: 'verified', ja: '検証' },
} as const;

const GOOD: ReadonlySet<AuthResult> = new Set(['pass']);
const UNKNOWN: ReadonlySet<AuthResult> = new Set(['temperror', 'none']);

function verdict(label: string, result: AuthResult): string {
  const tone = GOOD.has(result) ? 'ok' : UNKNOWN.has(result) ? 'unknown' : 'critical';
  return `<span class="badge tone-${tone}">${esc(label)} ${esc(result)}</span>`;
}

function row(facts: RoundAuthentication, lang: Language, timeZoneTime: (iso: string) => string): string {
  const p = facts.published;
  const dkimKeys = Object.entries(p.dkim).map(([s, k]) => `${s}: ${k === 'missing' ? T.missing[lang] : k === 'revoked' ? T.revoked[lang] : k === null ? '?' : `${k} bit`}`);
  const published = [
    `SPF ${p.spf ?? T.missing[lang]}${p.spf ? ` (${T.lookups[lang]} ${p.spfLookups}/10)` : ''}`,
    `DMARC ${p.dmarcPolicy ? `p=${p.dmarcPolicy}` : T.missing[lang]}`,
    ...(dkimKeys.length ? [`DKIM ${dkimKeys.join(', ')}`] : []),
  ].join(' · ');
  const d = facts.delivery;
  const canary = d
    ? `${verdict('SPF', d.verdicts.spf.result)} ${d.verdicts.dkim.length ? d.verdicts.dkim.map((k) => verdict(`DKIM ${k.domain}`, k.result)).join(' ') : verdict('DKIM', 'none')} ${verdict('DMARC', d.verdicts.dmarc.result)} <span class="muted">${esc(`${d.canaryId} · ${timeZoneTime(d.at)} · ${T.via[lang]}: ${d.verdicts.source === 'ses' ? 'SES' : 'mailauth'}`)}</span>`
    : `<span class="muted">${esc(T.noCanary[lang])}</span>`;
  const s = facts.sendingIp;
  const server = s
    ? esc(`${s.ip} · ${s.ptr.length ? `PTR ${s.ptr.join(', ')}` : T.noPtr[lang]} · ${s.listedOn.length ? `${T.listedOn[lang]} ${s.listedOn.join(', ')}` : T.notListed[lang]}`)
    : `<span class="muted">${esc(T.noServer[lang])}</span>`;
  return `<tr><td>${esc(facts.domain)}</td><td>${esc(published)}</td><td>${canary}</td><td>${server}</td></tr>`;
}

/**
 * The section's HTML, from each target's newest authentication facts (of its newest round
 * that has them).
 * @example authenticationSection([{ name: 'shop', authentication: round.authentication ?? null }], 'en', (iso) => iso)
 */
export function authenticationSection(targets: readonly { readonly name: string; readonly authentication: RoundAuthentication | null }[], lang: Language, time: (iso: string) => string): string {
  // Targets never checked share one line: at hundreds of targets a row each would outweigh the rest.
  const unchecked = targets.filter((t) => !t.authentication).map((t) => t.name);
  const rows = targets.flatMap((t) => (t.authentication ? [row(t.authentication, lang, time).replace('<tr>', `<tr data-target="${esc(t.name)}"><td>${esc(t.name)}</td>`)] : []));
  if (unchecked.length > 0) rows.push(`<tr class="unchecked"><td>${esc(unchecked.join(', '))}</td><td colspan="4" class="muted">${esc(T.none[lang])}</td></tr>`);
  const head = lang === 'ja' ? ['対象', 'ドメイン', T.published.ja, T.canary.ja, T.server.ja] : ['Target', 'Domain', T.published.en, T.canary.en, T.server.en];
  return `<section id="authentication"><h2>${esc(T.heading[lang])}</h2><p class="muted">${esc(T.help[lang])}</p><div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`;
}
