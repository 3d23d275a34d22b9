import { describe, expect, it } from 'vitest'
import { codeUse, hintStats, problemOutcomes } from '../../src/eval/outcomes.js'
import type { TrajectoryRecord } from '../../src/inference/types.js'

type Segment = TrajectoryRecord['segments'][number]
const model = (text: string): Segment => ({ kind: 'model', text })
const output = (text: string): Segment => ({ kind: 'output', text })
const hint = (text: string): Segment => ({ kind: 'hint', text })

function record(
  problemId: string,
  segments: Segment[],
  extra: Partial<TrajectoryRecord> = {},
): TrajectoryRecord {
  return {
    problemId,
    segments,
    text: segments.map((segment) => segment.text).join(''),
    toolCalls: segments.filter((segment) => segment.kind === 'output').length,
    hints: [],
    ...extra,
  } as TrajectoryRecord
}

describe('what a trajectory did with code', () => {
  it('counts code written that the interpreter did not run, and output the model invented', () => {
    const ran = record('p', [
      model('```python\nprint(2)\n```\n'),
      output('```output\n2\n```\n'),
      model('so 2'),
    ])
    expect(codeUse(ran)).toEqual({ unrunCode: false, inventedOutput: false })
    // no-tools mode: the block stays text and the model writes an output block itself
    const invented = record('p', [model('```python\nprint(2)\n```\n```output\n3\n```\nso 3')])
    expect(codeUse(invented)).toEqual({ unrunCode: true, inventedOutput: true })
    const prose = record('p', [model('2 + 2 = 4, no code')])
    expect(codeUse(prose)).toEqual({ unrunCode: false, inventedOutput: false })
  })
})

describe('outcomes per problem', () => {
  it('groups samples by problem in order of appearance, with the majority answer judged by equivalence', async () => {
    const graded = [
      { record: record('p1', []), kind: 'math' as const, predicted: '1/2', correct: true },
      { record: record('p2', []), kind: 'math' as const, predicted: '3', correct: false },
      { record: record('p1', []), kind: 'math' as const, predicted: '0.4', correct: false },
      { record: record('p1', []), kind: 'math' as const, predicted: '0.5', correct: true },
      { record: record('p3', []), kind: 'humaneval' as const, predicted: 'def f(): pass', correct: true },
    ]
    const value = (answer: string) =>
      answer
        .split('/')
        .map(Number)
        .reduce((a, b) => a / b)
    const same = async (a: string, b: string) => value(a) === value(b)
    expect(await problemOutcomes(graded, same)).toEqual([
      { problemId: 'p1', correct: [true, false, true], majorityCorrect: true },
      { problemId: 'p2', correct: [false], majorityCorrect: false },
      { problemId: 'p3', correct: [true], majorityCorrect: null },
    ])
  })

  it('a hedged answer casts no vote: the majority is read from the plain answers', async () => {
    const math = (predicted: string, correct: boolean, reason?: string) => ({
      record: record('p', []),
      kind: 'math' as const,
      predicted,
      correct,
      ...(reason ? { reason } : {}),
    })
    const same = async (a: string, b: string) => a === b
    // counted, the hedges' last boxes (8) would outvote the two plain right answers
    const graded = [
      math('8', false, 'hedged'),
      math('8', false, 'hedged'),
      math('8', false, 'not equal'),
      math('9', true),
      math('9', true),
    ]
    expect(await problemOutcomes(graded, same)).toEqual([
      { problemId: 'p', correct: [false, false, false, true, true], majorityCorrect: true },
    ])
  })
})

describe('hint statistics', () => {
  it('places each hint early, middle or late and counts code after it and right answers', () => {
    const hinted = record(
      'p',
      [
        model('x'.repeat(10)),
        hint('use python'),
        model('```python\n1\n```\n'),
        output('o'),
        model('y'.repeat(30)),
      ],
      {
        hints: [{ id: 'h1', category: 'c', trigger: 'connective', offset: 10 }],
      },
    )
    const late = record('p', [model('z'.repeat(50)), hint('check')], {
      hints: [{ id: 'h1', category: 'c', trigger: 'think-end', offset: 50 }],
    })
    expect(
      hintStats([
        { record: hinted, correct: true },
        { record: late, correct: false },
      ]),
    ).toEqual([
      { hint: 'h1', trigger: 'connective', position: 'early', count: 1, followedByTool: 1, correct: 1 },
      { hint: 'h1', trigger: 'think-end', position: 'late', count: 1, followedByTool: 0, correct: 0 },
    ])
  })
})
