import { describe, expect, it } from 'vitest'
import { MIN_SAMPLES_FOR_RATE, passRates } from '../../src/rl/pass-rates.js'

describe('passRates', () => {
  it('is the share right per problem', () => {
    const outcomes = [
      { problemId: 'a', correct: true },
      { problemId: 'b', correct: false },
      { problemId: 'a', correct: false },
      { problemId: 'b', correct: false },
      { problemId: 'a', correct: true },
      { problemId: 'a', correct: true },
    ]
    expect(passRates(outcomes)).toEqual({ a: 0.75, b: 0 })
  })

  it('leaves out a problem with too few samples to rate (the trainer estimates it)', () => {
    expect(MIN_SAMPLES_FOR_RATE).toBe(2)
    expect(passRates([{ problemId: 'once', correct: true }])).toEqual({})
    expect(passRates([])).toEqual({})
  })
})
