import { defineConfig } from 'vitest/config'
import { TIERS } from './test/tiers.js'

/**
 * The suite in tiers (test/tiers.ts): each tier is a vitest project, so `vitest run --project unit` runs the
 * pure logic alone in seconds, and `vitest run` (what CI runs) runs every tier, two files at a time (the
 * machine has two cores; most files wait on a model, a trainer or a sandbox for much of their time).
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 3,
    // Two files share the two cores: torch's OpenMP threads would spin-wait against the other file's work
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
