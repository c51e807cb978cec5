/**
 * What mail-health knows about the big mailbox providers a seed may be at: who writes their
 * Authentication-Results (the authserv-id), which domains their servers are in, and what their
 * spam folder is called when the IMAP server does not mark it with SPECIAL-USE `\Junk`.
 * Data, one row per provider; a seed's own `authservIds` / `junkFolder` override it.
 */
import type { SeedConfig } from '../config.ts';
import { receiverDomainsOf, type ReceiverIdentity } from './auth-results.ts';

/** One provider. */
interface ProviderRow {
  readonly name: string;
  /** Mail domains (the seed's address) and IMAP hosts that identify the provider. */
  readonly matches: readonly string[];
  readonly authservIds: readonly string[];
  readonly domains: readonly string[];
  readonly acceptsMissingId?: boolean;
}

export const PROVIDERS: readonly ProviderRow[] = [
  // Gmail and Google Workspace: `Authentication-Results: mx.google.com; …` below the entry Received.
  { name: 'gmail', matches: ['gmail.com', 'googlemail.com', 'imap.gmail.com'], authservIds: ['mx.google.com'], domains: ['google.com', 'gmail.com'] },
  // Outlook.com and Microsoft 365 write no authserv-id (`Authentication-Results: spf=pass (sender IP is …)`).
  {
    name: 'microsoft',
    matches: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'outlook.jp', 'hotmail.co.jp', 'live.jp', 'outlook.office365.com', 'imap-mail.outlook.com'],
    authservIds: ['outlook.com', 'microsoft.com'],
    domains: ['outlook.com', 'office365.com', 'microsoft.com', 'hotmail.com'],
    acceptsMissingId: true,
  },
  // Yahoo (atlas-production.v2.mail.….yahoo.com), Yahoo! JAPAN (yahoo.co.jp).
  { name: 'yahoo', matches: ['yahoo.com', 'ymail.com', 'aol.com', 'imap.mail.yahoo.com', 'imap.aol.com'], authservIds: ['yahoo.com', 'aol.com'], domains: ['yahoo.com', 'yahoodns.net', 'aol.com'] },
  { name: 'yahoo-japan', matches: ['yahoo.co.jp', 'imap.mail.yahoo.co.jp'], authservIds: ['yahoo.co.jp'], domains: ['yahoo.co.jp'] },
  // The Japanese carriers' mail (docomo mail over IMAP is imap.spmode.ne.jp; au, SoftBank).
  { name: 'docomo', matches: ['docomo.ne.jp', 'imap.spmode.ne.jp'], authservIds: ['docomo.ne.jp', 'spmode.ne.jp'], domains: ['docomo.ne.jp', 'spmode.ne.jp'] },
  { name: 'au', matches: ['au.com', 'ezweb.ne.jp', 'imap.au.com'], authservIds: ['au.com', 'ezweb.ne.jp', 'auone-net.jp'], domains: ['au.com', 'ezweb.ne.jp', 'auone-net.jp'] },
  { name: 'softbank', matches: ['i.softbank.jp', 'softbank.ne.jp', 'imap.softbank.jp'], authservIds: ['softbank.jp', 'softbank.ne.jp'], domains: ['softbank.jp', 'softbank.ne.jp'] },
];

/**
 * Spam folder names to try, in order, when no mailbox carries SPECIAL-USE `\Junk` (RFC 6154):
 * Gmail's, Outlook's, Yahoo's, the usual English ones, docomo's Japanese one.
 */
export const JUNK_FOLDER_NAMES: readonly string[] = ['[Gmail]/Spam', '[Google Mail]/Spam', 'Junk Email', 'Junk E-mail', 'Bulk', 'Bulk Mail', 'Junk', 'Spam', 'INBOX.Junk', 'INBOX.Spam', '迷惑メール'];

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The known provider of a seed (by its address, then its IMAP host), or null. */
export function providerOf(seed: Pick<SeedConfig, 'address' | 'imap'>): string | null {
  const names = [domainOf(seed.address), seed.imap.host.toLowerCase()];
  for (const row of PROVIDERS) if (names.some((n) => row.matches.some((m) => n === m || n.endsWith(`.${m}`)))) return row.name;
  return null;
}

/**
 * Who a seed's receiver is, for reading its Authentication-Results: the seed's `authservIds`
 * when set, else the known provider's, else the seed address's and the IMAP host's domains.
 * @example receiverOf(seed).authservIds // ['mx.google.com']
 */
export function receiverOf(seed: Pick<SeedConfig, 'address' | 'imap' | 'authservIds'>): ReceiverIdentity {
  const row = PROVIDERS.find((p) => p.name === providerOf(seed));
  const own = [domainOf(seed.address), seed.imap.host.toLowerCase()];
  const ids = (seed.authservIds ?? row?.authservIds ?? own).map((s) => s.toLowerCase());
  const domains = new Set([...(row?.domains ?? []), ...receiverDomainsOf([...ids, ...own])]);
  return { authservIds: ids, domains: [...domains], ...(row?.acceptsMissingId ? { acceptsMissingId: true } : {}) };
}
