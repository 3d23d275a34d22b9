import { UsageError } from '../core/errors.js'
import { countRecords, type JsonlLine, openJsonlSink, readJsonlInputs } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import { refuseOverwritingInputs } from '../core/output-paths.js'
import type { StageListener } from '../runner/events.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { Grader, type GraderOptions, type Reference, reasonClass } from './grader.js'
import { completionOf, contextOf, GRADE_RECORD_SHAPE, parseReference } from './reference.js'

export interface GradeOptions {
  inputs: string[]
  /** JSONL output; stdout when absent. */
  out?: string
  sandbox: SandboxOptions
  grader?: GraderOptions
  /** Records graded at once (symbolic checks batch across them). Default 64. */
  concurrency?: number
  onEvent?: StageListener
}

export interface GradeSummary {
  out: string
  records: number
  correct: number
  accuracy: number
  answered: number
  bySource: Record<string, { records: number; correct: number; accuracy: number }>
  /** Records not correct, by the class of their reason (`hedged`, `qualified`, `unit`, `not equal`, ...). */
  reasons: Record<string, number>
  symbolicCells: number
  codeRuns: number
}

/** A record with what grading needs, parsed and checked once. */
export interface GradeItem {
  record: Record<string, unknown>
  completion: string
  reference: Reference
}

/** Checks one JSONL line for `start grade`; a bad line stops with `file:line: what is wrong`. */
export function toGradeItem({ value, file, line }: JsonlLine): GradeItem {
  const fail = (message: string): never => {
    throw new UsageError(`${file}:${line}: ${message}`, GRADE_RECORD_SHAPE)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('expected a JSON object')
  const record = value as Record<string, unknown>
  const completion = completionOf(record) ?? fail('missing "completion" (or "text")')
  const parsed = parseReference(record)
  if ('error' in parsed) return fail(parsed.error)
  return { record, completion, reference: parsed.reference }
}

/** `start grade`: adds `predicted` and `correct` to each record, in input order. */
export async function runGrade(options: GradeOptions): Promise<GradeSummary> {
  await refuseOverwritingInputs([{ flag: '--out', path: options.out }], options.inputs)
  const total = await countRecords(options.inputs)
  const sink = await openJsonlSink(options.out)
  const pool = new SandboxPool(options.sandbox)
  const grader = new Grader(pool, options.grader)
  const summary: GradeSummary = {
    out: options.out ?? '-',
    records: 0,
    correct: 0,
    accuracy: 0,
    answered: 0,
    bySource: {},
    reasons: {},
    symbolicCells: 0,
    codeRuns: 0,
  }
  try {
    const items = async function* () {
      for await (const line of readJsonlInputs(options.inputs)) yield toGradeItem(line)
    }
    const graded = orderedMap(items(), options.concurrency ?? 64, async (item) => ({
      item,
      grade: await grader.grade(item.completion, item.reference, contextOf(item.record)),
    }))
    for await (const { item, grade } of graded) {
      await sink.write({ ...item.record, ...grade })
      const source = typeof item.record.source === 'string' ? item.record.source : 'unknown'
      const bucket = summary.bySource[source] ?? { records: 0, correct: 0, accuracy: 0 }
      summary.bySource[source] = bucket
      bucket.records++
      summary.records++
      if (grade.predicted !== null) summary.answered++
      if (grade.correct) {
        bucket.correct++
        summary.correct++
      } else if (grade.reason) {
        const kind = reasonClass(grade.reason)
        summary.reasons[kind] = (summary.reasons[kind] ?? 0) + 1
      }
      options.onEvent?.({
        kind: 'progress',
        done: summary.records,
        total,
        detail: `${summary.correct} correct`,
      })
    }
    await sink.commit()
  } catch (error) {
    await sink.abort()
    throw error
  } finally {
    await pool.close()
  }
  summary.accuracy = summary.records ? summary.correct / summary.records : 0
  for (const bucket of Object.values(summary.bySource)) bucket.accuracy = bucket.correct / bucket.records
  summary.symbolicCells = grader.symbolic.cells
  summary.codeRuns = grader.codeRuns
  return summary
}
