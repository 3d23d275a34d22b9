import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULT_FILTER_POLICY } from '../../src/filter/options.js'
import { parseTrajectory } from '../../src/filter/parse-trajectory.js'
import { scoreTrajectory, segmentsFromText } from '../../src/filter/scores.js'
import { rejectReason, toSeedRecord } from '../../src/filter/select.js'
import type { FilterTrajectory, TrajectoryScores } from '../../src/filter/types.js'

const fixture = (name: string): FilterTrajectory[] =>
  readFileSync(`test/fixtures/trajectories/${name}.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((line, i) => parseTrajectory({ value: JSON.parse(line), file: name, line: i + 1 }))

const hinted = fixture('hinted')
const find = (problemId: string, sample: number) =>
  hinted.find((t) => t.problemId === problemId && t.sample === sample)!

/** Scores as if graded: the fixtures' correctness is whether the boxed answer matches. */
const scored = (trajectory: FilterTrajectory, correct = true) =>
  scoreTrajectory(trajectory, { correct, predicted: 'x' }).scores

const context = { contaminated: false, plain: { runs: 2, correct: 0 }, finishReason: 'stop' }

describe('rejectReason', () => {
  it('keeps a correct hinted trajectory with a tool call where the plain runs all failed', () => {
    expect(rejectReason(scored(find('p1', 0)), context, DEFAULT_FILTER_POLICY)).toBeNull()
  })

  it('hint-gain: rejects where a plain run was right, or where there is no plain run', () => {
    const trajectory = scored(find('p2', 0))
    expect(
      rejectReason(trajectory, { ...context, plain: { runs: 2, correct: 1 } }, DEFAULT_FILTER_POLICY),
    ).toBe('no-hint-gain')
    expect(rejectReason(trajectory, { ...context, plain: undefined }, DEFAULT_FILTER_POLICY)).toBe(
      'no-plain-run',
    )
    const lenient = { ...DEFAULT_FILTER_POLICY, maxPlainAccuracy: 0.5 }
    expect(rejectReason(trajectory, { ...context, plain: { runs: 2, correct: 1 } }, lenient)).toBeNull()
  })

  it('correct: needs no plain run, but still the other rules', () => {
    const correctRule = { ...DEFAULT_FILTER_POLICY, rule: 'correct' as const }
    expect(rejectReason(scored(find('p2', 0)), { ...context, plain: undefined }, correctRule)).toBeNull()
    expect(rejectReason(scored(find('p3', 0)), { ...context, plain: undefined }, correctRule)).toBe(
      'tool-cap',
    )
  })

  it.each([
    ['incorrect', 'p1', 3, { correct: false }],
    ['no-tool-use', 'p4', 0, {}],
    ['repetitive', 'p4', 1, {}],
    ['over-long', 'p1', 0, { chars: 40_000 }],
    ['malformed', 'p1', 0, { answered: false }],
    ['malformed', 'p1', 0, { thinkingClosed: false }],
  ] as const)('%s: %s#%s', (reason, problemId, sample, override) => {
    const scores: TrajectoryScores = { ...scored(find(problemId, sample)), ...override }
    expect(rejectReason(scores, context, DEFAULT_FILTER_POLICY)).toBe(reason)
  })

  it('rejects a trajectory cut off by the token limit, and a contaminated one first of all', () => {
    expect(
      rejectReason(scored(find('p1', 0)), { ...context, finishReason: 'length' }, DEFAULT_FILTER_POLICY),
    ).toBe('malformed')
    expect(
      rejectReason(scored(find('p1', 3), false), { ...context, contaminated: true }, DEFAULT_FILTER_POLICY),
    ).toBe('contaminated')
  })
})

describe('scoreTrajectory', () => {
  it('counts tool calls, failed executions, used outputs, repeated code and closed thinking', () => {
    const text =
      'Try.\n```python\nprint(6*7)\n```\n```output\n42\n```\nSo 42. Again:\n```python\nprint(6*7)\n```\n' +
      '```output\nTraceback (most recent call last):\nZeroDivisionError: x\n```\n</think>\n\\boxed{42}'
    const trajectory = {
      ...find('p1', 0),
      text,
      segments: segmentsFromText(text),
      toolCalls: 2,
    }
    const scores = scored(trajectory)
    expect(scores).toMatchObject({
      toolCalls: 2,
      failedExecutions: 1,
      outputsUsed: 1,
      repeatedCode: 1,
      thinkingClosed: true,
      chars: text.length,
    })
    expect(scored({ ...trajectory, text: text.replace('</think>', '') }).thinkingClosed).toBe(false)
  })
})

describe('toSeedRecord', () => {
  const trajectory = find('p4', 3)

  it('writes the prompt messages plus the whole trajectory, with <think> opened and output spans marked', () => {
    const record = toSeedRecord(trajectory, false)
    const assistant = record.messages.at(-1)!
    expect(record.messages.slice(0, -1)).toEqual(trajectory.messages)
    expect(assistant).toEqual({ role: 'assistant', content: `<think>\n${trajectory.text}` })
    expect(record.outputSpans).toHaveLength(2)
    for (const [start, end] of record.outputSpans)
      expect(assistant.content.slice(start, end)).toMatch(/^```output\n9\n```\n$/)
    expect(record.hints).toHaveLength(1)
    expect(assistant.content.slice(record.hints[0]!.offset)).toMatch(
      /^ maybe using Python here is a good idea/,
    )
  })

  it('--drop-hints removes the hint text and keeps the spans on the output', () => {
    const record = toSeedRecord(trajectory, true)
    const content = record.messages.at(-1)!.content
    expect(content).not.toContain('maybe using Python')
    expect(record.hints).toEqual([])
    for (const [start, end] of record.outputSpans)
      expect(content.slice(start, end)).toMatch(/^```output\n9\n```\n$/)
  })
})

describe('parseTrajectory', () => {
  const line = (value: unknown) => parseTrajectory({ value, file: 'in.jsonl', line: 3 })

  it('names the file, line and field of a bad record', () => {
    expect(() => line({ text: 'x', answer: '1' })).toThrow('in.jsonl:3: missing "problemId"')
    expect(() => line({ problemId: 'a', answer: '1' })).toThrow('in.jsonl:3: missing "text"')
    expect(() => line({ problemId: 'a', text: 'x' })).toThrow('in.jsonl:3: missing "answer" (or "tests")')
    expect(() =>
      line({ problemId: 'a', text: 'xy', answer: '1', segments: [{ kind: 'model', text: 'x' }] }),
    ).toThrow('do not concatenate')
  })

  it('derives segments from ```output blocks when a record has none', () => {
    const text = 'a\n```output\n1\n```\nb'
    const trajectory = line({ problemId: 'a', text, answer: '1' })
    expect(trajectory.segments.map((s) => s.kind)).toEqual(['model', 'output', 'model'])
    expect(trajectory.toolCalls).toBe(1)
  })
})
