import { availableParallelism } from 'node:os'
import { Flags } from '@oclif/core'
import type { GraderOptions } from '../grading/grader.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { type SandboxFlagValues, sandboxFlags, toSandboxOptions } from './sandbox-flags.js'

/** Flags of every command that grades: the sandbox's limits, its workers, and sympy's time limit. */
export const gradingFlags = {
  ...sandboxFlags,
  workers: Flags.integer({
    description: 'sandbox workers for code tests and sympy checks (default: all cores)',
    min: 1,
  }),
  'symbolic-timeout': Flags.integer({
    description: 'time limit of one sympy equivalence check, ms',
    default: 3000,
    min: 1,
  }),
}

export interface GradingFlagValues extends SandboxFlagValues {
  workers?: number
  'symbolic-timeout': number
}

export function toGradingOptions(flags: GradingFlagValues): {
  sandbox: SandboxOptions
  grader: GraderOptions
} {
  return {
    sandbox: toSandboxOptions(flags, flags.workers ?? availableParallelism()),
    grader: { timeoutMs: flags['symbolic-timeout'], codeTimeoutMs: flags.timeout },
  }
}
