/**
 * Certificates made on the spot for the demo provider and the tests: a private CA, server
 * certificates it signs (chosen host names, chosen validity, so expired and soon-expiring ones
 * too) and a self-signed one nobody trusts. Everything is PEM text kept in memory: no key
 * material is ever written to the repository.
 */
import forge from 'node-forge';
import { isIP } from 'node:net';

const DAY_MS = 24 * 60 * 60 * 1000;
// 2048 bits: accepted by every TLS stack we talk to, and fast enough to make per test.
const KEY_BITS = 2048;

/** A certificate and its private key, both PEM. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a server certificate is for and how long it is valid. */
export interface ServerCertificateOptions {
  /** Host names and IP addresses the certificate names (subjectAltName); the first is the CN. */
  readonly hosts: readonly string[];
  /** Start of validity. Default: one day before `now`. */
  readonly notBefore?: Date;
  /** End of validity. Default: `validDays` after `now`. */
  readonly notAfter?: Date;
  /** Days of validity from `now` when `notAfter` is not given. Default 90. */
  readonly validDays?: number;
  /** The time the certificate is made at. Default: the current time. */
  readonly now?: Date;
}

/** A private certificate authority that signs server certificates. */
export interface CertificateAuthority extends CertificateAndKey {
  /** Issues a server certificate signed by this CA. */
  issue(options: ServerCertificateOptions): CertificateAndKey;
}

type Attrs = forge.pki.CertificateField[];

function serialNumber(): string {
  // Positive (leading nibble < 8) random 16-byte serial, as RFC 5280 asks.
  const bytes = forge.random.getBytesSync(16);
  const hex = forge.util.bytesToHex(bytes);
  return `${(parseInt(hex[0]!, 16) & 0x7).toString(16)}${hex.slice(1)}`;
}

function altNames(hosts: readonly string[]) {
  return hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
}

function newCertificate(
  subject: Attrs,
  issuer: Attrs,
  publicKey: forge.pki.PublicKey,
  notBefore: Date,
  notAfter: Date,
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(extensions);
  return cert;
}

function validity(options: ServerCertificateOptions): { notBefore: Date; notAfter: Date } {
  const now = options.now ?? new Date();
  return {
    notBefore: options.notBefore ?? new Date(now.getTime() - DAY_MS),
    notAfter: options.notAfter ?? new Date(now.getTime() + (options.validDays ?? 90) * DAY_MS),
  };
}

function serverExtensions(hosts: readonly string[]): object[] {
  return [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: altNames(hosts) },
  ];
}

function commonName(hosts: readonly string[]): Attrs {
  const first = hosts[0];
  if (!first) throw new RangeError('a server certificate needs at least one host');
  return [{ name: 'commonName', value: first }];
}

/**
 * Creates a private CA (10 years valid) whose `issue` signs server certificates.
 * @example
 * const ca = createCertificateAuthority();
 * const { certPem, keyPem } = ca.issue({ hosts: ['smtp.demo.test', '127.0.0.1'] });
 */
export function createCertificateAuthority(options: { commonName?: string; now?: Date } = {}): CertificateAuthority {
  const now = options.now ?? new Date();
  const keys = forge.pki.rsa.generateKeyPair({ bits: KEY_BITS });
  const name: Attrs = [
    { name: 'commonName', value: options.commonName ?? 'mail-health test CA' },
    { name: 'organizationName', value: 'mail-health' },
  ];
  const caCert = newCertificate(name, name, keys.publicKey, new Date(now.getTime() - DAY_MS), new Date(now.getTime() + 3650 * DAY_MS), [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(caCert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
    issue(leaf: ServerCertificateOptions): CertificateAndKey {
      const leafKeys = forge.pki.rsa.generateKeyPair({ bits: KEY_BITS });
      const { notBefore, notAfter } = validity(leaf);
      const cert = newCertificate(commonName(leaf.hosts), name, leafKeys.publicKey, notBefore, notAfter, [
        ...serverExtensions(leaf.hosts),
        { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
      ]);
      cert.sign(keys.privateKey, forge.md.sha256.create());
      return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(leafKeys.privateKey) };
    },
  };
}

/**
 * A self-signed server certificate: what a misconfigured server presents, trusted by nobody.
 * @example createSelfSignedCertificate({ hosts: ['127.0.0.1'] })
 */
export function createSelfSignedCertificate(options: ServerCertificateOptions): CertificateAndKey {
  const keys = forge.pki.rsa.generateKeyPair({ bits: KEY_BITS });
  const { notBefore, notAfter } = validity(options);
  const name = commonName(options.hosts);
  const cert = newCertificate(name, name, keys.publicKey, notBefore, notAfter, serverExtensions(options.hosts));
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}
