import { UsageError } from '../core/errors.js'
import { orderedMap } from '../core/ordered-map.js'
import type { FilterOptions, FilterSummary } from '../filter/filter-run.js'
import { problemText, withFilterRun } from '../filter/filter-run.js'
import { toFilterPolicy } from '../filter/options.js'
import { type FilterPolicy, isStepRule, STEP_RULES, type StepRule } from '../filter/types.js'
import type { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import { readStepGroups, type StepLine } from './read-steps.js'
import { ruleReads, stepIdentity, stepRejectReason, toStepSeedRecord } from './step-filter.js'

/**
 * `start filter --rule process|outcome|both|none` over the step records of `start steps` (SWiRL): each
 * step kept or not by the process judge's verdict and/or its trajectory's graded outcome, then the same
 * caps, dedup and decontamination as trajectories; kept steps become step-wise SFT examples.
 */
export async function runStepFilter(options: FilterOptions): Promise<FilterSummary> {
  const { settings } = options
  const general = toFilterPolicy(settings)
  const { rule } = general
  if (!isStepRule(rule)) throw new UsageError(`--rule ${rule}: not a step rule (${STEP_RULES.join(', ')})`)
  const policy: FilterPolicy & { rule: StepRule } = { ...general, rule }
  const { outcome } = ruleReads(policy.rule)
  return withFilterRun(options, policy, async (run) => {
    const summary = run.summary
    summary.steps = 0
    const judged = async (group: StepLine[]) => ({
      group,
      correct: outcome ? await trajectoryCorrect(group, run.grader) : undefined,
    })
    const groups = checked(readStepGroups(options.inputs), policy)
    for await (const { group, correct } of orderedMap(groups, options.concurrency ?? 64, judged)) {
      summary.trajectories++
      if (correct) summary.correct++
      for (const { step } of group) {
        summary.steps++
        const contaminated = run.isContaminated(step.problemId, () => problemText({ ...step.state, ...step }))
        const identity = stepIdentity(step)
        const reason =
          stepRejectReason(step, { contaminated, correct }, policy) ??
          run.admission.admit(step.problemId, identity.text, identity.signature)
        if (reason === null) {
          summary.kept++
          await run.sink.write(toStepSeedRecord(step, settings.dropHints))
          run.addParent({ kind: 'run', id: step.run })
          run.addParent({ kind: 'trajectory', id: step.trajectory })
        } else summary.rejected[reason]++
        await run.scoresSink?.write({
          trajectory: step.trajectory,
          step: step.step,
          problemId: step.problemId,
          sample: step.sample,
          run: step.run,
          process: step.judgements?.[policy.judgement]?.verdict ?? null,
          correct: correct ?? null,
          kept: reason === null,
          reason,
        })
      }
      if (summary.trajectories % 64 === 0) {
        options.onEvent?.({
          kind: 'progress',
          done: summary.trajectories,
          detail: `${summary.kept} steps kept`,
        })
      }
    }
  })
}

/** The groups, each step checked for what the rule reads: a missing judgement or reference stops with file:line. */
async function* checked(
  groups: AsyncGenerator<StepLine[]>,
  { rule, judgement }: { rule: StepRule; judgement: string },
): AsyncGenerator<StepLine[]> {
  const reads = ruleReads(rule)
  for await (const group of groups) {
    for (const { step, file, line } of group) {
      if (reads.process && !step.judgements?.[judgement]) {
        throw new UsageError(
          `${file}:${line}: --rule ${rule}: the step has no "${judgement}" judgement`,
          judgement === 'counterfactual'
            ? 'judge the steps first: start judge steps.jsonl --judge counterfactual --model M'
            : 'judge the steps first: start judge steps.jsonl --judge rules (or --judge model)',
        )
      }
      if (
        reads.outcome &&
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
    problem: last.problem ?? last.state.messages.find((message) => message.role === 'user')?.content,
  })
  return grade.correct
}
