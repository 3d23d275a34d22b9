import { Flags } from '@oclif/core'
import type { SandboxOptions } from '../sandbox/pool.js'
import { DEFAULT_LIMITS } from '../sandbox/types.js'

/** The sandbox's limits as flags, shared by every command that runs Python. */
export const sandboxFlags = {
  timeout: Flags.integer({
    description: 'wall-clock limit per cell, ms',
    default: DEFAULT_LIMITS.timeoutMs,
    min: 1,
  }),
  'memory-mb': Flags.integer({
    description: 'address-space limit per cell, MiB',
    default: DEFAULT_LIMITS.memoryMb,
    min: 64,
  }),
  processes: Flags.integer({
    description: 'processes/threads a cell may run',
    default: DEFAULT_LIMITS.processes,
    min: 1,
  }),
  'file-size-mb': Flags.integer({
    description: 'largest file a cell may write, MiB',
    default: DEFAULT_LIMITS.fileSizeMb,
    min: 1,
  }),
  'scratch-mb': Flags.integer({
    description: 'size of the scratch directory, MiB',
    default: DEFAULT_LIMITS.scratchMb,
    min: 1,
  }),
  'output-bytes': Flags.integer({
    description: 'bytes kept of stdout and of stderr (head + tail)',
    default: DEFAULT_LIMITS.outputBytes,
    min: 64,
  }),
  python: Flags.string({ description: 'Python interpreter to sandbox', default: 'python3' }),
}

export interface SandboxFlagValues {
  timeout: number
  'memory-mb': number
  processes: number
  'file-size-mb': number
  'scratch-mb': number
  'output-bytes': number
  python: string
}

export function toSandboxOptions(flags: SandboxFlagValues, workers: number): SandboxOptions {
  return {
    workers,
    python: flags.python,
    limits: {
      timeoutMs: flags.timeout,
      memoryMb: flags['memory-mb'],
      processes: flags.processes,
      fileSizeMb: flags['file-size-mb'],
      scratchMb: flags['scratch-mb'],
      outputBytes: flags['output-bytes'],
    },
  }
}

/** A run id that sorts by time and says which command made it. */
export function newRunId(command: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  return `${command}-${stamp}-${Math.random().toString(36).slice(2, 6)}`
}
