import { extractBoxed } from '../grading/extract-answer.js'
import { extractPythonBlocks } from '../sandbox/code-blocks.js'
import type { StepRecord } from './split-steps.js'

/** A judge's label of one step: reasonable given its state, or not, and why. */
export interface StepJudgement {
  judge: string
  verdict: 'reasonable' | 'unreasonable'
  reasons: string[]
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
 * `--judge rules`, the offline judge: a tool step is reasonable when its code ran, its output is used
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
    return { judge: 'rules', verdict: reasons.length === 0 ? 'reasonable' : 'unreasonable', reasons }
  })
}
