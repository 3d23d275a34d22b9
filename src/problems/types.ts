/** A problem as the datasets in ../shared/datasets define it. */
export interface MathProblem {
  kind: 'math'
  id: string
  source: string
  problem: string
  /** Reference final answer (a string; LaTeX allowed). */
  answer: string
  meta?: Record<string, unknown>
}

export interface CodeProblem {
  kind: 'code'
  id: string
  source: string
  /** The prompt: signature and docstring. */
  problem: string
  /** Python test code defining `check(candidate)`. */
  tests: string
  entryPoint: string
  meta?: Record<string, unknown>
}

export type Problem = MathProblem | CodeProblem

/** Where a problem was read from, for error messages and resumable runs. */
export interface ProblemLocation {
  file: string
  line: number
}
