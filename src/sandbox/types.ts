/** What one execution of a code cell produced. */
export interface ExecutionResult {
  stdout: string
  stderr: string
  /** Exit status; 1 when the cell raised; null when it was killed. */
  exitCode: number | null
  /** The signal that ended the cell ("SIGKILL" on timeout), or null. */
  signal: string | null
  timedOut: boolean
  /** True when stdout or stderr was cut to head + tail (a marker says how much). */
  truncated: boolean
  stdoutBytes: number
  stderrBytes: number
  durationMs: number
  /** In a session: the session's process died (timeout, crash, exit) and the next cell starts afresh. */
  sessionEnded: boolean
}

/** How a failed execution ended, in a few words: the time limit, a signal, or the exit status and last error line. */
export function cellFailure(result: ExecutionResult): string {
  if (result.timedOut) return 'timed out'
  if (result.signal) return `killed by ${result.signal}`
  const last = result.stderr.trimEnd().split('\n').at(-1)
  return `exit ${result.exitCode}${last ? `: ${last.slice(0, 200)}` : ''}`
}

/** Limits for each execution. Every field has a default (see DEFAULT_LIMITS). */
export interface SandboxLimits {
  /** Wall-clock limit per cell, ms. Default 10000. */
  timeoutMs: number
  /** CPU seconds per cell. Default: the wall-clock limit, rounded up. */
  cpuSeconds: number
  /** CPU seconds for a whole session. Default 600. */
  sessionCpuSeconds: number
  /** Address-space limit, MiB. Default 4096. */
  memoryMb: number
  /** Largest file a cell may write, MiB. Default 64. */
  fileSizeMb: number
  /** Size of the scratch directory (a tmpfs), MiB. Default 256. */
  scratchMb: number
  /** Processes and threads a cell may run at once. Default 64. */
  processes: number
  /** Open files per process. Default 256. */
  openFiles: number
  /** Bytes kept of each of stdout and stderr (half head, half tail). Default 32768. */
  outputBytes: number
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 10_000,
  cpuSeconds: 10,
  sessionCpuSeconds: 600,
  memoryMb: 4096,
  fileSizeMb: 64,
  scratchMb: 256,
  processes: 64,
  openFiles: 256,
  outputBytes: 32_768,
}

export function resolveLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits = { ...DEFAULT_LIMITS, ...stripUndefined(overrides) }
  if (overrides.cpuSeconds === undefined) limits.cpuSeconds = Math.max(1, Math.ceil(limits.timeoutMs / 1000))
  return limits
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

export interface ExecuteOptions {
  /** Overrides the pool's wall-clock limit for this cell. */
  timeoutMs?: number
  /** Print the value of a trailing expression, as a notebook does. Default false. */
  echo?: boolean
  /** What the cell reads on stdin. Default: nothing (/dev/null). */
  stdin?: string
}

/** What runs a cell: the pool, a session, or a proxy to either (the grading threads' way to the pool). */
export interface CodeExecutor {
  execute(code: string, options?: ExecuteOptions): Promise<ExecutionResult>
}
