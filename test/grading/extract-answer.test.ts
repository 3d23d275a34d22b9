import { describe, expect, it } from 'vitest'
import {
  extractAnswer,
  extractBoxed,
  extractCode,
  extractFinalAnswer,
} from '../../src/grading/extract-answer.js'

describe('extractBoxed', () => {
  it.each([
    ['The answer is \\boxed{5}.', '5'],
    ['\\boxed{1} then \\boxed{2}', '2'],
    ['\\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['\\boxed{ \\left( 3, \\frac{\\pi}{2} \\right) }', '\\left( 3, \\frac{\\pi}{2} \\right)'],
    ['\\fbox{7}', '7'],
    ['\\boxed {x^{2}}', 'x^{2}'],
  ])('%s -> %s', (text, answer) => {
    expect(extractBoxed(text)).toBe(answer)
  })

  it('ignores an unclosed box and text without one', () => {
    expect(extractBoxed('\\boxed{3} and \\boxed{4')).toBe('3')
    expect(extractBoxed('no answer')).toBeUndefined()
  })
})

describe('extractAnswer', () => {
  it.each([
    ['so \\boxed{7}, not 9', {}, '7'],
    ['<think>maybe 3</think>\nThe final answer is 12.', {}, '12'],
    ['Answer: $\\frac{1}{2}$\n', {}, '\\frac{1}{2}'],
    ['the answer is 3.5.', {}, '3.5'],
    ['She pays 5 + 7 = 12 dollars, so the total is 1,250', { lastNumber: true }, '1250'],
    ['<think>try 40</think> so it is 42', { lastNumber: true }, '42'],
  ])('%s -> %s', (text, options, answer) => {
    expect(extractAnswer(text, options)).toBe(answer)
  })

  it('takes no number unless asked to, and none from an unclosed thought', () => {
    expect(extractAnswer('it is 12')).toBeUndefined()
    expect(extractAnswer('no digits here', { lastNumber: true })).toBeUndefined()
  })

  it('reads the last statement that comes after the last box (Minerva ends so)', () => {
    const minerva = 'Final Answer: The final answer is 12,000,023. I hope it is correct.'
    expect(extractAnswer(minerva)).toBe('12,000,023')
    expect(extractAnswer('The answer is \\boxed{5}.')).toBe('5')
    // a box, then a statement of another value: two answers offered
    expect(extractFinalAnswer(`Intermediate: \\boxed{255}.\n${minerva}`).failure).toBe('hedged')
    expect(extractFinalAnswer('The answer is 4, so \\boxed{5}').failure).toBe('hedged')
  })

  it('joins boxes that together list one answer', () => {
    expect(extractAnswer('so $\\boxed{-2} \\quad\\text{and}\\quad \\boxed{1}$')).toBe('-2, 1')
    expect(extractFinalAnswer('\\boxed{3} is wrong, then I got \\boxed{4}').failure).toBe('hedged')
    expect(extractAnswer('$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$')).toBe(
      '(3, 3), (1, 1)',
    )
    // words outside the math part an earlier result from the answer: two answers offered
    expect(extractFinalAnswer('$\\boxed{3}$ was a guess; so $\\boxed{4}$').failure).toBe('hedged')
    // a unit word before the joiner: one answer per part
    expect(extractAnswer('\\boxed{1} papers and \\boxed{2} bins')).toBe('1, 2')
    expect(extractAnswer('\\boxed{3} apples, \\boxed{4} pears')).toBe('3, 4')
    for (const hedge of [
      '\\boxed{3} apples so and \\boxed{4}',
      '\\boxed{1} hmm wait, \\boxed{2}',
      '\\boxed{1} wait, \\boxed{2}',
    ])
      expect(extractFinalAnswer(hedge)).toEqual({ answer: hedge.slice(-2, -1), failure: 'hedged' })
  })

  it('reads the words beside a math span as beside a box: an alternative hedges, a bound qualifies', () => {
    expect(extractFinalAnswer('</think>\nAlternatively, $42$.').failure).toBe('hedged')
    expect(extractFinalAnswer('</think>\nAlternatively, $\\boxed{42}$.').failure).toBe('hedged')
    expect(extractFinalAnswer('</think>\nIt is at least $40$.').failure).toBe('qualified')
    expect(extractFinalAnswer('</think>\nSo it is $40$.')).toEqual({ answer: '40' })
  })

  it('has no answer for a trajectory cut off, or one whose thinking never closed, unless lenient', () => {
    const cut = '<think>so \\boxed{7}'
    expect(extractAnswer(cut)).toBeUndefined()
    expect(extractAnswer(cut, { lenient: true })).toBe('7')
    expect(extractAnswer('so \\boxed{7}', { startsThinking: true })).toBeUndefined()
    expect(extractAnswer('</think> \\boxed{7}', { startsThinking: true })).toBe('7')
    expect(extractAnswer('</think> \\boxed{7}', { finishReason: 'length' })).toBeUndefined()
    expect(extractAnswer('</think> \\boxed{7}', { finishReason: 'length', lenient: true })).toBe('7')
  })

  it('never takes an answer the interpreter printed', () => {
    const forged = '</think>```python\nprint("\\\\boxed{42}")\n```\n```output\n\\boxed{42}\n```\n'
    expect(extractAnswer(forged)).toBeUndefined()
    expect(extractAnswer(`${forged}so \\boxed{7}`)).toBe('7')
    expect(extractAnswer('</think>```output\nThe answer is 42.\n```', { lastNumber: true })).toBeUndefined()
  })

  it('a malformed fence the model wrote does not shift the pairing of the fences after it', () => {
    // Seen from the testbed: "``outpython" opens nothing; the bare fence after the code opens its block.
    const text =
      'Wait.\n``outpython\nprint(sum(range(5)))\n```\n```output\n10\n```\nThe code gives 10.\n</think>\nThe answer is \\boxed{10}.'
    expect(extractAnswer(text, { startsThinking: true })).toBe('10')
    expect(extractAnswer('</think>```\nprint(1)\n```output\n\\boxed{9}\n```\nSo \\boxed{3}')).toBe('3')
  })

  it('falls back only to a whole number of the final line after the thinking', () => {
    expect(extractAnswer('The code is AZYUK2A', { lastNumber: true })).toBeUndefined()
    expect(extractAnswer('<think>40</think>\nWe add 2.\nShe has 72 dollars.', { lastNumber: true })).toBe(
      '72',
    )
    expect(extractAnswer('I tried 40 first.\nno number at the end', { lastNumber: true })).toBeUndefined()
  })
})

describe('extractCode', () => {
  it('takes the last block that defines the entry point, over a later test block', () => {
    const text =
      '```python\ndef f(x):\n    return 1\n```\n```python\ndef f(x):\n    return x\n```\n```python\nprint(f(2))\n```\n'
    expect(extractCode(text, 'f')).toBe('def f(x):\n    return x\n')
    expect(extractCode(text)).toBe('print(f(2))\n')
  })

  it('takes a raw completion (HumanEval style) as code, and nothing from an empty one', () => {
    expect(extractCode('    return x + 1\n', 'f')).toBe('    return x + 1\n')
    expect(extractCode('   ')).toBeUndefined()
    expect(extractCode('```python\nunclosed')).toBeUndefined()
  })
})
