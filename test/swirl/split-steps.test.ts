import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { type SplittableTrajectory, splitSteps, trajectoryError } from '../../src/swirl/split-steps.js'

const trajectories = ['hinted', 'plain'].flatMap((name) =>
  readFileSync(`test/fixtures/trajectories/${name}.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SplittableTrajectory),
)

describe('splitSteps', () => {
  it('is exact: each state + action + output is the next state, the last rebuilds the trajectory', () => {
    expect(trajectories.length).toBeGreaterThan(10)
    for (const trajectory of trajectories) {
      const steps = splitSteps(trajectory)
      const outputs = trajectory.segments.filter((segment) => segment.kind === 'output')
      expect(steps).toHaveLength(outputs.length + 1)
      expect(steps.map((step) => step.toolOutput)).toEqual([...outputs.map((segment) => segment.text), null])
      for (const [index, step] of steps.entries()) {
        expect(step).toMatchObject({ step: index, steps: steps.length, final: index === steps.length - 1 })
        expect(step.state.prompt).toBe(trajectory.prompt)
        const next = steps[index + 1]
        if (next) expect(step.state.text + step.action + step.toolOutput).toBe(next.state.text)
        else expect(step.state.text + step.action).toBe(trajectory.text)
        // A step that ends in a tool call ends with the code block the interpreter ran.
        if (!step.final) expect(step.action.trimEnd()).toMatch(/```python\n[\s\S]*```$/)
      }
    }
  })

  it('marks the hints the loop inserted inside an action, and carries the reference', () => {
    const hinted = trajectories.find((trajectory) =>
      trajectory.segments.some((segment) => segment.kind === 'hint'),
    )!
    const hints = hinted.segments.filter((segment) => segment.kind === 'hint').map((segment) => segment.text)
    const marked = splitSteps(hinted).flatMap((step) =>
      step.insertedSpans.map(([start, end]) => step.action.slice(start, end)),
    )
    expect(marked).toEqual(hints)
    expect(splitSteps(hinted)[0]).toMatchObject({
      answer: hinted.answer,
      trajectory: `${hinted.run}/${hinted.problemId}#${hinted.sample}`,
    })
  })

  it('a trajectory without code is one final step; one that ends on an output has an empty final action', () => {
    const base = {
      ...trajectories[0]!,
      segments: [{ kind: 'model' as const, text: 'The answer is 2.' }],
      text: 'The answer is 2.',
    }
    expect(splitSteps(base)).toMatchObject([
      { step: 0, final: true, action: 'The answer is 2.', toolOutput: null },
    ])
    const cut = {
      ...base,
      segments: [
        { kind: 'model' as const, text: '```python\nprint(2)\n```\n' },
        { kind: 'output' as const, text: '```output\n2\n```\n' },
      ],
      text: '```python\nprint(2)\n```\n```output\n2\n```\n',
    }
    const steps = splitSteps(cut)
    expect(steps.map((step) => [step.action, step.final])).toEqual([
      ['```python\nprint(2)\n```\n', false],
      ['', true],
    ])
  })

  it('says what is wrong with a record that is not a trajectory', () => {
    expect(trajectoryError([])).toBe('expected a JSON object')
    expect(trajectoryError({ problemId: 'a' })).toMatch(/missing "run"/)
    const record = trajectories[0]!
    expect(trajectoryError(record)).toBeUndefined()
    expect(trajectoryError({ ...record, text: `${record.text}x` })).toBe('"segments" do not add up to "text"')
    // a null segment (was a raw TypeError), or one of an unknown kind
    expect(trajectoryError({ ...record, segments: [...record.segments, null] })).toBe(
      `"segments"[${record.segments.length}] must be {"kind": "model" | "hint" | "output", "text": ...}`,
    )
    expect(trajectoryError({ ...record, segments: [{ kind: 'tool', text: record.text }] })).toMatch(
      /"segments"\[0\] must be/,
    )
  })
})
