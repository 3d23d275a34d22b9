import type { ChatMessage } from '../inference/engine.js'
import type { Segment } from '../inference/types.js'

/** How a cell ended: its exit status, a timeout, and the exception's name when it raised. */
export interface ToolResult {
  exitCode: number | null
  timedOut: boolean
  exception?: string
}

/** The recorded execution's outcome; the exception's name is the last stderr line's (`KeyboardInterrupt`, `ValueError: ...`). */
function toolResultOf(segment: Segment): ToolResult | undefined {
  const { execution } = segment
  if (!execution) return undefined
  const last = execution.stderr.trim().split('\n').at(-1) ?? ''
  const exception = /^([A-Za-z_][\w.]*)(?::|$)/.exec(last)?.[1]
  return { exitCode: execution.exitCode, timedOut: execution.timedOut, ...(exception ? { exception } : {}) }
}

/** What a trajectory must hold to be split into steps. */
export interface SplittableTrajectory {
  run: string
  problemId: string
  source?: string
  sample: number
  messages: ChatMessage[]
  prompt: string
  text: string
  segments: Segment[]
  answer?: string
  tests?: string
  entry_point?: string
  problem?: string
  finishReason?: string
}

/**
 * One step of a trajectory (SWiRL's sub-trajectory): the state is everything before the step (the
 * prompt, and the text so far with earlier tool outputs), the action is what follows up to and with the
 * next code block the interpreter ran, or to the end (the final answer). `state.text + action + toolOutput`
 * is the next step's `state.text`; the last step's `state.text + action` is the trajectory's text.
 */
export interface StepRecord {
  run: string
  problemId: string
  /** The problem's benchmark. */
  source?: string
  sample: number
  /** 0-based position in the trajectory. */
  step: number
  steps: number
  /** Where the step came from: `<run>/<problemId>#<sample>`. */
  trajectory: string
  state: { messages: ChatMessage[]; prompt: string; text: string }
  action: string
  /** [start, end) spans of `action` the loop inserted (hints): context, not the model's to learn. */
  insertedSpans: [number, number][]
  /** The interpreter's output after the action's code block; null for the final step. */
  toolOutput: string | null
  /** How the action's code ended, as the sandbox recorded it (not read from the output's text). */
  toolResult?: ToolResult
  final: boolean
  /** The problem's reference, carried for outcome judging. */
  answer?: string
  tests?: string
  entry_point?: string
  problem?: string
  /** How the trajectory ended (`stop`, `length`, ...), for grading its outcome. */
  finishReason?: string
}

/** The trajectory's steps, split at each executed code block; exact (they rebuild the text). */
export function splitSteps(trajectory: SplittableTrajectory): StepRecord[] {
  const parts: Omit<StepRecord, 'steps'>[] = []
  const reference = {
    ...(trajectory.answer !== undefined ? { answer: trajectory.answer } : {}),
    ...(trajectory.tests !== undefined
      ? { tests: trajectory.tests, entry_point: trajectory.entry_point, problem: trajectory.problem }
      : {}),
    ...(trajectory.source !== undefined ? { source: trajectory.source } : {}),
    ...(trajectory.finishReason !== undefined ? { finishReason: trajectory.finishReason } : {}),
  }
  let before = ''
  let action = ''
  let inserted: [number, number][] = []
  const close = (toolOutput: string | null, toolResult?: ToolResult) => {
    parts.push({
      run: trajectory.run,
      problemId: trajectory.problemId,
      sample: trajectory.sample,
      step: parts.length,
      trajectory: `${trajectory.run}/${trajectory.problemId}#${trajectory.sample}`,
      state: { messages: trajectory.messages, prompt: trajectory.prompt, text: before },
      action,
      insertedSpans: inserted,
      toolOutput,
      ...(toolResult ? { toolResult } : {}),
      final: toolOutput === null,
      ...reference,
    })
    before += action + (toolOutput ?? '')
    action = ''
    inserted = []
  }
  for (const segment of trajectory.segments) {
    if (segment.kind === 'output') close(segment.text, toolResultOf(segment))
    else {
      if (segment.kind === 'hint') inserted.push([action.length, action.length + segment.text.length])
      action += segment.text
    }
  }
  close(null)
  return parts.map((part) => ({ ...part, steps: parts.length }))
}

/** What is wrong with a record as a trajectory to split, or undefined. */
export function trajectoryError(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object'
  const record = value as Record<string, unknown>
  for (const field of ['run', 'problemId', 'prompt', 'text'] as const) {
    if (typeof record[field] !== 'string') return `missing "${field}" (a trajectory from start hint-infer)`
  }
  if (typeof record.sample !== 'number') return 'missing "sample"'
  if (!Array.isArray(record.messages)) return 'missing "messages"'
  if (!Array.isArray(record.segments)) return 'missing "segments"'
  const pieces = record.segments as unknown[]
  const bad = pieces.findIndex(
    (segment) =>
      typeof segment !== 'object' ||
      segment === null ||
      typeof (segment as { text?: unknown }).text !== 'string' ||
      !['model', 'hint', 'output'].includes((segment as { kind?: unknown }).kind as string),
  )
  if (bad >= 0) return `"segments"[${bad}] must be {"kind": "model" | "hint" | "output", "text": ...}`
  const joined = (record.segments as { text?: unknown }[]).map((segment) => segment.text).join('')
  if (joined !== record.text) return '"segments" do not add up to "text"'
  return undefined
}
