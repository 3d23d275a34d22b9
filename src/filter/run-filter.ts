import { UsageError } from '../core/errors.js'
import { readJsonlInputs } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import type { Grade, Grader } from '../grading/grader.js'
import { type FilterOptions, type FilterSummary, problemText, withFilterRun } from './filter-run.js'
import { toFilterPolicy } from './options.js'
import { parseTrajectory } from './parse-trajectory.js'
import { scoreTrajectory } from './scores.js'
import { type PlainRuns, rejectReason, toSeedRecord } from './select.js'
import { type FilterTrajectory, isStepRule } from './types.js'

/** `start filter`: grade, score, select, deduplicate and decontaminate trajectories into D_seed. */
export async function runFilter(options: FilterOptions): Promise<FilterSummary> {
  const { settings } = options
  const policy = toFilterPolicy(settings)
  if (isStepRule(policy.rule)) {
    throw new UsageError(
      `--rule ${policy.rule}: a step rule, for the step records of start steps (runStepFilter)`,
    )
  }
  if (policy.rule === 'hint-gain' && options.plain.length === 0) {
    throw new UsageError(
      '--rule hint-gain needs --plain: trajectories of the same problems from `start hint-infer --no-hints`',
      'or use --rule correct',
    )
  }
  return withFilterRun(options, policy, async (run) => {
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
        options.onEvent?.({ kind: 'progress', done: summary.trajectories, detail: `${summary.kept} kept` })
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
