import { describe, expect, it } from 'vitest';
import { allRoutes, routeOf, routeOfTarget } from '#core/alert/routes.ts';
import type { AlertEvent } from '#core/alert/event.ts';
import { parseConfig, type ConfigInput } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { at, bounced, round } from '../helpers/alert-fixtures.ts';

const target = (name: string, route?: string) => ({ name, host: 'smtp.example.jp', from: `${name}@example.jp`, to: ['canary@bounces.example.jp'], ...(route ? { route } : {}) });

const agency: ConfigInput = {
  language: 'en',
  bounceDomain: 'bounces.example.jp',
  targets: [target('shop', 'shop-owner'), target('clinic', 'clinic-office'), target('school'), target('bakery', 'quiet')],
  alerts: {
    slack: { webhookUrlEnv: 'DESK_SLACK_URL' },
    email: { from: 'monitor@example.jp', to: ['desk@example.jp'] },
    routes: [
      { name: 'shop-owner', language: 'ja', slack: { webhookUrlEnv: 'SHOP_SLACK_URL' }, email: { to: ['owner@shop.example.jp'] } },
      { name: 'clinic-office', slack: { webhookUrlEnv: 'DESK_SLACK_URL' } },
      { name: 'quiet', language: 'ja' },
    ],
  },
};

function healthAlert(targetName: string): AlertEvent {
  const r = round('critical', at(0), { name: targetName });
  return { kind: 'failing', key: `k-${targetName}`, incidentId: 'I', target: targetName, at: at(0), startedAt: at(0), status: 'critical', findings: [], canaryId: r.canaryId, failedStep: null, steps: [], durationMs: 0 };
}

function errorOf(doc: ConfigInput): ConfigError {
  try {
    parseConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('alert routes', () => {
  const config = parseConfig(agency);

  it("sends a target's alerts to its route only, in the route's language", () => {
    const route = routeOf(healthAlert('shop'), config);
    expect(route.name).toBe('shop-owner');
    expect(route.language).toBe('ja');
    expect(route.destinations.map((d) => d.id)).toEqual(['slack@shop-owner', 'email@shop-owner']);
    expect(route.destinations[1]).toMatchObject({ from: 'monitor@example.jp', to: ['owner@shop.example.jp'] });
  });

  it('sends a target without a route, an unmatched bounce and monitor-wide alerts to the default channels', () => {
    expect(routeOf(healthAlert('school'), config).destinations.map((d) => d.id)).toEqual(['slack', 'email']);
    const unmatched: AlertEvent = { kind: 'bounce', key: 'b', incidentId: 'I', target: null, at: at(0), startedAt: at(0), status: 'critical', findings: [], canaryId: null, bounce: bounced() };
    expect(routeOf(unmatched, config).name).toBeNull();
    const silent: AlertEvent = { kind: 'silent', key: 's', incidentId: 'I', target: 'shop', at: at(0), startedAt: at(0), status: 'critical', findings: [], phase: 'started', silent: [], silentCount: 1, targetCount: 4, silentAfterMinutes: 30, durationMs: 0 };
    expect(routeOf(silent, config).name).toBeNull();
    expect(routeOf(silent, config).language).toBe('en');
  });

  it('lets two routes that name one webhook share its pace, and keeps their delivery state apart', () => {
    const desk = routeOfTarget(config, 'school').destinations[0]!;
    const clinic = routeOfTarget(config, 'clinic').destinations[0]!;
    expect(clinic.id).not.toBe(desk.id);
    expect(clinic.paceKey).toBe(desk.paceKey);
    expect(routeOfTarget(config, 'shop').destinations[0]!.paceKey).not.toBe(desk.paceKey);
  });

  it('falls back to the default channels for a route without a channel, in its own language', () => {
    const route = routeOfTarget(config, 'bakery');
    expect(route).toMatchObject({ name: 'quiet', language: 'ja' });
    expect(route.destinations.map((d) => d.id)).toEqual(['slack', 'email']);
  });

  it('lists every route once, the default channels first', () => {
    expect(allRoutes(config).map((r) => r.name)).toEqual([null, 'shop-owner', 'clinic-office', 'quiet']);
  });

  it('refuses a target naming a route that does not exist, naming the field', () => {
    const err = errorOf({ ...agency, targets: [target('shop', 'shop-ownr')] });
    expect(err.field).toBe('targets[0].route');
    expect(err.message).toContain('"shop-ownr"');
    expect(err.message).toContain('shop-owner');
  });

  it('refuses a route with email and no sender anywhere, and duplicate route names', () => {
    const noSender = errorOf({ ...agency, alerts: { routes: [{ name: 'r', email: { to: ['a@example.jp'] } }] } });
    expect(noSender.field).toBe('alerts.routes[0].email.from');
    const twice = errorOf({ ...agency, alerts: { ...agency.alerts, routes: [{ name: 'r' }, { name: 'r' }] } });
    expect(twice.field).toBe('alerts.routes[1].name');
  });
});
