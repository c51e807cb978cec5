import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests open real sockets on 127.0.0.1; every one is bounded by its own timeouts.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
