import { Worker } from 'node:worker_threads'
import type { Grade } from '../grading/grader.js'
import type { CodeExecutor, ExecuteOptions, ExecutionResult } from '../sandbox/types.js'
import { ServeError } from './service.js'

export type ToGradingThread =
  | { kind: 'grade'; request: number; body: Record<string, unknown> }
  | { kind: 'executed'; execution: number; result: ExecutionResult }
export type FromGradingThread =
  | { kind: 'graded'; request: number; grade: Grade }
  | { kind: 'invalid'; request: number; message: string }
  | { kind: 'failed'; request: number; message: string }
  | { kind: 'execute'; execution: number; code: string; options?: ExecuteOptions }
  | { kind: 'ready' }

/** A /grade body that cannot be graded (no completion, no reference): the client's to fix. */
export class InvalidGradeRequest extends ServeError {}
/** A record that took longer than the grading budget: its thread was stopped. */
export class GradingBudgetExceeded extends ServeError {}

interface Job {
  request: number
  body: Record<string, unknown>
  resolve: (grade: Grade) => void
  reject: (error: Error) => void
}

const QUEUED_PER_THREAD = 32

/** In a .ts checkout (tests, tsx) the thread is TypeScript too, and needs the same loader. */
const THREAD = new URL(`./grade-thread.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url)
const THREAD_ARGV = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : []

/**
 * Grading threads for `start sandbox serve`'s /grade: each grades one record at a time, off the event
 * loop; records wait for a free thread. A record still grading after `budgetMs` fails (its thread is
 * terminated and replaced), so no record can hold a thread, or the server, for longer.
 */
export class GradingThreads {
  private readonly threads = new Set<GradingThread>()
  private readonly idle: GradingThread[] = []
  private readonly queue: Job[] = []
  private nextRequest = 0
  private closed = false

  constructor(
    private readonly executor: CodeExecutor,
    private readonly options: { threads: number; budgetMs: number },
  ) {}

  grade(body: Record<string, unknown>): Promise<Grade> {
    if (this.closed) return Promise.reject(new ServeError('the server is stopping'))
    // Each waiting record holds its body (up to 16 MB): the queue is bounded, a client past it retries.
    if (this.queue.length >= this.options.threads * QUEUED_PER_THREAD) {
      return Promise.reject(new ServeError(`grading queue full (${this.queue.length} records waiting)`))
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ request: this.nextRequest++, body, resolve, reject })
      this.dispatch()
    })
  }

  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new ServeError('the server is stopping'))
    this.closed = true
    await Promise.all(
      [...this.threads].map((thread) => thread.terminate(new ServeError('the server is stopping'))),
    )
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread = this.idle.pop()
      if (!thread && this.threads.size < this.options.threads) {
        thread = new GradingThread(this.executor, (gone) => this.gone(gone))
        this.threads.add(thread)
      }
      if (!thread) return
      this.run(thread, this.queue.shift()!)
    }
  }

  private run(thread: GradingThread, job: Job): void {
    // The budget is the record's: a thread still loading the referee does not spend it.
    void thread.ready.then(() => this.start(thread, job))
  }

  private start(thread: GradingThread, job: Job): void {
    if (!thread.alive) {
      job.reject(new Error('the grading thread exited before it could grade'))
      return
    }
    const timer = setTimeout(() => {
      job.reject(
        new GradingBudgetExceeded(`grading took longer than its budget (${this.options.budgetMs / 1000} s)`),
      )
      void thread.terminate() // its exit makes room for another
    }, this.options.budgetMs)
    thread.grade(job).then(
      () => {
        clearTimeout(timer)
        this.idle.push(thread)
        this.dispatch()
      },
      () => clearTimeout(timer),
    )
  }

  /** A thread that exited (terminated over budget, or died): another may start. */
  private gone(thread: GradingThread): void {
    this.threads.delete(thread)
    const index = this.idle.indexOf(thread)
    if (index >= 0) this.idle.splice(index, 1)
    if (!this.closed) this.dispatch()
  }
}

/** One thread and the record it grades. */
class GradingThread {
  /** Resolves once the thread has loaded the referee (or has died trying: then it is not alive). */
  readonly ready: Promise<void>
  alive = true
  private readonly worker: Worker
  private job: { job: Job; answered: () => void; died: (error: Error) => void } | undefined
  private error: Error | undefined

  constructor(executor: CodeExecutor, onExit: (thread: GradingThread) => void) {
    this.worker = new Worker(THREAD, { execArgv: THREAD_ARGV })
    let loaded: () => void = () => {}
    this.ready = new Promise((resolve) => {
      loaded = resolve
    })
    this.worker.on('message', (message: FromGradingThread) => {
      if (message.kind === 'ready') {
        loaded()
        return
      }
      if (message.kind === 'execute') {
        // The referee's cells run in the main thread's sandbox.
        void executor.execute(message.code, message.options).then((result) => {
          this.worker.postMessage({
            kind: 'executed',
            execution: message.execution,
            result,
          } satisfies ToGradingThread)
        })
        return
      }
      const current = this.job
      if (!current || current.job.request !== message.request) return
      this.job = undefined
      if (message.kind === 'graded') current.job.resolve(message.grade)
      else
        current.job.reject(
          message.kind === 'invalid' ? new InvalidGradeRequest(message.message) : new Error(message.message),
        )
      current.answered()
    })
    this.worker.on('error', (error) => {
      this.error = error
    })
    // A thread that dies (out of memory, a crash, over budget) fails its record.
    this.worker.on('exit', (code) => {
      this.alive = false
      loaded() // a thread that died loading: its record fails, it does not wait
      const current = this.job
      this.job = undefined
      const error = this.error ?? new Error(`the grading thread exited (${code})`)
      current?.job.reject(error)
      current?.died(error)
      onExit(this)
    })
  }

  /** Resolves when the record is answered (graded or refused); rejects when the thread died under it. */
  grade(job: Job): Promise<void> {
    return new Promise((answered, died) => {
      this.job = { job, answered, died }
      this.worker.postMessage({
        kind: 'grade',
        request: job.request,
        body: job.body,
      } satisfies ToGradingThread)
    })
  }

  /** Stops the thread; its record, if any, fails with `reason`. */
  terminate(reason?: Error): Promise<number> {
    this.error ??= reason
    return this.worker.terminate()
  }
}
