/**
 * An embedded authoritative DNS server for the demo world and the tests: UDP and TCP on one
 * port of 127.0.0.1 (0 picks a free one), answering from a zone map, so every authentication
 * check runs against real DNS packets and nothing leaves the machine.
 *
 * What it does like a real server: TXT data longer than 255 bytes is split into several
 * character-strings; CNAMEs are followed inside the zone; a name that exists without records
 * of the asked type is NODATA (with an SOA carrying the negative TTL), a name that does not
 * exist is NXDOMAIN (names that only have children exist, as in real zones); `*.` wildcards;
 * answers too large for the client's UDP size come back truncated, and the client retries on
 * TCP. For failure tests a name can be made to SERVFAIL, REFUSE or never answer.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';

/** One record of the zone. TXT as one string is split into 255-byte strings; as an array, it is taken as is. */
export type ZoneRecord =
  | { readonly type: 'A' | 'AAAA' | 'PTR' | 'CNAME'; readonly data: string; readonly ttl?: number }
  | { readonly type: 'TXT'; readonly data: string | readonly string[]; readonly ttl?: number }
  | { readonly type: 'MX'; readonly data: { readonly exchange: string; readonly priority: number }; readonly ttl?: number };

/** Owner name (any case, trailing dot optional, `*.` for a wildcard) → its records. */
export type Zone = Readonly<Record<string, readonly ZoneRecord[]>>;

/** How a name misbehaves, for failure tests. */
export type Misbehaviour = 'SERVFAIL' | 'REFUSED' | 'TIMEOUT';

/** Options of {@link startDnsServer}. */
export interface DnsServerOptions {
  readonly zone: Zone;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** TTL of records that name none. @default 300 */
  readonly ttl?: number;
  /** TTL of negative answers (the SOA minimum). @default 60 */
  readonly negativeTtl?: number;
  /** Largest UDP answer, whatever the client announces. @default 1232 */
  readonly maxUdpBytes?: number;
  /** Names (exact, lower case) that fail instead of answering. */
  readonly misbehave?: Readonly<Record<string, Misbehaviour>>;
}

/** One question the server received. */
export interface SeenQuery {
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

/** A running server. */
export interface DnsServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as `--dns-server` takes it. */
  readonly address: string;
  /** Every question received, in order. */
  readonly queries: readonly SeenQuery[];
  /** Replaces the records of one name (an empty list removes it). */
  set(name: string, records: readonly ZoneRecord[]): void;
  close(): Promise<void>;
}

const SOA_NAME = 'mail-health.test';
const NOERROR = 0;
const SERVFAIL = 2;
const NXDOMAIN = 3;
const REFUSED = 5;
// A handful of retries is enough to find a TCP port equal to the free UDP one.
const PORT_ATTEMPTS = 20;

function normal(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** Splits a TXT value into character-strings of at most 255 bytes (RFC 1035 §3.3). */
export function splitTxt(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length === 0) return [''];
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255).toString('latin1'));
  return out;
}

type Answer = dnsPacket.Answer;

function toAnswer(name: string, record: ZoneRecord, defaultTtl: number): Answer {
  const ttl = record.ttl ?? defaultTtl;
  switch (record.type) {
    case 'TXT': {
      const strings = typeof record.data === 'string' ? splitTxt(record.data) : [...record.data];
      return { type: 'TXT', name, ttl, data: strings.map((s) => Buffer.from(s, 'latin1')) };
    }
    case 'MX':
      return { type: 'MX', name, ttl, data: { exchange: record.data.exchange, preference: record.data.priority } };
    default:
      return { type: record.type, name, ttl, data: record.data };
  }
}

/**
 * Starts the server.
 * @example
 * const dns = await startDnsServer({ zone: { 'example.jp': [{ type: 'TXT', data: 'v=spf1 -all' }] } });
 * // mailhealth dns example.jp --dns-server ${dns.address}
 * await dns.close();
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const host = options.host ?? '127.0.0.1';
  const defaultTtl = options.ttl ?? 300;
  const negativeTtl = options.negativeTtl ?? 60;
  const maxUdp = options.maxUdpBytes ?? 1232;
  const misbehave = new Map(Object.entries(options.misbehave ?? {}).map(([k, v]) => [normal(k), v]));
  const zone = new Map<string, readonly ZoneRecord[]>();
  for (const [name, records] of Object.entries(options.zone)) zone.set(normal(name), records);
  const queries: SeenQuery[] = [];

  const exists = (name: string) => {
    if (zone.has(name)) return true;
    for (const owner of zone.keys()) if (owner.endsWith(`.${name}`)) return true;
    return false;
  };
  // The records of a name, or of the closest wildcard above it.
  const recordsOf = (name: string): readonly ZoneRecord[] | null => {
    const own = zone.get(name);
    if (own && own.length > 0) return own;
    if (exists(name)) return [];
    const labels = name.split('.');
    for (let i = 1; i < labels.length; i++) {
      const wild = zone.get(`*.${labels.slice(i).join('.')}`);
      if (wild) return wild;
    }
    return null;
  };

  function answer(query: dnsPacket.Packet, transport: 'udp' | 'tcp'): Buffer | null {
    const question = query.questions?.[0];
    const base = { type: 'response' as const, id: query.id ?? 0, questions: query.questions ?? [] };
    if (!question) return dnsPacket.encode({ ...base, flags: REFUSED });
    const qname = normal(question.name);
    queries.push({ name: qname, type: question.type, transport });
    const failure = misbehave.get(qname);
    if (failure === 'TIMEOUT') return null;
    if (failure) return dnsPacket.encode({ ...base, flags: failure === 'SERVFAIL' ? SERVFAIL : REFUSED });

    const answers: Answer[] = [];
    let name = qname;
    let records = recordsOf(name);
    // Follow CNAMEs inside the zone (bounded: a loop in test data must not hang the server).
    for (let hops = 0; records && hops < 8; hops++) {
      const cname = records.find((r) => r.type === 'CNAME');
      if (!cname || question.type === 'CNAME') break;
      answers.push(toAnswer(name, cname, defaultTtl));
      name = normal(cname.data as string);
      records = recordsOf(name);
    }
    const soa: Answer = {
      type: 'SOA',
      name: SOA_NAME,
      ttl: negativeTtl,
      data: { mname: `ns.${SOA_NAME}`, rname: `hostmaster.${SOA_NAME}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: negativeTtl },
    };
    if (records === null) {
      return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | NXDOMAIN, answers, authorities: [soa] });
    }
    for (const r of records) if (r.type === question.type) answers.push(toAnswer(name, r, defaultTtl));
    const authorities = answers.length === 0 ? [soa] : [];
    const full = dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | NOERROR, answers, authorities });
    if (transport === 'tcp') return full;
    const opt = query.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
    const limit = Math.min(maxUdp, Math.max(512, opt?.udpPayloadSize ?? 512));
    if (full.length <= limit) return full;
    return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE | NOERROR });
  }

  const onMessage = (socket: dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const reply = answer(query, 'udp');
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  };

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const length = buffer.readUInt16BE(0);
        if (buffer.length < 2 + length) break;
        const msg = buffer.subarray(2, 2 + length);
        buffer = buffer.subarray(2 + length);
        try {
          const reply = answer(dnsPacket.decode(msg), 'tcp');
          if (reply) {
            const framed = Buffer.alloc(2 + reply.length);
            framed.writeUInt16BE(reply.length, 0);
            reply.copy(framed, 2);
            socket.write(framed);
          }
        } catch {
          socket.destroy();
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });

  const bindUdp = (port: number) =>
    new Promise<dgram.Socket>((resolve, reject) => {
      const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        socket.on('message', onMessage(socket));
        resolve(socket);
      });
    });
  const listenTcp = (port: number) =>
    new Promise<boolean>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err));
      tcp.once('error', onError);
      tcp.listen(port, host, () => {
        tcp.off('error', onError);
        resolve(true);
      });
    });

  // UDP and TCP must share the number (`--dns-server HOST:PORT` names one port for both): take a
  // free UDP port, then the same TCP port, and start over when that one is taken.
  let udp: dgram.Socket | null = null;
  for (let attempt = 0; attempt < PORT_ATTEMPTS && udp === null; attempt++) {
    const socket = await bindUdp(options.port ?? 0);
    if (await listenTcp(socket.address().port)) udp = socket;
    else {
      await new Promise<void>((r) => socket.close(() => r()));
      if (options.port) break;
    }
  }
  if (udp === null) throw Object.assign(new Error(`DNS server: no port free for both UDP and TCP on ${host}`), { code: 'EADDRINUSE' });
  const port = udp.address().port;
  const bound = udp;

  return {
    host,
    port,
    address: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    set(name, records) {
      if (records.length === 0) zone.delete(normal(name));
      else zone.set(normal(name), records);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => bound.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };
}
