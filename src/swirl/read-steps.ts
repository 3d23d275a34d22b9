import { UsageError } from '../core/errors.js'
import { readJsonlInputs } from '../core/jsonl.js'
import type { StepJudgement } from './judge-rules.js'
import type { StepRecord } from './split-steps.js'

/** A step record as `start judge` writes it: with each rubric's judgement. */
export type JudgedStep = StepRecord & { judgements?: Record<string, StepJudgement> }

/** A step record and where it was read. */
export interface StepLine {
  step: JudgedStep
  file: string
  line: number
}

/** The step records of the inputs, each checked; a line that is not one stops with `file:line`. */
export async function* readSteps(inputs: string[]): AsyncGenerator<StepLine> {
  for await (const { value, file, line } of readJsonlInputs(inputs)) {
    const step = value as JudgedStep
    if (
      typeof step?.trajectory !== 'string' ||
      typeof step.action !== 'string' ||
      typeof step.state?.text !== 'string' ||
      !('toolOutput' in step)
    ) {
      throw new UsageError(`${file}:${line}: not a step record`, 'the input is the JSONL start steps writes')
    }
    yield { step, file, line }
  }
}

/** A trajectory's steps together (they are consecutive, as `start steps` writes them). */
export async function* readStepGroups(inputs: string[]): AsyncGenerator<StepLine[]> {
  let group: StepLine[] = []
  for await (const read of readSteps(inputs)) {
    if (group.length > 0 && group[0]!.step.trajectory !== read.step.trajectory) {
      yield group
      group = []
    }
    group.push(read)
  }
  if (group.length > 0) yield group
}
