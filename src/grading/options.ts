import { availableParallelism } from 'node:os'
import type { OptionSpecs, OptionValues } from '../core/options.js'
import { MAX_WORKERS, SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import type { GraderOptions } from './grader.js'

/** Time limit of one sympy equivalence check, ms. */
export const DEFAULT_SYMBOLIC_TIMEOUT_MS = 3000

/** Every command that grades: the sandbox's limits, its workers, and sympy's time limit. */
export const GRADING_OPTIONS = {
  ...SANDBOX_OPTIONS,
  workers: {
    kind: 'integer',
    min: 1,
    max: MAX_WORKERS,
    description: 'sandbox workers for code tests and sympy checks (default: all cores)',
  },
  lenient: {
    kind: 'boolean',
    default: false,
    description: 'also take answers from cut-off trajectories and unclosed thoughts (the older rule)',
  },
  symbolicTimeout: {
    kind: 'integer',
    min: 1,
    default: DEFAULT_SYMBOLIC_TIMEOUT_MS,
    description: 'time limit of one sympy equivalence check, ms',
  },
} as const satisfies OptionSpecs

export type GradingSettings = OptionValues<typeof GRADING_OPTIONS>

export function toGradingOptions(settings: GradingSettings): {
  sandbox: SandboxOptions
  grader: GraderOptions
} {
  return {
    sandbox: toSandboxOptions(settings, settings.workers ?? availableParallelism()),
    grader: {
      timeoutMs: settings.symbolicTimeout,
      codeTimeoutMs: settings.timeout,
      lenient: settings.lenient,
    },
  }
}
