import { writeFileAtomically } from '../core/atomic-write.js'
import { UsageError } from '../core/errors.js'
import { readJsonlInputs } from '../core/jsonl.js'
import { htmlReport, markdownSummary } from './report.js'
import type { EvalRow } from './types.js'

export interface ReportOptions {
  /** `start eval` result rows (JSONL files, globs, "-"). */
  inputs: string[]
  /** The HTML page. */
  out: string
  /** The markdown summary: a file, or "-" for stdout. */
  markdown?: string
  title?: string
}

const REQUIRED = [
  'model',
  'benchmark',
  'mode',
  'pass1',
  'pass1Interval',
  'toolUseRate',
  'meanToolCalls',
  'meanTokens',
  'hints',
]

/** `start report`: eval rows -> one self-contained HTML page, plus a markdown table. */
export async function runReport(
  options: ReportOptions,
): Promise<{ out: string; rows: number; markdown: string }> {
  const rows: EvalRow[] = []
  for await (const { value, file, line } of readJsonlInputs(options.inputs)) {
    const row = value as Record<string, unknown>
    const missing = REQUIRED.find((field) => typeof row !== 'object' || row === null || !(field in row))
    if (missing)
      throw new UsageError(
        `${file}:${line}: missing "${missing}"`,
        'the input is the JSONL that start eval writes',
      )
    rows.push(row as unknown as EvalRow)
  }
  if (rows.length === 0) throw new UsageError(`${options.inputs.join(', ')}: no eval rows`)
  const markdown = markdownSummary(rows)
  await writeFileAtomically(options.out, htmlReport(rows, options.title))
  if (options.markdown && options.markdown !== '-') await writeFileAtomically(options.markdown, markdown)
  return { out: options.out, rows: rows.length, markdown }
}
