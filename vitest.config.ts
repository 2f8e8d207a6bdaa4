// Test runner settings: every suite under test/, real processes and devices, so generous timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: suites that spawn gateways, ffmpeg or Chromium must not crowd each other out.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
