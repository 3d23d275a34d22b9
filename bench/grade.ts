/**
 * `start grade` on answers only sympy can settle: records that each need a distinct symbolic check
 * (half equal, half not), then the same records again (answers repeat across samples, so the cache
 * matters), through the real grader and sandbox workers.
 *
 *   npm run bench:grade [-- --records 2000 --workers 2]
 */
import { cpus } from 'node:os'
import { Grader } from '../src/grading/grader.js'
import { SandboxPool } from '../src/sandbox/pool.js'

const argument = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? process.argv[at + 1]! : fallback
}
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

const pool = new SandboxPool({ workers })
await pool.warm()
const grader = new Grader(pool)
const items = Array.from({ length: records }, (_, k) => pair(k))
const run = async () => {
  const started = performance.now()
  const grades = await Promise.all(
    items.map((item) => grader.grade(item.completion, { kind: 'math', answer: item.answer })),
  )
  const seconds = (performance.now() - started) / 1000
  const wrong = grades.filter((grade, k) => grade.correct !== items[k]!.equal).length
  return { rate: records / seconds, wrong }
}
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}; ${workers} sandbox workers; ${records} records`)
const distinct = await run()
const cached = await run()
console.log(
  '| records | distinct sympy checks: records/s | the same again (cached): records/s | wrong verdicts |',
)
console.log('| ---: | ---: | ---: | ---: |')
console.log(
  `| ${records} | ${distinct.rate.toFixed(0)} | ${cached.rate.toFixed(0)} | ${distinct.wrong + cached.wrong} |`,
)
await pool.close()
