/**
 * What the Store keeps besides the health state: sent canaries, bounces and raised alerts.
 * Plain JSON with ISO times, so a file and a DynamoDB item hold the same thing.
 */
import type { AlertEvent, DeliveryOutcome } from '../alert/event.ts';
import type { Finding } from '../findings.ts';
import type { BouncedRecipient } from '../results.ts';

/** A canary that was handed to the provider and must arrive at the bounce domain's mailbox. */
export interface CanaryRecord {
  readonly id: string;
  readonly target: string;
  /** ISO time the canary was accepted by the provider. */
  readonly sentAt: string;
  /** The recipients whose arrival is checked (the bounce domain's own mailboxes). */
  readonly recipients: readonly string[];
  /** ISO time the canary arrived; null while it has not. */
  readonly deliveredAt: string | null;
}

/** One bounced recipient as recorded for the history and the report. */
export interface BounceRecord {
  /** ISO time the bounce arrived (the listener's receipt, the SES receipt); older records: when it was processed. */
  readonly at: string;
  /** Its once-only key (canary or source, and recipient): a record written twice is one bounce. */
  readonly key?: string;
  /** The target of the canary; null when the bounce matched no known canary. */
  readonly target: string | null;
  readonly canaryId: string | null;
  readonly recipient: BouncedRecipient;
  /** The finding it raised; null for reasons that raise none (vacation, feedback, delivered). */
  readonly finding: Finding | null;
  /**
   * Where the raw message is kept: the S3 key in AWS, a path relative to the state directory
   * locally (`raw/<day>/<file>.eml`), until retention.rawMailDays remove it.
   */
  readonly source?: string;
}

/** A raised alert and what happened when it was delivered. */
export interface AlertRecord {
  /** ISO time of the delivery attempt. */
  readonly at: string;
  readonly event: AlertEvent;
  readonly outcomes: readonly DeliveryOutcome[];
}
