import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULT_FILTER_POLICY } from '../../src/filter/options.js'
import type { StepRule } from '../../src/filter/types.js'
import { judgeByRules } from '../../src/swirl/judge-rules.js'
import type { JudgedStep } from '../../src/swirl/read-steps.js'
import { type SplittableTrajectory, splitSteps } from '../../src/swirl/split-steps.js'
import { stepIdentity, stepRejectReason, toStepSeedRecord } from '../../src/swirl/step-filter.js'

const trajectories = readFileSync('test/fixtures/trajectories/hinted.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as SplittableTrajectory)

/** The steps of a trajectory with at least one tool call, judged by the rules judge. */
const judged = (): JudgedStep[] => {
  const steps = splitSteps(trajectories.find((t) => t.segments.some((s) => s.kind === 'output'))!)
  return judgeByRules(steps).map((judgement, i) => ({ ...steps[i]!, judgements: { process: judgement } }))
}
const policy = (rule: StepRule) => ({ ...DEFAULT_FILTER_POLICY, rule })
const withVerdict = (step: JudgedStep, verdict: 'yes' | 'no' | 'unjudged'): JudgedStep => ({
  ...step,
  judgements: { process: { judge: 'rules', verdict, reasons: [] } },
})

describe('stepRejectReason', () => {
  const [step] = judged()
  const clean = { contaminated: false, correct: true }

  it('process: keeps what the judge said yes to; no is unreasonable, and unjudged is never kept', () => {
    expect(stepRejectReason(withVerdict(step!, 'yes'), clean, policy('process'))).toBeNull()
    expect(stepRejectReason(withVerdict(step!, 'no'), clean, policy('process'))).toBe('unreasonable')
    expect(stepRejectReason(withVerdict(step!, 'unjudged'), clean, policy('process'))).toBe('unjudged')
  })

  it('outcome: keeps the steps of right trajectories, whatever the judge said; both needs both', () => {
    const no = withVerdict(step!, 'no')
    expect(stepRejectReason(no, clean, policy('outcome'))).toBeNull()
    expect(stepRejectReason(no, { ...clean, correct: false }, policy('outcome'))).toBe('incorrect')
    expect(stepRejectReason(no, clean, policy('both'))).toBe('unreasonable')
    expect(stepRejectReason(withVerdict(step!, 'yes'), { ...clean, correct: false }, policy('both'))).toBe(
      'incorrect',
    )
    expect(stepRejectReason(no, { contaminated: false }, policy('none'))).toBeNull()
  })

  it('the caps and decontamination hold for every rule', () => {
    const yes = withVerdict(step!, 'yes')
    expect(stepRejectReason(yes, { ...clean, contaminated: true }, policy('none'))).toBe('contaminated')
    expect(stepRejectReason(yes, clean, { ...policy('none'), maxChars: 10 })).toBe('over-long')
    const looping = { ...yes, action: 'the same words over and over again '.repeat(20) }
    expect(stepRejectReason(looping, clean, policy('none'))).toBe('repetitive')
    const code = '```python\nprint(1)\n```\n'
    const again = { ...yes, state: { ...yes.state, text: `${code}${code}` }, action: code }
    expect(stepRejectReason(again, clean, policy('none'))).toBe('repetitive')
  })
})

describe('toStepSeedRecord', () => {
  it('masks the state, trains the action; a tool step continues the turn, the final step closes it', () => {
    const steps = judged()
    for (const step of steps) {
      const record = toStepSeedRecord(step, false)
      const content = record.messages.at(-1)!.content
      expect(record.messages.slice(0, -1)).toEqual(step.state.messages)
      expect(record.outputSpans).toEqual([[0, content.length - step.action.length]])
      expect(content.slice(record.outputSpans[0]![1])).toBe(step.action)
      expect(content.startsWith('<think>\n')).toBe(true) // the generation prompt opened it
      expect(record.continues).toBe(step.final ? undefined : true)
      expect(record.step).toBe(step.step)
    }
  })

  it('--drop-hints masks the hints inserted in the action as well', () => {
    const step = judged().find((candidate) => candidate.insertedSpans.length > 0)!
    const record = toStepSeedRecord(step, true)
    const content = record.messages.at(-1)!.content
    const masked = record.outputSpans.slice(1).map(([start, end]) => content.slice(start, end))
    expect(masked).toEqual(step.insertedSpans.map(([start, end]) => step.action.slice(start, end)))
    expect(masked.length).toBeGreaterThan(0)
  })

  it('dedup: a step is the same as another only with the same state and action', () => {
    const [first, second] = judged()
    expect(stepIdentity(first!).text).toBe(stepIdentity({ ...first! }).text)
    expect(stepIdentity(first!).text).not.toBe(stepIdentity({ ...first!, state: second!.state }).text)
  })
})
