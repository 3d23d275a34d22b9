import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import fg from 'fast-glob'
import { UsageError } from '../cli/errors.js'
import { readJsonl, STDIN } from '../cli/jsonl.js'
import type { Problem, ProblemLocation } from './types.js'
import { PROBLEM_SHAPE, parseProblem } from './validate.js'

export interface ReadProblemsOptions {
  /** Report bad records through `onInvalid` and go on, instead of stopping. Default false. */
  skipInvalid?: boolean
  onInvalid?: (message: string) => void
}

export interface LocatedProblem {
  problem: Problem
  at: ProblemLocation
}

/** Expands files and globs ("-" is stdin) in the order given; a pattern matching nothing is an error. */
export async function expandInputs(patterns: string[]): Promise<string[]> {
  const files: string[] = []
  for (const pattern of patterns) {
    if (pattern === STDIN || !fg.isDynamicPattern(pattern)) {
      files.push(pattern)
      continue
    }
    const matches = (await fg(pattern, { onlyFiles: true })).sort()
    if (matches.length === 0) throw new UsageError(`${pattern}: no file matches`)
    files.push(...matches)
  }
  return files
}

/** Non-blank lines across the inputs, for progress totals; undefined when reading stdin. */
export async function countRecords(patterns: string[]): Promise<number | undefined> {
  const files = await expandInputs(patterns)
  if (files.includes(STDIN)) return undefined
  let count = 0
  for (const file of files) {
    try {
      const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })
      for await (const line of lines) if (line.trim() !== '') count++
    } catch {
      return undefined // the reader reports the missing file with its own message
    }
  }
  return count
}

/** Streams problems from JSONL files or globs; a bad record stops with `file:line: what is wrong`. */
export async function* readProblems(
  patterns: string[],
  options: ReadProblemsOptions = {},
): AsyncGenerator<LocatedProblem> {
  const seen = new Map<string, string>()
  for (const file of await expandInputs(patterns)) {
    for await (const { value, file: name, line } of readJsonl(file)) {
      const parsed = parseProblem(value)
      let error = 'error' in parsed ? parsed.error : undefined
      if (!error && 'problem' in parsed) {
        const earlier = seen.get(parsed.problem.id)
        if (earlier) error = `duplicate id "${parsed.problem.id}" (first at ${earlier})`
      }
      if (error) {
        const message = `${name}:${line}: ${error}`
        if (!options.skipInvalid)
          throw new UsageError(message, `${PROBLEM_SHAPE}; --skip-invalid skips such lines`)
        options.onInvalid?.(message)
        continue
      }
      const { problem } = parsed as { problem: Problem }
      seen.set(problem.id, `${name}:${line}`)
      yield { problem, at: { file: name, line } }
    }
  }
}
