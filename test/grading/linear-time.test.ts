import { describe, expect, it } from 'vitest'
import { answerRefusal } from '../../src/grading/answer-checks.js'
import { extractFinalAnswer } from '../../src/grading/extract-answer.js'
import { compareMath } from '../../src/grading/math-equal.js'

/** About 100 KB of each shape a policy could write to stall the referee (issue 29, class 8). */
const SIZE = 100_000
const repeat = (unit: string, tail = '') => unit.repeat(Math.ceil(SIZE / unit.length)) + tail

const SHAPES: [string, string][] = [
  ['" and" between two boxes', `\\boxed{1}${repeat(' and')}\\boxed{2}`],
  ['boxes joined by "and"', repeat('\\boxed{1} and ')],
  ['boxes parted by words', repeat('\\boxed{1} apples so ')],
  ['repeated "answer:"', repeat('answer: ')],
  ['repeated "The answer is"', repeat('The answer is 1 or ')],
  ['open braces', repeat('{')],
  ['unclosed boxes', repeat('\\boxed{')],
  ['nested boxes', `${repeat('\\boxed{')}1${'}'.repeat(SIZE / 7)}`],
  ['dollar runs', repeat('$')],
  ['dollars and words', repeat('$1 and ')],
  ['unclosed display math', repeat('\\[x ')],
  ['unclosed inline math', repeat('\\(x ')],
  ['double dollars', repeat('$$1')],
  ['backticks', repeat('`')],
  ['fences', repeat('```\n')],
  ['long fences', repeat('`````` ```` ')],
  ['think tags', repeat('<think></think>')],
  ['unclosed comments', repeat('<!--')],
  ['phantoms', repeat('\\phantom{')],
  ['quotes', repeat('"the answer is 1" ')],
  ['single quotes that never close', repeat(" 'answer")],
  ['blockquotes', repeat('> answer: 1\n')],
  ['number lists', `The answer is ${repeat('1, ')}2`],
  ['thousands', `The answer is ${repeat('1,000')}`],
  ['dotted numbers', repeat('1.1.')],
  ['alternatives', repeat('or maybe \\boxed{1}. Wait, ')],
  ['units', `\\boxed{1${repeat(' \\text{ cm}')}}`],
  ['qualifiers', `\\boxed{1${repeat(' at least')}}`],
  ['a long final line', `${repeat('a = 1 + 2 ')}= 3`],
  ['superscripts', repeat('x²³')],
  ['one long box', `\\boxed{${repeat('x+')}1}`],
]

/** Milliseconds allowed per 100 KB: a linear pass takes a few; a quadratic one, minutes. */
const BUDGET_MS = 1500

describe('every extraction step is linear in the completion (adversarial shapes)', () => {
  it.each(SHAPES)('%s', (_name, text) => {
    const start = performance.now()
    for (const lastNumber of [false, true]) {
      const { answer } = extractFinalAnswer(text, { lastNumber })
      if (answer !== undefined) {
        answerRefusal(answer, '1')
        compareMath(answer, '1')
      }
    }
    expect(performance.now() - start).toBeLessThan(BUDGET_MS * (text.length / SIZE))
  })
})
