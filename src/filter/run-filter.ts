import { UsageError } from '../core/errors.js'
import { openJsonlSink, readJsonlInputs } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import { runStage, type StageRunOptions } from '../core/stage-run.js'
import { type Grade, Grader, type GraderOptions } from '../grading/grader.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { DatasetStore } from '../store/datasets.js'
import { Admission } from './admit.js'
import { ContaminationIndex } from './decontaminate.js'
import { type FilterSettings, toFilterPolicy } from './options.js'
import { parseTrajectory } from './parse-trajectory.js'
import { runStepFilter } from './run-filter-steps.js'
import { scoreTrajectory } from './scores.js'
import { type PlainRuns, rejectReason, toSeedRecord } from './select.js'
import { type FilterTrajectory, isStepRule, REJECT_REASONS, type RejectReason } from './types.js'

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

/** `start filter`: grade, score, select, deduplicate and decontaminate trajectories into D_seed. */
export async function runFilter(options: FilterOptions): Promise<FilterSummary> {
  const { settings } = options
  const policy = toFilterPolicy(settings)
  if (isStepRule(policy.rule)) return runStepFilter(options, { ...policy, rule: policy.rule })
  if (policy.rule === 'hint-gain' && options.plain.length === 0) {
    throw new UsageError(
      '--rule hint-gain needs --plain: trajectories of the same problems from `start hint-infer --no-hints`',
      'or use --rule correct',
    )
  }
  return runStage({ ...options, command: 'filter' }, async ({ db, sink }) => {
    const datasets = new DatasetStore(db)
    const datasetId = options.runId
    datasets.begin({
      id: datasetId,
      runId: options.runId,
      name: settings.name,
      path: options.out ?? null,
    })
    const pool = new SandboxPool(options.sandbox)
    const grader = new Grader(pool, options.grader)
    const scoresSink = options.scoresOut ? await openJsonlSink(options.scoresOut) : undefined
    const summary = emptySummary(options)
    try {
      const contamination = await loadEvaluationSets(settings.decontaminate, settings.ngram)
      summary.evaluationProblems = contamination.problems
      const plain = new Map<string, PlainRuns>()
      for await (const { trajectory, grade } of graded(options.plain, grader, options.concurrency)) {
        const runs = plain.get(trajectory.problemId) ?? { runs: 0, correct: 0 }
        runs.runs++
        if (grade.correct) runs.correct++
        plain.set(trajectory.problemId, runs)
        summary.plainTrajectories++
      }
      summary.plainProblems = plain.size
      // One entry per problem seen: its size is the problem count.
      const contaminated = new Map<string, boolean>()
      const admission = new Admission(policy)
      const writes = new StoreBatch(datasets)
      const parentRuns = new Set<string>()
      const started = performance.now()
      for await (const { trajectory, grade, file } of graded(options.inputs, grader, options.concurrency)) {
        summary.trajectories++
        if (grade.correct) summary.correct++
        const { scores, signature } = scoreTrajectory(trajectory, grade)
        let isContaminated = contaminated.get(trajectory.problemId)
        if (isContaminated === undefined) {
          isContaminated =
            contamination.index.size > 0 && contamination.index.contains(problemText(trajectory))
          contaminated.set(trajectory.problemId, isContaminated)
        }
        let reason = rejectReason(
          scores,
          {
            contaminated: isContaminated,
            plain: plain.get(trajectory.problemId),
            finishReason: trajectory.finishReason,
          },
          policy,
        )
        reason ??= admission.admit(trajectory.problemId, trajectory.text, signature)
        if (reason === null) {
          summary.kept++
          await sink.write(toSeedRecord(trajectory, settings.dropHints))
          const parent = trajectory.run ?? `file:${file}`
          if (!parentRuns.has(parent)) {
            parentRuns.add(parent)
            writes.add(() =>
              datasets.addParent(datasetId, { kind: trajectory.run ? 'run' : 'file', id: parent }),
            )
          }
          writes.add(() =>
            datasets.addParent(datasetId, {
              kind: 'trajectory',
              id: `${parent}/${trajectory.problemId}#${trajectory.sample}`,
            }),
          )
        } else summary.rejected[reason]++
        const decision = { kept: reason === null, reason }
        if (trajectory.run) {
          const run = trajectory.run
          writes.add(() => {
            const stored = datasets.saveScores(
              { run, problemId: trajectory.problemId, sample: trajectory.sample },
              { ...scores, kept: reason === null },
              { kept: reason },
            )
            if (stored) summary.storedScores++
          })
        }
        await scoresSink?.write({
          problemId: trajectory.problemId,
          sample: trajectory.sample,
          run: trajectory.run,
          predicted: grade.predicted,
          ...scores,
          ...decision,
        })
        if (summary.trajectories % 64 === 0) {
          options.onProgress?.({ done: summary.trajectories, detail: `${summary.kept} kept` })
        }
      }
      writes.flush()
      datasets.finish(datasetId, summary.kept)
      await scoresSink?.commit()
      summary.problems = contaminated.size
      summary.keptProblems = admission.keptProblems
      summary.symbolicCells = grader.symbolic.cells
      summary.codeRuns = grader.codeRuns
      summary.trajectoriesPerSecond =
        summary.trajectories / Math.max((performance.now() - started) / 1000, 1e-3)
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
export function emptySummary(options: FilterOptions): FilterSummary {
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

/** Trajectories of the inputs with their grades, in input order. */
function graded(
  inputs: string[],
  grader: Grader,
  concurrency = 64,
): AsyncGenerator<{ trajectory: FilterTrajectory; grade: Grade; file: string }> {
  const lines = async function* () {
    for await (const line of readJsonlInputs(inputs))
      yield { trajectory: parseTrajectory(line), file: line.file }
  }
  return orderedMap(lines(), concurrency, async ({ trajectory, file }) => ({
    trajectory,
    file,
    grade: await grader.grade(trajectory.text, trajectory.reference, trajectory),
  }))
}

export async function loadEvaluationSets(
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
export class StoreBatch {
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
