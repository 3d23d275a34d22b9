import { UsageError } from '../core/errors.js'
import type { JsonlLine } from '../core/jsonl.js'
import { parseReference } from '../grading/reference.js'
import type { ChatMessage } from '../inference/engine.js'
import type { Segment } from '../inference/types.js'
import { segmentsFromText } from './scores.js'
import type { FilterTrajectory } from './types.js'

export const TRAJECTORY_SHAPE =
  'each line needs "problemId", "text" and a reference ("answer", or "tests" + "entry_point" + "problem"), as `start hint-infer` writes'

/** Checks one JSONL line for `start filter`; a bad line stops with `file:line: what is wrong`. */
export function parseTrajectory({ value, file, line }: JsonlLine): FilterTrajectory {
  const fail = (message: string): never => {
    throw new UsageError(`${file}:${line}: ${message}`, TRAJECTORY_SHAPE)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('expected a JSON object')
  const record = value as Record<string, unknown>
  const problemId = record.problemId ?? record.id
  if (typeof problemId !== 'string' || problemId === '') return fail('missing "problemId"')
  const text = record.text ?? record.completion
  if (typeof text !== 'string') return fail('missing "text"')
  const parsed = parseReference(record)
  if ('error' in parsed) return fail(parsed.error)
  const segments = Array.isArray(record.segments) ? (record.segments as Segment[]) : segmentsFromText(text)
  if (segments.map((segment) => segment?.text).join('') !== text) {
    return fail('"segments" do not concatenate to "text"')
  }
  const messages = record.messages
  if (messages !== undefined && !isMessages(messages)) return fail('"messages" must be [{"role","content"}]')
  const tokens = record.tokens as { generatedTokens?: unknown } | undefined
  return {
    run: optional(record.run, 'string'),
    problemId,
    source: optional(record.source, 'string') ?? 'unknown',
    sample: optional(record.sample, 'number') ?? 0,
    problem: optional(record.problem, 'string'),
    messages: messages as ChatMessage[] | undefined,
    prompt: optional(record.prompt, 'string'),
    text,
    segments,
    reference: parsed.reference,
    toolCalls: optional(record.toolCalls, 'number') ?? segments.filter((s) => s.kind === 'output').length,
    finishReason: optional(record.finishReason, 'string'),
    generatedTokens: optional(tokens?.generatedTokens, 'number'),
  }
}

function optional<T extends 'string' | 'number'>(
  value: unknown,
  type: T,
): (T extends 'string' ? string : number) | undefined {
  return typeof value === type ? (value as T extends 'string' ? string : number) : undefined
}

function isMessages(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every(
      (message) =>
        typeof message === 'object' &&
        message !== null &&
        typeof message.role === 'string' &&
        typeof message.content === 'string',
    )
  )
}
