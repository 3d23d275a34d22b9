import { describe, expect, it } from 'vitest'
import { LshIndex, RecentProblems } from '../../src/filter/dedup.js'
import {
  estimatedJaccard,
  minHashSignature,
  repetitionRate,
  wordHashes,
} from '../../src/filter/text-features.js'

const prose = (seed: number, words = 300) => {
  let state = seed
  const vocabulary =
    'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau'.split(
      ' ',
    )
  return Array.from({ length: words }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return vocabulary[state % vocabulary.length]
  }).join(' ')
}

describe('wordHashes', () => {
  it('hashes words case-insensitively and ignores punctuation', () => {
    expect([...wordHashes('Wait, wait... x_1 = 42')]).toEqual([...wordHashes('wait wait x_1 42')])
    expect(wordHashes('a b').length).toBe(2)
    expect(wordHashes('').length).toBe(0)
  })
})

describe('repetitionRate', () => {
  it('is near 0 for varied text and high for a loop', () => {
    expect(repetitionRate(wordHashes(prose(1)))).toBeLessThan(0.05)
    const loop = `${prose(2, 100)} ${'let me check the sum again and again. '.repeat(40)}`
    expect(repetitionRate(wordHashes(loop))).toBeGreaterThan(0.6)
    expect(repetitionRate(wordHashes('too short'))).toBe(0)
  })
})

describe('MinHash', () => {
  it('estimates Jaccard: 1 for the same text, high for a small edit, low for unrelated text', () => {
    const text = prose(3)
    const base = minHashSignature(wordHashes(text))
    expect(estimatedJaccard(base, minHashSignature(wordHashes(text)))).toBe(1)
    const edited = text.replace(/^(\S+ \S+ \S+)/, '$1 inserted words here')
    expect(estimatedJaccard(base, minHashSignature(wordHashes(edited)))).toBeGreaterThan(0.8)
    expect(estimatedJaccard(base, minHashSignature(wordHashes(prose(4))))).toBeLessThan(0.3)
  })

  it('finds near duplicates through LSH bands, not unrelated texts', () => {
    const index = new LshIndex(0.8)
    const text = prose(5)
    index.add(minHashSignature(wordHashes(text)))
    expect(index.has(minHashSignature(wordHashes(`${text} and one more`)))).toBe(true)
    expect(index.has(minHashSignature(wordHashes(prose(6))))).toBe(false)
  })

  it('keeps dedup state for the most recent problems only', () => {
    const recent = new RecentProblems(0.8, 2)
    recent.get('a').exact.add('x')
    recent.get('b')
    expect(recent.get('a').exact.has('x')).toBe(true) // touched: now the most recent
    recent.get('c') // evicts b, the least recent
    expect(recent.get('a').exact.has('x')).toBe(true)
    recent.get('d')
    recent.get('e')
    expect(recent.get('a').exact.has('x')).toBe(false)
  })
})
