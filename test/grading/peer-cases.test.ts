import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { Grader } from '../../src/grading/grader.js'
import { SandboxPool } from '../../src/sandbox/pool.js'

interface PeerCase {
  source: { repo: string; path: string; test: string }
  predicted: string
  reference: string
  equal: boolean
}

const { cases } = JSON.parse(readFileSync('test/fixtures/grading/peer-cases.json', 'utf8')) as {
  cases: PeerCase[]
}

/** Where this grader disagrees with a peer on purpose, and why. */
const DELIBERATE: Record<string, string> = {
  'hendrycks/math test_order':
    'a bare list of values is a set of solutions here, so order does not matter ("10, 4, -2" is "4, 10, -2")',
  'hendrycks/math test_decimals': 'the same: "0.1, 4, 2" and "4, .1, 2" list the same solutions',
}

describe("the peers' own test cases", () => {
  const pool = new SandboxPool({ workers: 2 })
  const grader = new Grader(pool)
  afterAll(() => pool.close())

  it('agree with this grader except where the disagreement is deliberate', async () => {
    const verdicts = await Promise.all(cases.map((c) => grader.mathEqual(c.predicted, c.reference)))
    const bySource = new Map<string, { agree: number; total: number }>()
    const disagreements: string[] = []
    for (const [i, c] of cases.entries()) {
      const tally = bySource.get(c.source.repo) ?? { agree: 0, total: 0 }
      tally.total++
      if (verdicts[i] === c.equal) tally.agree++
      else if (!DELIBERATE[`${c.source.repo} ${c.source.test}`])
        disagreements.push(
          `${c.source.repo} ${c.source.test}: ${c.predicted} vs ${c.reference}, peer says ${c.equal}`,
        )
      bySource.set(c.source.repo, tally)
    }
    for (const [source, { agree, total }] of bySource)
      console.log(`agreement with ${source}: ${agree}/${total}`)
    expect(disagreements).toEqual([])
  }, 60_000)
})
