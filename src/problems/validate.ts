import type { Problem } from './types.js'

export const PROBLEM_SHAPE =
  'each line needs {"id","source","problem","answer"} (math) or {"id","source","problem","tests","entry_point"} (code)'

/** Checks one JSON value against the problem schema; returns the problem or what is wrong. */
export function parseProblem(value: unknown): { problem: Problem } | { error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'expected a JSON object' }
  }
  const record = value as Record<string, unknown>
  for (const field of ['id', 'problem'] as const) {
    if (!(field in record)) return { error: `missing "${field}"` }
    if (typeof record[field] !== 'string' || (record[field] as string).trim() === '') {
      return { error: `"${field}" must be a non-empty string` }
    }
  }
  const source = record.source === undefined ? 'unknown' : record.source
  if (typeof source !== 'string') return { error: '"source" must be a string' }
  const meta = record.meta
  if (meta !== undefined && (typeof meta !== 'object' || meta === null || Array.isArray(meta))) {
    return { error: '"meta" must be an object' }
  }
  const base = {
    id: record.id as string,
    source,
    problem: record.problem as string,
    meta: meta as Record<string, unknown> | undefined,
  }
  if ('tests' in record || 'entry_point' in record) {
    if (typeof record.tests !== 'string' || record.tests.trim() === '') {
      return { error: '"tests" must be a non-empty string' }
    }
    if (typeof record.entry_point !== 'string' || !/^[A-Za-z_]\w*$/.test(record.entry_point)) {
      return { error: '"entry_point" must be a Python identifier' }
    }
    return { problem: { kind: 'code', ...base, tests: record.tests, entryPoint: record.entry_point } }
  }
  if (!('answer' in record)) return { error: 'missing "answer" (or "tests" + "entry_point" for code)' }
  const answer = record.answer
  if (typeof answer === 'number' && Number.isFinite(answer)) {
    return { problem: { kind: 'math', ...base, answer: String(answer) } }
  }
  if (typeof answer !== 'string' || answer.trim() === '') {
    return { error: '"answer" must be a non-empty string or a number' }
  }
  return { problem: { kind: 'math', ...base, answer } }
}
