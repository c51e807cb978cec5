/**
 * Who a sending source is: the organisation its reverse DNS name shows (a table of the host
 * names sending services give their outgoing servers), and the keys under which the DMARC
 * module remembers a sender from report to report. A shop's platform sends from many
 * addresses that change; the organisation (or the name's own domain, or the /24 network) stays.
 */
import { canonicalIp, isIPv4 } from '../auth/ip-text.ts';

/**
 * Host-name suffixes of the outgoing servers of sending services: facts as each service names
 * its servers in reverse DNS (and documents in its sending-IP or SPF pages). A PTR name that
 * ends with the suffix belongs to the organisation.
 */
export const SENDER_ORGANISATIONS = [
  // Gmail and Google Workspace: mail-<x>.google.com (e.g. mail-sor-f41.google.com).
  { suffix: '.google.com', org: 'Google' },
  // Microsoft 365 / Exchange Online and Outlook.com: mail-<x>.outbound.protection.outlook.com.
  { suffix: '.outbound.protection.outlook.com', org: 'Microsoft 365' },
  { suffix: '.protection.outlook.com', org: 'Microsoft 365' },
  // Amazon SES: a<n>-<n>.smtp-out.<region>.amazonses.com.
  { suffix: '.amazonses.com', org: 'Amazon SES' },
  // SendGrid (Twilio): o<n>.sendgrid.net, <x>.outbound-mail.sendgrid.net.
  { suffix: '.sendgrid.net', org: 'SendGrid' },
  // Mailchimp: mail<n>.<x>.mcsv.net (campaigns); older rsgsv.net; Mandrill (transactional): mail<n>.<x>.mandrillapp.com.
  { suffix: '.mcsv.net', org: 'Mailchimp' },
  { suffix: '.rsgsv.net', org: 'Mailchimp' },
  { suffix: '.mandrillapp.com', org: 'Mailchimp Transactional (Mandrill)' },
  // Mailgun: m<n>-<n>.mailgun.net.
  { suffix: '.mailgun.net', org: 'Mailgun' },
  // Postmark: mta<n>.mtasv.net.
  { suffix: '.mtasv.net', org: 'Postmark' },
  // SparkPost (Bird): mta<n>.sparkpostmail.com.
  { suffix: '.sparkpostmail.com', org: 'SparkPost' },
  // Zoho Mail: sender<n>.zoho.com (and zoho.jp for its Japanese service).
  { suffix: '.zoho.com', org: 'Zoho Mail' },
  { suffix: '.zoho.jp', org: 'Zoho Mail' },
  // Japanese rental servers whose shared hosts send a shop's mail: Sakura (www<n>.sakura.ne.jp), XServer (sv<n>.xserver.jp).
  { suffix: '.sakura.ne.jp', org: 'Sakura Internet' },
  { suffix: '.xserver.jp', org: 'XServer' },
] as const satisfies readonly { readonly suffix: string; readonly org: string }[];

/**
 * The organisation a reverse DNS name belongs to, or null when the table does not know it.
 * @example organisationOf('mail-sor-f41.google.com') // 'Google'
 */
export function organisationOf(ptr: string | null): string | null {
  if (!ptr) return null;
  const name = `.${ptr.toLowerCase().replace(/\.$/, '')}`;
  for (const row of SENDER_ORGANISATIONS) if (name.endsWith(row.suffix)) return row.org;
  return null;
}

// Second-level labels under which country TLDs register names (co.jp, ne.jp, co.uk, com.au, …).
const SECOND_LEVEL = new Set(['co', 'ne', 'or', 'ac', 'go', 'ad', 'ed', 'gr', 'lg', 'com', 'net', 'org', 'edu', 'gov']);

/**
 * The registered domain of a host name, as far as can be told without the public suffix list:
 * the last two labels, or three under a country's second level.
 * @example baseDomain('o1.mail.shop-platform.co.jp') // 'shop-platform.co.jp'
 */
export function baseDomain(host: string): string {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  const n = labels.length >= 3 && labels.at(-1)!.length === 2 && SECOND_LEVEL.has(labels.at(-2)!) ? 3 : 2;
  return labels.slice(-n).join('.');
}

/** A reverse name an access network generated from the address (it names a line, not a sender). */
function isGenericPtr(ptr: string, ip: string): boolean {
  const first = ptr.split('.')[0] ?? '';
  const octets = isIPv4(ip) ? ip.split('.') : [];
  if (octets.length === 4 && first.includes(octets[2]!) && first.includes(octets[3]!)) return true;
  return /(^|[-.\d])(dyn|dynamic|dsl|adsl|pool|dhcp|ppp|cable|client|customer|broadband|ip\d|static)/i.test(first);
}

/** The network a source belongs to: its /24 (IPv4) or /48 (IPv6). */
export function networkOf(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  const full = canonicalIp(ip);
  return full ? `${full.split(':').slice(0, 3).join(':')}::/48` : ip;
}

/** Who a source is, for the people reading the report and for remembering it. */
export interface SenderIdentity {
  /** What to call it: the organisation, else the reverse name's domain, else its network. */
  readonly label: string;
  readonly org: string | null;
  /**
   * The keys a sender is remembered by, most telling first: `org:Google`, `ptr:example.jp`
   * (a reverse name that names a sender, not an access line), `net:192.0.2.0/24`.
   */
  readonly keys: readonly string[];
}

/**
 * The identity of a source address with its reverse name (null: none, or not looked up).
 * @example senderOf('209.85.220.41', 'mail-sor-f41.google.com') // { label: 'Google', org: 'Google', keys: ['org:Google', 'net:209.85.220.0/24'] }
 */
export function senderOf(ip: string, ptr: string | null): SenderIdentity {
  const org = organisationOf(ptr);
  const net = networkOf(ip);
  if (org) return { label: org, org, keys: [`org:${org}`, `net:${net}`] };
  if (ptr && ptr.includes('.') && !isGenericPtr(ptr, ip)) {
    const domain = baseDomain(ptr);
    return { label: domain, org: null, keys: [`ptr:${domain}`, `net:${net}`] };
  }
  return { label: net, org: null, keys: [`net:${net}`] };
}
