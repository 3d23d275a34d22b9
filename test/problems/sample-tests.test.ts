import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sampleTests } from '../../src/problems/sample-tests.js'
import type { Problem } from '../../src/problems/types.js'

describe('sampleTests', () => {
  it("is a code problem's docstring examples, never its hidden tests", () => {
    const first = JSON.parse(readFileSync('../shared/datasets/humaneval.jsonl', 'utf8').split('\n')[0]!)
    const problem: Problem = {
      kind: 'code',
      id: first.id,
      source: 'humaneval',
      problem: first.problem,
      tests: first.tests,
      entryPoint: first.entry_point,
    }
    expect(sampleTests(problem)).toBe(
      '>>> has_close_elements([1.0, 2.0, 3.0], 0.5)\nFalse\n>>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\nTrue',
    )
    expect(sampleTests(problem)).not.toContain('assert')
  })

  it('is undefined without examples, and for math', () => {
    const bare: Problem = {
      kind: 'code',
      id: 'x',
      source: 's',
      problem: 'def f(x):\n    """Add one."""\n',
      tests: '',
      entryPoint: 'f',
    }
    expect(sampleTests(bare)).toBeUndefined()
    expect(
      sampleTests({ kind: 'math', id: 'm', source: 's', problem: '>>> 1 + 1', answer: '2' }),
    ).toBeUndefined()
  })
})
