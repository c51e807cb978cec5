/**
 * The stack's parts of routes and of SES receiving: each route's Slack webhook by its own secret
 * (refused at synth without one), the deployed config keeping only what the alert Lambda needs,
 * and the bounce rule added to an existing rule set by name.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config, type ConfigInput } from '#core/config.ts';
import { ConfigError } from '#core/errors.ts';
import { deployedConfig } from '../../lib/mail-health-stack.ts';
import { synthStack } from './helpers.ts';

function config(routeSlack: Record<string, string>): Config {
  const input: ConfigInput = {
    language: 'ja',
    bounceDomain: 'bounces.example.jp',
    targets: [{ name: 'clinic', host: 'smtp.example.jp', from: 'clinic@example.jp', to: ['canary@bounces.example.jp'], route: 'clinic-desk' }],
    alerts: {
      slack: { secretName: 'mail-health/slack' },
      email: { from: 'monitor@example.jp', to: ['owner@example.jp'] },
      routes: [{ name: 'clinic-desk', language: 'en', slack: routeSlack, email: { to: ['desk@clinic.example.jp'] } }],
    },
  };
  return parseConfig(input, { locale: 'ja' });
}

describe('routes in AWS', { timeout: 120_000 }, () => {
  it("refuses at synth a route whose Slack webhook has no secret, naming the field", () => {
    // Act
    const synth = () => synthStack(config({ webhookUrlEnv: 'CLINIC_SLACK_URL' }));

    // Assess
    expect(synth).toThrow(ConfigError);
    expect(synth).toThrow(/alerts\.routes\[0\]\.slack\.secretName: required for the AWS deployment \(route clinic-desk/);
  });

  it("deploys a route's webhook by its secret only, and its recipients and language as they are", () => {
    // Act
    const deployed = deployedConfig(config({ webhookUrlEnv: 'CLINIC_SLACK_URL', secretName: 'mail-health/clinic-slack' }));

    // Assess
    expect(deployed.alerts.routes).toEqual([{ name: 'clinic-desk', language: 'en', slack: { secretName: 'mail-health/clinic-slack' }, email: { to: ['desk@clinic.example.jp'] } }]);
  });

  it("lets the alert function read the route's secret and no other", () => {
    // Prepare
    const { template } = synthStack(config({ secretName: 'mail-health/clinic-slack' }));

    // Act
    const text = JSON.stringify(template.toJSON());

    // Assess
    expect(text).toContain(':secret:mail-health/clinic-slack-??????');
    expect(text).toContain(':secret:mail-health/slack-??????');
    expect(text).not.toContain('secretsmanager:DescribeSecret');
  });
});

describe('SES receiving beside an existing rule set', { timeout: 120_000 }, () => {
  it('adds the bounce rule to the named rule set instead of a set of its own, and grants SES for that rule', () => {
    // Prepare / Act
    const { stack, template } = synthStack(config({ secretName: 'mail-health/clinic-slack' }), { existingRuleSetName: 'workmail-active' });

    // Assess
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);
    template.hasResourceProperties('AWS::SES::ReceiptRule', {
      RuleSetName: 'workmail-active',
      Rule: { Name: 'MailHealthStack-bounce-intake', Recipients: ['bounces.example.jp'], ScanEnabled: true },
    });
    expect(stack.bounceIntake.ruleSetName).toBe('workmail-active');
    expect(JSON.stringify(template.toJSON())).toContain('receipt-rule-set/workmail-active:receipt-rule/MailHealthStack-bounce-intake');
  });

  it('refuses to both join an existing rule set and activate its own', () => {
    expect(() => synthStack(config({ secretName: 'mail-health/clinic-slack' }), { existingRuleSetName: 'workmail-active', activateRuleSet: true })).toThrow(/existingRuleSetName.*activateRuleSet/);
  });
});
