import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractFinalAnswer } from '../../src/grading/extract-answer.js'
import { Grader } from '../../src/grading/grader.js'
import { SandboxPool } from '../../src/sandbox/pool.js'

interface PeerCase {
  source: { repo: string; path: string; test: string }
  predicted: string
  reference: string
  equal: boolean
  /** math-verify's own verdict on the case (scripts/math-verify-verdicts.py). */
  mathVerify: boolean
}

const { cases } = JSON.parse(readFileSync('test/fixtures/grading/peer-cases.json', 'utf8')) as {
  cases: PeerCase[]
}

/** Where this grader disagrees with a peer on purpose, and why. */
const DELIBERATE: Record<string, string> = {
  'hendrycks/math test_order':
    'a bare list of values is a set of solutions here, so order does not matter ("10, 4, -2" is "4, 10, -2")',
  'hendrycks/math test_decimals': 'the same: "0.1, 4, 2" and "4, .1, 2" list the same solutions',
  'QwenLM/Qwen2.5-Math TestMathEquality.test_math_equal[1]':
    "a percent sign is the number's unit: 10% is 10 (a percentage asked for as a number), never 0.1 (issue 29)",
}

interface MathVerifyCase {
  id: string
  gold: string
  pred: string
  equal: boolean
}

const mathVerify = JSON.parse(readFileSync('test/fixtures/grading/math-verify-cases.json', 'utf8')) as {
  cases: MathVerifyCase[]
}

/** Math-Verify cases where this grader disagrees on purpose. */
const MATH_VERIFY_DELIBERATE: Record<string, string> = {
  'test_all.py::test_number_extraction[2]': '"1 000": digits apart stay apart (so "2 3" is never 23)',
  'test_all.py::test_number_extraction[5]':
    '"1000,99": a comma between digits is a thousands separator or a list, never a decimal point',
  'test_all.py::test_number_extraction[6]': 'the same: "1,22" is not 1.22',
  'test_all.py::test_number_extraction[7]': 'the same: "2,74" is not 2.74',
  'test_all.py::test_number_extraction[17]': 'the same: "0,111" is not 0.111',
  'test_all.py::test_complex_math_expressions[7]':
    'numbers agree to 1e-6 relative, not to the 2 places the peer sets for this test',
  'test_all.py::test_complex_math_expressions[13]': 'the same: 2.6667 is not 8/3',
  'test_all.py::test_math_extraction_additional_cases[7]': 'a set {1,3} is not the ordered pair (1,3)',
  'test_all.py::test_set_rel_assymetry[3]':
    '-2 <= x <= 7 is x in [-2,7] (the peer needs a flag for that; issue 12 asks for it)',
  'test_strict.py::test_strict_variable_comparison[1]':
    'f(x) is not f(y): the peer allows it only with strict=False',
  'test_numina_cases.py::test_numina_cases[0]':
    'a list keeps its multiplicity: six tuples, one twice, are not the five',
  'test_numina_cases.py::test_numina_cases[19]': 'the same case again',
  'test_yujianll.py::test_string_extraction[9]': '1 - 1/e is not 1 + 1/e',
  'test_all.py::test_latex_notation[9]':
    '"1/2 \\$ = 10/9" equates two different constants: a false statement, not the value 10/9',
  'test_all.py::test_relations_math[21]': 'the same: a reference "1 = \\zzz = x = 0" is not the value 0',
  'test_all.py::test_math_extraction_edge_cases[0]':
    'issue 12\'s rule: a number in prose is read only from a final answer statement ("the probability ... is 2/3")',
  'test_all.py::test_math_extraction_additional_cases[8]':
    'the same: "increases by 100%." at the end of prose',
  'test_all.py::test_number_extraction[13]':
    'issue 29: a sentence that names two numbers ("not 10 which is 1,000.99") offers no one answer',
  'test_all.py::test_number_extraction[14]': 'the same case again',
  'test_all.py::test_number_extraction[15]': 'the same: "the number is 10 which is 1,000.99m²"',
  'test_all.py::test_number_extraction[16]': 'the same: "not it\'s not 10 it\'s 1,000.99m²"',
  'test_all.py::test_math_extraction_additional_cases[17]':
    'issue 29: boxes of 200 and 255 before the final answer 10,455 offer three answers (hedged)',
  'test_boxed.py::test_boxed[0]':
    'issue 29: the gold\'s two boxes are parted by "++++++", no list joiner: a hedge, as a completion would be',
}

/** Math-Verify cases this grader does not get yet: what it would take. */
const MATH_VERIFY_GAPS: Record<string, string> = {
  'test_numina_cases.py::test_numina_cases[24]':
    'a gold box left open and escaped twice, against "W(x)=1orW(x)=-1" (no spaces around "or")',
}

/** A gold text as a reference: what its box or answer statement says, else the text without its math delimiters. */
function referenceOf(gold: string): string {
  const delimited = /^\s*(?:\$\$|\$|\\\(|\\\[)([\s\S]*?)(?:\$\$|\$|\\\)|\\\])\s*\.?\s*$/.exec(gold)
  return extractFinalAnswer(gold).answer ?? delimited?.[1]?.trim() ?? gold.trim()
}

describe("the peers' own test cases", () => {
  const pool = new SandboxPool({ workers: 2 })
  const grader = new Grader(pool)
  afterAll(() => pool.close())
  /** This grader's verdict on each case of peer-cases.json, and on each of Math-Verify's own. */
  let verdicts: boolean[] = []
  let mathVerifyVerdicts: boolean[] = []
  beforeAll(async () => {
    verdicts = (await Promise.all(cases.map((c) => grader.mathEqual(c.predicted, c.reference)))).map(
      (verdict) => verdict === true,
    )
    const grades = await Promise.all(
      mathVerify.cases.map((c) => grader.grade(c.pred, { kind: 'math', answer: referenceOf(c.gold) })),
    )
    mathVerifyVerdicts = grades.map((grade) => grade.correct)
  }, 120_000)

  it('agree with this grader except where the disagreement is deliberate', () => {
    const disagreements = cases
      .filter((c, i) => verdicts[i] !== c.equal && !DELIBERATE[`${c.source.repo} ${c.source.test}`])
      .map((c) => `${c.source.repo} ${c.source.test}: ${c.predicted} vs ${c.reference}, peer says ${c.equal}`)
    expect(disagreements).toEqual([])
  })

  it("agree with Math-Verify's own tests, the texts extracted as a completion is", () => {
    const disagreeing = mathVerify.cases.filter((c, i) => mathVerifyVerdicts[i] !== c.equal).map((c) => c.id)
    const unexplained = disagreeing.filter((id) => !MATH_VERIFY_DELIBERATE[id] && !MATH_VERIFY_GAPS[id])
    expect(unexplained).toEqual([])
    // a gap that closes (or a deliberate case that flips) must leave these lists
    expect(
      Object.keys({ ...MATH_VERIFY_DELIBERATE, ...MATH_VERIFY_GAPS }).filter(
        (id) => !disagreeing.includes(id),
      ),
    ).toEqual([])
  })

  it('agree with the peers at least as often as math-verify does, on the cases that are not debatable', () => {
    // Per source: [this grader, math-verify] agreeing with the expectation, over the cases not listed as
    // deliberate. math-verify's verdicts on the other peers' cases are recorded in the fixture
    // (scripts/math-verify-verdicts.py); on its own tests it agrees with every expectation (its suite
    // passes at the commit the cases come from: 283 passed).
    const tally = new Map<string, { start: number; mathVerify: number; total: number }>()
    const count = (source: string, start: boolean, peer: boolean) => {
      const row = tally.get(source) ?? { start: 0, mathVerify: 0, total: 0 }
      row.total++
      row.start += Number(start)
      row.mathVerify += Number(peer)
      tally.set(source, row)
    }
    for (const [i, c] of cases.entries())
      if (!DELIBERATE[`${c.source.repo} ${c.source.test}`])
        count(c.source.repo, verdicts[i] === c.equal, c.mathVerify === c.equal)
    for (const [i, c] of mathVerify.cases.entries())
      if (!MATH_VERIFY_DELIBERATE[c.id])
        count('huggingface/Math-Verify', mathVerifyVerdicts[i] === c.equal, true)
    const rows = [...tally].map(([source, row]) => ({ source, ...row }))
    console.table(rows)
    const sum = (key: 'start' | 'mathVerify') => rows.reduce((total, row) => total + row[key], 0)
    expect(sum('start')).toBeGreaterThanOrEqual(sum('mathVerify'))
  })
})
