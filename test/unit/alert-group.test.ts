import { describe, expect, it } from 'vitest';
import type { AlertEvent, BounceAlert, HealthAlert } from '#core/alert/event.ts';
import { alertPriority, isGroupable, MAX_GROUP, nextPost, planPosts } from '#core/alert/group.ts';
import { routeOf } from '#core/alert/routes.ts';
import { parseConfig, type ConfigInput } from '#core/config.ts';
import { at, bounced, canaryAt, mailboxFull } from '../helpers/alert-fixtures.ts';

function health(target: string, kind: HealthAlert['kind'] = 'failing'): HealthAlert {
  return { kind, key: `${kind}#${target}`, incidentId: 'I', target, at: at(0), startedAt: at(0), status: kind === 'recovered' ? 'ok' : 'critical', findings: [], canaryId: canaryAt(0), failedStep: null, steps: [], durationMs: 0 };
}

function bounce(target: string): BounceAlert {
  return { kind: 'bounce', key: `bounce#${target}`, incidentId: 'B', target, at: at(0), startedAt: at(0), status: 'warning', findings: [mailboxFull], canaryId: null, bounce: bounced() };
}

const target = (name: string, route?: string) => ({ name, host: 'smtp.example.jp', from: `${name}@example.jp`, to: ['canary@bounces.example.jp'], ...(route ? { route } : {}) });

describe('nextPost', () => {
  it('takes every ready health alert up to the limit, and leaves bounce alerts for posts of their own', () => {
    const ready: AlertEvent[] = [health('a'), bounce('a'), health('b', 'recovered'), health('c', 'reminder')];
    expect(nextPost(ready, (e) => e).map((e) => e.key)).toEqual(['failing#a', 'recovered#b', 'reminder#c']);
    expect(nextPost([bounce('a'), health('b')], (e) => e).map((e) => e.key)).toEqual(['bounce#a']);
    expect(nextPost([], (e: AlertEvent) => e)).toEqual([]);
  });

  it(`puts at most ${MAX_GROUP} alerts in a post`, () => {
    const ready = Array.from({ length: 100 }, (_, i) => health(`t${i}`));
    expect(nextPost(ready, (e) => e)).toHaveLength(MAX_GROUP);
    expect(nextPost(ready, (e) => e, 3).map((e) => e.target)).toEqual(['t0', 't1', 't2']);
  });

  it('groups health alerts and canaries not delivered; sends bounces, digests and alarms first or last as their priority says', () => {
    expect(isGroupable(health('a', 'warning'))).toBe(true);
    expect(isGroupable(bounce('a'))).toBe(false);
    expect(alertPriority(health('a'))).toBeLessThan(alertPriority(bounce('a')));
  });
});

describe('planPosts', () => {
  const input = {
    language: 'en',
    bounceDomain: 'bounces.example.jp',
    targets: [target('shop', 'owner'), target('clinic', 'owner'), target('school'), target('bakery', 'quiet')],
    alerts: {
      slack: { webhookUrlEnv: 'DESK_SLACK_URL' },
      routes: [{ name: 'owner', language: 'ja', slack: { webhookUrlEnv: 'OWNER_SLACK_URL' } }, { name: 'quiet' }],
    },
  } satisfies ConfigInput;
  const config = parseConfig(input);

  it("groups each route's health alerts into one post in its language, health before bounces", () => {
    // Act
    const posts = planPosts([bounce('shop'), health('shop'), health('school'), health('clinic', 'recovered'), health('bakery')], (e) => routeOf(e, config));

    // Assess: the bakery's route has no channel of its own: the desk's Slack carries it with the school's, both in English.
    expect(posts.map((p) => [p.destination.id, p.language, p.events.map((e) => e.key)])).toEqual([
      ['slack@owner', 'ja', ['failing#shop', 'recovered#clinic']],
      ['slack@owner', 'ja', ['bounce#shop']],
      ['slack', 'en', ['failing#school', 'failing#bakery']],
    ]);
  });

  it('keeps posts for one webhook in two languages apart', () => {
    const ja = parseConfig({ ...input, targets: [target('school'), target('bakery', 'quiet')], alerts: { ...input.alerts, routes: [{ name: 'quiet', language: 'ja' }] } });
    const posts = planPosts([health('school'), health('bakery')], (e) => routeOf(e, ja));
    expect(posts.map((p) => [p.destination.id, p.language, p.events.length])).toEqual([
      ['slack', 'en', 1],
      ['slack', 'ja', 1],
    ]);
  });

  it('posts only to the destinations the route resolver gives', () => {
    const live = (e: AlertEvent) => {
      const r = routeOf(e, config);
      return { ...r, destinations: r.destinations.filter((d) => d.id !== 'slack@owner') };
    };
    expect(planPosts([health('shop'), health('school')], live).map((p) => p.destination.id)).toEqual(['slack']);
  });
});
