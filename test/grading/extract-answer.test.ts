import { describe, expect, it } from 'vitest'
import { extractBoxed } from '../../src/grading/extract-answer.js'

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
