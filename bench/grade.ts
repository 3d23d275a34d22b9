/**
 * `start grade` on answers only sympy can settle: records that each need a distinct symbolic check
 * (half equal, half not), then the same records again (answers repeat across samples, so the cache
 * matters), through the real grader and sandbox workers. Two sets: factored quadratics against their
 * expansions, and MATH-500's own references against a rewritten form (equal) and a shifted one (not),
 * for every reference TypeScript cannot settle. Prints the share each path settled.
 *
 *   npm run bench:grade [-- --records 2000 --workers 2]
 */
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { Grader } from '../src/grading/grader.js'
import { compareMath } from '../src/grading/math-equal.js'
import { SandboxPool } from '../src/sandbox/pool.js'
import { argument } from './arguments.js'

const records = Number(argument('records', '2000'))
const workers = Number(argument('workers', String(cpus().length)))

/** A pair only sympy settles: the same polynomial factored and expanded, or off by one coefficient. */
function pair(k: number): { completion: string; answer: string; equal: boolean } {
  const a = (k % 97) + 2
  const b = Math.floor(k / 97) + 3
  const equal = k % 2 === 0
  const factored = `(x+${a})(x+${b})`
  const expanded = `x^2+${a + b + (equal ? 0 : 1)}x+${a * b}`
  return { completion: `</think> so \\boxed{${factored}}`, answer: expanded, equal }
}

interface Item {
  completion: string
  answer: string
  equal: boolean
}

/** MATH-500 references sympy must settle, each against `\frac{2(R)}{2}` (equal) and `(R)+1` (not). */
function math500(): Item[] {
  const answers = readFileSync('../shared/datasets/math500.jsonl', 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { answer: string }).answer)
  return (
    answers
      // A thousands separator inside the rewrite would read as a tuple: such references stay out.
      .filter((answer) => !/\d,(?:\\!)?\s*\d{3}/.test(answer))
      .filter((answer) => typeof compareMath(`\\frac{2(${answer})}{2}`, answer) !== 'boolean')
      .flatMap((answer) => [
        { completion: `</think> so \\boxed{\\frac{2(${answer})}{2}}`, answer, equal: true },
        { completion: `</think> so \\boxed{(${answer})+1}`, answer, equal: false },
      ])
  )
}

const pool = new SandboxPool({ workers })
await pool.warm()
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}; ${workers} sandbox workers`)
console.log(
  '| set | records | distinct: records/s | the same again (cached): records/s | wrong verdicts | settled by (first pass) |',
)
console.log('| --- | ---: | ---: | ---: | ---: | --- |')
for (const [name, items] of [
  ['factored vs expanded quadratics', Array.from({ length: records }, (_, k) => pair(k))],
  ['MATH-500 references, rewritten and shifted', math500()],
] as const) {
  const grader = new Grader(pool)
  const run = async () => {
    const started = performance.now()
    const grades = await Promise.all(
      items.map((item) => grader.grade(item.completion, { kind: 'math', answer: item.answer })),
    )
    const seconds = (performance.now() - started) / 1000
    const wrong = grades.filter((grade, k) => grade.correct !== items[k]!.equal).length
    return { rate: items.length / seconds, wrong }
  }
  const distinct = await run()
  const paths = { TypeScript: grader.settledWithoutSympy, ...grader.symbolic.paths }
  const total = Object.values(paths).reduce((sum, n) => sum + n, 0)
  const shares = Object.entries(paths)
    .filter(([, n]) => n > 0)
    .map(([path, n]) => `${path} ${((100 * n) / total).toFixed(1)}%`)
    .join(', ')
  const cached = await run()
  console.log(
    `| ${name} | ${items.length} | ${distinct.rate.toFixed(0)} | ${cached.rate.toFixed(0)} | ${distinct.wrong} + ${cached.wrong} | ${shares} |`,
  )
}
await pool.close()
