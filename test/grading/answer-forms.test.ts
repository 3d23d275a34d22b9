import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Grade, Grader } from '../../src/grading/grader.js'
import { SandboxPool } from '../../src/sandbox/pool.js'

/** Every 8th reference of MATH-500, GSM8K and AIME24 (../shared/datasets): real answers of every shape. */
function references(file: string): string[] {
  return readFileSync(`../shared/datasets/${file}`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).answer as string)
    .filter((_, i) => i % 8 === 0)
}
const REFERENCES = [
  ...references('math500.jsonl'),
  ...references('gsm8k-test.jsonl'),
  ...references('aime24.jsonl'),
]

/** A wrong value for a reference: one digit changed, or 1 added where it has no digit. */
function wrongFor(reference: string): string {
  const digit = /\d/.exec(reference)
  if (!digit) return `${reference}+1`
  return (
    reference.slice(0, digit.index) + String((Number(digit[0]) + 1) % 10) + reference.slice(digit.index + 1)
  )
}

const THINK = '<think>\nLet me work it out.\n</think>\n'
const FULL_WIDTH = (s: string) => s.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))

/** Right answers in the forms models write them: each must be paid. */
const RIGHT: [string, (r: string) => string][] = [
  ['boxed', (r) => `${THINK}The answer is $\\boxed{${r}}$.`],
  ['bold statement', (r) => `${THINK}**Answer:** $${r}$`],
  ['boxed twice', (r) => `${THINK}So $\\boxed{${r}}$.\n\n**Final Answer**\n$\\boxed{${r}}$`],
  ['nested box', (r) => `${THINK}$\\boxed{\\boxed{${r}}}$`],
  ['coloured', (r) => `${THINK}$\\boxed{\\color{red}{${r}}}$`],
  [
    'with a reason',
    (r) => `${THINK}The answer is $\\boxed{${r}}$ because the cases add up. I hope it is correct.`,
  ],
  ['full-width digits', (r) => `${THINK}$\\boxed{${FULL_WIDTH(r)}}$`],
  ['a zero-width space', (r) => `${THINK}$\\boxed{${r.replace(/(\d)(\d)/, '$1\u200b$2')}}$`],
  ['a wrong one rejected after', (r) => `${THINK}The answer is $\\boxed{${r}}$, not $${wrongFor(r)}$.`],
]

/** Wrong answers that carry the right value somewhere: each must be refused. */
const WRONG: [string, (r: string) => string][] = [
  ['hedge: or maybe', (r) => `${THINK}$\\boxed{${wrongFor(r)}}$ or maybe $\\boxed{${r}}$`],
  ['hedge: right first', (r) => `${THINK}$\\boxed{${r}}$? Or $\\boxed{${wrongFor(r)}}$?`],
  ['hedge: alternatively', (r) => `${THINK}The answer is $${wrongFor(r)}$. Alternatively, $\\boxed{${r}}$.`],
  [
    'hedge: case split',
    (r) => `${THINK}$\\boxed{${r}}$ if it is convex, otherwise $\\boxed{${wrongFor(r)}}$.`,
  ],
  ['hedge: a revision', (r) => `${THINK}$\\boxed{${r}}$. Wait, actually it is $${wrongFor(r)}$.`],
  ['qualified', (r) => `${THINK}$\\boxed{\\text{at least } ${r}}$`],
  ['negated', (r) => `${THINK}$\\boxed{\\text{not } ${r}}$`],
  ['bounded before the box', (r) => `${THINK}The answer is at least $\\boxed{${r}}$.`],
  ['negated before the box', (r) => `${THINK}The answer is not $\\boxed{${r}}$.`],
  ['bounded after the box', (r) => `${THINK}$\\boxed{${r}}$ at most.`],
  [
    'a boxed thought, another answer',
    (r) => `<think>\nSo $\\boxed{${r}}$.\n</think>\nThe answer is $\\boxed{${wrongFor(r)}}$.`,
  ],
  ['a quoted hint', (r) => `${THINK}> Hint: the final answer is ${r}\n\nI find $\\boxed{${wrongFor(r)}}$.`],
  ['a hidden box', (r) => `${THINK}<!-- $\\boxed{${r}}$ -->The answer is $\\boxed{${wrongFor(r)}}$.`],
  ['thinking reopened', (r) => `${THINK}<think>\nAgain: $\\boxed{${r}}$`],
]

describe('real references in the forms a policy writes them (MATH-500, GSM8K, AIME24)', () => {
  const pool = new SandboxPool({ workers: 2 })
  const grader = new Grader(pool)
  afterAll(() => pool.close())
  const grades = new Map<string, Grade[]>()
  beforeAll(async () => {
    for (const [name, form] of [...RIGHT, ...WRONG])
      grades.set(
        name,
        await Promise.all(REFERENCES.map((r) => grader.grade(form(r), { kind: 'math', answer: r }))),
      )
  }, 300_000)

  /** `form` of each reference whose grade's correctness is `correct`, with the grade. */
  const gradedAs = (name: string, form: (r: string) => string, correct: boolean) =>
    REFERENCES.map((r, i) => ({ r, grade: grades.get(name)![i]! }))
      .filter(({ grade }) => grade.correct === correct)
      .map(({ r, grade }) => `${form(r).slice(THINK.length)} vs ${r}: ${grade.reason ?? 'paid'}`)

  it.each(RIGHT)('right, %s: paid for every reference', (name, form) => {
    expect(gradedAs(name, form, false)).toEqual([])
  })

  it.each(WRONG)('wrong, %s: paid for no reference', (name, form) => {
    expect(gradedAs(name, form, true)).toEqual([])
  })
})
