import { describe, expect, it } from 'vitest'
import { Admission } from '../../src/filter/admit.js'
import { minHashSignature, wordHashes } from '../../src/filter/text-features.js'

const signatureOf = (text: string) => minHashSignature(wordHashes(text))

describe('admission after the rules', () => {
  const text = (n: number) =>
    `Let me compute the value with python and check it carefully step ${n} ${'word '.repeat(n)}`

  it('drops exact duplicates of a kept trajectory of the same problem, whitespace and case aside', () => {
    const admission = new Admission({ nearDuplicate: 1, perProblem: 0 })
    expect(admission.admit('p1', 'The answer is 4.', signatureOf('a'))).toBeNull()
    expect(admission.admit('p1', '  the ANSWER   is 4. ', signatureOf('b'))).toBe('duplicate')
    expect(admission.admit('p2', 'The answer is 4.', signatureOf('a'))).toBeNull()
    expect(admission.keptProblems).toBe(2)
  })

  it('drops near duplicates only when the threshold is below 1', () => {
    const long =
      'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen'
    const near = `${long} seventeen`
    const strict = new Admission({ nearDuplicate: 0.8, perProblem: 0 })
    expect(strict.admit('p', long, signatureOf(long))).toBeNull()
    expect(strict.admit('p', near, signatureOf(near))).toBe('near-duplicate')
    const off = new Admission({ nearDuplicate: 1, perProblem: 0 })
    expect(off.admit('p', long, signatureOf(long))).toBeNull()
    expect(off.admit('p', near, signatureOf(near))).toBeNull()
  })

  it('caps the trajectories kept per problem', () => {
    const admission = new Admission({ nearDuplicate: 1, perProblem: 2 })
    const decisions = [1, 2, 3].map((n) => admission.admit('p', text(n), signatureOf(text(n))))
    expect(decisions).toEqual([null, null, 'per-problem-cap'])
    expect(admission.admit('q', text(1), signatureOf(text(1)))).toBeNull()
  })
})
