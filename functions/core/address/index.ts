/**
 * Recipient address diagnostics (issue 4): the public surface used by config load (canary
 * recipients), the probe's preflight, the bounce explanation and `mailhealth address`.
 * The severity policy is documented at the top of diagnose.ts.
 *
 * @example
 * import { diagnoseAddress, explainAddress } from '#core/address/index.ts';
 * diagnoseAddress('taro.@docomo.ne.jp').findings[0]?.code; // 'DOT_BEFORE_AT'
 * explainAddress('info@gmial.com')?.ja; // 'ドメイン「gmial.com」は「gmail.com」の入力ミスのようです。…'
 */
export { diagnoseAddress, explainAddress } from './diagnose.ts';
export type { AddressDiagnosis, AddressFinding, AddressOptions } from './diagnose.ts';
export { checkMailServer, withMailServerCheck } from './mail-server.ts';
export { isLegacyCarrier } from './providers.ts';
