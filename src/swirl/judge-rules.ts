import { extractBoxed } from '../grading/extract-answer.js'
import { extractPythonBlocks } from '../sandbox/code-blocks.js'
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
}

/** What an ```output block says: its text between the fences. */
function outputValue(toolOutput: string): string {
  return toolOutput
    .replace(/^\n?```output\n/, '')
    .replace(/\n?```\n?$/, '')
    .trim()
}

const ERROR_LINE = /(^|\n)\w*(Error|Exception)\b[^\n]*$/

/**
 * `--judge rules`, the offline process judge: a tool step is reasonable when its code ran, its output is used
 * later in the trajectory, and its code does not repeat an earlier step's; the final step when it gives a
 * boxed answer that follows from the last output (when there was one). No model, no gold answer.
 */
export function judgeByRules(steps: StepRecord[]): StepJudgement[] {
  const codes = steps.map((step) => extractPythonBlocks(step.action).at(-1)?.code.trim())
  const outputs = steps.map((step) => (step.toolOutput === null ? null : outputValue(step.toolOutput)))
  return steps.map((step, index) => {
    const reasons: string[] = []
    if (!step.final) {
      const value = outputs[index]!
      if (value === '' || ERROR_LINE.test(value)) reasons.push('the code failed or printed nothing')
      else {
        const later = steps
          .slice(index + 1)
          .map((next) => next.action)
          .join('')
        if (!later.includes(value.split('\n')[0]!.trim())) reasons.push('its output is never used')
      }
      if (codes.slice(0, index).includes(codes[index])) reasons.push('it repeats an earlier code block')
    } else {
      const answer = extractBoxed(step.action)?.trim()
      const last = outputs
        .slice(0, index)
        .filter((value): value is string => Boolean(value))
        .at(-1)
      if (answer === undefined) reasons.push('no final answer')
      else if (last !== undefined && !last.split('\n').some((line) => line.trim() === answer)) {
        reasons.push('the answer is not what the last output printed')
      }
    }
    return { judge: 'rules', verdict: reasons.length === 0 ? 'yes' : 'no', reasons }
  })
}
