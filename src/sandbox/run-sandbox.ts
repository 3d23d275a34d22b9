import { UsageError } from '../core/errors.js'
import { type JsonlLine, readJsonl } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import type { StageListener } from '../runner/events.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import { insertExecution } from '../store/executions.js'
import type { RunStore } from '../store/runs.js'
import type { Db } from '../store/store.js'
import { extractPythonBlocks } from './code-blocks.js'
import { type MemoryScope, type SandboxOptions, SandboxPool } from './pool.js'
import type { ExecutionResult } from './types.js'

export interface SandboxJobOptions {
  /** Dotted path of the field holding code to run alone. Default "code". */
  codeField: string
  /** Cells in flight at once. Default: the pool's workers. */
  concurrency: number
  /** Print the value of a trailing expression. Default false. */
  echo: boolean
  /** Report and skip records with nothing to run, instead of stopping. Default false. */
  skipInvalid: boolean
  /** Progress, and the records skipped as invalid. */
  onEvent?: StageListener
  /** Resumability: results are stored per record; records already done are not run again. */
  run?: { id: string; store: RunStore; db: Db; finished: Map<string, unknown> }
}

export interface SandboxJobSummary {
  records: number
  executed: number
  resumed: number
  failed: number
  timedOut: number
  skipped: number
}

/** What one input record asks for: one cell on its own, or a trajectory's blocks in one session. */
type Work = { kind: 'code'; code: string } | { kind: 'trajectory'; blocks: string[] }

export function workFor(record: unknown, codeField: string): Work | { error: string } {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return { error: 'expected a JSON object' }
  const code = getPath(record, codeField)
  if (typeof code === 'string') return { kind: 'code', code }
  if (code !== undefined) return { error: `"${codeField}" must be a string` }
  const text = (record as { text?: unknown }).text
  if (typeof text === 'string') {
    const blocks = extractPythonBlocks(text)
    if (blocks.length > 0) return { kind: 'trajectory', blocks: blocks.map((block) => block.code) }
    return { error: '"text" has no ```python block' }
  }
  return { error: `missing "${codeField}" (or a trajectory "text" with \`\`\`python blocks)` }
}

function getPath(value: object, path: string): unknown {
  let current: unknown = value
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

function unitKeyFor(line: JsonlLine): string {
  const id = (line.value as { id?: unknown }).id
  return typeof id === 'string' || typeof id === 'number' ? `id:${id}` : `${line.file}:${line.line}`
}

/**
 * Runs the code of each record and yields the record with its results, in input order:
 * `result` for a code record, `executions` (one per block) for a trajectory.
 */
export async function* runSandboxJob(
  lines: AsyncIterable<JsonlLine>,
  pool: SandboxPool,
  options: SandboxJobOptions,
  summary: SandboxJobSummary,
): AsyncGenerator<Record<string, unknown>> {
  const finished = options.run?.finished ?? new Map<string, unknown>()

  const runRecord = async (line: JsonlLine, work: Work, unitKey: string) => {
    const record = line.value as Record<string, unknown>
    const results =
      work.kind === 'code'
        ? [await pool.execute(work.code, { echo: options.echo })]
        : await runSession(pool, work.blocks, options.echo)
    const output =
      work.kind === 'code'
        ? { ...record, result: results[0] }
        : {
            ...record,
            executions: results.map((result, block) => ({ block, code: work.blocks[block], ...result })),
          }
    const codes = work.kind === 'code' ? [work.code] : work.blocks
    const run = options.run
    run?.store.completeUnit(run.id, unitKey, output, (db) => {
      for (const [block, result] of results.entries()) {
        insertExecution(db, { runId: run.id, unitKey, block, code: codes[block]!, result })
      }
    })
    summary.executed += results.length
    summary.failed += results.filter((result) => result.exitCode !== 0).length
    summary.timedOut += results.filter((result) => result.timedOut).length
    return output
  }

  // Where each record id was first seen: a second record with the same id is an input error.
  const seen = new Map<string, string>()
  const valid = async function* () {
    for await (const line of lines) {
      const work = workFor(line.value, options.codeField)
      const unitKey = unitKeyFor(line)
      const first = seen.get(unitKey)
      const error =
        'error' in work
          ? work.error
          : first
            ? `duplicate id ${JSON.stringify((line.value as { id: unknown }).id)} (first at ${first})`
            : undefined
      if (error === undefined) {
        seen.set(unitKey, `${line.file}:${line.line}`)
        yield { line, work: work as Work, unitKey }
        continue
      }
      const message = `${line.file}:${line.line}: ${error}`
      if (!options.skipInvalid) {
        throw new UsageError(
          message,
          'each line needs {"code": "..."} or {"text": "...```python ...```..."}, and ids must be unique',
        )
      }
      options.onEvent?.({ kind: 'invalid', message: message })
      summary.skipped++
    }
  }
  const outputs = orderedMap(valid(), options.concurrency, async ({ line, work, unitKey }) => {
    const done = finished.get(unitKey)
    if (done === undefined) return runRecord(line, work, unitKey)
    summary.resumed++
    return done as Record<string, unknown>
  })
  for await (const output of outputs) {
    summary.records++
    options.onEvent?.({ kind: 'progress', done: summary.records, detail: `${summary.failed} failed` })
    yield output
  }
}

async function runSession(pool: SandboxPool, blocks: string[], echo: boolean): Promise<ExecutionResult[]> {
  const session = await pool.openSession()
  try {
    const results: ExecutionResult[] = []
    for (const code of blocks) results.push(await session.execute(code, { echo }))
    return results
  } finally {
    await session.close()
  }
}

export interface SandboxFileOptions extends Omit<SandboxJobOptions, 'run'>, StageRunOptions {
  input: string
  sandbox: SandboxOptions
}

/** `start sandbox`: reads records, runs their code, writes them back with results; resumable by run id. */
export async function runSandboxFile(
  options: SandboxFileOptions,
): Promise<SandboxJobSummary & { run: string; out: string; memoryLimit?: MemoryScope }> {
  return runStage(
    { ...options, inputs: [options.input], command: 'sandbox' },
    async ({ db, store, sink, finished }) => {
      const summary: SandboxJobSummary = {
        records: 0,
        executed: 0,
        resumed: 0,
        failed: 0,
        timedOut: 0,
        skipped: 0,
      }
      const pool = new SandboxPool(options.sandbox)
      let memoryLimit: MemoryScope | undefined
      try {
        const run = { id: options.runId, store, db, finished }
        for await (const record of runSandboxJob(
          readJsonl(options.input),
          pool,
          { ...options, run },
          summary,
        )) {
          await sink.write(record)
        }
        memoryLimit = pool.memoryScope
      } finally {
        await pool.close()
      }
      store.setTotal(options.runId, summary.records)
      return { run: options.runId, out: options.out ?? '-', ...summary, memoryLimit }
    },
  )
}
