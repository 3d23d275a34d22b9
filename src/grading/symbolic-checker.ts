import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { CodeExecutor } from '../sandbox/types.js'
import { cellFailure } from '../sandbox/types.js'
import type { SymbolicCheck } from './math-equal.js'

/** Shipped next to this file's source; dist/ resolves to the same src/grading/sympy_equal.py. */
const CHECKER_SOURCE = readFileSync(
  fileURLToPath(new URL('../../src/grading/sympy_equal.py', import.meta.url)),
  'utf8',
)

export interface SymbolicCheckerOptions {
  /** Time limit of one check, ms. Default 3000. */
  timeoutMs?: number
  /** Checks sent to the sandbox in one cell. Default 32. */
  batchSize?: number
  /** Results remembered (answers repeat a lot across samples). Default 20000. */
  cacheSize?: number
}

/**
 * Answers symbolic checks with sympy in the sandbox's warm workers. Checks asked for in the same tick
 * go in one cell, each with its own time limit; a check that times out or fails counts as not equal.
 */
export class SymbolicChecker {
  private readonly cache = new Map<string, Promise<Verdict>>()
  private queue: { check: SymbolicCheck; resolve: (verdict: Verdict) => void }[] = []
  private scheduled = false
  private readonly timeoutMs: number
  private readonly batchSize: number
  private readonly cacheSize: number
  /** Cells run so far, for summaries and benchmarks. */
  cells = 0
  /** Checks answered from the cache, and how sympy settled the others (identical, random points, simplify). */
  cacheHits = 0
  readonly paths: Record<string, number> = {}

  constructor(
    private readonly pool: CodeExecutor,
    options: SymbolicCheckerOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 3000
    this.batchSize = options.batchSize ?? 32
    this.cacheSize = options.cacheSize ?? 20_000
  }

  async check(check: SymbolicCheck): Promise<boolean> {
    return (await this.verdict(check)).equal
  }

  /** Equal or not; when sympy could not decide (a timeout, a refused answer, a failed cell), why. */
  verdict(check: SymbolicCheck): Promise<Verdict> {
    const key = JSON.stringify(check)
    const cached = this.cache.get(key)
    if (cached) {
      this.cacheHits++
      return cached
    }
    const result = new Promise<Verdict>((resolve) => {
      this.queue.push({ check, resolve })
      if (this.queue.length >= this.batchSize) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string)
    this.cache.set(key, result)
    return result
  }

  /** All hold; otherwise the first that does not, with its reason. */
  async verdictAll(checks: SymbolicCheck[]): Promise<Verdict> {
    const verdicts = await Promise.all(checks.map((check) => this.verdict(check)))
    return verdicts.find((verdict) => !verdict.equal) ?? { equal: true }
  }

  private flush(): void {
    this.scheduled = false
    const batch = this.queue.splice(0, this.batchSize)
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
    if (batch.length > 0) this.runBatch(batch)
  }

  private runBatch(batch: typeof this.queue): void {
    this.cells++
    const seconds = this.timeoutMs / 1000
    // A JSON string literal is also a valid Python string literal.
    const code = `${CHECKER_SOURCE}\nprint(json.dumps(check_all(json.loads(${JSON.stringify(
      JSON.stringify(batch.map((item) => item.check)),
    )}), ${seconds})))\n`
    this.pool
      .execute(code, { timeoutMs: this.timeoutMs * batch.length + 5000 })
      .then((result) => {
        if (result.exitCode === 0) {
          const { results, paths } = JSON.parse(result.stdout.trim()) as {
            results: (boolean | string)[]
            paths: string[]
          }
          for (const path of paths) this.paths[path] = (this.paths[path] ?? 0) + 1
          for (const [i, item] of batch.entries()) item.resolve(toVerdict(results[i]))
        } else if (batch.length > 1) {
          // The cell died (a runaway check hit the CPU or memory limit): the others get a cell each.
          for (const item of batch) this.runBatch([item])
        } else batch[0]?.resolve({ equal: false, reason: `sympy check failed: ${cellFailure(result)}` })
      })
      .catch((error: Error) => {
        for (const item of batch)
          item.resolve({ equal: false, reason: `sympy check failed: ${error.message}` })
      })
  }
}

export interface Verdict {
  equal: boolean
  /** Why it is not known to be equal, when sympy could not decide. */
  reason?: string
}

function toVerdict(answer: boolean | string | undefined): Verdict {
  if (answer === true) return { equal: true }
  if (typeof answer === 'string') return { equal: false, reason: `sympy check failed: ${answer}` }
  return { equal: false }
}
