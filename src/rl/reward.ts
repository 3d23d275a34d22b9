import type { RewardKind } from './options.js'

/** What a finished rollout did, as far as its reward goes. */
export interface RolloutOutcome {
  correct: boolean
  /** An answer could be read: a final \boxed{} (or statement) after the thinking, the turn ended. */
  answered: boolean
  toolCalls: number
  /** Executions that raised, exited non-zero or timed out. */
  failedCalls: number
}

/**
 * The terms `--reward shaped` adds to the outcome, in the spirit of ReTool's recipe: code that fails costs
 * a little, calls past a few cost a little (long tool loops), and a rollout with no readable answer
 * (cut off, thinking never closed, no box) costs more than a wrong one, so the format is learnt first.
 */
export const SHAPED_TERMS = {
  failedCall: 0.1,
  /** Tool calls free of the turn penalty. */
  freeCalls: 3,
  extraCall: 0.05,
  noAnswer: 0.5,
} as const

/** Outcome: +1 correct, -1 otherwise (ReTool). Shaped: the outcome plus `SHAPED_TERMS`. */
export function rolloutReward(kind: RewardKind, outcome: RolloutOutcome): number {
  const base = outcome.correct ? 1 : -1
  if (kind === 'outcome') return base
  return (
    base -
    SHAPED_TERMS.failedCall * outcome.failedCalls -
    SHAPED_TERMS.extraCall * Math.max(0, outcome.toolCalls - SHAPED_TERMS.freeCalls) -
    (outcome.answered ? 0 : SHAPED_TERMS.noAnswer)
  )
}

/** DAPO's soft overlong penalty: none up to `maxTokens - buffer` tokens, then down linearly to -1 at the limit. */
export function overlongPenalty(tokens: number, maxTokens: number, buffer: number): number {
  const free = maxTokens - buffer
  if (tokens <= free) return 0
  return -Math.min(1, (tokens - free) / buffer)
}

/** What of a finished rollout the guards read. */
export interface RolloutShape {
  /** Why the loop ended: `length` and `context` are cut off at a token limit. */
  finishReason: string
  /** The trajectory's pieces: model text, and the inserted hints and outputs. */
  segments: readonly { kind: string; text: string }[]
  toolCalls: number
  answered: boolean
}

const CODE_BLOCK = /```(?:python|py)[ \t]*\n[\s\S]*?\n```/

/**
 * A void turn (SimpleTIR): after a tool call, a last turn that ends with neither a complete code block
 * nor a final answer. Such turns follow tool output the policy no longer reads as its own; trained on,
 * they are where SimpleTIR saw gradients blow up. A rollout cut at the token limit ended no turn.
 */
export function hasVoidTurn(rollout: RolloutShape): boolean {
  if (rollout.toolCalls === 0 || rollout.answered || rollout.finishReason !== 'stop') return false
  const outputs = rollout.segments.map((segment) => segment.kind === 'output')
  const lastTurn = rollout.segments
    .slice(outputs.lastIndexOf(true) + 1)
    .filter((segment) => segment.kind === 'model')
    .map((segment) => segment.text)
    .join('')
  return !CODE_BLOCK.test(lastTurn)
}

/** Why a rollout is left out of the loss (masked, its reward still counted in its group), if it is. */
export function lossExclusion(
  settings: { overlong: string; voidTurns: string },
  rollout: RolloutShape,
): 'overlong' | 'void' | undefined {
  const cut = rollout.finishReason === 'length' || rollout.finishReason === 'context'
  if (cut && settings.overlong === 'mask') return 'overlong'
  if (settings.voidTurns === 'mask' && hasVoidTurn(rollout)) return 'void'
  return undefined
}

/**
 * The chance a rollout gets hints at optimiser step `step` of `maxSteps` (1-based): from `start` at the
 * first step to `end` at the last, linearly, so hints guide exploration early and fade.
 */
export function hintProbability(step: number, maxSteps: number, start: number, end: number): number {
  const progress = maxSteps > 1 ? Math.min(1, Math.max(0, (step - 1) / (maxSteps - 1))) : 1
  return start + (end - start) * progress
}
