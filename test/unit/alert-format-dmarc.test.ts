/**
 * The DMARC report alerts as Slack and email show them, in English and Japanese (snapshots),
 * made from the report fixtures by the same functions the intake runs, and their trip through
 * the SNS alert topic.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DmarcAlert } from '#core/alert/event.ts';
import { formatEmail } from '#core/alert/email.ts';
import { formatSlack } from '#core/alert/slack.ts';
import { decodeAlertMessage, encodeAlertMessage } from '#core/alert/sns.ts';
import type { ParsedReport } from '#core/dmarc/model.ts';
import { dmarcAlertOf } from '#core/dmarc/record.ts';
import { applyReport, emptyDomainState, type DmarcDomainState } from '#core/dmarc/state.ts';
import type { Language } from '#core/findings.ts';
import { FIXTURE_PTRS, fixtureReport } from '../helpers/dmarc-store-contract.ts';

const CHANGES = ['unknown', 'failing', 'passing', 'tls-failing', 'tls-ok'] as const;
const events = new Map<string, DmarcAlert>();

beforeAll(async () => {
  const ptrOf = (ip: string) => FIXTURE_PTRS[ip] ?? null;
  const google = await fixtureReport('google.com!example.jp!1772323200!1772409599.xml');
  const microsoft = await fixtureReport('enterprise.protection.outlook.com!example.jp!1772409600!1772495999.xml');
  const tlsFailing = await fixtureReport('microsoft.com!example.jp!1772409600!1772495999.json');
  const tlsOk = await fixtureReport('google.com!example.jp!1772323200!1772409599!001.json');
  const sequence: ParsedReport[] = [
    google,
    microsoft,
    { ...google, reportId: 'day3', begin: '2026-03-03T00:00:00.000Z', end: '2026-03-03T23:59:59.000Z' } as ParsedReport,
    tlsFailing,
    { ...tlsOk, reportId: 'day3', begin: '2026-03-03T00:00:00.000Z', end: '2026-03-03T23:59:59.000Z' } as ParsedReport,
  ];
  let state: DmarcDomainState = emptyDomainState('example.jp', '2026-03-04T00:00:00.000Z');
  for (const report of sequence) {
    const applied = applyReport(state, report, 'example.jp', { ptrOf, at: '2026-03-04T00:00:00.000Z' });
    state = applied.state;
    for (const change of applied.changes) {
      events.set(change.kind, dmarcAlertOf(change, { target: 'shop', report, policy: applied.policy?.p ?? null, at: '2026-03-04T00:00:00.000Z', incidentId: '01KE5R0000INCIDENT0000000F' }));
    }
  }
});

describe('DMARC report alerts', () => {
  it('has one event per change of the fixtures sequence', () => {
    expect([...events.keys()].sort()).toEqual([...CHANGES].sort());
    expect(events.get('failing')).toMatchObject({ sender: 'SendGrid', status: 'critical', day: '2026-03-02', reporter: 'Enterprise Outlook', messages: 12, policy: 'none' });
    expect(events.get('tls-ok')).toMatchObject({ status: 'ok', findings: [] });
  });

  for (const change of CHANGES) {
    for (const lang of ['en', 'ja'] as Language[]) {
      it(`formats a dmarc ${change} alert in ${lang}`, () => {
        const event = events.get(change)!;
        const slack = formatSlack(event, lang);
        const email = formatEmail(event, lang);
        expect(slack).toMatchSnapshot('slack');
        expect(email.subject).toMatchSnapshot('subject');
        expect(email.text).toMatchSnapshot('text');
        expect(email.html).toMatchSnapshot('html');
      });
    }
  }

  it('names the domain, the sender, the sources and what to do', () => {
    const text = formatEmail(events.get('failing')!, 'en').text;
    expect(text).toContain('Your own mail fails DMARC: SendGrid for example.jp');
    expect(text).toContain('167.89.100.1 (o1.ptr2035.example.sendgrid.net): 12 · SPF pass · DKIM pass');
    expect(text).toContain('Have SendGrid sign your mail with DKIM for example.jp');
  });

  it('travels through the SNS alert topic unchanged', () => {
    for (const event of events.values()) expect(decodeAlertMessage(encodeAlertMessage(event), { now: new Date(), random: (n) => new Uint8Array(n) })).toEqual(event);
  });
});
