/**
 * What each finding code means and how severe it is raised, for people who read a `--json`
 * document, an alert or a dashboard and meet a code: docs/REFERENCE.md ("Finding codes") is
 * generated from this table and the code lists of findings.ts (`npm run docs`). The texts a
 * finding carries (`message`, `remedy`) say the same about one case, with its facts.
 *
 * A code raised with different severities in different situations lists each and says when.
 * A code missing here is still listed in the reference (it is in a code list), as undescribed.
 */
import type { FindingCode, Severity } from './findings.ts';

/** One row of the reference's finding table. */
export interface FindingDoc {
  /** Every severity the code is raised with, mildest first. */
  readonly severity: readonly [Severity, ...Severity[]];
  /** When it is which, for a code with more than one severity. */
  readonly when?: string;
  /** What it means, in a sentence or two. */
  readonly meaning: string;
}

/** The finding codes, by code. */
export const FINDING_DOCS: Readonly<Partial<Record<FindingCode, FindingDoc>>> = {
  // The canary round (functions/core/probe): the port probe and the timed SMTP session.
  PORT25_BLOCKED: { severity: ['info'], meaning: 'Port 25 of the host is silently dropped while a submission port answers: outbound port 25 blocking (OP25B) on the way. Nothing to fix while mail is submitted on 587 or 465.' },
  PORT_UNREACHABLE: {
    severity: ['info', 'critical'],
    when: 'critical when the configured port cannot be reached (refused, no route, dropped); info for a port 25 the probe found refused or dropped here only',
    meaning: 'The server cannot be reached on a port: nothing listens, a firewall drops the connection, or there is no route.',
  },
  DNS_NOT_FOUND: { severity: ['critical'], meaning: 'The host name of the target does not resolve.' },
  GREETING_TIMEOUT: { severity: ['critical'], meaning: 'The TCP connection opened, but the server sent no greeting in time (a black hole or an intercepting proxy).' },
  GREETING_REJECTED: { severity: ['critical'], meaning: 'The server refused the session in its greeting or its reply to EHLO (busy, rate limited, or this client blocked).' },
  STARTTLS_UNAVAILABLE: { severity: ['critical'], meaning: 'The server does not offer STARTTLS, or refused it: the password would travel in clear, so it is not sent.' },
  TLS_HANDSHAKE_FAILED: { severity: ['critical'], meaning: 'The TLS handshake failed: no common protocol or cipher, or the port does not speak TLS.' },
  TLS_CERT_INVALID: { severity: ['critical'], meaning: "The server's certificate is not trusted, does not match the host name, or has expired (verification is never switched off)." },
  TLS_CERT_EXPIRING: { severity: ['warning'], meaning: "The server's certificate expires soon." },
  AUTH_UNAVAILABLE: { severity: ['critical'], meaning: 'The server offers no AUTH: a wrong port, or a relay-only server.' },
  AUTH_FAILED: { severity: ['critical'], meaning: 'The server refused the user name and password (or asked for a login first).' },
  SENDER_REJECTED: { severity: ['critical'], meaning: 'The server refused the sender address (MAIL FROM).' },
  RELAY_DENIED: { severity: ['critical'], meaning: 'The server refused to relay to the recipient: the login did not authorise sending there.' },
  RECIPIENT_UNKNOWN: { severity: ['critical'], meaning: 'The server refused a recipient as unknown or invalid (RCPT TO).' },
  MAILBOX_FULL: { severity: ['warning', 'critical'], when: 'warning for a temporary refusal (4xx), critical for a permanent one (5xx)', meaning: "The recipient's mailbox is over its quota." },
  MESSAGE_TOO_LARGE: { severity: ['critical'], meaning: "The server refused the message as too large (the declared SIZE, or after DATA)." },
  SIZE_LIMIT_LOW: { severity: ['warning'], meaning: 'The server announces a SIZE limit below `maxMessageBytes`: larger messages will be refused.' },
  MESSAGE_REJECTED: { severity: ['critical'], meaning: 'The server refused the message or a recipient for another reason (content, policy, spam).' },
  TEMPORARY_FAILURE: { severity: ['warning'], meaning: 'The server refused a step for now (4xx: greylisting, a local error, a temporary authentication failure).' },
  CONNECTION_LOST: { severity: ['critical'], meaning: 'The connection closed or failed in the middle of the session.' },
  STEP_TIMEOUT: { severity: ['critical'], meaning: 'A step of the session took longer than `timeouts.stepMs`.' },
  SLOW_STEP: { severity: ['warning'], meaning: 'A step of the session took longer than `slowStepMs`.' },
  TLS_MODE_MISMATCH: { severity: ['critical'], meaning: 'The `tls` setting does not fit the port: `implicit` on a port that greets in plain text, or `starttls` on one that speaks TLS from the first byte.' },

  // The sending domain's published records and the sending server (functions/core/auth).
  SPF_MISSING: { severity: ['warning'], meaning: 'No `v=spf1` record: receivers cannot tell which servers may send for the domain.' },
  SPF_MULTIPLE_RECORDS: { severity: ['critical'], meaning: 'More than one SPF record (at the domain or an included one): a permanent error, SPF fails for all mail.' },
  SPF_SYNTAX: { severity: ['critical'], meaning: 'The SPF record cannot be evaluated (a malformed term, an include of a domain without SPF, an include loop): a permanent error.' },
  SPF_TOO_MANY_LOOKUPS: { severity: ['critical'], meaning: 'More than 10 DNS-querying terms, counted through every include (RFC 7208 §4.6.4): a permanent error.' },
  SPF_ALLOWS_ALL: { severity: ['info', 'warning'], when: 'warning for `+all`; info for `~all`, `?all` or no `all`', meaning: 'The record lets every server pass (`+all`), or discourages nothing.' },
  DMARC_MISSING: { severity: ['warning'], meaning: 'No `_dmarc` record at the domain or a parent: required of bulk senders by Gmail and Yahoo.' },
  DMARC_SYNTAX: { severity: ['warning'], meaning: 'The DMARC record cannot be read, or there are several: receivers ignore it.' },
  DMARC_POLICY_NONE: { severity: ['info'], meaning: '`p=none`: monitoring only; meets the bulk-sender rule, stops no forgery.' },
  DKIM_KEY_MISSING: { severity: ['critical'], meaning: 'No usable key at `<selector>._domainkey.<domain>`.' },
  DKIM_KEY_WEAK: { severity: ['info', 'critical'], when: 'critical under 1024 bits, info for 1024 up to 2047', meaning: 'The RSA key is short: receivers refuse keys under 1024 bits (RFC 8301); 2048 is recommended.' },
  DKIM_KEY_REVOKED: { severity: ['critical'], meaning: 'The key record has an empty `p=`: signatures with this selector fail.' },
  MX_MISSING: { severity: ['warning'], meaning: 'No MX, a null MX (RFC 7505) or no such domain: replies and bounces cannot arrive.' },
  PTR_MISSING: { severity: ['critical'], meaning: 'The sending server has no reverse DNS name (Gmail answers `550-5.7.25`).' },
  PTR_MISMATCH: { severity: ['warning'], meaning: 'The reverse name does not resolve back to the address (forward-confirmed reverse DNS fails).' },
  DNSBL_LISTED: { severity: ['critical'], meaning: 'A DNS blocklist lists the sending address.' },
  DNSBL_UNAVAILABLE: { severity: ['info'], meaning: 'A blocklist refused the question, answered something that is not a listing, or did not answer: unknown, never a listing.' },
  CANARY_SPF_FAIL: { severity: ['warning', 'critical'], when: 'critical when DKIM did not pass either, else warning', meaning: "The server that delivered the canary is not allowed by the `from` domain's SPF." },
  CANARY_DKIM_FAIL: { severity: ['warning', 'critical'], when: 'critical when SPF did not pass either, else warning', meaning: 'The delivered canary had no DKIM signature, or none verified.' },
  CANARY_DMARC_FAIL: { severity: ['warning', 'critical'], when: 'critical under `p=quarantine` or `p=reject`, warning under `p=none`', meaning: 'Neither SPF nor DKIM passed aligned with the From domain.' },

  // DMARC aggregate and SMTP TLS reports receivers send to the domain (functions/core/dmarc).
  DMARC_REPORT_FAIL: { severity: ['critical'], meaning: "A sender of the domain's own mail (its mail passed DMARC aligned before) now fails DMARC in receivers' aggregate reports: e.g. the shop platform or the newsletter service stopped signing with the domain." },
  DMARC_REPORT_UNKNOWN_SOURCE: { severity: ['warning'], meaning: 'Senders that never passed DMARC for the domain send as it in receivers\' reports: forgery, or a service sending for the domain that nobody set up.' },
  TLSRPT_FAILURE: {
    severity: ['warning', 'critical'],
    when: 'critical under MTA-STS `enforce` or DANE (the mail was not delivered), else warning',
    meaning: "Senders' SMTP TLS reports say their TLS sessions to the domain's mail servers failed (expired or mismatched certificate, no STARTTLS, an unreachable MTA-STS policy).",
  },
  DMARC_REPORT_UNAUTHORIZED: { severity: ['warning'], meaning: "The domain's DMARC record sends its reports (`rua=`/`ruf=`) to another domain that does not publish `<domain>._report._dmarc.<that domain>` TXT `v=DMARC1`: receivers send those reports nowhere." },

  // Returned mail and the round trip (functions/core/bounce, functions/core/health).
  BOUNCE_MAILBOX_FULL: { severity: ['warning'], meaning: 'A message bounced because the mailbox is full (reason `mailboxfull`).' },
  BOUNCE_INVALID_ADDRESS: { severity: ['critical'], meaning: 'A message bounced because the address does not exist or takes no mail (reasons `userunknown`, `hostunknown`, `hasmoved`, `notaccept`).' },
  BOUNCE_MESSAGE_TOO_LARGE: { severity: ['warning'], meaning: "A message bounced as too large for the receiving side (reasons `mesgtoobig`, `exceedlimit`)." },
  BOUNCE_BLOCKED: { severity: ['critical'], meaning: "The receiving side's policy refused a message: filters, blocklists, spam and virus checks, sender authentication, reverse DNS, content rules." },
  BOUNCE_TRANSIENT: { severity: ['warning'], meaning: 'Delivery gave up on a condition of the way or of the receiving system (expired, network, system errors, rate limits).' },
  BOUNCE_OTHER: { severity: ['warning'], meaning: 'A message bounced for another reason (a suspended mailbox, a protocol error, no stated cause).' },
  CANARY_NOT_DELIVERED: { severity: ['critical'], meaning: "The provider accepted the canary, but it did not reach the bounce domain's mailbox within `deliveryTimeoutMinutes`." },

  // Recipient addresses (functions/core/address): also the canary's own sender and recipients.
  ADDRESS_SYNTAX: { severity: ['critical'], meaning: 'The address cannot be sent as written: an empty part, characters no address may contain, a misplaced quote, a name or `mailto:` around it.' },
  DOT_BEFORE_AT: { severity: ['warning', 'critical'], when: 'warning at the legacy Japanese carriers (real addresses many servers refuse), critical elsewhere (a typo)', meaning: 'A dot right before `@` (`taro.@…`).' },
  CONSECUTIVE_DOTS: { severity: ['warning', 'critical'], when: 'warning at the legacy Japanese carriers, critical elsewhere; critical in the domain', meaning: 'Two dots in a row (`ta..ro@…`).' },
  LEADING_OR_TRAILING_DOT: { severity: ['critical'], meaning: 'The name part or the domain starts or ends with a dot.' },
  UNUSUAL_CHARACTER: { severity: ['info', 'warning'], when: 'warning for `/`, `?` or a quoted name part (valid, refused by many providers); info for rare but valid symbols', meaning: 'Characters in the name part that many services refuse or rarely see.' },
  COMMA_FOR_DOT: { severity: ['critical'], meaning: 'A comma typed for a dot (`yahoo,co.jp`).' },
  FULLWIDTH_CHARACTER: { severity: ['warning', 'critical'], when: 'critical inside the address, warning for full-width spaces at its ends', meaning: 'Full-width characters typed with a Japanese IME (`＠`, `．`, `ｔａｒｏ`).' },
  WHITESPACE: { severity: ['warning', 'critical'], when: 'critical inside the address, warning before or after it (most programs trim those)', meaning: 'Spaces or other whitespace.' },
  MISSING_AT: { severity: ['critical'], meaning: 'No `@` in the address.' },
  MULTIPLE_AT: { severity: ['critical'], meaning: 'More than one `@` in the address.' },
  DOMAIN_INVALID: {
    severity: ['warning', 'critical'],
    when: 'critical for bad characters, labels or IP literals; warning for a domain without a dot, a top-level domain that cannot exist or an IP address',
    meaning: 'The domain part is not a usable domain.',
  },
  DOMAIN_TYPO: { severity: ['warning'], meaning: "The domain looks like a typo of a common provider's (`gmial.com`); the finding suggests the address meant." },
  MIXED_CASE: { severity: ['info'], meaning: 'Capital letters: servers ignore case, nothing to do.' },
  TOO_LONG: { severity: ['critical'], meaning: 'Over a length limit: 64 octets for the name part, 255 for the domain, 254 for the whole address.' },
  NON_ASCII: { severity: ['warning', 'critical'], when: 'critical at a provider that issues ASCII addresses only, warning elsewhere (needs SMTPUTF8)', meaning: 'Non-ASCII characters in the name part.' },
  NO_MAIL_SERVER: { severity: ['info', 'critical'], when: 'critical when the domain does not exist or publishes no mail server; info when DNS did not answer', meaning: 'The domain cannot receive mail (`address --dns`).' },
};
