#!/usr/bin/env bash
# Synthesizes the CDK app offline (no credentials) and lints every template with cfn-lint.
#   scripts/cfn-lint.sh [CONFIG]   (default: the committed mailhealth.config.example.jsonc)
# Fails on any cfn-lint error or warning. W3005 is ignored: CDK adds an explicit DependsOn from
# each function to its role next to the GetAtt that already orders them, which is harmless.
set -euo pipefail
cd "$(dirname "$0")/.."
# The CDK CLI's telemetry stays off (cdk.json "cli-telemetry": false as well).
export CDK_DISABLE_CLI_TELEMETRY=true

config="${1:-mailhealth.config.example.jsonc}"

if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "cfn-lint: not found on PATH. Install it (pip install cfn-lint) and run again." >&2
  exit 2
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== cdk synth (config: $config, activateRuleSet on so the optional custom resource is linted too)"
npx cdk synth --quiet --output "$out" -c config="$config" -c activateRuleSet=true

echo "== cfn-lint $(cfn-lint --version 2>&1)"
cfn-lint --ignore-checks W3005 -- "$out"/*.template.json
echo "cfn-lint: no errors, no warnings"
