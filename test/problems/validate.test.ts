import { describe, expect, it } from 'vitest'
import { parseProblem } from '../../src/problems/validate.js'

describe('parseProblem', () => {
  it('reads math and code records in the shared datasets schema', () => {
    expect(parseProblem({ id: 'a', source: 's', problem: 'p', answer: '5' })).toEqual({
      problem: { kind: 'math', id: 'a', source: 's', problem: 'p', answer: '5', meta: undefined },
    })
    expect(parseProblem({ id: 'a', source: 's', problem: 'p', answer: 27 })).toMatchObject({
      problem: { answer: '27' },
    })
    expect(
      parseProblem({
        id: 'h',
        source: 'humaneval',
        problem: 'def f():',
        tests: 'def check(c): pass',
        entry_point: 'f',
      }),
    ).toMatchObject({ problem: { kind: 'code', entryPoint: 'f', tests: 'def check(c): pass' } })
  })

  it.each([
    [[1, 2], 'expected a JSON object'],
    [{ source: 's', problem: 'p', answer: '1' }, 'missing "id"'],
    [{ id: 'a', source: 's', answer: '1' }, 'missing "problem"'],
    [{ id: 'a', problem: '  ', answer: '1' }, '"problem" must be a non-empty string'],
    [{ id: 'a', problem: 'p' }, 'missing "answer" (or "tests" + "entry_point" for code)'],
    [{ id: 'a', problem: 'p', answer: '' }, '"answer" must be a non-empty string or a number'],
    [{ id: 'a', problem: 'p', answer: null }, '"answer" must be a non-empty string or a number'],
    [
      { id: 'a', problem: 'p', tests: 'x', entry_point: 'not valid' },
      '"entry_point" must be a Python identifier',
    ],
    [{ id: 'a', problem: 'p', entry_point: 'f' }, '"tests" must be a non-empty string'],
    [{ id: 'a', problem: 'p', answer: '1', meta: 'x' }, '"meta" must be an object'],
  ])('rejects %j: %s', (value, error) => {
    expect(parseProblem(value)).toEqual({ error })
  })
})
