/**
 * What the port probe says about the network path: OP25B, or a port 25 that is simply not
 * listening. The configured port itself is judged by the SMTP session (a refused or silent
 * configured port becomes PORT_UNREACHABLE there, with the step), so it is not repeated here.
 */
import type { Finding } from '../findings.ts';
import type { PortState } from '../results.ts';
import { probeText, type TextParams } from './texts.ts';

/** The facts the port analysis reads. */
export interface PortAnalysisInput {
  readonly host: string;
  /** The port the session uses (logical: 587, 465...). */
  readonly configuredPort: number;
  /** The probe results, keyed by logical port. */
  readonly ports: Readonly<Record<string, PortState>>;
  /** Port 25 of a host known to listen there (e.g. an MX), probed when port 25 of the target was silent. */
  readonly reference?: { readonly host: string; readonly state: PortState };
  /** The target's name did not resolve: port states say nothing then (DNS_NOT_FOUND is raised by the session). */
  readonly dnsFailed?: boolean;
  /**
   * The SMTP session got an SMTP reply on `configuredPort`: that port answers, probed or not
   * (submission on a non-standard port such as 10587 is outside the default probePorts).
   */
  readonly sessionAnswered?: boolean;
}

/**
 * The findings of the port probe.
 *
 * OP25B drops port 25 silently, so only a *silent* 25 next to an answering 587/465 (or the
 * session's own port, whatever its number) on the same host is PORT25_BLOCKED (info: the remedy is what we already do, submission on 587). A *refused*
 * 25 means that host does not listen there, and saying "blocked" would be the false positive
 * users of other tools complain about. When a reference host is configured, its port 25 decides:
 * silent too confirms the block, answering (or refusing) shows our side can reach port 25.
 * @example analysePorts({ host: 'smtp.example.jp', configuredPort: 587, ports: { '25': 'timeout', '587': 'open' } })
 * // [{ code: 'PORT25_BLOCKED', severity: 'info', … }]
 */
export function analysePorts(input: PortAnalysisInput): Finding[] {
  if (input.dnsFailed) return [];
  const p25 = input.ports['25'];
  if (p25 === undefined) return [];
  const probedOpen = Object.entries(input.ports)
    .filter(([port, state]) => port !== '25' && state === 'open')
    .map(([port]) => Number(port));
  const sessionPort = input.sessionAnswered && input.configuredPort !== 25 ? [input.configuredPort] : [];
  const openPorts = [...new Set([...probedOpen, ...sessionPort])].sort((a, b) => a - b);
  const base: TextParams = { host: input.host, port: input.configuredPort, probedPort: 25, openPorts };
  const make = (code: 'PORT25_BLOCKED' | 'PORT_UNREACHABLE', params: TextParams): Finding => {
    const text = probeText(code, params);
    return { code, severity: 'info', step: 'connect', message: text.message, remedy: text.remedy };
  };

  if (p25 === 'refused' && input.configuredPort !== 25) {
    return [make('PORT_UNREACHABLE', { ...base, variant: 'not-listening' })];
  }
  if (p25 !== 'timeout' || openPorts.length === 0) return [];

  const ref = input.reference;
  if (ref && (ref.state === 'open' || ref.state === 'refused')) {
    return [make('PORT_UNREACHABLE', { ...base, variant: 'dropped-here-only', referenceHost: ref.host })];
  }
  if (ref && ref.state === 'timeout') {
    return [make('PORT25_BLOCKED', { ...base, variant: 'confirmed', referenceHost: ref.host })];
  }
  return [make('PORT25_BLOCKED', base)];
}
