/**
 * The report's inbox placement section: per target with seeds, a grid of its seeds (rows) by its
 * latest canaries (columns, newest first), each cell the verdict and the seconds to the seed;
 * the receiver's own verdicts on hover. From the placement records of the state directory.
 */
import type { Language } from '#core/findings.ts';
import type { PlacementRecord, PlacementVerdict } from '#core/placement/verdict.ts';
import { badge, secondsText, shortTime } from './format.ts';
import { esc } from './svg.ts';

/** Canaries shown per target: the history of the last few round trips. */
export const PLACEMENT_COLUMNS = 12;

const TONE: Record<PlacementVerdict, string> = { inbox: 'ok', other: 'unknown', pending: 'unknown', spam: 'critical', missing: 'critical', refused: 'critical', unreadable: 'warning' };
const LABEL: Record<PlacementVerdict, Record<Language, string>> = {
  inbox: { en: 'inbox', ja: '受信トレイ' },
  spam: { en: 'spam', ja: '迷惑メール' },
  other: { en: 'other folder', ja: '別フォルダー' },
  missing: { en: 'missing', ja: '未着' },
  refused: { en: 'refused', ja: '受信拒否' },
  unreadable: { en: 'unreadable', ja: '読み取り不可' },
  pending: { en: 'pending', ja: '確認待ち' },
};
const T = {
  heading: { en: 'Inbox placement (seeds)', ja: '受信場所（シード）' },
  intro: {
    en: 'Where each canary landed in the seed mailboxes, newest first; hover a cell for the folder and what the receiver said (its own Authentication-Results).',
    ja: 'シードのメールボックスでテストメールがどこに届いたか（新しい順）。セルにカーソルを合わせると、フォルダーと受信側自身の判定（Authentication-Results）が表示されます。',
  },
  seed: { en: 'seed', ja: 'シード' },
} as const;

function cell(r: PlacementRecord | undefined, lang: Language): string {
  if (!r) return '<td class="muted">–</td>';
  const auth = r.receiverAuth ? (['spf', 'dkim', 'dmarc'] as const).filter((m) => r.receiverAuth![m] !== undefined).map((m) => `${m}=${r.receiverAuth![m]}`).join(' ') : '';
  const title = [r.folder, r.category, auth ? `${r.receiverAuth!.authservId}: ${auth}` : null, r.refusal?.reply ?? null, r.error ?? null].filter(Boolean).join(' · ');
  const seconds = r.seconds !== null ? ` <span class="muted">${esc(secondsText(r.seconds, lang))}</span>` : '';
  return `<td${title ? ` title="${esc(title)}"` : ''}>${badge(TONE[r.verdict], LABEL[r.verdict][lang])}${seconds}</td>`;
}

/**
 * The section's HTML; empty when no target has placement records.
 * @example placementSection([{ name: 'shop', records }], 'en', 'UTC')
 */
export function placementSection(targets: readonly { readonly name: string; readonly records: readonly PlacementRecord[] }[], lang: Language, timeZone?: string): string {
  const tables = targets.flatMap(({ name, records }) => {
    if (records.length === 0) return [];
    const canaries = [...new Map(records.map((r) => [r.canaryId, r.sentAt])).entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1)).slice(0, PLACEMENT_COLUMNS);
    const seeds = [...new Set(records.map((r) => r.seed))].sort();
    const head = `<tr><th>${esc(T.seed[lang])}</th>${canaries.map(([id, at]) => `<th title="${esc(id)}">${esc(shortTime(at, lang, timeZone))}</th>`).join('')}</tr>`;
    const rows = seeds.map((seed) => `<tr><td>${esc(seed)}</td>${canaries.map(([id]) => cell(records.find((r) => r.canaryId === id && r.seed === seed), lang)).join('')}</tr>`);
    return [`<h3>${esc(name)}</h3><div class="scroll"><table data-target="${esc(name)}"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`];
  });
  if (tables.length === 0) return '';
  return `<section id="placement"><h2>${esc(T.heading[lang])}</h2><p>${esc(T.intro[lang])}</p>${tables.join('')}</section>`;
}
