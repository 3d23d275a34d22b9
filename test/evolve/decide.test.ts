import { describe, expect, it } from 'vitest'
import { type Continuation, efficacyOf, holm, judgeCandidates } from '../../src/evolve/decide.js'
import type { Candidate } from '../../src/evolve/propose.js'

const candidate = (id: string, parent: string): Candidate => ({
  id,
  parent,
  category: 'c',
  domain: 'math',
  text: `${id} with Python.`,
  origin: 'mutation',
})

/** `k` continuations on each of `prefixes` prefixes, the first `right` of each correct. */
function continuations(prefixes: number, k: number, right: (prefix: number) => number): Continuation[] {
  return Array.from({ length: prefixes }, (_, p) =>
    Array.from({ length: k }, (_, j) => ({ prefix: `p${p}`, code: j % 2 === 0, correct: j < right(p) })),
  ).flat()
}

describe('holm', () => {
  it('adjusts step-down and keeps the order monotone', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06])
    expect(holm([0.5, 0.001])).toEqual([0.5, 0.002])
    expect(holm([])).toEqual([])
  })
})

describe('judgeCandidates', () => {
  it('admits a candidate better than its parent on every prefix; not one that is worse or only equal', () => {
    const outcomes = new Map([
      ['parent', continuations(10, 4, () => 1)],
      ['better', continuations(10, 4, () => 3)],
      ['worse', continuations(10, 4, () => 0)],
      ['same', continuations(10, 4, () => 1)],
    ])
    const verdicts = judgeCandidates(
      [candidate('better', 'parent'), candidate('worse', 'parent'), candidate('same', 'parent')],
      outcomes,
      { metric: 'correct', alpha: 0.05 },
    )
    const [better, worse, same] = verdicts
    // 10 prefixes all better: one-sided exact sign-flip p = 2^-10, times 3 for Holm
    expect(better).toMatchObject({ admitted: true, prefixes: 10, difference: 0.5, pValue: 2 ** -10 })
    expect(better!.adjustedP).toBeCloseTo(3 * 2 ** -10, 10)
    expect(better!.reason).toMatch(/^admitted: \+50\.0 points of correct over parent on 10 prefixes/)
    expect(worse).toMatchObject({ admitted: false, pValue: 1, difference: -0.25 })
    expect(worse!.reason).toMatch(/^not shown better: -25\.0 points/)
    expect(same).toMatchObject({ admitted: false, pValue: 1 })
  })

  it('needs the corrected level: a difference on few prefixes is not enough, and no shared prefix is no test', () => {
    const outcomes = new Map([
      ['parent', continuations(3, 2, () => 0)],
      ['lucky', continuations(3, 2, () => 1)],
      ['elsewhere', continuations(2, 2, () => 2).map((c) => ({ ...c, prefix: `q${c.prefix}` }))],
    ])
    const [lucky, elsewhere] = judgeCandidates(
      [candidate('lucky', 'parent'), candidate('elsewhere', 'parent')],
      outcomes,
      { metric: 'correct', alpha: 0.05 },
    )
    expect(lucky).toMatchObject({ admitted: false, pValue: 0.125 })
    expect(elsewhere).toMatchObject({ admitted: false, prefixes: 0 })
    expect(elsewhere!.reason).toBe('no prefix continued with both it and parent')
  })

  it('tests the code rate with --metric code', () => {
    const outcomes = new Map([
      ['parent', continuations(8, 2, () => 0).map((c) => ({ ...c, code: false }))],
      ['coder', continuations(8, 2, () => 0).map((c) => ({ ...c, code: true }))],
    ])
    const [coder] = judgeCandidates([candidate('coder', 'parent')], outcomes, { metric: 'code', alpha: 0.05 })
    expect(coder).toMatchObject({ admitted: true, metric: 'code', difference: 1 })
  })
})

describe('efficacyOf', () => {
  it('gives rates over prefixes with intervals that hold them', () => {
    const efficacy = efficacyOf(continuations(6, 4, (p) => (p < 3 ? 4 : 0)))
    expect(efficacy).toMatchObject({ prefixes: 6, continuations: 24 })
    expect(efficacy.correct.rate).toBe(0.5)
    expect(efficacy.code.rate).toBe(0.5)
    expect(efficacy.correct.low).toBeLessThan(0.5)
    expect(efficacy.correct.high).toBeGreaterThan(0.5)
    expect(efficacy.code).toEqual({ rate: 0.5, low: 0.5, high: 0.5 }) // the same on every prefix
  })
})
