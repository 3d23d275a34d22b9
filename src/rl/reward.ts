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
