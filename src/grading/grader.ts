import { randomUUID } from 'node:crypto'
import type { SandboxPool } from '../sandbox/pool.js'
import { humanEvalProgram, type IoCase, printedMarker, stdioPassed, stdioProgram } from './code-tests.js'
import { extractAnswer, extractCode, promptOpensThinking } from './extract-answer.js'
import { compareMath } from './math-equal.js'
import { SymbolicChecker, type SymbolicCheckerOptions } from './symbolic-checker.js'

/** What a completion is graded against. */
export type Reference =
  | { kind: 'math'; answer: string }
  | { kind: 'humaneval'; prompt: string; tests: string; entryPoint: string }
  | { kind: 'stdio'; cases: IoCase[] }

export interface Grade {
  /** The extracted answer (math) or solution code (code); null when there is none. */
  predicted: string | null
  correct: boolean
}

export interface GraderOptions extends SymbolicCheckerOptions {
  /** Time limit of one code test run, ms. Default 10000. */
  codeTimeoutMs?: number
  /** Take answers from cut-off trajectories and unclosed thoughts too (the older rule). Default false. */
  lenient?: boolean
}

/** How the completion came about, when the record says: how it ended, and the prompt it continued. */
export interface GradeContext {
  finishReason?: string
  prompt?: string
}

/** Grades completions: math by equivalence (sympy in the sandbox when needed), code by running tests. */
export class Grader {
  readonly symbolic: SymbolicChecker
  /** Code test runs so far. */
  codeRuns = 0

  constructor(
    private readonly pool: SandboxPool,
    private readonly options: GraderOptions = {},
  ) {
    this.symbolic = new SymbolicChecker(pool, options)
  }

  async grade(completion: string, reference: Reference, context: GradeContext = {}): Promise<Grade> {
    if (reference.kind === 'math') {
      const predicted =
        extractAnswer(completion, {
          lastNumber: isPlainNumber(reference.answer),
          finishReason: context.finishReason,
          startsThinking: promptOpensThinking(context.prompt),
          lenient: this.options.lenient,
        }) ?? null
      return { predicted, correct: predicted !== null && (await this.mathEqual(predicted, reference.answer)) }
    }
    const entryPoint = reference.kind === 'humaneval' ? reference.entryPoint : undefined
    const code = extractCode(completion, entryPoint) ?? null
    if (code === null) return { predicted: null, correct: false }
    return { predicted: code, correct: await this.passesTests(code, reference) }
  }

  async mathEqual(predicted: string, answer: string): Promise<boolean> {
    const verdict = compareMath(predicted, answer)
    return typeof verdict === 'boolean' ? verdict : this.symbolic.checkAll(verdict)
  }

  private async passesTests(code: string, reference: Exclude<Reference, { kind: 'math' }>): Promise<boolean> {
    const marker = `__start_grade_${randomUUID()}__`
    const program =
      reference.kind === 'humaneval'
        ? humanEvalProgram(reference.prompt, code, reference.tests, reference.entryPoint, marker)
        : stdioProgram(code, reference.cases, marker)
    this.codeRuns++
    const result = await this.pool.execute(program, { timeoutMs: this.options.codeTimeoutMs })
    if (result.exitCode !== 0 || result.timedOut) return false
    return reference.kind === 'humaneval'
      ? printedMarker(result.stdout, marker)
      : stdioPassed(result.stdout, reference.cases.length, marker)
  }
}

function isPlainNumber(answer: string): boolean {
  return /^-?\d[\d,]*(\.\d+)?$/.test(answer.trim())
}
