import { describe, expect, it } from 'vitest';
import { analysePorts } from '#core/probe/ports-analysis.ts';

const host = 'smtp.example.jp';

describe('analysePorts', () => {
  it('calls a silent 25 next to an answering 587 OP25B (info)', () => {
    // Act
    const findings = analysePorts({ host, configuredPort: 587, ports: { '25': 'timeout', '587': 'open', '465': 'open' } });

    // Assess
    expect(findings).toMatchObject([{ code: 'PORT25_BLOCKED', severity: 'info', step: 'connect' }]);
    expect(findings[0]?.message.en).toContain('while ports 465 and 587 answer');
    expect(findings[0]?.message.ja).toContain('OP25B');
    expect(findings[0]?.remedy.ja).toContain('587');
  });

  it('counts the port the SMTP session used as answering when it is not among the probed ports (submission on 10587)', () => {
    // Act
    const findings = analysePorts({ host, configuredPort: 10587, ports: { '25': 'timeout', '587': 'refused', '465': 'refused' }, sessionAnswered: true });

    // Assess
    expect(findings).toMatchObject([{ code: 'PORT25_BLOCKED', severity: 'info', step: 'connect' }]);
    expect(findings[0]?.message.en).toContain('while port 10587 answers');
    expect(findings[0]?.message.ja).toContain('ポート10587は応答します');
  });

  it('makes no OP25B claim from the session port when the session never got an SMTP answer', () => {
    expect(analysePorts({ host, configuredPort: 10587, ports: { '25': 'timeout' }, sessionAnswered: false })).toEqual([]);
  });

  it('says a refused 25 only means that host does not listen there, never OP25B', () => {
    const findings = analysePorts({ host, configuredPort: 587, ports: { '25': 'refused', '587': 'open' } });
    expect(findings).toMatchObject([{ code: 'PORT_UNREACHABLE', severity: 'info' }]);
    expect(findings[0]?.message.en).toMatch(/not port 25 blocking/);
  });

  it('makes no OP25B claim when no other port of the host answers', () => {
    expect(analysePorts({ host, configuredPort: 587, ports: { '25': 'timeout', '587': 'timeout', '465': 'refused' } })).toEqual([]);
  });

  it('confirms OP25B when the reference host is silent on 25 too', () => {
    const findings = analysePorts({ host, configuredPort: 587, ports: { '25': 'timeout', '587': 'open' }, reference: { host: 'mx.example.net', state: 'timeout' } });
    expect(findings).toMatchObject([{ code: 'PORT25_BLOCKED' }]);
    expect(findings[0]?.message.en).toContain('mx.example.net');
  });

  it('does not call it OP25B when the reference host answers on 25', () => {
    const findings = analysePorts({ host, configuredPort: 587, ports: { '25': 'timeout', '587': 'open' }, reference: { host: 'mx.example.net', state: 'open' } });
    expect(findings).toMatchObject([{ code: 'PORT_UNREACHABLE', severity: 'info' }]);
    expect(findings[0]?.message.en).toMatch(/not blocked on your side/);
  });

  it('says nothing about ports when the host name did not resolve', () => {
    expect(analysePorts({ host, configuredPort: 587, ports: { '25': 'unreachable', '587': 'unreachable' }, dnsFailed: true })).toEqual([]);
  });

  it('says nothing when port 25 was not probed or answers', () => {
    expect(analysePorts({ host, configuredPort: 587, ports: { '587': 'open' } })).toEqual([]);
    expect(analysePorts({ host, configuredPort: 587, ports: { '25': 'open', '587': 'open' } })).toEqual([]);
  });
});
