/**
 * Report files for tests, packed as receivers pack them (gzip, zip) and as bombs and broken
 * archives are packed, and the mails that carry them (as Google, Microsoft and RFC 8460 TLS
 * reporters send them). The zip writer is our own so a test can make it lie: a declared size,
 * an encrypted flag, a name with `../`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';

/** The report fixtures' folder (test/fixtures/dmarc). */
export const DMARC_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'dmarc');

/** A fixture's bytes by file name. */
export function fixture(name: string): Buffer {
  return readFileSync(join(DMARC_FIXTURES, name));
}

/** Every fixture's name. */
export function fixtureNames(): string[] {
  return readdirSync(DMARC_FIXTURES).filter((n) => /\.(xml|json)$/.test(n)).sort();
}

export function gzip(data: Uint8Array | string): Buffer {
  return zlib.gzipSync(typeof data === 'string' ? Buffer.from(data) : data);
}

/** One entry of a zip to write; the optional fields make it lie or break. */
export interface ZipEntryInput {
  readonly name: string;
  readonly data: Uint8Array | string;
  /** @default 'deflate' */
  readonly method?: 'store' | 'deflate' | 'bzip2';
  /** The uncompressed size the directory declares. @default the real size */
  readonly declaredSize?: number;
  readonly encrypted?: boolean;
  /** A wrong CRC-32. */
  readonly badCrc?: boolean;
}

/** A zip archive (no zip64, no data descriptors), as small report archives are. */
export function zip(entries: readonly ZipEntryInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data);
    const method = e.method ?? 'deflate';
    const packed = method === 'deflate' ? zlib.deflateRawSync(data) : data;
    const crc = (zlib.crc32(data) ^ (e.badCrc ? 1 : 0)) >>> 0;
    const name = Buffer.from(e.name, 'utf8');
    const flags = 0x800 | (e.encrypted ? 1 : 0);
    const code = method === 'deflate' ? 8 : method === 'bzip2' ? 12 : 0;
    const size = e.declaredSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(code, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(code, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function base64Lines(data: Uint8Array): string {
  return (Buffer.from(data).toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** What a report mail carries. */
export interface ReportMailInput {
  readonly to: string;
  readonly from?: string;
  readonly subject?: string;
  readonly attachments: readonly { readonly filename: string; readonly contentType: string; readonly data: Uint8Array }[];
  /** One attachment as the whole body (Google's style) instead of multipart/mixed. */
  readonly singlePart?: boolean;
  /** multipart/report; report-type=tlsrpt (RFC 8460 §5.3), with TLS-Report headers. */
  readonly tlsrpt?: { readonly domain: string; readonly submitter: string };
  readonly date?: string;
}

/** A report mail as receivers send it. */
export function reportMail(m: ReportMailInput): Buffer {
  const date = m.date ?? 'Mon, 02 Mar 2026 09:12:00 +0000';
  const head = [
    `From: ${m.from ?? 'noreply-dmarc-support@google.com'}`,
    `To: ${m.to}`,
    `Subject: ${m.subject ?? 'Report domain: example.jp Submitter: google.com Report-ID: 12814692475316957703'}`,
    `Date: ${date}`,
    `Message-ID: <${Math.abs(hash(m.to + (m.subject ?? '') + m.attachments.map((a) => a.filename).join())).toString(16)}@reports.example>`,
    'MIME-Version: 1.0',
  ];
  if (m.tlsrpt) head.push(`TLS-Report-Domain: ${m.tlsrpt.domain}`, `TLS-Report-Submitter: ${m.tlsrpt.submitter}`);
  if (m.singlePart) {
    const a = m.attachments[0]!;
    head.push(`Content-Type: ${a.contentType}; name="${a.filename}"`, `Content-Disposition: attachment; filename="${a.filename}"`, 'Content-Transfer-Encoding: base64');
    return Buffer.from(`${head.join('\r\n')}\r\n\r\n${base64Lines(a.data)}\r\n`);
  }
  const boundary = '----=_Part_report_0123456789';
  head.push(m.tlsrpt ? `Content-Type: multipart/report; report-type="tlsrpt"; boundary="${boundary}"` : `Content-Type: multipart/mixed; boundary="${boundary}"`);
  const parts = [`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is an aggregate report.\r\n`];
  for (const a of m.attachments) {
    parts.push(`--${boundary}\r\nContent-Type: ${a.contentType}; name="${a.filename}"\r\nContent-Disposition: attachment; filename="${a.filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(a.data)}\r\n`);
  }
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${parts.join('')}--${boundary}--\r\n`);
}

function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
  return h;
}
