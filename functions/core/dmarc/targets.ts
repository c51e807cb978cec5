/**
 * Which target a report is about: the target whose `from` address is at the report's domain
 * (or at a subdomain of it: a DMARC policy found at the organisational domain covers them).
 * A report about any other domain is kept and shown, never alerted.
 */

/**
 * The target of a domain, or null. The first target in config order wins; an exact domain
 * match wins over a subdomain.
 * @example targetOfDomain([{ name: 'shop', from: 'info@example.jp' }], 'example.jp') // 'shop'
 */
export function targetOfDomain(targets: readonly { readonly name: string; readonly from: string }[], domain: string): string | null {
  const d = domain.toLowerCase().replace(/\.$/, '');
  const fromDomain = (from: string) => from.slice(from.lastIndexOf('@') + 1).toLowerCase();
  return targets.find((t) => fromDomain(t.from) === d)?.name ?? targets.find((t) => fromDomain(t.from).endsWith(`.${d}`))?.name ?? null;
}
