import { describe, expect, it } from 'vitest'
import { readProblems } from '../../src/problems/read-problems.js'

const collect = async <T>(items: AsyncIterable<T>) => {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

describe('readProblems', () => {
  it('streams files and globs in order, with their locations', async () => {
    const problems = await collect(readProblems(['test/fixtures/problems/{math,code}.jsonl']))
    expect(problems.map((p) => p.problem.id)).toEqual(['c-1', 'm-1', 'm-2', 'm-3'])
    expect(problems[3]!.at).toEqual({ file: 'test/fixtures/problems/math.jsonl', line: 4 })
  })

  it('stops at a bad record with file:line', async () => {
    await expect(collect(readProblems(['test/fixtures/problems/bad-line3.jsonl']))).rejects.toThrow(
      'test/fixtures/problems/bad-line3.jsonl:3: missing "problem"',
    )
  })

  it('skips bad records with skipInvalid, reporting each', async () => {
    const reported: string[] = []
    const problems = await collect(
      readProblems(['test/fixtures/problems/bad-line3.jsonl'], {
        skipInvalid: true,
        onInvalid: (m) => reported.push(m),
      }),
    )
    expect(problems.map((p) => p.problem.id)).toEqual(['b-1', 'b-2', 'b-4'])
    expect(reported).toEqual(['test/fixtures/problems/bad-line3.jsonl:3: missing "problem"'])
  })

  it('rejects duplicate ids across files', async () => {
    await expect(
      collect(readProblems(['test/fixtures/problems/math.jsonl', 'test/fixtures/problems/math.jsonl'])),
    ).rejects.toThrow('math.jsonl:1: duplicate id "m-1" (first at test/fixtures/problems/math.jsonl:1)')
  })

  it('names a missing file and a glob that matches nothing', async () => {
    await expect(collect(readProblems(['nope.jsonl']))).rejects.toThrow('nope.jsonl: no such file')
    await expect(collect(readProblems(['test/fixtures/*.nothing']))).rejects.toThrow('no file matches')
  })

  it('reads every shared benchmark set', async () => {
    const problems = await collect(
      readProblems(['../shared/datasets/{aime24,amc23,math500,humaneval}.jsonl']),
    )
    expect(problems).toHaveLength(30 + 40 + 500 + 164)
    expect(problems.filter((p) => p.problem.kind === 'code')).toHaveLength(164)
  })
})
