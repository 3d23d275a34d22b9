import { describe, expect, it } from 'vitest'
import type { HintLibrary } from '../../src/hints/library.js'
import {
  DEFAULT_HINT_POLICY,
  hintAfterConnective,
  hintInsertion,
  pickHint,
  sampleSeed,
  seededRandom,
  wantsConnectiveHint,
  wantsThinkHint,
} from '../../src/hints/policy.js'

const state = { connectiveHints: 0, thinkHints: 0, lastHintAt: Number.NEGATIVE_INFINITY }

describe('hint policy', () => {
  it('caps connective hints and keeps them apart', () => {
    const random = seededRandom(1)
    expect(wantsConnectiveHint(DEFAULT_HINT_POLICY, state, 10, random)).toBe(true)
    expect(wantsConnectiveHint(DEFAULT_HINT_POLICY, { ...state, connectiveHints: 1 }, 10, random)).toBe(false)
    const policy = { ...DEFAULT_HINT_POLICY, maxConnectiveHints: 5 }
    expect(wantsConnectiveHint(policy, { ...state, connectiveHints: 1, lastHintAt: 100 }, 250, random)).toBe(
      false,
    )
    expect(wantsConnectiveHint(policy, { ...state, connectiveHints: 1, lastHintAt: 100 }, 300, random)).toBe(
      true,
    )
  })

  it('inserts with the configured probability, reproducibly for a seed', () => {
    const policy = { ...DEFAULT_HINT_POLICY, probability: 0.3, maxConnectiveHints: 1e9 }
    const draws = (seed: number) => {
      const random = seededRandom(seed)
      return Array.from({ length: 2000 }, () => wantsConnectiveHint(policy, state, 1000, random))
    }
    const first = draws(7)
    expect(draws(7)).toEqual(first)
    const rate = first.filter(Boolean).length / first.length
    expect(rate).toBeGreaterThan(0.25)
    expect(rate).toBeLessThan(0.35)
  })

  it('allows --think-hints hints before the thinking closes', () => {
    expect(wantsThinkHint({ ...DEFAULT_HINT_POLICY, thinkHints: 2 }, { ...state, thinkHints: 1 })).toBe(true)
    expect(wantsThinkHint({ ...DEFAULT_HINT_POLICY, thinkHints: 2 }, { ...state, thinkHints: 2 })).toBe(false)
    expect(wantsThinkHint({ ...DEFAULT_HINT_POLICY, thinkHints: 0 }, state)).toBe(false)
  })

  it('picks hints of the problem domain', () => {
    const library = {
      name: 't',
      hints: [
        { id: 'm', category: 'c', domain: 'math' as const, text: 'Wait, math.' },
        { id: 'c', category: 'c', domain: 'code' as const, text: 'Wait, tests.' },
      ],
    }
    const random = seededRandom(3)
    for (let i = 0; i < 20; i++) expect(pickHint(library, 'code', random).id).toBe('c')
  })

  it('drops the hint own connective after the model one', () => {
    const hint = {
      id: 'h',
      category: 'c',
      domain: 'any' as const,
      text: 'Wait, maybe using Python here is a good idea.',
    }
    expect(hintAfterConnective(hint, DEFAULT_HINT_POLICY.connectives, ',')).toBe(
      ' maybe using Python here is a good idea.',
    )
    expect(hintAfterConnective(hint, DEFAULT_HINT_POLICY.connectives, ' ')).toBe(
      'maybe using Python here is a good idea.',
    )
  })

  it('seeds each sample differently and stably', () => {
    expect(sampleSeed(0, 'p1', 0)).toBe(sampleSeed(0, 'p1', 0))
    expect(
      new Set([
        sampleSeed(0, 'p1', 0),
        sampleSeed(0, 'p1', 1),
        sampleSeed(0, 'p2', 0),
        sampleSeed(1, 'p1', 0),
      ]).size,
    ).toBe(4)
  })
})

describe('placeholders', () => {
  const library: HintLibrary = {
    name: 't',
    hints: [
      { id: 'plain', category: 'code-test', domain: 'code', text: 'Wait, let me test the function.' },
      { id: 'tests', category: 'code-test', domain: 'code', text: 'Wait, let me run the examples:\n{tests}' },
    ],
  }

  it('fills {tests} with the sample tests at insertion, after a connective and before the thinking closes', () => {
    const values = { tests: '>>> f(1)\n2' }
    expect(hintInsertion({ trigger: 'think-end', before: '' }, library.hints[1]!, [], values)).toBe(
      'Wait, let me run the examples:\n>>> f(1)\n2\n',
    )
    expect(
      hintInsertion(
        { trigger: 'connective', word: 'Wait', boundary: ',' },
        library.hints[1]!,
        ['Wait'],
        values,
      ),
    ).toBe(' let me run the examples:\n>>> f(1)\n2')
  })

  it('never picks a hint whose placeholder has no value here', () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(pickHint(library, 'code', seededRandom(seed)).id).toBe('plain')
    }
    const picked = new Set(
      Array.from(
        { length: 20 },
        (_, seed) => pickHint(library, 'code', seededRandom(seed), { tests: 'x' }).id,
      ),
    )
    expect(picked).toEqual(new Set(['plain', 'tests']))
  })
})
