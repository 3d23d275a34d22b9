import { readFile } from 'node:fs/promises'
import { writeFileAtomically } from '../core/atomic-write.js'
import { UsageError } from '../core/errors.js'
import { expandInputs, readJsonlInputs } from '../core/jsonl.js'
import { parseHintLibrary } from '../hints/library.js'
import {
  htmlReport,
  type LibraryVersion,
  libraryVersionsSummary,
  markdownSummary,
  pairedComparisons,
  type TrainingRow,
  trainingSummary,
} from './report.js'
import type { EvalRow } from './types.js'

export interface ReportOptions {
  /** `start eval` result rows (JSONL files, globs, "-"); hint library versions (`.json`). */
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

/** `start report`: eval rows and `start rl` step rows -> one self-contained HTML page, plus markdown tables. */
export async function runReport(
  options: ReportOptions,
): Promise<{ out: string; rows: number; steps: number; libraries: number; markdown: string }> {
  const rows: EvalRow[] = []
  const training: TrainingRow[] = []
  const files = await expandInputs(options.inputs)
  const libraries = await readLibraries(files.filter((file) => file.endsWith('.json')))
  for await (const { value, file, line } of readJsonlInputs(
    files.filter((file) => !file.endsWith('.json')),
  )) {
    const row = value as Record<string, unknown>
    if (isTrainingRow(row)) {
      training.push(row as TrainingRow)
      continue
    }
    const missing = REQUIRED.find((field) => typeof row !== 'object' || row === null || !(field in row))
    if (missing)
      throw new UsageError(
        `${file}:${line}: missing "${missing}"`,
        'the input is the JSONL that start eval writes, or the metrics.jsonl of start rl',
      )
    rows.push(row as unknown as EvalRow)
  }
  if (rows.length === 0 && training.length === 0 && libraries.length === 0) {
    throw new UsageError(`${options.inputs.join(', ')}: no eval rows, training steps or hint libraries`)
  }
  const markdown = [
    rows.length > 0 ? markdownSummary(rows) : '',
    pairedComparisons(rows),
    training.length > 0 ? trainingSummary(training) : '',
    libraries.length > 0 ? libraryVersionsSummary(libraries) : '',
  ]
    .filter(Boolean)
    .join('\n')
  await writeFileAtomically(options.out, htmlReport(rows, options.title, training, libraries))
  if (options.markdown && options.markdown !== '-') await writeFileAtomically(options.markdown, markdown)
  return {
    out: options.out,
    rows: rows.length,
    steps: training.length,
    libraries: libraries.length,
    markdown,
  }
}

/** Hint library versions (`start hints evolve` writes them), each checked as `--hints` checks it. */
async function readLibraries(files: string[]): Promise<LibraryVersion[]> {
  const versions: LibraryVersion[] = []
  for (const file of files) {
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, 'utf8'))
    } catch (error) {
      throw new UsageError(`${file}: ${(error as Error).message}`)
    }
    const library = parseHintLibrary(value)
    if ('error' in library) throw new UsageError(`${file}: not a hint library (${library.error})`)
    versions.push({ file, library })
  }
  return versions
}

/** A line of `start rl`'s metrics.jsonl: a run, a step, numbers. */
function isTrainingRow(row: Record<string, unknown>): boolean {
  return (
    typeof row === 'object' &&
    row !== null &&
    typeof row.run === 'string' &&
    typeof row.step === 'number' &&
    typeof row.reward === 'number' &&
    !('benchmark' in row)
  )
}
