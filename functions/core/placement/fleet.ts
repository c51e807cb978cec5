/**
 * Inbox placement in the fleet view (`mailhealth status`, the report's fleet table): one cell
 * per target from its latest round's placement entries.
 */
import type { Status } from '../findings.ts';
import type { PlacementEntry } from './verdict.ts';
import type { PlacementVerdict } from './verdict.ts';

const STATUS_OF: Record<PlacementVerdict, Status> = { inbox: 'ok', other: 'ok', pending: 'ok', spam: 'critical', missing: 'critical', refused: 'critical', unreadable: 'warning' };
const RANK: Record<Status, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/**
 * The fleet cell of a target's placement: its worst verdict as a status, and a short summary
 * such as `2/3 inbox · spam: gmail`. Null for a target without seeds.
 * @example fleetPlacementOf(result.placement ?? []) // { status: 'critical', summary: '1/2 inbox · spam: gmail' }
 */
export function fleetPlacementOf(entries: readonly PlacementEntry[]): { readonly status: Status; readonly summary: string } | null {
  if (entries.length === 0) return null;
  let status: Status = 'ok';
  for (const e of entries) if (RANK[STATUS_OF[e.verdict]] > RANK[status]) status = STATUS_OF[e.verdict];
  const decided = entries.filter((e) => e.verdict !== 'pending');
  const inbox = decided.filter((e) => e.verdict === 'inbox').length;
  const named = (verdict: PlacementVerdict) => {
    const seeds = entries.filter((e) => e.verdict === verdict).map((e) => e.seed);
    return seeds.length > 0 ? [`${verdict}: ${seeds.join(', ')}`] : [];
  };
  const head = decided.length === 0 ? 'pending' : `${inbox}/${decided.length} inbox`;
  return { status, summary: [head, ...named('spam'), ...named('missing'), ...named('refused'), ...named('unreadable')].join(' · ') };
}
