import type { MemoryCgroupSetting } from './cgroup.js'
import { findPythonRuntime } from './python-runtime.js'
import { type ExecuteOptions, type ExecutionResult, resolveLimits, type SandboxLimits } from './types.js'
import { SandboxWorker, type WorkerSpec } from './worker-process.js'

export interface SandboxOptions {
  /** Workers for stateless executions, i.e. how many cells run at once. Default 2. */
  workers?: number
  limits?: Partial<SandboxLimits>
  /** The interpreter: a name on PATH or a path. Default "python3". */
  python?: string
  /** Modules each worker imports once, if installed. Default numpy and sympy. */
  preload?: string[]
  /** Code each worker runs once after the imports. Default: a sympy warm-up. */
  warmup?: string
  /** Run the sandbox as this uid and gid when the caller is root (unprivileged mode). */
  runAs?: { uid: number; gid: number }
  /** Where each record's memory is counted as a whole: auto (default), off, or a delegated cgroup directory. */
  memoryCgroup?: MemoryCgroupSetting
}

/** What a sandbox's memory limit caps: each record's world as a whole, or each process alone. */
export type MemoryScope = 'world' | 'process'

/** Loads what sympy imports lazily on first use (solve, simplify, printing), once per worker. */
export const SYMPY_WARMUP = `
import sympy as sp
x, y = sp.symbols('x y')
sp.solve([x + y - 3, x - y - 1], [x, y])
sp.solve(x**2 - 2, x)
sp.simplify(sp.sin(x)**2 + sp.cos(x)**2)
sp.factor(x**2 - 1); sp.expand((x + 1)**3); sp.integrate(x**2, x); sp.diff(sp.exp(x), x)
sp.factorint(360); sp.isprime(97); sp.Rational(1, 3) + sp.sqrt(8); sp.nsimplify(0.5)
sp.latex(x / 2); str(sp.Matrix([[1, 2], [3, 4]]).det()); sp.N(sp.pi, 20)
`

/**
 * A pool of warm sandbox workers. Stateless cells go to any idle worker; a session holds one
 * worker for the cells of one trajectory, like a notebook kernel.
 */
export class SandboxPool {
  private readonly idle: SandboxWorker[] = []
  /** Workers handed back by closed sessions; at most as many as sessions were open at once. */
  private readonly sessionIdle: SandboxWorker[] = []
  private readonly waiting: ((worker: SandboxWorker) => void)[] = []
  private statelessWorkers = 0
  private readonly live = new Set<SandboxWorker>()
  private readonly size: number
  private specPromise?: Promise<WorkerSpec>
  private closed = false
  readonly limits: SandboxLimits

  constructor(private readonly options: SandboxOptions = {}) {
    this.size = Math.max(1, options.workers ?? 2)
    this.limits = resolveLimits(options.limits)
  }

  /** Starts the stateless workers now rather than on the first cell. */
  async warm(): Promise<void> {
    const workers = await Promise.all(
      Array.from({ length: this.size - this.statelessWorkers }, () => this.startWorker()),
    )
    this.statelessWorkers += workers.length
    for (const worker of workers) this.release(worker)
  }

  /** Starts `count` workers for sessions now, so the first sessions do not wait for one. */
  async warmSessions(count: number): Promise<void> {
    const workers = await Promise.all(Array.from({ length: count }, () => this.startWorker()))
    this.sessionIdle.push(...workers)
  }

  /** Runs one cell in a fresh namespace and scratch directory. */
  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    const worker = await this.acquire()
    try {
      return await worker.execute(
        code,
        options.timeoutMs ?? this.limits.timeoutMs,
        false,
        options.echo ?? false,
        options.stdin,
      )
    } finally {
      this.release(worker)
    }
  }

  /** Opens a session: later cells see earlier cells' variables and files. */
  async openSession(): Promise<SandboxSession> {
    let worker = this.sessionIdle.pop()
    while (worker && !worker.alive) worker = this.sessionIdle.pop()
    return new SandboxSession(this, worker ?? (await this.startWorker()))
  }

  /**
   * What `memoryMb` caps, as far as the workers started so far show: each record's world as a whole
   * (a memory cgroup: processes, scratch and shared memory together), or each process's address space.
   */
  get memoryScope(): MemoryScope | undefined {
    const workers = [...this.live]
    if (workers.length === 0) return undefined
    return workers.every((worker) => worker.cgroup) ? 'world' : 'process'
  }

  /** Ends every worker; resolves once they are gone and their cgroups removed. */
  async close(): Promise<void> {
    this.closed = true
    const workers = [...this.live]
    for (const worker of workers) worker.kill()
    await Promise.all(workers.map((worker) => worker.gone))
    this.live.clear()
    this.idle.length = 0
    this.sessionIdle.length = 0
  }

  /** @internal used by sessions */
  async replaceWorker(worker: SandboxWorker): Promise<SandboxWorker> {
    worker.kill()
    this.live.delete(worker)
    return this.startWorker()
  }

  /** @internal a session hands its worker back */
  async returnSessionWorker(worker: SandboxWorker): Promise<void> {
    if (!worker.alive || this.closed) {
      this.live.delete(worker)
      return
    }
    await worker.reset()
    this.sessionIdle.push(worker)
  }

  private async spec(): Promise<WorkerSpec> {
    this.specPromise ??= findPythonRuntime(this.options.python).then((python) => ({
      python,
      limits: this.limits,
      preload: this.options.preload ?? ['numpy', 'sympy'],
      warmup: this.options.warmup ?? SYMPY_WARMUP,
      runAs: this.options.runAs,
      memoryCgroup: this.options.memoryCgroup,
    }))
    return this.specPromise
  }

  private async startWorker(): Promise<SandboxWorker> {
    if (this.closed) throw new Error('the sandbox pool is closed')
    const worker = await SandboxWorker.start(await this.spec())
    this.live.add(worker)
    return worker
  }

  private async acquire(): Promise<SandboxWorker> {
    // Oldest first: the worker released last is still forking its next child.
    const ready = this.idle.shift()
    if (ready) return ready.alive ? ready : this.replaceWorker(ready)
    if (this.statelessWorkers < this.size) {
      this.statelessWorkers++
      try {
        return await this.startWorker()
      } catch (error) {
        this.statelessWorkers--
        throw error
      }
    }
    const worker = await new Promise<SandboxWorker>((resolve) => this.waiting.push(resolve))
    return worker.alive ? worker : this.replaceWorker(worker)
  }

  private release(worker: SandboxWorker): void {
    if (this.closed) return
    const next = this.waiting.shift()
    if (next) next(worker)
    else this.idle.push(worker)
  }
}

/** Cells of one trajectory, run in order in one persistent namespace. */
export class SandboxSession {
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor(
    private readonly pool: SandboxPool,
    private worker: SandboxWorker,
  ) {}

  /** Queues a cell; cells queued before `close()` still run, those after are refused. */
  execute(code: string, options: ExecuteOptions = {}): Promise<ExecutionResult> {
    if (this.closed) return Promise.reject(new Error('the sandbox session is closed'))
    const run = this.queue.then(async () => {
      if (!this.worker.alive) this.worker = await this.pool.replaceWorker(this.worker)
      return this.worker.execute(
        code,
        options.timeoutMs ?? this.pool.limits.timeoutMs,
        true,
        options.echo ?? false,
        options.stdin,
      )
    })
    this.queue = run.catch(() => {})
    return run
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue
    await this.pool.returnSessionWorker(this.worker)
  }
}
