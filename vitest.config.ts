import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that start `mailhealth` as a process run the build (dist/), made current here.
    globalSetup: ['test/setup/build-cli.ts'],
    // Integration tests open real sockets on 127.0.0.1; every one is bounded by its own timeouts.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The SDK warns once per process that its 2027 releases need Node 22; the test machines run
    // Node 20 (the Lambdas run nodejs24.x). Noise in every worker's output, so off in tests.
    // The built CLI's code cache (functions/local/cli/code-cache.ts) goes to a folder of the
    // tests', not the user's: tests run copies of dist/ from folders that do not outlive them.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', XDG_CACHE_HOME: join(tmpdir(), 'mailhealth-test-cache') },
  },
});
