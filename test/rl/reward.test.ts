import { describe, expect, it } from 'vitest'
import { passBandBounds } from '../../src/rl/options.js'
import {
  hasVoidTurn,
  hintProbability,
  lossExclusion,
  overlongPenalty,
  rolloutReward,
  SHAPED_TERMS,
} from '../../src/rl/reward.js'

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

describe('the RL guards', () => {
  it('overlong soft (DAPO): nothing before the buffer, down linearly to -1 at the limit, never below', () => {
    expect(overlongPenalty(700, 1024, 256)).toBe(0)
    expect(overlongPenalty(768, 1024, 256)).toBe(0)
    expect(overlongPenalty(896, 1024, 256)).toBeCloseTo(-0.5)
    expect(overlongPenalty(1024, 1024, 256)).toBe(-1)
    expect(overlongPenalty(1500, 1024, 256)).toBe(-1)
  })

  const code = '```python\nprint(1)\n```'
  const output = { kind: 'output', text: '```output\n1\n```\n' }
  const shape = (finishReason: string, lastTurn: string, answered = false, toolCalls = 1) => ({
    finishReason,
    toolCalls,
    answered,
    segments: [
      { kind: 'model', text: `Let me compute.\n${code}` },
      output,
      { kind: 'model', text: lastTurn },
    ],
  })

  it('a void turn: after a tool call, a last turn with neither code nor an answer (SimpleTIR)', () => {
    expect(hasVoidTurn(shape('stop', 'Hmm, that is odd.'))).toBe(true)
    // an answer, a new code block, or no tool call at all: not void
    expect(hasVoidTurn(shape('stop', 'So the answer is \\boxed{1}.', true))).toBe(false)
    expect(hasVoidTurn(shape('stop', `Again:\n${code}`))).toBe(false)
    expect(hasVoidTurn(shape('stop', 'No idea.', false, 0))).toBe(false)
    // cut at the token limit: the turn never ended, that is overlong's business
    expect(hasVoidTurn(shape('length', 'Hmm, that is'))).toBe(false)
    // an unclosed block is not code
    expect(hasVoidTurn(shape('stop', '```python\nprint(2)'))).toBe(true)
  })

  it('leaves out of the loss what the settings say, and nothing by default', () => {
    const keep = { overlong: 'keep', voidTurns: 'keep' }
    const mask = { overlong: 'mask', voidTurns: 'mask' }
    expect(lossExclusion(keep, shape('length', '...'))).toBeUndefined()
    expect(lossExclusion(keep, shape('stop', 'Hmm.'))).toBeUndefined()
    expect(lossExclusion(mask, shape('length', '...'))).toBe('overlong')
    expect(lossExclusion(mask, shape('context', '...'))).toBe('overlong')
    expect(lossExclusion(mask, shape('stop', 'Hmm.'))).toBe('void')
    expect(lossExclusion(mask, shape('stop', 'It is \\boxed{1}.', true))).toBeUndefined()
    expect(lossExclusion({ overlong: 'soft', voidTurns: 'keep' }, shape('length', '...'))).toBeUndefined()
  })

  it('anneals the chance of hints from the first step to the last', () => {
    expect(hintProbability(1, 10, 1, 0)).toBe(1)
    expect(hintProbability(10, 10, 1, 0)).toBe(0)
    expect(hintProbability(4, 10, 1, 0)).toBeCloseTo(2 / 3)
    expect(hintProbability(5, 10, 0.5, 0.5)).toBe(0.5)
    expect(hintProbability(1, 1, 1, 0)).toBe(0) // one step: it is the last
    expect(hintProbability(12, 10, 1, 0)).toBe(0) // past the end (a resumed run's extra steps)
  })
})

describe('--pass-band', () => {
  it('takes LO,HI within [0, 1], and names the flag otherwise', () => {
    expect(passBandBounds('0.1,0.9')).toEqual({ passBandLow: 0.1, passBandHigh: 0.9 })
    expect(passBandBounds('0, 1')).toEqual({ passBandLow: 0, passBandHigh: 1 })
    for (const bad of ['0.9,0.1', '0.1', '-0.1,0.5', '0.1,1.5', 'a,b', '0.1,0.5,0.9']) {
      expect(() => passBandBounds(bad), bad).toThrow(`--pass-band ${bad}: expected LO,HI`)
    }
  })
})
