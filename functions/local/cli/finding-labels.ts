/**
 * The words every command's text output uses around findings (status, severity, "What to do:"),
 * in one place so `check` and `dns` say them the same way.
 */
import type { Language, Severity, Status } from '#core/findings.ts';

export interface FindingLabels {
  readonly status: Record<Status, string>;
  readonly severity: Record<Severity, string>;
  readonly findings: string;
  readonly remedy: string;
  readonly overall: string;
  readonly none: string;
}

export const FINDING_LABELS: Record<Language, FindingLabels> = {
  en: {
    status: { ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN' },
    severity: { info: 'info', warning: 'warning', critical: 'critical' },
    findings: 'Findings',
    remedy: 'What to do:',
    overall: 'Overall',
    none: 'No problems found.',
  },
  ja: {
    status: { ok: 'OK（正常）', warning: 'WARNING（警告）', critical: 'CRITICAL（重大）', unknown: 'UNKNOWN（不明）' },
    severity: { info: '参考', warning: '警告', critical: '重大' },
    findings: '診断結果',
    remedy: '対処:',
    overall: '総合',
    none: '問題は見つかりませんでした。',
  },
};
