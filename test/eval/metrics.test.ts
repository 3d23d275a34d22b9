import { describe, expect, it } from 'vitest'
import {
  majorityGroup,
  pairedSignTest,
  passAtK,
  summarizeAccuracy,
  wilsonInterval,
} from '../../src/eval/metrics.js'
import { compareMath } from '../../src/grading/math-equal.js'

describe('passAtK (unbiased estimator)', () => {
  it.each([
    [5, 2, 1, 0.4],
    [5, 2, 2, 0.7], // 1 - C(3,2)/C(5,2) = 1 - 3/10
    [5, 0, 3, 0],
    [5, 3, 3, 1], // fewer wrong samples than k: some draw is always right
    [16, 1, 16, 1],
    [10, 5, 4, 1 - 5 / 210], // 1 - C(5,4)/C(10,4)
  ])('n=%i c=%i k=%i -> %f', (n, c, k, expected) => {
    expect(passAtK(n, c, k)).toBeCloseTo(expected, 12)
  })

  it('refuses k larger than the samples', () => {
    expect(() => passAtK(2, 1, 3)).toThrow('pass@3 needs at least 3 samples')
  })
})

describe('majorityGroup', () => {
  const equivalent = async (a: string, b: string) => compareMath(a, b) === true

  it('votes over equivalent answers, not spellings', async () => {
    // "3" appears twice as a string, but 1/2 is written three ways.
    expect(await majorityGroup(['3', '1/2', '0.5', '3', '\\frac12', null], equivalent)).toEqual([1, 2, 4])
  })

  it('breaks ties by the group seen first and ignores missing answers', async () => {
    expect(await majorityGroup(['2', '5', '2.0', '5'], equivalent)).toEqual([0, 2])
    expect(await majorityGroup([null, null], equivalent)).toEqual([])
  })
})

describe('wilsonInterval and summarizeAccuracy', () => {
  it('gives the textbook Wilson interval', () => {
    const [low, high] = wilsonInterval(5, 10)
    expect(low).toBeCloseTo(0.2366, 4)
    expect(high).toBeCloseTo(0.7634, 4)
    expect(wilsonInterval(0, 0)).toEqual([0, 0])
  })

  it('averages pass@1 over samples and problems, and counts maj@k only where votes apply', () => {
    const summary = summarizeAccuracy(
      [
        { problemId: 'a', correct: [true, false, false, false], majorityCorrect: false },
        { problemId: 'b', correct: [true, true, true, false], majorityCorrect: true },
        { problemId: 'c', correct: [false, false, false, false], majorityCorrect: null },
      ],
      4,
    )
    expect(summary.pass1).toBeCloseTo((0.25 + 0.75 + 0) / 3, 12)
    expect(summary.passK).toBeCloseTo(2 / 3, 12)
    expect(summary.majK).toBe(0.5)
    expect(summary).toMatchObject({ problems: 3, samples: 12, k: 4 })
  })

  it("pairs two models' per-problem results: wins, losses, ties and the exact sign test", () => {
    const ids = Array.from({ length: 20 }, (_, i) => `p${i}`)
    const a = Object.fromEntries(ids.map((id, i) => [id, i < 12 ? 1 : 0]))
    const b = Object.fromEntries(ids.map((id, i) => [id, i < 4 ? 1 : 0]))
    // 8 discordant pairs, all won by A: p = 2 * 0.5^8.
    expect(pairedSignTest(a, b)).toMatchObject({ problems: 20, wins: 8, losses: 0, ties: 12 })
    expect(pairedSignTest(a, b).pValue).toBeCloseTo(2 / 256, 12)
    expect(pairedSignTest(b, a).pValue).toBeCloseTo(2 / 256, 12)
    // A 5/3 split of 8 discordant problems is well within chance: p = 2 * P(X <= 3) = 0.7265625.
    const c = Object.fromEntries(ids.slice(0, 8).map((id, i) => [id, i < 5 ? 1 : 0]))
    const d = Object.fromEntries(ids.slice(0, 8).map((id, i) => [id, i < 5 ? 0 : 1]))
    expect(pairedSignTest(c, d)).toMatchObject({ wins: 5, losses: 3, ties: 0 })
    expect(pairedSignTest(c, d).pValue).toBeCloseTo(0.7265625, 12)
    expect(pairedSignTest({ x: 1 }, { y: 1 })).toEqual({
      problems: 0,
      wins: 0,
      losses: 0,
      ties: 0,
      pValue: 1,
    })
  })
})
