import type { CodeExecutor } from '../sandbox/types.js'
import { cellFailure } from '../sandbox/types.js'
import { answerRefusal } from './answer-checks.js'
import { ignoresForm } from './answer-form.js'
import { harnessPassed, humanEvalProgram, type IoCase, outputMatches } from './code-tests.js'
import { extractCode, extractFinalAnswer, promptOpensThinking } from './extract-answer.js'
import { compareMath } from './math-equal.js'
import { SymbolicChecker, type SymbolicCheckerOptions, type Verdict } from './symbolic-checker.js'
import type { TextPiece } from './visible-text.js'

/** What a completion is graded against. */
export type Reference =
  | { kind: 'math'; answer: string }
  | { kind: 'humaneval'; prompt: string; tests: string; entryPoint: string }
  | { kind: 'stdio'; cases: IoCase[] }

export interface Grade {
  /** The extracted answer (math) or solution code (code); null when there is none. */
  predicted: string | null
  correct: boolean
  /**
   * Why it is not correct, its class first: `cut off`, `unclosed thought`, `no answer`, `hedged`,
   * `qualified`, `unit`, `form`, `not equal`, `sympy check failed: ...` (math); a failed test or case (code).
   */
  reason?: string
}

export interface GraderOptions extends SymbolicCheckerOptions {
  /** Time limit of one code test run, ms. Default 10000. */
  codeTimeoutMs?: number
  /** Take answers from cut-off trajectories and unclosed thoughts too (the older rule). Default false. */
  lenient?: boolean
}

/** How the completion came about, when the record says: how it ended, the prompt it continued, its pieces. */
export interface GradeContext {
  finishReason?: string
  prompt?: string
  /** The recorded segments (model, hint, output): only the model's own are read when they add up to the text. */
  segments?: readonly TextPiece[]
  /** The problem: an answer that copies its expression or ignores the form it asks for is wrong (`form`). */
  problem?: string
}

/** Grades completions: math by equivalence (sympy in the sandbox when needed), code by running tests. */
export class Grader {
  readonly symbolic: SymbolicChecker
  /** Code test runs so far. */
  codeRuns = 0
  /** Math comparisons settled in TypeScript, without sympy. */
  settledWithoutSympy = 0

  constructor(
    private readonly pool: CodeExecutor,
    private readonly options: GraderOptions = {},
  ) {
    this.symbolic = new SymbolicChecker(pool, options)
  }

  async grade(completion: string, reference: Reference, context: GradeContext = {}): Promise<Grade> {
    if (reference.kind === 'math') {
      const extraction = extractFinalAnswer(completion, {
        lastNumber: isPlainNumber(reference.answer),
        finishReason: context.finishReason,
        startsThinking: promptOpensThinking(context.prompt),
        lenient: this.options.lenient,
        segments: context.segments,
      })
      const predicted = extraction.answer ?? null
      if (extraction.failure || predicted === null)
        return { predicted, correct: false, reason: extraction.failure ?? 'no answer' }
      const refusal =
        answerRefusal(predicted, reference.answer) ??
        (context.problem && ignoresForm(predicted, reference.answer, context.problem) ? 'form' : undefined)
      if (refusal) return { predicted, correct: false, reason: refusal }
      const verdict = await this.mathVerdict(predicted, reference.answer)
      return verdict.equal
        ? { predicted, correct: true }
        : { predicted, correct: false, reason: verdict.reason ?? 'not equal' }
    }
    const entryPoint = reference.kind === 'humaneval' ? reference.entryPoint : undefined
    const code = extractCode(completion, entryPoint) ?? null
    if (code === null) return { predicted: null, correct: false, reason: 'no code' }
    const failure = await this.testFailure(code, reference)
    return failure === undefined
      ? { predicted: code, correct: true }
      : { predicted: code, correct: false, reason: failure }
  }

  async mathEqual(predicted: string, answer: string): Promise<boolean> {
    return (await this.mathVerdict(predicted, answer)).equal
  }

  private async mathVerdict(predicted: string, answer: string): Promise<Verdict> {
    const verdict = compareMath(predicted, answer)
    if (typeof verdict !== 'boolean') return this.symbolic.verdictAll(verdict)
    this.settledWithoutSympy++
    return { equal: verdict }
  }

  /**
   * Undefined when every test passes; otherwise what failed. Expected outputs and the pass decision
   * stay out of the candidate's process: a stdin/stdout case runs the program alone and compares here;
   * HumanEval runs its tests in a harness process that talks to the solution's process in plain data.
   */
  private async testFailure(
    code: string,
    reference: Exclude<Reference, { kind: 'math' }>,
  ): Promise<string | undefined> {
    const timeoutMs = this.options.codeTimeoutMs
    if (reference.kind === 'humaneval') {
      this.codeRuns++
      const program = humanEvalProgram(reference.prompt, code, reference.tests, reference.entryPoint)
      const result = await this.pool.execute(program, { timeoutMs })
      if (result.exitCode !== 0 || result.timedOut) return `tests failed: ${cellFailure(result)}`
      return harnessPassed(result.stdout) ? undefined : 'tests failed: the harness gave no verdict'
    }
    for (const [i, testCase] of reference.cases.entries()) {
      this.codeRuns++
      const result = await this.pool.execute(code, { timeoutMs, stdin: testCase.input })
      const which = `case ${i + 1} of ${reference.cases.length}`
      if (result.exitCode !== 0 || result.timedOut) return `${which} failed: ${cellFailure(result)}`
      if (!outputMatches(result.stdout, testCase.output)) return `${which}: wrong output`
    }
    return undefined
  }
}

/** Reasons that refuse an answer whatever its value: it offers no one plain answer to count or vote for. */
const REFUSALS = new Set(['hedged', 'qualified', 'unit', 'form'])

/** Whether a grade's answer was refused for its form (hedged, qualified, a unit, the problem's form). */
export function isRefusal(reason: string | undefined): boolean {
  return reason !== undefined && REFUSALS.has(reasonClass(reason))
}

/**
 * The class a `reason` names, for counting: its text before any colon (`sympy check failed`, `tests
 * failed`), a stdin/stdout case's failure as `case failed` / `wrong output`.
 */
export function reasonClass(reason: string): string {
  if (/^case \d+ of \d+: wrong output/.test(reason)) return 'wrong output'
  if (/^case \d+ of \d+ failed/.test(reason)) return 'case failed'
  return reason.split(':')[0]!
}

function isPlainNumber(answer: string): boolean {
  return /^-?\d[\d,]*(\.\d+)?$/.test(answer.trim())
}
