import { describe, expect, it } from 'vitest'
import { rolloutReward, SHAPED_TERMS } from '../../src/rl/reward.js'

const rollout = { correct: true, answered: true, toolCalls: 1, failedCalls: 0 }

describe('rolloutReward', () => {
  it('outcome: +1 for a correct answer, -1 for anything else (ReTool)', () => {
    expect(rolloutReward('outcome', rollout)).toBe(1)
    expect(rolloutReward('outcome', { ...rollout, correct: false })).toBe(-1)
    expect(rolloutReward('outcome', { ...rollout, correct: false, answered: false, failedCalls: 3 })).toBe(-1)
  })

  it('shaped: failed code, long tool loops and a missing answer cost, a clean correct rollout does not', () => {
    expect(rolloutReward('shaped', rollout)).toBe(1)
    expect(rolloutReward('shaped', { ...rollout, failedCalls: 2 })).toBeCloseTo(
      1 - 2 * SHAPED_TERMS.failedCall,
    )
    expect(rolloutReward('shaped', { ...rollout, toolCalls: SHAPED_TERMS.freeCalls + 2 })).toBeCloseTo(
      1 - 2 * SHAPED_TERMS.extraCall,
    )
    const noAnswer = rolloutReward('shaped', { ...rollout, correct: false, answered: false })
    const wrong = rolloutReward('shaped', { ...rollout, correct: false })
    expect(noAnswer).toBeLessThan(wrong)
    // No shaping term makes a wrong rollout worth as much as a right one.
    expect(rolloutReward('shaped', { ...rollout, failedCalls: 5, toolCalls: 10 })).toBeGreaterThan(wrong)
  })
})
