import { UsageError } from '../core/errors.js'
import { readJsonlInputs } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import type { StageRunOptions } from '../core/stage-run.js'
import type { Grade, Grader, GraderOptions } from '../grading/grader.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { filterStage, problemText } from './filter-stage.js'
import { type FilterSettings, toFilterPolicy } from './options.js'
import { parseTrajectory } from './parse-trajectory.js'
import { runStepFilter } from './run-filter-steps.js'
import { scoreTrajectory } from './scores.js'
import { type PlainRuns, rejectReason, toSeedRecord } from './select.js'
import { type FilterTrajectory, isStepRule, type RejectReason } from './types.js'

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
  return filterStage(options, policy, async (run) => {
    const { summary, grader } = run
    const plain = new Map<string, PlainRuns>()
    for await (const { trajectory, grade } of graded(options.plain, grader, options.concurrency)) {
      const runs = plain.get(trajectory.problemId) ?? { runs: 0, correct: 0 }
      runs.runs++
      if (grade.correct) runs.correct++
      plain.set(trajectory.problemId, runs)
      summary.plainTrajectories++
    }
    summary.plainProblems = plain.size
    run.started = performance.now()
    for await (const { trajectory, grade, file } of graded(options.inputs, grader, options.concurrency)) {
      summary.trajectories++
      if (grade.correct) summary.correct++
      const { scores, signature } = scoreTrajectory(trajectory, grade)
      let reason = rejectReason(
        scores,
        {
          contaminated: run.isContaminated(trajectory.problemId, () => problemText(trajectory)),
          plain: plain.get(trajectory.problemId),
          finishReason: trajectory.finishReason,
        },
        policy,
      )
      reason ??= run.admission.admit(trajectory.problemId, trajectory.text, signature)
      if (reason === null) {
        summary.kept++
        await run.sink.write(toSeedRecord(trajectory, settings.dropHints))
        const parent = trajectory.run ?? `file:${file}`
        run.addParent({ kind: trajectory.run ? 'run' : 'file', id: parent })
        run.addParent({ kind: 'trajectory', id: `${parent}/${trajectory.problemId}#${trajectory.sample}` })
      } else summary.rejected[reason]++
      if (trajectory.run) {
        const id = { run: trajectory.run, problemId: trajectory.problemId, sample: trajectory.sample }
        run.writes.add(() => {
          const stored = run.datasets.saveScores(id, { ...scores, kept: reason === null }, { kept: reason })
          if (stored) summary.storedScores++
        })
      }
      await run.scoresSink?.write({
        problemId: trajectory.problemId,
        sample: trajectory.sample,
        run: trajectory.run,
        predicted: grade.predicted,
        ...scores,
        kept: reason === null,
        reason,
      })
      if (summary.trajectories % 64 === 0) {
        options.onProgress?.({ done: summary.trajectories, detail: `${summary.kept} kept` })
      }
    }
  })
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
