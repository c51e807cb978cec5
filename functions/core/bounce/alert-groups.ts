/**
 * The alert group of each bounce reason (docs/REFERENCE.md "Bounce reasons"). Apart from findings.ts,
 * which turns groups into findings, so that what only needs the group (the CLI's exit code and
 * colours, the suppression list) does not load the findings' texts and the address advice.
 */
import type { BounceReason } from '../results.ts';

/** The alert groups (docs/REFERENCE.md); reports that are not failures have none. */
export type AlertGroup = 'mailbox-full' | 'invalid-address' | 'too-large' | 'blocked' | 'transient' | 'other';

const GROUPS: Readonly<Record<BounceReason, AlertGroup | null>> = {
  mailboxfull: 'mailbox-full',
  userunknown: 'invalid-address',
  hostunknown: 'invalid-address',
  hasmoved: 'invalid-address',
  notaccept: 'invalid-address',
  mesgtoobig: 'too-large',
  exceedlimit: 'too-large',
  // The receiving side's policy refused the mail: filters, block lists, spam and virus checks,
  // sender authentication, reverse DNS, content and format rules.
  filtered: 'blocked',
  rejected: 'blocked',
  blocked: 'blocked',
  spamdetected: 'blocked',
  policyviolation: 'blocked',
  authfailure: 'blocked',
  requireptr: 'blocked',
  badreputation: 'blocked',
  securityerror: 'blocked',
  norelaying: 'blocked',
  virusdetected: 'blocked',
  contenterror: 'blocked',
  notcompliantrfc: 'blocked',
  expired: 'transient',
  networkerror: 'transient',
  systemerror: 'transient',
  systemfull: 'transient',
  toomanyconn: 'transient',
  speeding: 'transient',
  suspend: 'other',
  syntaxerror: 'other',
  mailererror: 'other',
  onhold: 'other',
  undefined: 'other',
  vacation: null,
  feedback: null,
  delivered: null,
};

/**
 * The alert group of a bounce reason, or null for reports that are not failures
 * (`vacation`, `feedback`, `delivered`).
 * @example alertGroupOf('hostunknown') // 'invalid-address'
 */
export function alertGroupOf(reason: BounceReason): AlertGroup | null {
  return GROUPS[reason];
}
