import { outputBlock, outputBody } from '../core/fences.js'
import { wilsonInterval } from '../eval/metrics.js'
import { extractPythonBlocks } from '../sandbox/code-blocks.js'
import type { StepRecord } from './split-steps.js'

/**
 * The counterfactual judge (issue 35): what a step contributed, measured by continuing the trajectory
 * from just after the step with its tool output as it was and with it ablated, and comparing how often
 * the continuations end right. Pure parts: the ablated text, the credit and its test.
 */

export const ABLATIONS = ['empty', 'error', 'shuffled', 'drop-step'] as const
export type Ablation = (typeof ABLATIONS)[number]

/** What the interpreter shows when a cell failed before printing: the error ablation's output. */
export const ABLATED_ERROR = 'RuntimeError: the interpreter failed to run this cell'

/** An output's shape: its body with numbers blanked (a shuffled output comes from a cell of the same shape). */
export function outputShape(toolOutput: string): string {
  return outputBody(toolOutput.replace(/^\n/, ''))
    .trim()
    .replace(/-?\d+(?:\.\d+)?/g, '#')
}

/**
 * Where the continuations of the ablated arm start, after the state: the step's action followed by the
 * ablated output (empty, an error, another problem's output of the same shape), or nothing of the step
 * (drop-step: the model continues from the state without it). Undefined when the ablation does not apply:
 * a step without a tool call has no output to ablate, and a shuffle needs another output of its shape.
 */
export function ablatedContinuation(
  step: StepRecord,
  ablation: Ablation,
  shuffled?: string,
): string | undefined {
  if (ablation === 'drop-step') return ''
  if (step.toolOutput === null) return undefined
  const lead = step.toolOutput.startsWith('\n') ? '\n' : ''
  if (ablation === 'empty') return `${step.action}${lead}${outputBlock('')}`
  if (ablation === 'error') return `${step.action}${lead}${outputBlock(ABLATED_ERROR)}`
  if (shuffled === undefined) return undefined
  return `${step.action}${lead}${outputBlock(outputBody(shuffled.replace(/^\n/, '')))}`
}

/**
 * The code a continuation's sandbox session runs first, unseen: the blocks the state ran (each followed by
 * its output block), and the step's own when its result stands (real output, empty output, a shuffled
 * one: the cell ran); not after an error ablation (the cell failed) or with the step dropped.
 */
export function replayedCode(step: StepRecord, withStep: boolean): string[] {
  const ran = (text: string) =>
    extractPythonBlocks(text)
      .filter((block) => /^\n?`{3,}output\n/.test(text.slice(block.end)))
      .map((block) => block.code)
  const blocks = ran(step.state.text)
  const own = extractPythonBlocks(step.action).at(-1)
  if (withStep && step.toolOutput !== null && own) blocks.push(own.code)
  return blocks
}

/** A step's credit: P(right | real) - P(right | ablated), its 95% interval and a one-sided test. */
export interface Credit {
  credit: number
  interval: [number, number]
  /** Fisher's exact test, one-sided: the real output makes a right ending more likely. */
  pValue: number
  real: { right: number; of: number }
  ablated: { right: number; of: number }
}

export function stepCredit(
  real: { right: number; of: number },
  ablated: { right: number; of: number },
): Credit {
  const p1 = real.right / real.of
  const p2 = ablated.right / ablated.of
  // Newcombe's hybrid score interval for a difference of two proportions (from the Wilson intervals)
  const [l1, u1] = wilsonInterval(real.right, real.of)
  const [l2, u2] = wilsonInterval(ablated.right, ablated.of)
  const low = p1 - p2 - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
  const high = p1 - p2 + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
  return {
    credit: p1 - p2,
    interval: [Math.max(-1, low), Math.min(1, high)],
    pValue: fisherGreater(real.right, real.of, ablated.right, ablated.of),
    real,
    ablated,
  }
}

/** P(X >= a) for X hypergeometric: a of n1 right in the first arm given `a + c` right of `n1 + n2`. */
export function fisherGreater(a: number, n1: number, c: number, n2: number): number {
  const right = a + c
  const total = n1 + n2
  if (a <= Math.max(0, right - n2)) return 1 // the least the first arm can hold: every table is as extreme
  const logChoose = (n: number, k: number) => {
    let sum = 0
    for (let i = 1; i <= k; i++) sum += Math.log((n - k + i) / i)
    return sum
  }
  let p = 0
  for (let x = a; x <= Math.min(n1, right); x++) {
    if (right - x > n2) continue
    p += Math.exp(logChoose(n1, x) + logChoose(n2, right - x) - logChoose(total, right))
  }
  return Math.min(1, p)
}
