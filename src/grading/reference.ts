import type { IoCase } from './code-tests.js'
import type { GradeContext, Reference } from './grader.js'

export const GRADE_RECORD_SHAPE =
  'each line needs the model\'s "completion" (or "text") and a reference: "answer", or "tests" + "entry_point" + "problem" (HumanEval), or "tests" as [{"input","output"}]'

/** A record's reference answer or tests, or what is wrong with it. */
export function parseReference(
  record: Record<string, unknown>,
): { reference: Reference } | { error: string } {
  const { answer, tests } = record
  if (typeof answer === 'number' && Number.isFinite(answer)) {
    return { reference: { kind: 'math', answer: String(answer) } }
  }
  if (typeof answer === 'string' && answer.trim() !== '') return { reference: { kind: 'math', answer } }
  if (Array.isArray(tests)) {
    const cases = tests.every(isIoCase)
    return cases && tests.length > 0
      ? { reference: { kind: 'stdio', cases: tests as IoCase[] } }
      : { error: '"tests" as a list needs {"input": string, "output": string} items' }
  }
  if (typeof tests === 'string' && tests.trim() !== '') {
    const entryPoint = record.entry_point ?? record.entryPoint
    if (typeof entryPoint !== 'string' || !/^[A-Za-z_]\w*$/.test(entryPoint)) {
      return { error: '"entry_point" must be a Python identifier' }
    }
    const prompt = record.problem
    if (typeof prompt !== 'string') return { error: 'missing "problem" (the function prompt the tests need)' }
    return { reference: { kind: 'humaneval', prompt, tests, entryPoint } }
  }
  return { error: 'missing "answer" (or "tests")' }
}

/** The model's text: `completion`, or a trajectory's `text`. */
export function completionOf(record: Record<string, unknown>): string | undefined {
  const completion = record.completion ?? record.text
  return typeof completion === 'string' ? completion : undefined
}

function isIoCase(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const { input, output } = value as Record<string, unknown>
  return typeof input === 'string' && typeof output === 'string'
}

/**
 * What a record says of how its completion came about, for the grader: how it ended, the prompt it
 * continued, its segments and its problem. `finish_reason` (snake case) too, as other trainers send it.
 */
export function contextOf(record: Record<string, unknown>): GradeContext {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined)
  return {
    finishReason: text(record.finishReason) ?? text(record.finish_reason),
    prompt: text(record.prompt),
    segments: recordedSegments(record.segments),
    problem: text(record.problem),
  }
}

/** A record's segments when each is `{kind, text}` (the grader reads only the model's own). */
function recordedSegments(segments: unknown): GradeContext['segments'] {
  if (!Array.isArray(segments)) return undefined
  const wellFormed = segments.every(
    (segment) =>
      typeof segment === 'object' &&
      segment !== null &&
      typeof segment.kind === 'string' &&
      typeof segment.text === 'string',
  )
  return wellFormed ? (segments as { kind: string; text: string }[]) : undefined
}
