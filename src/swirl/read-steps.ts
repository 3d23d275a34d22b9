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

const STEPS_HINT = "the input is the JSONL start steps writes: each trajectory's steps together, in order"

/**
 * The step records of the inputs, each checked; a line that is not one stops with `file:line`, and so
 * does a trajectory whose steps are not together and in order (reversed, interleaved with another's,
 * split, with one missing or cut short): read out of order they would give other verdicts, silently.
 * `anyOrder` reads steps that stand alone (start rl's stepwise states, each a state to continue from).
 */
export async function* readSteps(inputs: string[], { anyOrder = false } = {}): AsyncGenerator<StepLine> {
  const order = anyOrder ? undefined : new StepOrder()
  for await (const { value, file, line } of readJsonlInputs(inputs)) {
    const step = value as JudgedStep
    if (
      typeof step?.trajectory !== 'string' ||
      typeof step.action !== 'string' ||
      typeof step.state?.text !== 'string' ||
      !('toolOutput' in step)
    ) {
      throw new UsageError(`${file}:${line}: not a step record`, STEPS_HINT)
    }
    const problem = fieldProblem(step) ?? order?.next(step)
    if (problem) throw new UsageError(`${file}:${line}: ${problem}`, STEPS_HINT)
    yield { step, file, line }
  }
  const unfinished = order?.unfinished()
  if (unfinished) throw new UsageError(`${inputs.join(', ')}: ${unfinished}`, STEPS_HINT)
}

/** What is wrong with a step record's fields, where a later stage would fail on them or misread them. */
function fieldProblem(step: JudgedStep): string | undefined {
  const isPlainObject = (value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
  if (step.toolOutput !== null && typeof step.toolOutput !== 'string')
    return '"toolOutput" must be the output block\'s text, or null for the final step'
  if (!Array.isArray(step.state.messages) || !step.state.messages.every(isPlainObject))
    return '"state.messages" must be a list of chat messages'
  const spans = step.insertedSpans as unknown
  if (
    !Array.isArray(spans) ||
    !spans.every((span) => Array.isArray(span) && span.length === 2 && span.every(Number.isInteger))
  )
    return '"insertedSpans" must be a list of [start, end] pairs'
  if (step.judgements !== undefined && !isPlainObject(step.judgements))
    return '"judgements" must be an object of judgements by rubric'
  return undefined
}

/** Which step of which trajectory comes next; what is wrong with a step that breaks the order. */
class StepOrder {
  private current: { trajectory: string; step: number; steps: number } | undefined
  private readonly done = new Set<string>()

  next(step: StepRecord): string | undefined {
    const { trajectory } = step
    if (
      !Number.isInteger(step.step) ||
      !Number.isInteger(step.steps) ||
      step.step < 0 ||
      step.step >= step.steps
    )
      return `"step" and "steps" must be whole numbers with step < steps (got ${step.step} of ${step.steps})`
    const current = this.current
    if (current?.trajectory === trajectory) {
      if (step.step !== current.step + 1 || step.steps !== current.steps)
        return `step ${step.step} of ${trajectory} follows its step ${current.step}: steps must come in order`
      current.step = step.step
      return undefined
    }
    const unfinished = this.unfinished()
    if (unfinished) return unfinished
    if (this.done.has(trajectory)) return `${trajectory} appears again: a trajectory's steps must be together`
    if (step.step !== 0) return `${trajectory} starts at step ${step.step}, not 0: steps must come in order`
    if (current) this.done.add(current.trajectory)
    this.current = { trajectory, step: 0, steps: step.steps }
    return undefined
  }

  /** The trajectory being read, when it stopped before its last step. */
  unfinished(): string | undefined {
    const current = this.current
    if (!current || current.step === current.steps - 1) return undefined
    return `${current.trajectory} ends at step ${current.step} of its ${current.steps}: a step is missing`
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
