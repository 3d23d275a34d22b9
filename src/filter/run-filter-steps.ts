import { UsageError } from '../core/errors.js'
import { openJsonlSink } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import { runStage } from '../core/stage-run.js'
import { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import { SandboxPool } from '../sandbox/pool.js'
import { DatasetStore } from '../store/datasets.js'
import { readStepGroups, type StepLine } from '../swirl/read-steps.js'
import { Admission } from './admit.js'
import {
  emptySummary,
  type FilterOptions,
  type FilterSummary,
  loadEvaluationSets,
  problemText,
  StoreBatch,
} from './run-filter.js'
import { neededJudgement, stepIdentity, stepRejectReason, toStepSeedRecord } from './steps.js'
import type { FilterPolicy, StepRule } from './types.js'

/**
 * `start filter --rule process|outcome|both|none` over the step records of `start steps` (SWiRL): each
 * step kept or not by the process judge's verdict and/or its trajectory's graded outcome, then the same
 * caps, dedup and decontamination as trajectories; kept steps become step-wise SFT examples.
 */
export async function runStepFilter(
  options: FilterOptions,
  policy: FilterPolicy & { rule: StepRule },
): Promise<FilterSummary> {
  const { settings } = options
  const outcome = policy.rule === 'outcome' || policy.rule === 'both'
  return runStage({ ...options, command: 'filter' }, async ({ db, sink }) => {
    const datasets = new DatasetStore(db)
    const datasetId = options.runId
    datasets.begin({ id: datasetId, runId: options.runId, name: settings.name, path: options.out ?? null })
    const pool = new SandboxPool(options.sandbox)
    const grader = new Grader(pool, options.grader)
    const scoresSink = options.scoresOut ? await openJsonlSink(options.scoresOut) : undefined
    const summary = { ...emptySummary(options), steps: 0 }
    try {
      const contamination = await loadEvaluationSets(settings.decontaminate, settings.ngram)
      summary.evaluationProblems = contamination.problems
      const contaminated = new Map<string, boolean>()
      const admission = new Admission(policy)
      const writes = new StoreBatch(datasets)
      const parents = new Set<string>()
      const started = performance.now()
      const judged = async (group: StepLine[]) => ({
        group,
        correct: outcome ? await trajectoryCorrect(group, grader) : undefined,
      })
      for await (const { group, correct } of orderedMap(
        checked(readStepGroups(options.inputs), policy.rule),
        options.concurrency ?? 64,
        judged,
      )) {
        summary.trajectories++
        if (correct) summary.correct++
        for (const { step } of group) {
          summary.steps++
          let isContaminated = contaminated.get(step.problemId)
          if (isContaminated === undefined) {
            isContaminated =
              contamination.index.size > 0 &&
              contamination.index.contains(problemText({ ...step.state, ...step }))
            contaminated.set(step.problemId, isContaminated)
          }
          const identity = stepIdentity(step)
          const reason =
            stepRejectReason(step, { contaminated: isContaminated, correct }, policy) ??
            admission.admit(step.problemId, identity.text, identity.signature)
          if (reason === null) {
            summary.kept++
            await sink.write(toStepSeedRecord(step, settings.dropHints))
            for (const parent of [`run:${step.run}`, `trajectory:${step.trajectory}`]) {
              if (parents.has(parent)) continue
              parents.add(parent)
              const [kind, id] = [parent.slice(0, parent.indexOf(':')), parent.slice(parent.indexOf(':') + 1)]
              writes.add(() => datasets.addParent(datasetId, { kind: kind as 'run' | 'trajectory', id }))
            }
          } else summary.rejected[reason]++
          await scoresSink?.write({
            trajectory: step.trajectory,
            step: step.step,
            problemId: step.problemId,
            sample: step.sample,
            run: step.run,
            process: step.judgements?.process?.verdict ?? null,
            correct: correct ?? null,
            kept: reason === null,
            reason,
          })
        }
        if (summary.trajectories % 64 === 0) {
          options.onProgress?.({ done: summary.trajectories, detail: `${summary.kept} steps kept` })
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

/** The groups, each step checked for what the rule reads: a missing judgement or reference stops with file:line. */
async function* checked(groups: AsyncGenerator<StepLine[]>, rule: StepRule): AsyncGenerator<StepLine[]> {
  const judgement = neededJudgement(rule)
  const outcome = rule === 'outcome' || rule === 'both'
  for await (const group of groups) {
    for (const { step, file, line } of group) {
      if (judgement && !step.judgements?.[judgement]) {
        throw new UsageError(
          `${file}:${line}: --rule ${rule}: the step has no "${judgement}" judgement`,
          'judge the steps first: start judge steps.jsonl --judge rules (or --judge model)',
        )
      }
      if (
        outcome &&
        'error' in parseReference(step as unknown as Record<string, unknown>) &&
        !step.judgements?.outcome
      ) {
        throw new UsageError(
          `${file}:${line}: --rule ${rule}: the step has no reference answer and no "outcome" judgement`,
          'split trajectories that carry "answer" (or tests), or judge them with --rubric outcome',
        )
      }
    }
    yield group
  }
}

/**
 * Whether a trajectory's final answer is right: graded against the reference its steps carry (as `start
 * grade` would grade the whole trajectory), else the outcome judge's verdict. No final step: not right.
 */
async function trajectoryCorrect(group: StepLine[], grader: Grader): Promise<boolean> {
  const last = group.at(-1)!.step
  if (!last.final) return false
  const parsed = parseReference(last as unknown as Record<string, unknown>)
  if ('error' in parsed) return last.judgements?.outcome?.verdict === 'yes'
  const grade = await grader.grade(last.state.text + last.action, parsed.reference, {
    prompt: last.state.prompt,
    finishReason: last.finishReason,
  })
  return grade.correct
}
