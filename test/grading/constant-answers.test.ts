import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { Grader } from '../../src/grading/grader.js'
import { SandboxPool } from '../../src/sandbox/pool.js'

/** Every MATH-500 reference answer, from ../shared/datasets. */
const REFERENCES: string[] = readFileSync('../shared/datasets/math500.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line).answer as string)

/**
 * What a policy under RL tries first: one answer for every problem. Each may be right only where it
 * truly is the reference (the set of such references is spelled out), never because a closeness test
 * or a parser let it through.
 */
const CONSTANTS: [string, (reference: string) => boolean][] = [
  ['\\infty', (r) => r === '\\infty'],
  ['-\\infty', (r) => r === '-\\infty'],
  ['\\text{nan}', () => false],
  ['zoo', () => false],
  ['0', (r) => r === '0'],
  ['1', (r) => r === '1'],
  ['-1', (r) => r === '-1'],
  ['', () => false],
  ['none', (r) => r === '\\text{none}'],
  ['x', (r) => r === 'x'],
  ['a=b', () => false],
  [`${'x+'.repeat(400)}1`, () => false],
  ['2 \\text{ or } 3', () => false],
  ['(1, +\\infty)', () => false],
  // what the checker's grammar reads beyond plain expressions: an indexed letter, a sum, a product
  ['a_n', () => false],
  ['\\sum_{k=1}^{n} a_k', () => false],
  ['\\prod_{k=1}^{\\infty} k', () => false],
]

describe('no answer is correct for everything', () => {
  const pool = new SandboxPool({ workers: 2 })
  const grader = new Grader(pool)
  afterAll(() => pool.close())

  it.each(CONSTANTS)(
    '%s against every MATH-500 reference',
    async (constant, truly) => {
      const verdicts = await Promise.all(REFERENCES.map((reference) => grader.mathEqual(constant, reference)))
      const wrong = REFERENCES.filter((reference, i) => verdicts[i] !== truly(reference))
      expect(wrong).toEqual([])
    },
    120_000,
  )

  it('rejects a one-digit change and a sign change of every MATH-500 reference', async () => {
    const mutations: [string, string][] = []
    for (const reference of REFERENCES) {
      const digit = /\d/.exec(reference)
      if (digit) {
        const changed = String((Number(digit[0]) + 1) % 10)
        mutations.push([
          reference.slice(0, digit.index) + changed + reference.slice(digit.index + 1),
          reference,
        ])
      }
      // A sign change of a single value (not of a list, an interval, an equation or zero).
      if (/\d/.test(reference) && !/[,=]|\\pm|\\in|^0$|^\\text/.test(reference))
        mutations.push([reference.startsWith('-') ? reference.slice(1) : `-${reference}`, reference])
    }
    const verdicts = await Promise.all(
      mutations.map(([mutated, reference]) => grader.mathEqual(mutated, reference)),
    )
    expect(mutations.filter((_, i) => verdicts[i])).toEqual([])
  }, 180_000)
})
