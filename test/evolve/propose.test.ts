import { describe, expect, it } from 'vitest'
import {
  candidateProblem,
  type HintGrammar,
  loadGrammar,
  mutations,
  parseGrammar,
  parseProposals,
  proposerPrompt,
} from '../../src/evolve/propose.js'
import { type HintLibrary, loadHintLibrary } from '../../src/hints/library.js'
import { seededRandom } from '../../src/hints/policy.js'

const library: HintLibrary = {
  name: 'test',
  hints: [
    {
      id: 'calc-1',
      category: 'complex-calculation',
      domain: 'math',
      text: 'Wait, maybe using Python here is a good idea.',
    },
    {
      id: 'calc-2',
      category: 'complex-calculation',
      domain: 'math',
      text: 'Wait, it is safer to compute this with Python.',
    },
    {
      id: 'debug-1',
      category: 'code-test',
      domain: 'code',
      text: 'Wait, I should run the examples in Python.',
    },
  ],
}

describe('candidateProblem', () => {
  it.each([
    ['Wait, let me check this with Python.', undefined],
    ['Python!', 'shorter than 16 characters'],
    [`Wait, ${'very '.repeat(50)}let me use Python.`, 'longer than 200 characters'],
    [
      'Wait, the answer is 42; check it in Python.',
      'carries a number or a boxed answer (an answer could leak)',
    ],
    ['Wait, so \\boxed{x}; check with Python.', 'carries a number or a boxed answer (an answer could leak)'],
    ['Wait, run {tests} in Python to check the function.', 'placeholder {tests} unknown to the library'],
    ['Wait, run {examples} in Python.', 'placeholder {examples} unknown to the library'],
    ['Wait, let me double-check this by hand.', 'does not ask for the interpreter (Python, code, a script)'],
    ['wait,  maybe using python here is a good idea.', 'the same as calc-1'],
  ])('%j: %s', (text, reason) => {
    expect(candidateProblem(text, library)).toBe(reason)
  })

  it('lets a code hint hold {tests}, the sample tests the loop fills in', () => {
    expect(candidateProblem('Wait, let me run these with Python:\n{tests}', library, 'code')).toBeUndefined()
    expect(candidateProblem('Wait, run {examples} with Python.', library, 'code')).toBe(
      'placeholder {examples} unknown to the library',
    )
  })

  it("accepts every hint of the shipped library against an empty one (the rules are the library's own)", async () => {
    const shipped = await loadHintLibrary()
    for (const hint of shipped.hints)
      expect(candidateProblem(hint.text, { ...shipped, hints: [] }), hint.id).toBeUndefined()
  })
})

describe('mutations', () => {
  it('rephrases each category of the domain from the grammar: valid, new, seeded, each against a hint of its category', async () => {
    const grammar = await loadGrammar()
    const draw = () =>
      mutations(library, grammar, { domain: 'math', perCategory: 3, random: seededRandom(7) })
    const candidates = draw()
    expect(candidates).toHaveLength(3)
    expect(draw()).toEqual(candidates)
    expect(new Set(candidates.map((candidate) => candidate.text)).size).toBe(3)
    for (const candidate of candidates) {
      expect(candidate).toMatchObject({ category: 'complex-calculation', domain: 'math', origin: 'mutation' })
      expect(['calc-1', 'calc-2']).toContain(candidate.parent)
      expect(candidateProblem(candidate.text, library)).toBeUndefined()
      expect(candidate.id).toMatch(/^complex-calculation-m\d$/)
    }
    const code = mutations(library, grammar, { domain: 'code', perCategory: 2, random: seededRandom(7) })
    expect(code.map((candidate) => candidate.parent)).toEqual(['debug-1', 'debug-1'])
    for (const candidate of code)
      expect(grammar.instructions.code.some((i) => candidate.text.endsWith(i))).toBe(true)
  })

  it('gives nothing for a category with no hints of the domain, and none when asked for none', async () => {
    const grammar = await loadGrammar()
    expect(mutations(library, grammar, { domain: 'math', perCategory: 0, random: seededRandom(1) })).toEqual(
      [],
    )
    const mathOnly = { ...library, hints: library.hints.slice(0, 2) }
    expect(mutations(mathOnly, grammar, { domain: 'code', perCategory: 2, random: seededRandom(1) })).toEqual(
      [],
    )
  })
})

describe('parseGrammar', () => {
  const good: HintGrammar = {
    openers: ['Wait,'],
    reasons: {},
    instructions: { math: ['use Python.'], code: ['run Python.'] },
  }
  it.each([
    [{ ...good, openers: [] }, '"openers" must be a non-empty list of strings'],
    [{ ...good, reasons: { calc: [3] } }, 'reasons.calc: expected a non-empty list of strings'],
    [
      { ...good, instructions: { math: ['x'] } },
      '"instructions" must have non-empty "math" and "code" lists of strings',
    ],
    ['nope', 'expected a JSON object'],
  ])('refuses %j', (value, error) => {
    expect(parseGrammar(value)).toEqual({ error })
  })
  it('takes a well-formed grammar', () => expect(parseGrammar(good)).toEqual(good))
})

describe('the proposer', () => {
  it("shows the category's best and worst hints with their measured efficacy", () => {
    const rated = [0.9, 0.7, 0.5, 0.3, 0.1].map((correct, i) => ({
      hint: { ...library.hints[0]!, id: `h${i}`, text: `Hint number ${i} with Python.` },
      code: 1,
      correct,
    }))
    const prompt = proposerPrompt('complex-calculation', 'math', rated, 3)
    expect(prompt).toContain('"Hint number 0 with Python." (followed by code 100%, correct 90%)')
    expect(prompt).toContain('"Hint number 4 with Python." (followed by code 100%, correct 10%)')
    expect(prompt).not.toContain('Hint number 2')
    expect(prompt).toContain('Write 3 new hints')
    expect(proposerPrompt('x', 'code', [{ hint: library.hints[2]! }], 1)).toContain('(not measured yet)')
  })

  it('reads one hint per line, stripping bullets, numbering and quotes; refuses the unusable with the reason', () => {
    const answer = [
      'Here are some hints:',
      '1. "Wait, let me verify each step with a Python script."',
      '- Hmm, I will compute it with Python instead.',
      '* Wait, let me verify each step with a Python script.',
      '3) The answer is 12.',
      '',
      '• Alternatively, a brute-force search in Python would settle it.',
    ].join('\n')
    const { texts, refused } = parseProposals(answer, library, 2)
    expect(texts).toEqual([
      'Wait, let me verify each step with a Python script.',
      'Hmm, I will compute it with Python instead.',
    ])
    expect(refused).toEqual([
      { text: 'Here are some hints:', reason: 'does not ask for the interpreter (Python, code, a script)' },
    ])
    expect(parseProposals(answer, library, 5).refused.map((item) => item.reason)).toEqual([
      'does not ask for the interpreter (Python, code, a script)',
      'the same as #1',
      'carries a number or a boxed answer (an answer could leak)',
    ])
  })
})
