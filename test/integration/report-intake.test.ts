/**
 * Report mails through the local intake, as receivers send them to the bounce domain: over SMTP
 * to the embedded bounce listener (Google's single-part zip, Microsoft's multipart gzip, a
 * TLS-RPT multipart/report) and in the bounce folder. One alert per change reaches the channel;
 * a report read twice, a report about a domain that is no target and bad report mails (a zip
 * bomb, a mail to dmarc@ without a report) raise nothing, the bad ones are kept with their
 * reason, and a bounce arriving among them is classified as always.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { afterEach, describe, expect, it } from 'vitest';
import { createDmarcFileStore } from '#adapters/dmarc-file-store.ts';
import type { DmarcAlert } from '#core/alert/event.ts';
import { parseConfig } from '#core/config.ts';
import type { Notifier } from '#core/ports.ts';
import { buildDsn } from '#local/demo/dsn.ts';
import { createLocalRuntime, type LocalRuntime, type LoopEvent } from '#local/loop.ts';
import { fixture, gzip, reportMail, zip } from '../helpers/report-files.ts';

const BOUNCE_DOMAIN = 'bounces.example.jp';
const NOW = new Date('2026-03-04T00:00:00Z');
const G = 'google.com!example.jp!1772323200!1772409599';
const M = 'enterprise.protection.outlook.com!example.jp!1772409600!1772495999';

const dirs: string[] = [];
const runtimes: LocalRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close({ maxMs: 2_000 });
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function send(port: number, to: string, raw: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection({ host: '127.0.0.1', port, ignoreTLS: true, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 5_000 });
    conn.on('error', reject);
    conn.connect((err) => {
      if (err) return reject(err);
      conn.send({ from: 'noreply@reporter.example', to: [to] }, raw, (sendErr) => {
        if (sendErr) {
          conn.close();
          return reject(sendErr);
        }
        conn.quit();
        resolve();
      });
    });
  });
}

async function start(local: Record<string, unknown>) {
  const stateDir = await mkdtemp(join(tmpdir(), 'mh-reports-'));
  dirs.push(stateDir);
  const events: LoopEvent[] = [];
  const posted: string[] = [];
  const capture: Notifier = { channel: 'slack', send: async (m) => void posted.push(m.text) };
  const config = parseConfig({
    language: 'en',
    bounceDomain: BOUNCE_DOMAIN,
    targets: [{ name: 'shop', host: '127.0.0.1', from: 'info@example.jp', to: [`ok@${BOUNCE_DOMAIN}`], probePorts: [] }],
    local,
  });
  const runtime = await createLocalRuntime({ config, stateDir, notifiers: [capture], secrets: {}, report: (e) => events.push(e), reportPath: null, listenerPort: 0, clock: () => NOW, alertPaceMs: { slack: 0 } });
  runtimes.push(runtime);
  return { runtime, events, posted, stateDir };
}

const googleMail = () => reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, singlePart: true, attachments: [{ filename: `${G}.zip`, contentType: 'application/zip', data: zip([{ name: `${G}.xml`, data: fixture(`${G}.xml`) }]) }] });
const microsoftMail = () =>
  reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, from: 'dmarcreport@microsoft.com', subject: 'Report Domain: example.jp Submitter: enterprise.protection.outlook.com Report-ID: <3f2c5e9b>', attachments: [{ filename: `${M}.xml.gz`, contentType: 'application/gzip', data: gzip(fixture(`${M}.xml`)) }] });

describe('the local intake of report mails', () => {
  it('raises one alert per change over the listener, keeps bad report mails with their reason, and still classifies a bounce among them', async () => {
    // Prepare
    const { runtime, events, posted, stateDir } = await start({ bounceListener: { host: '127.0.0.1', port: 2525 } });
    const port = runtime.listener!.port;
    const foreign = fixture(`${G}.xml`).toString().replace('<domain>example.jp</domain>', '<domain>not-a-target.example</domain>').replace('12814692475316957703', 'foreign-1');
    const tls = reportMail({
      to: `tlsrpt@${BOUNCE_DOMAIN}`,
      from: 'tlsrpt-noreply@microsoft.com',
      subject: 'Report Domain: example.jp Submitter: microsoft.com Report-ID: <133855392000000000+example.jp>',
      tlsrpt: { domain: 'example.jp', submitter: 'microsoft.com' },
      attachments: [{ filename: 'microsoft.com!example.jp!1772409600!1772495999.json.gz', contentType: 'application/tlsrpt+gzip', data: gzip(fixture('microsoft.com!example.jp!1772409600!1772495999.json')) }],
    });
    const bomb = reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, attachments: [{ filename: 'bomb.zip', contentType: 'application/zip', data: zip([{ name: 'r.xml', data: Buffer.alloc(8 * 1024 * 1024, 0x20), declaredSize: 1000 }]) }] });
    const human = Buffer.from(`From: someone@example.org\r\nTo: dmarc@${BOUNCE_DOMAIN}\r\nSubject: hello\r\n\r\nIs this where reports go?\r\n`);
    const dsn = buildDsn({
      reportingMta: 'smtp.example.jp',
      returnTo: `bounce+01KE5R0000000000000000000A@${BOUNCE_DOMAIN}`,
      arrivalDate: NOW,
      date: NOW,
      recipients: [{ recipient: 'owner@example.jp', action: 'failed', status: '5.1.1', remoteMta: 'mx.example.jp', diagnostic: '550 5.1.1 User unknown' }],
      original: 'From: info@example.jp\r\nTo: owner@example.jp\r\nSubject: hi\r\n\r\nhi\r\n',
      token: 'T1',
    });

    // Act
    await send(port, `dmarc@${BOUNCE_DOMAIN}`, googleMail());
    await send(port, `bounce+01KE5R0000000000000000000A@${BOUNCE_DOMAIN}`, Buffer.from(dsn));
    await send(port, `dmarc@${BOUNCE_DOMAIN}`, microsoftMail());
    await send(port, `dmarc@${BOUNCE_DOMAIN}`, microsoftMail());
    await send(port, `dmarc@${BOUNCE_DOMAIN}`, reportMail({ to: `dmarc@${BOUNCE_DOMAIN}`, attachments: [{ filename: 'foreign.xml', contentType: 'text/xml', data: Buffer.from(foreign) }] }));
    await send(port, `tlsrpt@${BOUNCE_DOMAIN}`, tls);
    await send(port, `dmarc@${BOUNCE_DOMAIN}`, bomb);
    await send(port, `dmarc@${BOUNCE_DOMAIN}`, human);
    await runtime.intake.drain();
    await runtime.outbox.settle({ maxMs: 5_000 });

    // Assess: the report alerts, once each, to the channel (and the bounce's own alert).
    const alerts = events.flatMap((e) => (e.kind === 'alert' ? [e.event] : []));
    expect(alerts.map((a) => [a.kind, a.kind === 'dmarc' ? a.change : null, a.target])).toEqual([
      ['dmarc', 'unknown', 'shop'],
      ['bounce', null, null],
      ['dmarc', 'failing', 'shop'],
      ['dmarc', 'tls-failing', 'shop'],
    ]);
    expect(posted.filter((t) => t.includes('example.jp'))).toHaveLength(4);
    // Every message is accounted for.
    const outcomes = events.flatMap((e) => (e.kind === 'intake' ? [e.outcome] : []));
    expect(outcomes.map((o) => o.kind)).toEqual(['reports', 'bounce', 'reports', 'reports', 'reports', 'reports', 'kept', 'kept']);
    const repeated = outcomes[3]!;
    expect(repeated.kind === 'reports' && repeated.reports.map((r) => r.first)).toEqual([false]);
    const foreignOutcome = outcomes[4]!;
    expect(foreignOutcome.kind === 'reports' && foreignOutcome.reports.map((r) => [r.domains, r.target])).toEqual([[['not-a-target.example'], null]]);
    const kept = outcomes.filter((o) => o.kind === 'kept').map((o) => (o.kind === 'kept' ? o.why : ''));
    expect(kept[0]).toContain('RATIO_EXCEEDED');
    expect(kept[1]).toContain('NOT_A_REPORT');
    expect((await readdir(join(stateDir, 'kept'))).filter((n) => n.endsWith('.eml'))).toHaveLength(2);
    // The records and the raw messages they point at.
    const reports = createDmarcFileStore({ dir: stateDir });
    expect(await reports.listDomains()).toEqual(['example.jp', 'not-a-target.example']);
    const records = await reports.listReports('example.jp', 10);
    expect(records.map((r) => [r.kind, r.org])).toEqual([
      ['dmarc', 'Enterprise Outlook'],
      ['tlsrpt', 'Microsoft Corporation'],
      ['dmarc', 'google.com'],
    ]);
    expect((await readFile(join(stateDir, records[0]!.source!))).toString()).toContain('Report Domain: example.jp');
  });

  it('reads report mails from the bounce folder once', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'mh-reports-dir-'));
    dirs.push(folder);
    await mkdir(join(folder, 'in'));
    await writeFile(join(folder, 'in', 'google.eml'), googleMail());
    await writeFile(join(folder, 'in', 'microsoft.eml'), microsoftMail());
    const { runtime, events } = await start({ bounceDir: join(folder, 'in') });
    expect(await runtime.intake.scanDir(join(folder, 'in'))).toBe(2);
    await runtime.intake.drain();
    expect(await runtime.intake.scanDir(join(folder, 'in'))).toBe(0);
    await runtime.outbox.settle({ maxMs: 5_000 });
    const alerts = events.flatMap((e) => (e.kind === 'alert' && e.event.kind === 'dmarc' ? [e.event as DmarcAlert] : []));
    expect(alerts.map((a) => a.change).sort()).toEqual(['failing', 'unknown']);
  });
});
