/**
 * The language of human output from a POSIX locale string. Its own module so the CLI's light
 * paths (`--help`, `address`) need not load the config schema to pick a language.
 */
import type { Language } from './findings.ts';

/**
 * Japanese when the locale starts with `ja` (`ja_JP.UTF-8`), else English.
 * @example languageFromLocale('ja_JP.UTF-8') // 'ja'
 */
export function languageFromLocale(locale: string | undefined): Language {
  return locale?.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}
