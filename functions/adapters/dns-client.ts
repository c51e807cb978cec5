/**
 * The DnsLookup port over DNS itself (dns-packet on UDP, TCP when an answer is truncated), so
 * every answer comes with its TTL and every lookup goes to the server the caller names
 * (`--dns-server HOST[:PORT]`, the demo's embedded server) or else to the system's resolvers.
 * Errors keep node:dns's codes: ENOTFOUND (NXDOMAIN), ENODATA (no record of the type),
 * ESERVFAIL, EREFUSED, ETIMEOUT.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { getServers } from 'node:dns';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DnsAnswer, DnsLookup, DnsRecordData, DnsRecordType } from '#core/ports.ts';

/** An answer normally takes milliseconds; past this the check reports "could not check", not a hang. */
export const DNS_QUERY_TIMEOUT_MS = 4_000;
/** The EDNS UDP size we announce (the 2020 DNS flag day value: no fragmentation). */
const EDNS_UDP_BYTES = 1232;
const DEFAULT_PORT = 53;

/** A name server to ask. */
export interface DnsServerAddress {
  readonly host: string;
  readonly port: number;
}

/** Options of {@link createDnsLookup}. */
export interface DnsClientOptions {
  /** Servers to ask, in order (`host`, `host:port`, `[v6]:port`). @default the system's (node:dns getServers) */
  readonly servers?: readonly string[];
  /** Upper bound for one lookup, every server and retry included. @default DNS_QUERY_TIMEOUT_MS */
  readonly timeoutMs?: number;
}

/**
 * Reads `HOST[:PORT]` as `--dns-server` takes it: an IPv4 or IPv6 address (bracketed when a
 * port follows) or `localhost`. Throws an Error naming the problem.
 * @example parseDnsServer('127.0.0.1:5353') // { host: '127.0.0.1', port: 5353 }
 * @example parseDnsServer('[::1]:53') // { host: '::1', port: 53 }
 */
export function parseDnsServer(text: string): DnsServerAddress {
  const t = text.trim();
  let host = t;
  let port = DEFAULT_PORT;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (!net.isIPv6(t)) {
    const m = /^([^:]+):(\d+)$/.exec(t);
    if (m) {
      host = m[1]!;
      port = Number(m[2]);
    }
  }
  if (host === 'localhost') host = '127.0.0.1';
  if (!net.isIP(host)) throw new Error(`not a DNS server address: "${text}" (expected an IP address, optionally with :PORT, e.g. 127.0.0.1:5353 or [::1]:53)`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a port: "${text}"`);
  return { host, port };
}

function dnsError(code: string, message: string, ttl?: number): Error {
  return Object.assign(new Error(message), { code, ...(ttl !== undefined ? { ttl } : {}) });
}

function query(name: string, type: DnsRecordType): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: randomInt(0, 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
}

type Response = dnsPacket.Packet & { rcode?: string };

function sameQuestion(request: Buffer, response: Response): boolean {
  const sent = dnsPacket.decode(request);
  const q = response.questions?.[0];
  return response.id === sent.id && q !== undefined && q.name.toLowerCase() === sent.questions![0]!.name.toLowerCase() && q.type === sent.questions![0]!.type;
}

function overUdp(server: DnsServerAddress, request: Buffer, timeoutMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(dnsError('ETIMEOUT', `no answer from ${server.host}:${server.port} within ${timeoutMs} ms`)), timeoutMs);
    function done(err: Error | null, response?: Response) {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(response!);
    }
    socket.on('error', (err) => done(dnsError('ECONNREFUSED', `${server.host}:${server.port}: ${err.message}`)));
    socket.on('message', (msg) => {
      let response: Response;
      try {
        response = dnsPacket.decode(msg) as Response;
      } catch {
        return; // not an answer to us; keep waiting
      }
      if (sameQuestion(request, response)) done(null, response);
    });
    socket.send(request, server.port, server.host);
  });
}

function overTcp(server: DnsServerAddress, request: Buffer, timeoutMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => done(dnsError('ETIMEOUT', `no TCP answer from ${server.host}:${server.port} within ${timeoutMs} ms`)), timeoutMs);
    function done(err: Error | null, response?: Response) {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(response!);
    }
    socket.on('error', (err) => done(dnsError('ECONNREFUSED', `${server.host}:${server.port}: ${err.message}`)));
    socket.on('connect', () => {
      const framed = Buffer.alloc(2 + request.length);
      framed.writeUInt16BE(request.length, 0);
      request.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2) return;
      const length = buffer.readUInt16BE(0);
      if (buffer.length < 2 + length) return;
      try {
        done(null, dnsPacket.decode(buffer.subarray(2, 2 + length)) as Response);
      } catch (err) {
        done(dnsError('EBADRESP', `malformed answer from ${server.host}:${server.port}: ${(err as Error).message}`));
      }
    });
  });
}

function recordData<T extends DnsRecordType>(type: T, answer: dnsPacket.Answer): DnsRecordData[T] {
  switch (type) {
    case 'TXT': {
      const data = (answer as dnsPacket.TxtAnswer).data;
      const strings = Array.isArray(data) ? data : [data];
      return strings.map((s) => (typeof s === 'string' ? s : s.toString('utf8'))) as unknown as DnsRecordData[T];
    }
    case 'MX': {
      const data = (answer as dnsPacket.MxAnswer).data;
      return { exchange: data.exchange, priority: data.preference ?? 0 } as unknown as DnsRecordData[T];
    }
    default:
      return (answer as dnsPacket.StringAnswer).data as unknown as DnsRecordData[T];
  }
}

/** The records of `type` for `name` in a response, following its CNAME chain. */
function extract<T extends DnsRecordType>(name: string, type: T, response: Response): DnsAnswer<T> | null {
  const answers = response.answers ?? [];
  let current = name.toLowerCase().replace(/\.$/, '');
  let ttl = Number.POSITIVE_INFINITY;
  for (let hops = 0; hops < 10; hops++) {
    const cname = answers.find((a) => a.type === 'CNAME' && a.name.toLowerCase() === current);
    if (!cname) break;
    ttl = Math.min(ttl, (cname as dnsPacket.StringAnswer).ttl ?? 0);
    current = ((cname as dnsPacket.StringAnswer).data as string).toLowerCase().replace(/\.$/, '');
  }
  const matching = answers.filter((a) => a.type === type && a.name.toLowerCase().replace(/\.$/, '') === current);
  if (matching.length === 0) return null;
  for (const a of matching) ttl = Math.min(ttl, (a as dnsPacket.StringAnswer).ttl ?? 0);
  return { records: matching.map((a) => recordData(type, a)), ttl: Number.isFinite(ttl) ? ttl : 0 };
}

function negativeTtl(response: Response): number | undefined {
  const soa = (response.authorities ?? []).find((a) => a.type === 'SOA') as dnsPacket.SoaAnswer | undefined;
  return soa ? Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0) : undefined;
}

function systemServers(): string[] {
  return getServers();
}

/**
 * Creates a DnsLookup.
 * @example
 * const lookup = createDnsLookup({ servers: ['127.0.0.1:5353'] });
 * await lookup('example.jp', 'TXT'); // { records: [['v=spf1 -all']], ttl: 300 }
 */
export function createDnsLookup(options: DnsClientOptions = {}): DnsLookup {
  const timeoutMs = options.timeoutMs ?? DNS_QUERY_TIMEOUT_MS;
  const configured = options.servers?.map(parseDnsServer);

  return async function lookup<T extends DnsRecordType>(name: string, type: T): Promise<DnsAnswer<T>> {
    const servers = configured ?? systemServers().map(parseDnsServer);
    if (servers.length === 0) throw dnsError('ECONNREFUSED', 'no DNS server configured on this machine');
    const qname = name.replace(/\.$/, '');
    const started = Date.now();
    let lastError: Error = dnsError('ETIMEOUT', `DNS ${type} lookup of ${qname} timed out`);
    // Each server gets an equal share of the time; two rounds over the list, like a stub resolver.
    const attempts = servers.length * 2;
    for (let i = 0; i < attempts; i++) {
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) break;
      const server = servers[i % servers.length]!;
      const request = query(qname, type);
      try {
        let response = await overUdp(server, request, Math.max(1, Math.min(left, Math.ceil(timeoutMs / attempts))));
        if ((response.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) response = await overTcp(server, request, Math.max(1, timeoutMs - (Date.now() - started)));
        const rcode = response.rcode ?? 'NOERROR';
        if (rcode === 'NXDOMAIN') throw dnsError('ENOTFOUND', `${qname} does not exist (NXDOMAIN)`, negativeTtl(response));
        if (rcode === 'SERVFAIL') {
          lastError = dnsError('ESERVFAIL', `the DNS server failed to answer ${type} ${qname} (SERVFAIL)`);
          continue;
        }
        if (rcode === 'REFUSED') {
          lastError = dnsError('EREFUSED', `the DNS server refused to answer ${type} ${qname} (REFUSED)`);
          continue;
        }
        if (rcode !== 'NOERROR') {
          lastError = dnsError('EBADRESP', `the DNS server answered ${rcode} for ${type} ${qname}`);
          continue;
        }
        const found = extract(qname, type, response);
        if (found === null) throw dnsError('ENODATA', `${qname} has no ${type} record`, negativeTtl(response));
        return found;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOTFOUND' || code === 'ENODATA') throw err;
        lastError = err as Error;
      }
    }
    throw lastError;
  };
}
