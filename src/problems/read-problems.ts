import { UsageError } from '../core/errors.js'
import { expandInputs, readJsonl } from '../core/jsonl.js'
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
