import { UsageError } from '../core/errors.js'
import { type JsonlSink, openJsonlSink, readJsonlInputs } from '../core/jsonl.js'
import type { GraderOptions } from '../grading/grader.js'
import { Grader } from '../grading/grader.js'
import type { StageRunOptions } from '../runner/stage-run.js'
import { runStage } from '../runner/stage-run.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { SandboxPool } from '../sandbox/pool.js'
import { DatasetStore } from '../store/datasets.js'
import type { LineageNode } from '../store/lineage.js'
import { Admission } from './admit.js'
import { ContaminationIndex } from './decontaminate.js'
import type { FilterSettings } from './options.js'
import { type FilterPolicy, type FilterTrajectory, REJECT_REASONS, type RejectReason } from './types.js'

/** What a filter (over trajectories or over steps) works with while it runs. */
export interface FilterOptions extends StageRunOptions {
  /** Hinted trajectories (files, globs, "-"). */
  inputs: string[]
  /** Plain trajectories of the same problems (`hint-infer --no-hints`), for the hint-gain rule. */
  plain: string[]
  settings: FilterSettings
  /** Also write every trajectory's scores and decision here. */
  scoresOut?: string
  sandbox: SandboxOptions
  grader?: GraderOptions
  /** Trajectories graded at once. Default 64. */
  concurrency?: number
}

export interface FilterSummary {
  run: string
  out: string
  trajectories: number
  /** Step records read (the step rules); `kept` then counts steps. */
  steps?: number
  kept: number
  keptProblems: number
  problems: number
  correct: number
  rejected: Record<RejectReason, number>
  plainTrajectories: number
  plainProblems: number
  evaluationProblems: number
  storedScores: number
  symbolicCells: number
  codeRuns: number
  trajectoriesPerSecond: number
  settings: FilterSettings
}

export interface FilterRun {
  sink: JsonlSink
  scoresSink?: JsonlSink
  datasets: DatasetStore
  grader: Grader
  summary: FilterSummary
  admission: Admission
  writes: StoreBatch
  /** When the selection began (what trajectoriesPerSecond divides by). */
  started: number
  /** Whether a problem overlaps the evaluation sets: checked once per problem. */
  isContaminated(problemId: string, text: () => string): boolean
  /** Adds a parent of the dataset, once. */
  addParent(parent: LineageNode): void
}

/**
 * The bookkeeping both filters share: the run and its dataset row, the grader, the evaluation sets, the
 * store writes in batches, the scores file, and the summary's totals at the end.
 */
export async function withFilterRun(
  options: FilterOptions,
  policy: FilterPolicy,
  select: (run: FilterRun) => Promise<void>,
): Promise<FilterSummary> {
  const { settings } = options
  const alsoWrites = [{ flag: '--scores', path: options.scoresOut }]
  return runStage({ ...options, alsoWrites, command: 'filter' }, async ({ db, sink }) => {
    const datasets = new DatasetStore(db)
    const datasetId = options.runId
    datasets.begin({ id: datasetId, runId: options.runId, name: settings.name, path: options.out ?? null })
    const pool = new SandboxPool(options.sandbox)
    const scoresSink = options.scoresOut ? await openJsonlSink(options.scoresOut) : undefined
    try {
      const contamination = await loadEvaluationSets(settings.decontaminate, settings.ngram)
      // One entry per problem seen: its size is the problem count.
      const contaminated = new Map<string, boolean>()
      const parents = new Set<string>()
      const writes = new StoreBatch(datasets)
      const run: FilterRun = {
        sink,
        scoresSink,
        datasets,
        grader: new Grader(pool, options.grader),
        summary: { ...emptySummary(options), evaluationProblems: contamination.problems },
        admission: new Admission(policy),
        writes,
        started: performance.now(),
        isContaminated(problemId, text) {
          let found = contaminated.get(problemId)
          if (found === undefined) {
            found = contamination.index.size > 0 && contamination.index.contains(text())
            contaminated.set(problemId, found)
          }
          return found
        },
        addParent(parent) {
          const key = `${parent.kind}:${parent.id}`
          if (parents.has(key)) return
          parents.add(key)
          writes.add(() => datasets.addParent(datasetId, parent))
        },
      }
      await select(run)
      const { summary, grader } = run
      writes.flush()
      datasets.finish(datasetId, summary.kept)
      await scoresSink?.commit()
      summary.problems = contaminated.size
      summary.keptProblems = run.admission.keptProblems
      summary.symbolicCells = grader.symbolic.cells
      summary.codeRuns = grader.codeRuns
      summary.trajectoriesPerSecond =
        summary.trajectories / Math.max((performance.now() - run.started) / 1000, 1e-3)
      return summary
    } catch (error) {
      await scoresSink?.abort()
      throw error
    } finally {
      await pool.close()
    }
  })
}

/** A summary with nothing counted yet. */
function emptySummary(options: FilterOptions): FilterSummary {
  return {
    run: options.runId,
    out: options.out ?? '-',
    trajectories: 0,
    kept: 0,
    keptProblems: 0,
    problems: 0,
    correct: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0])) as Record<RejectReason, number>,
    plainTrajectories: 0,
    plainProblems: 0,
    evaluationProblems: 0,
    storedScores: 0,
    symbolicCells: 0,
    codeRuns: 0,
    trajectoriesPerSecond: 0,
    settings: options.settings,
  }
}

async function loadEvaluationSets(
  patterns: string[],
  n: number,
): Promise<{ index: ContaminationIndex; problems: number }> {
  const index = new ContaminationIndex(n)
  let problems = 0
  if (patterns.length === 0) return { index, problems }
  for await (const { value, file, line } of readJsonlInputs(patterns)) {
    const problem = (value as { problem?: unknown } | null)?.problem
    if (typeof problem !== 'string')
      throw new UsageError(`${file}:${line}: --decontaminate: missing "problem"`)
    index.add(problem)
    problems++
  }
  return { index, problems }
}

/** The statement a contamination check reads: the problem, else the user's message, else the prompt. */
export function problemText(trajectory: Pick<FilterTrajectory, 'problem' | 'messages' | 'prompt'>): string {
  return (
    trajectory.problem ??
    trajectory.messages?.filter((message) => message.role === 'user').at(-1)?.content ??
    trajectory.prompt ??
    ''
  )
}

/** Store writes grouped into transactions of a few hundred: one transaction each would cost more than the filter. */
class StoreBatch {
  private pending: (() => void)[] = []

  constructor(private readonly datasets: DatasetStore) {}

  add(write: () => void): void {
    this.pending.push(write)
    if (this.pending.length >= 512) this.flush()
  }

  flush(): void {
    const writes = this.pending
    this.pending = []
    this.datasets.batch(() => {
      for (const write of writes) write()
    })
  }
}
