import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: sandbox and model tests compete for them, so files run one at a time.
    fileParallelism: false,
    reporters: ['default', './test/plain-summary-reporter.ts'],
  },
})
