import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { execa, type ResultPromise } from 'execa'
import {
  createWorkerCgroup,
  type MemoryCgroup,
  type MemoryCgroupSetting,
  removeCgroupTreeSoon,
} from './cgroup.js'
import { findBwrap, readHostLayout } from './host.js'
import {
  bwrapArgs,
  CGROUP_MOUNT,
  CLONE_NAMESPACE_FLAGS,
  cellUid,
  SCRATCH,
  SECCOMP_DENIED,
  SECCOMP_UNAVAILABLE,
  WORKER_PATH,
} from './isolation.js'
import type { PythonRuntime } from './python-runtime.js'
import type { ExecutionResult, SandboxLimits } from './types.js'

/** Shipped next to this file's source; dist/ resolves to the same src/sandbox/python. */
const WORKER_SOURCE = fileURLToPath(new URL('../../src/sandbox/python', import.meta.url))

/** The longest time limit a cell may have (the --timeout flag's maximum, a day): its stuck timer fits a timer. */
const MAX_CELL_MS = 86_400_000
/** How long past its own time limit a cell may go before the whole worker is presumed stuck. */
const STUCK_GRACE_MS = 5_000
let workerSerial = 0

export interface WorkerSpec {
  python: PythonRuntime
  limits: SandboxLimits
  /** Modules imported once per worker. */
  preload: string[]
  /** Code run once per worker after the imports, to load what libraries import lazily. */
  warmup: string
  /**
   * Start the sandbox as this uid and gid (through setpriv) instead of as root: unprivileged mode
   * for a process that is root. The security tests run every attack in both modes this way.
   */
  runAs?: { uid: number; gid: number }
  /** Where each world's memory is counted as a whole (see cgroup.ts). Default auto. */
  memoryCgroup?: MemoryCgroupSetting
}

interface Pending {
  resolve: (reply: Record<string, unknown>) => void
  timer?: NodeJS.Timeout
}

/** One sandboxed Python worker process (bubblewrap + the sandbox_worker package) and its request channel. */
export class SandboxWorker {
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private stderrTail = ''
  private exited = false
  readonly ready: Promise<void>
  /** Settles once the worker has exited and its cgroup is removed. */
  readonly gone: Promise<void>

  private constructor(
    private readonly process: ResultPromise,
    /** The worker's memory cgroup, or undefined when memory is limited per process only. */
    readonly cgroup: MemoryCgroup | undefined,
  ) {
    const lines = createInterface({ input: process.stdout! })
    let markReady: () => void
    let failReady: (error: Error) => void
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve
      failReady = reject
    })
    lines.on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>
      if (message.ready) return markReady()
      const pending = this.pending.get(message.id as number)
      if (!pending) return
      clearTimeout(pending.timer)
      this.pending.delete(message.id as number)
      pending.resolve(message)
    })
    // A write to a worker that just died must not crash the caller; the exit handler reports it.
    process.stdin!.on('error', () => {})
    process.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000)
    })
    let markGone: () => void
    this.gone = new Promise((resolve) => {
      markGone = resolve
    })
    process.on('exit', () => {
      this.exited = true
      if (cgroup) void removeCgroupTreeSoon(cgroup.path).then(markGone)
      else markGone()
      failReady(new Error(`sandbox worker failed to start: ${this.stderrTail.trim() || 'no output'}`))
      for (const [id, pending] of this.pending) {
        clearTimeout(pending.timer)
        pending.resolve({ id, died: true })
      }
      this.pending.clear()
    })
  }

  static async start(spec: WorkerSpec): Promise<SandboxWorker> {
    const bwrap = await findBwrap()
    const host = { ...readHostLayout(), ...(spec.runAs ? { root: false } : {}) }
    const cgroup = createWorkerCgroup(spec.memoryCgroup ?? 'auto', spec.runAs)
    const config = {
      limits: spec.limits,
      scratch: SCRATCH,
      uid: host.root ? cellUid(process.pid, workerSerial++) : null,
      cgroup: cgroup ? { version: cgroup.version, mount: CGROUP_MOUNT } : null,
      seccomp: { deny: SECCOMP_DENIED, unavailable: SECCOMP_UNAVAILABLE, cloneFlags: CLONE_NAMESPACE_FLAGS },
      outputHeadBytes: Math.floor(spec.limits.outputBytes / 2),
      outputTailBytes: Math.ceil(spec.limits.outputBytes / 2),
      preload: spec.preload,
      warmup: spec.warmup,
    }
    const args = bwrapArgs({
      host,
      python: spec.python,
      workerDirectory: spec.runAs ? readableCopy(WORKER_SOURCE) : WORKER_SOURCE,
      cgroup: cgroup?.path,
    })
    const command = [bwrap, ...args, spec.python.executable, WORKER_PATH, JSON.stringify(config)]
    if (spec.runAs) {
      const { uid, gid } = spec.runAs
      command.unshift('setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups')
    }
    const [file, ...rest] = command
    const child = execa(file!, rest, {
      // bwrap itself stays in the sandbox as its pid 1: it gets no secret of the caller's to keep.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
      extendEnv: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      // A process group of its own: a terminal's Ctrl-C (SIGINT to the foreground group) is for this
      // process to handle (a service finishes its running cells), not for the workers. A worker whose
      // parent is gone reads the end of its stdin and exits; pool.close() kills it before then.
      detached: true,
    })
    const worker = new SandboxWorker(child, cgroup)
    await worker.ready
    return worker
  }

  get alive(): boolean {
    return !this.exited
  }

  /** Runs a cell; a dead or stuck worker is reported as a failed execution (only a bad time limit rejects). */
  async execute(
    code: string,
    timeoutMs: number,
    session: boolean,
    echo: boolean,
    stdin = '',
  ): Promise<ExecutionResult> {
    if (!(timeoutMs > 0 && timeoutMs <= MAX_CELL_MS)) {
      throw new RangeError(
        `a cell's time limit must be more than 0 and at most ${MAX_CELL_MS} ms, not ${timeoutMs}`,
      )
    }
    const reply = await this.request(
      { op: 'exec', code, timeout: timeoutMs / 1000, session, echo, stdin },
      timeoutMs,
    )
    if (reply.died || reply.error) {
      const why = reply.died
        ? `sandbox worker died${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`
        : reply.error
      return {
        stdout: '',
        stderr: String(why),
        exitCode: null,
        signal: reply.stuck ? 'SIGKILL' : null,
        timedOut: Boolean(reply.stuck),
        truncated: false,
        stdoutBytes: 0,
        stderrBytes: 0,
        durationMs: 0,
        sessionEnded: true,
      }
    }
    const { id: _id, ...result } = reply
    return result as unknown as ExecutionResult
  }

  /** Ends the worker's session (if any) and clears its scratch directory. */
  async reset(): Promise<void> {
    await this.request({ op: 'reset' }, 10_000)
  }

  kill(): void {
    this.process.kill('SIGKILL')
  }

  private request(message: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.resolve({ died: true })
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // The worker enforces the limit itself; if it has not answered by now it is stuck.
        this.pending.delete(id)
        this.kill()
        resolve({ id, died: true, stuck: true })
      }, timeoutMs + STUCK_GRACE_MS)
      this.pending.set(id, { resolve, timer })
      this.process.stdin!.write(`${JSON.stringify({ ...message, id })}\n`)
    })
  }
}

let sourceCopy: string | undefined

/** A copy of the worker's source that another uid can read (the checkout may sit in a private home). */
function readableCopy(source: string): string {
  if (sourceCopy) return sourceCopy
  const directory = mkdtempSync(join(tmpdir(), 'start-sandbox-'))
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }))
  cpSync(source, directory, { recursive: true, filter: (path) => basename(path) !== '__pycache__' })
  makeReadable(directory)
  sourceCopy = directory
  return sourceCopy
}

function makeReadable(directory: string): void {
  chmodSync(directory, 0o755)
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) makeReadable(path)
    else chmodSync(path, 0o644)
  }
}
