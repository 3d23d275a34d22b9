import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { Grader } from '../../src/grading/grader.js'
import { latexToSympy } from '../../src/grading/latex-to-sympy.js'
import { compareMath } from '../../src/grading/math-equal.js'
import { normalizeAnswer } from '../../src/grading/normalize-answer.js'
import { SandboxPool } from '../../src/sandbox/pool.js'

const EQUAL: [string, string][] = [
  ['5', '5'],
  ['5.0', '5'],
  ['005', '5'],
  ['-3', '-3.00'],
  ['0.5', '\\frac{1}{2}'],
  ['1/2', '\\dfrac12'],
  ['\\tfrac{3}{4}', '0.75'],
  ['-\\frac{35}{9}', '\\frac{-35}{9}'],
  ['\\frac{9}{19}', '\\frac9{19}'],
  ['\\frac{5}{9}', '\\frac 59'],
  ['50\\%', '50'],
  ['90', '90^\\circ'],
  ['90^{\\circ}', '90'],
  ['18.90', '\\$18.90'],
  ['10080', '10,\\!080'],
  ['11111111100', '11,\\! 111,\\! 111,\\! 100'],
  ['58500', '58,500'],
  ['x=5', '5'],
  ['5', 'x = 5'],
  ['864', '864 \\mbox{ inches}^2'],
  ['5.4', '5.4 \\text{ cents}'],
  ['15', '15\\mbox{ cm}^2'],
  ['\\frac{270}{7}', '\\frac{270}7\\text{ degrees}'],
  ['Evelyn', '\\text{Evelyn}'],
  ['\\textbf{even}', '\\text{even}'],
  ['C', '\\text{(C)}'],
  ['(E)', '\\text{(E)}'],
  ['1.8', '1\\frac{4}{5}'],
  ['137.5', '137 \\frac{1}{2}'],
  ['0.0000672', '.0000672'],
  ['.35625', '0.35625'],
  ['(3,\\frac{\\pi}{2})', '\\left( 3, \\frac{\\pi}{2} \\right)'],
  ['(6, 31, -1)', '(6,31,-1)'],
  ['(3,4]', '(3,4]'],
  ['[-2,7]', 'x \\in [-2,7]'],
  ['(-\\infty,0]', '(-\\infty, 0]'],
  ['(0,9)\\cup(9,36)', '(0,9) \\cup (9,36)'],
  ['1,-2', '-2,1'],
  ['x=1, x=-2', '1,-2'],
  ['3, 5, 7', '7,5,3'],
  ['\\{1+\\sqrt{5},1-\\sqrt{5},-2\\}', '\\{1\\pm\\sqrt{5},-2\\}'],
  ['3+2\\sqrt2, 3-2\\sqrt2', '3 \\pm 2 \\sqrt{2}'],
  ['\\begin{pmatrix}-1\\\\0\\end{pmatrix}', '\\begin{pmatrix} -1 \\\\ 0 \\end{pmatrix}'],
  ['(-1/3, 2/3, 5/3)', '\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}'],
  ['52_8', '52_{8}'],
  ['\\sqrt{51}', '\\sqrt{51}'],
  ['11\\sqrt{2}', '11\\sqrt2'],
  ['$7$', '7'],
  ['\\(7\\)', '7'],
  ['\\boxed7', '\\boxed7'],
  // separators and thousands, as the peers' suites spell them
  ['14{,}916', '14916'],
  ['1\\,000', '1000'],
  ['3,600', '3600'],
  ['-2 \\quad\\text{and}\\quad 1', '-2, 1'],
  ['2 \\text{ or } 3', '2,3'],
  ['\\cfrac{1}{2}', '0.5'],
  ['\\textnormal{east}', '\\text{east}'],
  ['(1, +\\infty)', '(1,\\infty)'],
  ['-\\infty', '-\\infty'],
  ['(p,q)=(3,2)', '(3,2)'],
  // solutions named variable by variable, one group each
  // the same name on both sides: its values compare
  ['x_1 = \\frac{1}{2}', 'x_1 = 0.5'],
  ['(5,2),(7,2)', 'p=5,q=2;p=7,q=2'],
  ['(7,2),(5,2)', 'p=5, q=2; p=7, q=2'],
  ['f(x)=1', '1'],
  ['-2 \\le x \\le 7', 'x \\in [-2,7]'],
  ['-2 \\leq x < 7', 'x \\in [-2,7)'],
  ['z \\in [-\\frac{3}{2},-1] \\cup [1,\\frac{3}{2}]', '1\\leq|z|\\leq \\frac{3}{2}'],
  ['-3 < x < 3', '0 \\le |x| < 3'],
]

const NOT_EQUAL: [string, string][] = [
  ['(5,2),(7,2)', 'p=5,q=2;q=7,p=2'],
  ['x \\in (-2,7)', 'x \\in [-2,7]'],
  ['a_n = 3', 'a_n = 4'],
  ['z \\in [-2,2]', '1 \\le |z| \\le 2'],
  ['z \\in [-2,-1) \\cup (1,2]', '1 \\le |z| \\le 2'],
  ['6', '5'],
  ['-5', '5'],
  ['0.5', '5'],
  ['\\frac{2}{1}', '\\frac{1}{2}'],
  ['0.33', '\\frac{1}{3}'],
  // A percent sign is the number's unit (issue 29): 50% is 50, never 0.5.
  ['50%', '0.5'],
  ['0.5', '50\\%'],
  ['5', '50\\%'],
  ['1000000001', '1000000000'],
  ['91', '90^\\circ'],
  ['528', '52_8'],
  ['42', '52_8'],
  ['(3,4)', '(3,4]'],
  ['[1,2]', '(1,2)'],
  ['(1,2,3)', '(1,2)'],
  ['1,2', '1,2,3'],
  ['1,2', '1,3'],
  ['(2,1)', '(1,2)'],
  ['Navin', '\\text{Evelyn}'],
  ['odd', '\\text{even}'],
  ['B', '\\text{(C)}'],
  ['(0,9)', '(0,9) \\cup (9,36)'],
  ['\\begin{pmatrix}1\\\\0\\end{pmatrix}', '\\begin{pmatrix} -1 \\\\ 0 \\end{pmatrix}'],
  ['', '5'],
  ['\\unknowncommand{5}', '7'],
  // nothing non-finite is close to anything else, and separators never merge digits
  ['\\infty', '42'],
  ['\\infty', '\\frac{3}{4}'],
  ['\\infty', 'x^2+1'],
  ['\\infty', '-\\infty'],
  ['(1, +\\infty)', '(1, -\\infty)'],
  ['oo', '7'],
  ['2 \\text{ or } 3', '23'],
  ['12\\text{ and }13', '1213'],
  ['3, 600', '3600'],
  ['3600', '3, 600'],
  ['a=b', '\\text{(B)}'],
]

/** Pairs only sympy settles: [predicted, reference, equal]. */
const SYMBOLIC: [string, string, boolean][] = [
  ['\\frac{1}{\\sqrt{3}} \\approx 0.577', '\\frac{\\sqrt3}{3}', true],
  ['2\\sqrt{2}', '\\sqrt{8}', true],
  ['\\frac{\\sqrt{3}}{3}', '\\frac{1}{\\sqrt{3}}', true],
  ['x^2+2x+1', '(x+1)^2', true],
  ['(a+5)(b+2)', 'ab+2a+5b+10', true],
  ['2(k+1)', '2k+2', true],
  ['6-5i', '-5i+6', true],
  ['\\frac{1}{\\tan x}', '\\cot x', true],
  ['2x + 3 = y', 'y = 2x + 3', true],
  ['10x-14y+22z+8=0', '5x - 7y + 11z + 4 = 0', true],
  ['1.41421356', '\\sqrt{2}', true],
  ['\\pi/2', '\\frac{\\pi}{2}', true],
  // Matrices written as a sum, difference, product or multiple evaluate cell by cell; shapes must fit.
  [
    '\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}',
    '\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}',
    true,
  ],
  [
    '\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}',
    '\\begin{pmatrix}6 & 8 \\\\ 10 & 13\\end{pmatrix}',
    false,
  ],
  [
    '\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} \\begin{pmatrix}0 & 1 \\\\ 1 & 0\\end{pmatrix}',
    '\\begin{pmatrix}2 & 1 \\\\ 4 & 3\\end{pmatrix}',
    true,
  ],
  [
    '\\begin{pmatrix}0 & 1 \\\\ 1 & 0\\end{pmatrix} \\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}',
    '\\begin{pmatrix}2 & 1 \\\\ 4 & 3\\end{pmatrix}',
    false,
  ],
  [
    '2 \\begin{pmatrix}1 & x \\\\ 3 & 4\\end{pmatrix} - \\begin{pmatrix}2 & x \\\\ 6 & 8\\end{pmatrix}',
    '\\begin{pmatrix}0 & x \\\\ 0 & 0\\end{pmatrix}',
    true,
  ],
  [
    '\\begin{pmatrix}1 & 2\\end{pmatrix} + \\begin{pmatrix}5 \\\\ 6\\end{pmatrix}',
    '\\begin{pmatrix}6 & 8\\end{pmatrix}',
    false,
  ],
  ['288\\pi', '288 \\pi', true],
  ['\\frac{11+9a}{20}', '\\frac{11}{20}+\\frac{9a}{20}', true],
  ['x^2', 'x^3', false],
  ['2k+1', '2k+2', false],
  ['6+5i', '6-5i', false],
  ['1.41', '\\sqrt{2}', false],
  ['y = 2x - 3', 'y = 2x + 3', false],
  ['\\frac{\\pi}{3}', '\\frac{\\pi}{2}', false],
  ['9^{9^{9^{9}}}', '1', false],
  ['2x+3', 'y = 2x + 3', true],
  ['x', 'y = 2x + 3', false],
  ['(5,2),(7,3)', 'p=5,q=2;p=7,q=2', false],
  ['a_n = 2^{n+1}', 'a_n = 2 \\cdot 2^n', true],
  ['a_n = 2^{n+1}', 'a_n = 2^n + 1', false],
  // sums, products and subscripted letters: the index is bound, i in a body is the index
  ['F_n = \\sum_{k=0}^{n-1} F_{n-k-1} F_k', 'F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1}', true],
  ['F_n = \\sum_{k=0}^{n-1} F_k F_{n-k}', 'F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1}', false],
  ['\\sum_{j=0}^{n} a_j', '\\sum_{k=0}^{n} a_k', true],
  ['\\sum_{k=1}^{n} k', '\\frac{n(n+1)}{2}', true],
  ['\\sum_{k=1}^{n} k^2', '\\frac{n(n+1)}{2}', false],
  ['\\prod_{i=1}^{n} i', 'n!', true],
  ['\\sum_{k=1}^{\\infty} \\frac{1}{k^2}', '\\frac{\\pi^2}{6}', false], // an infinity spelt is only itself
  ['x_1^2 - x_2^2', '(x_1 - x_2)(x_1 + x_2)', true],
  ['a_{n+1} - a_n', 'a_{n} - a_{n+1}', false],
  ['a_{ij}', 'a_{ji}', false],
]

describe('compareMath, settled without sympy', () => {
  it.each(EQUAL)('%s equals %s', (predicted, reference) => {
    expect(compareMath(predicted, reference)).toBe(true)
  })

  it.each(NOT_EQUAL)('%s differs from %s', (predicted, reference) => {
    expect(compareMath(predicted, reference)).toBe(false)
  })

  it('leaves expressions to sympy as checks', () => {
    expect(compareMath('2\\sqrt{2}', '\\sqrt{8}')).toEqual([{ kind: 'expr', a: '2sqrt(2)', b: 'sqrt(8)' }])
  })

  it('does not evaluate a product of many big matrices (its cells would grow past any memory): not equal', () => {
    const row = Array.from({ length: 8 }, () => '123456789').join(' & ')
    const big = `\\begin{pmatrix}${Array.from({ length: 8 }, () => row).join(' \\\\ ')}\\end{pmatrix}`
    for (const factors of [3, 30]) expect(compareMath(Array(factors).fill(big).join(' '), big)).toBe(false)
  })
})

describe('the grader on MATH-500 reference answers, rewritten', () => {
  const answers = readFileSync('../shared/datasets/math500.jsonl', 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).answer as string)
  const pool = new SandboxPool({ workers: 2 })
  const grader = new Grader(pool)
  afterAll(() => pool.close())

  it('finds every reference equal to itself and to other spellings of it', async () => {
    const pairs = answers.flatMap((answer) => rewrites(answer).map((form) => [form, answer] as const))
    expect(pairs.length).toBeGreaterThan(900)
    const results = await Promise.all(pairs.map(([form, answer]) => grader.mathEqual(form, answer)))
    const failed = pairs.filter((_, i) => !results[i])
    expect(failed).toEqual([])
  }, 120_000)

  it('finds perturbed answers and other problems’ answers different', async () => {
    const pairs = answers.flatMap((answer, i) => {
      const other = answers[(i + 1) % answers.length]!
      // Neighbouring answers can be the same value ("x=5" and "5"): those are not a "different" case.
      const distinct =
        compareMath(other, answer) !== true && normalizeAnswer(other) !== normalizeAnswer(answer)
      return [...perturbations(answer), ...(distinct ? [other] : [])].map((form) => [form, answer] as const)
    })
    expect(pairs.length).toBeGreaterThan(500)
    const results = await Promise.all(pairs.map(([form, answer]) => grader.mathEqual(form, answer)))
    const wronglyEqual = pairs.filter((_, i) => results[i])
    expect(wronglyEqual).toEqual([])
  }, 120_000)

  it.each(SYMBOLIC)('%s vs %s -> %s (sympy in the sandbox)', async (predicted, reference, equal) => {
    expect(await grader.mathEqual(predicted, reference)).toBe(equal)
  })

  it('never hands sympy a name Python could call, and sympy refuses one anyway', async () => {
    // Letters only, so they pass any character filter; in parse_expr's namespace these are builtins.
    const attack = 'eval(chr(49))+getattr(x,y)'
    const converted = latexToSympy(attack)
    expect(converted).toBeDefined()
    expect(converted!.match(/[a-zA-Z]{2,}/g) ?? []).toEqual([])
    expect(await grader.mathEqual(attack, '1')).toBe(false)
    // The checker itself, given the raw text as a forged check, refuses it without running it: run,
    // eval("1") would be 1 and the check would pass.
    expect(await grader.symbolic.check({ kind: 'expr', a: 'eval(chr(49))', b: '1' })).toBe(false)
    expect(await grader.symbolic.check({ kind: 'expr', a: '1', b: '1' })).toBe(true)
    // A divergent sum evaluates to oo, which equals nothing spelt otherwise, in the checker too.
    expect(await grader.symbolic.check({ kind: 'expr', a: 'sum(k,1,oo) 1/k', b: 'oo' })).toBe(false)
    expect(await grader.symbolic.check({ kind: 'expr', a: 'sum(k,1,oo) 1/k**2', b: 'pi**2/6' })).toBe(true)
    // a subscript only follows a letter, and the operators take an index letter
    expect(await grader.symbolic.check({ kind: 'expr', a: 'sum_(1)', b: 'sum_(1)' })).toBe(false)
    expect(await grader.symbolic.check({ kind: 'expr', a: 'sum(2,1,3) 1', b: '3' })).toBe(false)
  })

  it('says why an answer is not correct, and a check sympy could not finish is never correct', async () => {
    const math = (answer: string) => ({ kind: 'math' as const, answer })
    expect(await grader.grade('no box here', math('\\frac{1}{2}'))).toMatchObject({
      correct: false,
      reason: 'no answer',
    })
    expect(await grader.grade('\\boxed{x+2}', math('x+1'))).toMatchObject({
      correct: false,
      reason: 'not equal',
    })
    const slow = await grader.grade('\\boxed{9^{9^{9^{9}}}}', math('1'))
    expect(slow.correct).toBe(false)
    expect(slow.reason).toMatch(/^sympy check failed: /)
    expect(await grader.grade('\\boxed{x+1}', math('1+x'))).toEqual({ predicted: 'x+1', correct: true })
  })

  it('keeps a batch honest when one check in it is hostile: the others stay wrong', async () => {
    // Each of these, were it evaluated as Python, would print a verdict of all-true for the batch.
    const hostile = [
      '__import__("builtins").print("[true, true, true, true, true, true, true, true]")',
      'exec("import sys; sys.stdout.write(chr(91))")',
      'x.__class__.__base__.__subclasses__()',
      'lambda: 1',
    ]
    const checks = [
      ...hostile.map((a) => ({ kind: 'expr' as const, a, b: '1' })),
      ...['2', 'x+1', 'sqrt(2)', '(1, 2)'].map((a) => ({ kind: 'expr' as const, a, b: '3' })),
    ]
    const results = await Promise.all(checks.map((check) => grader.symbolic.check(check)))
    expect(results).toEqual(checks.map(() => false))
  })
})

/** Other ways a model writes the same answer. */
function rewrites(answer: string): string[] {
  const forms = [
    answer,
    `$${answer}$`,
    answer.replace(/(?<!\\[a-zA-Z]+) /g, ''),
    answer.replace(/\\left|\\right/g, ''),
  ]
  const integer = /^-?\d+$/.exec(answer)
  if (integer) {
    const n = Number(answer)
    forms.push(`${n}.0`, `\\text{${n}}`, `${n} `)
    if (Math.abs(n) >= 1000) forms.push(n.toLocaleString('en-US'))
  }
  const fraction = /^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.exec(answer)
  if (fraction) {
    const [, sign, a, b] = fraction
    forms.push(
      `${sign}${a}/${b}`,
      `${sign}\\dfrac{${a}}{${b}}`,
      `${sign}\\frac{${Number(a) * 3}}{${Number(b) * 3}}`,
    )
    const value = Number(a) / Number(b)
    if (/^\d+(\.\d{1,6})?$/.test(String(value))) forms.push(`${sign}${value}`)
  }
  const degrees = /^(\d+)\^\\circ$/.exec(answer)
  if (degrees) forms.push(degrees[1]!, `${degrees[1]}°`)
  const text = /^\\text\{([^}]*)\}$/.exec(answer)
  if (text) forms.push(text[1]!)
  if (answer.includes('\\sqrt{')) forms.push(answer.replace(/\\sqrt\{(\d)\}/g, '\\sqrt$1'))
  return [...new Set(forms)]
}

/** Near misses that must not pass. */
function perturbations(answer: string): string[] {
  if (/^-?\d+$/.test(answer)) return [String(Number(answer) + 1), String(-Number(answer) || 1)]
  const fraction = /^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$/.exec(answer)
  if (fraction) return [`${fraction[1]}\\frac{${Number(fraction[2]) + 1}}{${fraction[3]}}`]
  return []
}
