import { describe, expect, it } from 'vitest'
import { outputBlock } from '../../src/core/fences.js'
import {
  ABLATED_ERROR,
  ablatedContinuation,
  fisherGreater,
  outputShape,
  replayedCode,
  stepCredit,
} from '../../src/swirl/counterfactual.js'
import { ShuffledOutputs, thinkingAfter } from '../../src/swirl/judge-counterfactual.js'
import type { StepRecord } from '../../src/swirl/split-steps.js'

const step = (n: number, action: string, toolOutput: string | null, problemId = 'p1'): StepRecord => ({
  run: 'r',
  problemId,
  sample: 0,
  step: n,
  steps: 3,
  trajectory: `r/${problemId}#0`,
  state: { messages: [], prompt: '<think>\n', text: '' },
  action,
  insertedSpans: [],
  toolOutput,
  final: toolOutput === null,
})
const code = (body: string) => `Let me compute.\n\`\`\`python\n${body}\n\`\`\``

describe('the counterfactual continuation', () => {
  const tool = step(0, code('print(6 * 7)'), `\n${outputBlock('42')}`)

  it('replaces the output by nothing, by an error, or by another output; drops the step', () => {
    expect(ablatedContinuation(tool, 'empty')).toBe(`${tool.action}\n${outputBlock('')}`)
    expect(ablatedContinuation(tool, 'error')).toBe(`${tool.action}\n${outputBlock(ABLATED_ERROR)}`)
    expect(ablatedContinuation(tool, 'shuffled', `\n${outputBlock('17')}`)).toBe(
      `${tool.action}\n${outputBlock('17')}`,
    )
    expect(ablatedContinuation(tool, 'drop-step')).toBe('')
  })

  it('has nothing to ablate in a step without a tool call (but can drop it), nor a shuffle without another output', () => {
    const final = step(1, 'So the answer is \\boxed{42}.', null)
    expect(ablatedContinuation(final, 'empty')).toBeUndefined()
    expect(ablatedContinuation(final, 'drop-step')).toBe('')
    expect(ablatedContinuation(tool, 'shuffled')).toBeUndefined()
  })

  it("replays the cells the state ran, and the step's own when its result stands", () => {
    const first = `${code('x = 6')}\n${outputBlock('')}`
    const second = step(1, code('print(x * 7)'), `\n${outputBlock('42')}`)
    second.state = { ...second.state, text: `${first}Now ${code('unrun = 1')} and on.` }
    expect(replayedCode(second, true)).toEqual(['x = 6', 'print(x * 7)'])
    expect(replayedCode(second, false)).toEqual(['x = 6'])
    expect(replayedCode(step(2, 'done', null), true)).toEqual([])
  })

  it("shuffles in another problem's output of the same shape, the same one on every run", () => {
    const outputs = new ShuffledOutputs()
    const mine = step(0, code('print(6 * 7)'), `\n${outputBlock('42')}`, 'p1')
    for (const s of [
      mine,
      step(0, code('print(1)'), `\n${outputBlock('17')}`, 'p2'),
      step(0, code('print("a")'), `\n${outputBlock('abc')}`, 'p3'),
    ])
      outputs.add(s)
    expect(outputShape(mine.toolOutput!)).toBe('#')
    expect(outputs.for(mine, 0)).toBe(`\n${outputBlock('17')}`)
    expect(outputs.for(mine, 0)).toBe(outputs.for(mine, 0))
    expect(outputs.for(step(0, code('print("b")'), `\n${outputBlock('xyz')}`, 'p3'), 0)).toBeUndefined()
  })
})

describe('the credit', () => {
  it("is the difference of the shares right, with Fisher's one-sided test", () => {
    const clear = stepCredit({ right: 4, of: 4 }, { right: 0, of: 4 })
    expect(clear.credit).toBe(1)
    expect(clear.pValue).toBeCloseTo(1 / 70, 10) // one table of C(8,4) as extreme
    expect(clear.interval[0]).toBeGreaterThan(0)
    expect(clear.interval[1]).toBeCloseTo(1, 10)
    const none = stepCredit({ right: 2, of: 4 }, { right: 2, of: 4 })
    expect(none.credit).toBe(0)
    expect(none.interval[0]).toBeLessThan(0)
    expect(none.interval[1]).toBeGreaterThan(0)
    const against = stepCredit({ right: 0, of: 4 }, { right: 3, of: 4 })
    expect(against.credit).toBe(-0.75)
    expect(against.pValue).toBe(1)
  })

  it('Fisher matches the hypergeometric tail', () => {
    // 3 of 5 right vs 1 of 5: P(X >= 3) with 4 right of 10, 5 drawn = (C(5,3)C(5,1) + C(5,4)C(5,0)) / C(10,4)
    expect(fisherGreater(3, 5, 1, 5)).toBeCloseTo((10 * 5 + 5 * 1) / 210, 10)
    expect(fisherGreater(0, 3, 0, 3)).toBe(1)
  })
})

describe('thinkingAfter', () => {
  it('is open when the prompt or the text opened the thinking and nothing closed it since', () => {
    expect(thinkingAfter('<think>\n', 'so 5')).toBe(true)
    expect(thinkingAfter('<think>\n', 'so 5\n</think>\nThe answer')).toBe(false)
    expect(thinkingAfter('user: q\n', '<think>so')).toBe(true)
    expect(thinkingAfter('user: q\n', 'no tags')).toBe(false)
    expect(thinkingAfter('user: q\n', '<think>a</think>b<think>c')).toBe(true)
  })
})
