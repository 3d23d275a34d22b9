import { defineConfig } from 'vitest/config'
import { TIERS } from './test/tiers.js'

/**
 * The suite in tiers (test/tiers.ts): each tier is a vitest project, so `vitest run --project unit` runs the
 * pure logic alone in seconds, and `vitest run` (what CI runs) runs every tier, three files at a time on
 * the two-core machine: most files wait on a model, a trainer, a server or a sandbox for much of their
 * time (measured on a clean clone: 403 s of tests with three, 446-550 s with two).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 3,
    // Files share the two cores: torch's OpenMP threads would spin-wait against the other file's work
    // (the trainer's results do not depend on its thread count).
    env: { OMP_NUM_THREADS: '1' },
    minWorkers: 1,
    sequence: { sequencer: (await import('./test/sequencer.js')).HeaviestFirst },
    reporters: ['default', './test/plain-summary-reporter.ts'],
    projects: TIERS.map((tier) => ({
      extends: true,
      test: { name: tier.name, include: tier.include, exclude: tier.exclude ?? [] },
    })),
  },
})
