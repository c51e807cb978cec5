import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsResolver } from '#adapters/dns-resolver.ts';
import { checkMailServer } from '#core/address/index.ts';

/**
 * A tiny authoritative DNS server on 127.0.0.1 speaking the real wire format (RFC 1035), so the
 * adapter is tested through node:dns without ever leaving the machine. A name missing from the
 * zone answers NXDOMAIN, a missing type NOERROR with no answer (NODATA), `silent` never answers.
 */
type Zone = Record<string, { MX?: [number, string][]; A?: string[]; AAAA?: string[]; silent?: true }>;

const TYPE = { A: 1, MX: 15, AAAA: 28 } as const;

function encodeName(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function answer(type: number, rdata: Buffer): Buffer {
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(1, 4); // class IN
  rr.writeUInt32BE(60, 6);
  rr.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([rr, rdata]);
}

function respond(query: Buffer, zone: Zone): Buffer | null {
  let offset = 12;
  const labels: string[] = [];
  while ((query[offset] ?? 0) !== 0) {
    const length = query[offset] ?? 0;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += length + 1;
  }
  offset += 1;
  const qtype = query.readUInt16BE(offset);
  const question = query.subarray(12, offset + 4);
  const entry = zone[labels.join('.').toLowerCase()];
  if (entry?.silent) return null;
  const answers: Buffer[] = [];
  if (entry && qtype === TYPE.MX) {
    for (const [preference, exchange] of entry.MX ?? []) {
      const pref = Buffer.alloc(2);
      pref.writeUInt16BE(preference);
      answers.push(answer(TYPE.MX, Buffer.concat([pref, encodeName(exchange)])));
    }
  }
  if (entry && qtype === TYPE.A) for (const a of entry.A ?? []) answers.push(answer(TYPE.A, Buffer.from(a.split('.').map(Number))));
  if (entry && qtype === TYPE.AAAA) for (const a of entry.AAAA ?? []) answers.push(answer(TYPE.AAAA, ipv6Bytes(a)));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (entry ? 0 : 3), 2); // QR AA RD RA, rcode 3 = NXDOMAIN
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, question, ...answers]);
}

const ZONE: Zone = {
  'shop.test': { MX: [[10, 'mx1.shop.test'], [20, 'mx2.shop.test']], A: ['192.0.2.1'], AAAA: ['2001:db8::25'] },
  'a-only.test': { A: ['192.0.2.2'] },
  'null-mx.test': { MX: [[0, '.']] },
  'slow.test': { silent: true },
};

describe('createDnsResolver', () => {
  let server: Socket;
  let servers: string[];

  beforeAll(async () => {
    server = createSocket('udp4');
    server.on('message', (msg, peer) => {
      const reply = respond(msg, ZONE);
      if (reply) server.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    servers = [`127.0.0.1:${server.address().port}`];
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('resolves MX, A and AAAA records', async () => {
    // Prepare
    const resolve = createDnsResolver({ servers, timeoutMs: 2_000 });

    // Act
    const mx = await resolve('shop.test', 'MX');
    const a = await resolve('shop.test', 'A');
    const aaaa = await resolve('shop.test', 'AAAA');

    // Assess
    expect(mx.sort((x, y) => x.priority - y.priority)).toEqual([
      { exchange: 'mx1.shop.test', priority: 10 },
      { exchange: 'mx2.shop.test', priority: 20 },
    ]);
    expect(a).toEqual(['192.0.2.1']);
    expect(aaaa).toEqual(['2001:db8::25']);
  });

  it('rejects like node:dns: ENOTFOUND for a missing name, ENODATA for a missing type', async () => {
    const resolve = createDnsResolver({ servers, timeoutMs: 2_000 });
    await expect(resolve('nowhere.test', 'MX')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolve('a-only.test', 'MX')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('gives up with ETIMEOUT when the server does not answer', async () => {
    // Prepare
    const resolve = createDnsResolver({ servers, timeoutMs: 300 });
    const started = performance.now();

    // Act
    const outcome = resolve('slow.test', 'MX');

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('lets checkMailServer tell a deliverable domain from one without mail', async () => {
    const resolve = createDnsResolver({ servers, timeoutMs: 2_000 });
    expect(await checkMailServer('shop.test', resolve)).toBeNull();
    expect(await checkMailServer('a-only.test', resolve)).toBeNull();
    expect(await checkMailServer('null-mx.test', resolve)).toMatchObject({ code: 'NO_MAIL_SERVER', severity: 'critical' });
    expect(await checkMailServer('nowhere.test', resolve)).toMatchObject({ code: 'NO_MAIL_SERVER', severity: 'critical' });
    expect(await checkMailServer('slow.test', createDnsResolver({ servers, timeoutMs: 300 }))).toMatchObject({ code: 'NO_MAIL_SERVER', severity: 'info' });
  });
});
