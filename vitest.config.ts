import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests start real exporters and the daemon; they need more than the default 5 s.
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
