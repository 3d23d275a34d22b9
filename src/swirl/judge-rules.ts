import { OUTPUT_BLOCK, outputBody } from '../core/fences.js'
import { extractBoxed } from '../grading/extract-answer.js'
import { extractPythonBlocks } from '../sandbox/code-blocks.js'
import type { Ablation, Credit } from './counterfactual.js'
import type { StepRecord } from './split-steps.js'

/**
 * A judge's answer to a rubric about one step (process: is it reasonable given its state; outcome: is
 * the trajectory's final answer right): yes, no, or unjudged when no verdict could be read, and why.
 */
export interface StepJudgement {
  /** `rules`, or the judge model. */
  judge: string
  verdict: 'yes' | 'no' | 'unjudged'
  reasons: string[]
  /** A judge model's whole answer. */
  text?: string
  /** The counterfactual judge's figures: the credit with its interval and test, both arms, k, the ablation. */
  counterfactual?: Credit & { k: number; ablate: Ablation }
}

/** What an ```output block says: its text between the fences. */
function outputValue(toolOutput: string): string {
  return outputBody(toolOutput).trim()
}

/** A failure's last line, for outputs without a recorded result: any exception's name, timeouts included. */
const ERROR_LINE = /(^|\n)(?:\w+\.)*\w*(?:Error|Exception|Interrupt|Exit|Iteration|Warning)\b[^\n]*$/

/** A code block as run: without comments, blank lines and trailing spaces (a comment makes no new block). */
function codeKey(code: string): string {
  return code
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trimEnd())
    .filter(Boolean)
    .join('\n')
}

/** Did the text after the output use it: one of its first numbers or names, as a whole token? */
function usedLater(value: string, later: string): boolean {
  const tokens = (value.match(/-?\d+(?:\.\d+)?|[A-Za-z_]\w+/g) ?? []).slice(0, 8)
  return tokens.some((token) =>
    new RegExp(`(?<![\\w.])${token.replace(/[.\\]/g, '\\$&')}(?![\\w]|\\.\\d)`).test(later),
  )
}

/** The ```output blocks' values in a text, in order. */
function outputsIn(text: string): string[] {
  return [...text.matchAll(OUTPUT_BLOCK)].map((match) => match[2]!.trim())
}

/**
 * The rules a step can be judged by from its state alone: a tool step's code ran and printed something
 * and does not repeat a code block of the state; the final step gives a boxed answer that is what the
 * last output printed (when there was one). `start rl --objective stepwise` rewards single actions by it.
 */
export function ruleReasons(step: StepRecord): string[] {
  const reasons: string[] = []
  if (!step.final) {
    const value = outputValue(step.toolOutput ?? '')
    // The sandbox's own record of how the cell ended, where the step has it; its printed text can lie.
    const result = step.toolResult
    const failed = result ? result.exitCode !== 0 || result.timedOut : ERROR_LINE.test(value)
    if (value === '' || failed) reasons.push('the code failed or printed nothing')
    const block = extractPythonBlocks(step.action).at(-1)?.code
    const code = block === undefined ? undefined : codeKey(block)
    const earlier = extractPythonBlocks(step.state.text).map((earlierBlock) => codeKey(earlierBlock.code))
    if (code !== undefined && earlier.includes(code)) reasons.push('it repeats an earlier code block')
  } else {
    const answer = extractBoxed(step.action)?.trim()
    const last = outputsIn(step.state.text).filter(Boolean).at(-1)
    if (answer === undefined) reasons.push('no final answer')
    else if (last !== undefined && !last.split('\n').some((line) => line.trim() === answer)) {
      reasons.push('the answer is not what the last output printed')
    }
  }
  return reasons
}

/** A judgement of the rules judge from its reasons. */
export function rulesJudgement(reasons: string[]): StepJudgement {
  return { judge: 'rules', verdict: reasons.length === 0 ? 'yes' : 'no', reasons }
}

/**
 * `--judge rules`, the offline process judge: `ruleReasons`, and for a tool step also that its output is
 * used later in the trajectory. No model, no gold answer.
 */
export function judgeByRules(steps: StepRecord[]): StepJudgement[] {
  return steps.map((step, index) => {
    const reasons = ruleReasons(step)
    if (!step.final && !reasons.includes('the code failed or printed nothing')) {
      const value = outputValue(step.toolOutput!)
      const later = steps
        .slice(index + 1)
        .map((next) => next.action)
        .join('')
      if (!usedLater(value, later)) reasons.unshift('its output is never used')
    }
    return rulesJudgement(reasons)
  })
}
