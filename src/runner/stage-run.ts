import { type JsonlSink, openJsonlSink } from '../core/jsonl.js'
import { type NamedOutput, refuseOverwritingInputs } from '../core/output-paths.js'
import { RunStore } from '../store/runs.js'
import { type Db, openDatabase } from '../store/store.js'
import type { StageListener } from './events.js'

/** What every resumable stage takes besides its own options. */
export interface StageRunOptions {
  /** JSONL output file; stdout when absent. */
  out?: string
  /** The files the stage reads: an output that is one of them is refused before any work. */
  inputs?: string[]
  /** Files it writes besides `out` (`--scores`), with their flags. */
  alsoWrites?: NamedOutput[]
  db: string
  runId: string
  /** Recorded with the run, for lineage. */
  flags: Record<string, unknown>
  toolVersion: string
  onEvent?: StageListener
}

export interface StageRun {
  db: Db
  store: RunStore
  sink: JsonlSink
  /** Results of the units this run already finished, by unit key: a rerun skips them. */
  finished: Map<string, unknown>
}

/**
 * The bookkeeping of a resumable stage, done once: opens the store, starts or resumes the run, opens
 * the output, runs the stage. On success the output appears and the run is done; on failure no
 * partial output is left, the run is marked failed, and what was committed stays for the rerun.
 */
export async function runStage<T>(
  options: StageRunOptions & { command: string; model?: string },
  stage: (run: StageRun) => Promise<T>,
): Promise<T> {
  await refuseOverwritingInputs(
    [{ flag: '--out', path: options.out }, ...(options.alsoWrites ?? [])],
    options.inputs ?? [],
  )
  const db = openDatabase(options.db)
  const store = new RunStore(db)
  try {
    store.begin({
      id: options.runId,
      command: options.command,
      flags: options.flags,
      model: options.model,
      toolVersion: options.toolVersion,
    })
    const sink = await openJsonlSink(options.out)
    try {
      const result = await stage({ db, store, sink, finished: store.finishedUnits(options.runId) })
      await sink.commit()
      store.finish(options.runId, 'done', { counts: countsOf(result) })
      return result
    } catch (error) {
      await sink.abort()
      store.finish(options.runId, 'failed', { error: (error as Error).message })
      throw error
    }
  } finally {
    db.close()
  }
}

/** The numbers of a summary (and its objects of numbers, such as the filter's rejections), for `start runs`. */
export function countsOf(summary: unknown): Record<string, unknown> {
  const counts: Record<string, unknown> = {}
  if (typeof summary !== 'object' || summary === null) return counts
  for (const [key, value] of Object.entries(summary)) {
    if (typeof value === 'number') counts[key] = value
    else if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.values(value).every((item) => typeof item === 'number')
    )
      counts[key] = value
  }
  return counts
}
