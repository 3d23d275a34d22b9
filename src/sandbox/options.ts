import type { OptionSpecs, OptionValues } from '../core/options.js'
import type { SandboxOptions } from './pool.js'
import { DEFAULT_LIMITS } from './types.js'

/** The interpreter sandboxed, unless `--python` says otherwise. */
export const DEFAULT_PYTHON = 'python3'

/** The sandbox's limits: flags of every command that runs Python, and the config's `sandbox:` section. */
export const SANDBOX_OPTIONS = {
  timeout: {
    kind: 'integer',
    min: 1,
    // a day: above it no wall-clock limit means anything, and a timer past 2^31 ms fires at once
    max: 86_400_000,
    default: DEFAULT_LIMITS.timeoutMs,
    description: 'wall-clock limit per cell, ms (the CPU limit follows it)',
  },
  memoryMb: {
    kind: 'integer',
    min: 64,
    default: DEFAULT_LIMITS.memoryMb,
    description:
      "memory limit, MiB: each process's address space, and with a memory cgroup the record's whole world",
  },
  memoryCgroup: {
    kind: 'string',
    default: 'auto',
    description:
      "count each record's processes, scratch and shared memory together: auto (a cgroup where this user may make one), off, or a cgroup directory delegated to you",
  },
  processes: {
    kind: 'integer',
    min: 1,
    default: DEFAULT_LIMITS.processes,
    description: 'processes and threads per cell',
  },
  fileSizeMb: {
    kind: 'integer',
    min: 1,
    default: DEFAULT_LIMITS.fileSizeMb,
    description: 'largest file a cell may write, MiB',
  },
  scratchMb: {
    kind: 'integer',
    min: 1,
    default: DEFAULT_LIMITS.scratchMb,
    description: 'size of the scratch directory, MiB',
  },
  outputBytes: {
    kind: 'integer',
    min: 64,
    default: DEFAULT_LIMITS.outputBytes,
    description: 'bytes kept of stdout and of stderr (head + tail)',
  },
  python: { kind: 'string', default: DEFAULT_PYTHON, description: 'Python interpreter to sandbox' },
} as const satisfies OptionSpecs

export type SandboxSettings = OptionValues<typeof SANDBOX_OPTIONS>

/** Cells run at once by `start sandbox`. */
export const DEFAULT_CONCURRENCY = 2
/** Warm workers one sandbox may hold: a bound, not a target. */
export const MAX_WORKERS = 256

/** `start sandbox`'s own options. */
export const SANDBOX_JOB_OPTIONS = {
  codeField: { kind: 'string', default: 'code', description: 'field holding the code (dotted path)' },
  concurrency: {
    kind: 'integer',
    min: 1,
    // each is a warm interpreter: past this, a typo (1e12) would exhaust the host before any cell runs
    max: MAX_WORKERS,
    default: DEFAULT_CONCURRENCY,
    char: 'c',
    description: 'cells run at once (one warm worker each)',
  },
  echo: {
    kind: 'boolean',
    default: false,
    description: "print a cell's trailing expression, as a notebook does",
  },
  skipInvalid: {
    kind: 'boolean',
    default: false,
    description: 'report and skip records with nothing to run',
  },
} as const satisfies OptionSpecs

export function toSandboxOptions(settings: SandboxSettings, workers: number): SandboxOptions {
  return {
    workers,
    python: settings.python,
    memoryCgroup: settings.memoryCgroup,
    limits: {
      timeoutMs: settings.timeout,
      memoryMb: settings.memoryMb,
      processes: settings.processes,
      fileSizeMb: settings.fileSizeMb,
      scratchMb: settings.scratchMb,
      outputBytes: settings.outputBytes,
    },
  }
}

/** `start sandbox serve`'s own options. */
export const SANDBOX_SERVE_OPTIONS = {
  concurrency: { ...SANDBOX_JOB_OPTIONS.concurrency, default: 4, description: 'stateless cells run at once' },
  maxSessions: {
    kind: 'integer',
    min: 1,
    max: MAX_WORKERS,
    default: 64,
    description: 'sessions open at once (one warm worker each)',
  },
  sessionIdle: {
    kind: 'integer',
    min: 1,
    default: 300,
    description: 'close a session unused this many seconds',
  },
  host: {
    kind: 'string',
    default: '127.0.0.1',
    description: 'HTTP: the address to listen on (beyond loopback only with --token-env)',
  },
  tokenEnv: {
    kind: 'string',
    description: 'HTTP: require "Authorization: Bearer <token>", the token read from this variable',
  },
  gradeBudget: {
    kind: 'number',
    min: 0.1,
    max: 3600,
    default: 30,
    description: 'HTTP: seconds one /grade record may take (graded off the event loop); past it, 503',
  },
  gradeThreads: {
    kind: 'integer',
    min: 1,
    max: 64,
    default: 2,
    description: 'HTTP: threads that grade /grade records, one record each at a time',
  },
} as const satisfies OptionSpecs
