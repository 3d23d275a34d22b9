import { describe, expect, it } from 'vitest'
import type { HintLibrary } from '../../src/hints/library.js'
import { DEFAULT_HINT_POLICY, hintInsertion, seededRandom } from '../../src/hints/policy.js'
import type { StreamPlan } from '../../src/inference/engine.js'
import { runHintLoop } from '../../src/inference/hint-loop.js'
import { printed, ScriptedStream } from './scripted-stream.js'

const library: HintLibrary = {
  name: 'test',
  hints: [
    {
      id: 'h1',
      category: 'complex-calculation',
      domain: 'any',
      text: 'Wait, maybe using Python here is a good idea.',
    },
  ],
}
const ok = printed

/** A scripted stream that records the plan the loop gives before each request, as a served engine gets it. */
class PlannedStream extends ScriptedStream {
  readonly plans: StreamPlan[] = []
  setPlan(plan: StreamPlan) {
    this.plans.push(plan)
  }
}
const chars = (text: string) => [...text]

const run = async (
  script: string[],
  overrides: Partial<Parameters<typeof runHintLoop>[2]> = {},
  outputs: string[] = [],
) => {
  const stream = new ScriptedStream(script)
  const executed: string[] = []
  const result = await runHintLoop(
    stream,
    () => ({
      execute: async (code) => {
        executed.push(code)
        return ok(outputs.shift() ?? '')
      },
    }),
    {
      hints: { policy: { ...DEFAULT_HINT_POLICY, minDistance: 0 }, library, random: seededRandom(1) },
      domain: 'math',
      startsThinking: true,
      maxTokens: 10_000,
      maxToolCalls: 6,
      maxOutputChars: 1000,
      ...overrides,
    },
  )
  return { stream, executed, result }
}

describe('runHintLoop', () => {
  it('inserts a hint after a connective, without repeating the connective', async () => {
    const { result, stream } = await run(chars('2 + 3 = 6.\nWait, no.\n'), {
      hints: {
        policy: { ...DEFAULT_HINT_POLICY, minDistance: 0, thinkHints: 0 },
        library,
        random: seededRandom(1),
      },
    })
    expect(result.text).toBe('2 + 3 = 6.\nWait, maybe using Python here is a good idea. no.\n')
    expect(result.segments.map((s) => s.kind)).toEqual(['model', 'hint', 'model'])
    expect(result.segments[1]!.hint).toEqual({
      id: 'h1',
      category: 'complex-calculation',
      trigger: 'connective',
      word: 'Wait',
    })
    expect(stream.context).toBe(result.text)
  })

  it('does not take "Waiting" for a connective', async () => {
    const { result } = await run(chars('Waiting is hard.\n'), {
      hints: { policy: { ...DEFAULT_HINT_POLICY, thinkHints: 0 }, library, random: seededRandom(1) },
    })
    expect(result.segments.map((s) => s.kind)).toEqual(['model'])
  })

  it('runs a closed python block and appends its output, then resumes', async () => {
    const { result, executed, stream } = await run(
      // A model continues after the appended output, so the script resumes right after the fence.
      chars('Let me check.\n```python\nprint(6 * 7)\n```So 42.\n'),
      { hints: null },
      ['42\n'],
    )
    expect(executed).toEqual(['print(6 * 7)'])
    expect(result.text).toBe('Let me check.\n```python\nprint(6 * 7)\n```\n```output\n42\n```\nSo 42.\n')
    expect(result.segments.map((s) => s.kind)).toEqual(['model', 'output', 'model'])
    expect(result.segments[1]!.execution?.code).toBe('print(6 * 7)')
    expect(result.toolCalls).toBe(1)
    expect(stream.context).toBe(result.text)
  })

  it('tells an engine that generates many tokens per request where it will decide next', async () => {
    const stream = new PlannedStream(chars('So.\nWait, x.\n```python\nprint(1)\n```Done.\n'))
    await runHintLoop(stream, () => ({ execute: async () => ok('1\n') }), {
      hints: { policy: { ...DEFAULT_HINT_POLICY, minDistance: 0 }, library, random: seededRandom(1) },
      domain: 'math',
      startsThinking: true,
      maxTokens: 1000,
      maxToolCalls: 6,
      maxOutputChars: 1000,
    })
    const [first] = stream.plans
    expect(first!.stops).toEqual(expect.arrayContaining(['```\n', '</think>', 'Wait,', 'Hmm ']))
    expect(first!.maxTokens).toBe(1000)
    // After its one connective hint: fences and the end of thinking only; inside the code, its fence.
    const later = stream.plans.slice('So.\nWait,'.length + 1)
    expect(later.every((plan) => !plan.stops.includes('Wait,'))).toBe(true)
    expect(later.some((plan) => plan.stops.length === 1 && plan.stops[0] === '```')).toBe(true)
    expect(stream.plans.at(-1)!.stops).toEqual(['```\n', '</think>'])
    expect(stream.plans.at(-1)!.maxTokens).toBeLessThan(1000)
  })

  it('asks a served engine to stop at the end of thinking only while a hint is due there', async () => {
    const planned = async (hints: Parameters<typeof runHintLoop>[2]['hints']) => {
      const stream = new PlannedStream(chars('So 5.\n</Again 5.\n</think>\nDone.'))
      await runHintLoop(stream, () => ({ execute: async () => ok('') }), {
        hints,
        domain: 'math',
        startsThinking: true,
        maxTokens: 1000,
        maxToolCalls: 6,
        maxOutputChars: 1000,
      })
      return stream
    }
    const policy = { ...DEFAULT_HINT_POLICY, connectives: [], thinkHints: 1 }
    const stream = await planned({ policy, library, random: seededRandom(1) })
    const withTag = stream.plans.map((plan) => plan.stops.includes('</think>'))
    // Until the think hint the tag is a stop; once the one think hint is in, closing the thinking is no
    // decision, and no request ends there.
    const hinted = withTag.indexOf(false)
    expect(hinted).toBeGreaterThan(0)
    expect(withTag.slice(hinted).every((tag) => !tag)).toBe(true)
    const off = await planned(null)
    expect(off.plans.every((plan) => !plan.stops.includes('</think>'))).toBe(true)
  })

  it('stops running code after the tool-call cap', async () => {
    const block = '\n```python\nprint(1)\n```'
    const { executed, result } = await run(chars(block + block + block), { hints: null, maxToolCalls: 2 }, [
      '1\n',
      '1\n',
    ])
    expect(executed).toHaveLength(2)
    expect(result.toolCalls).toBe(2)
    expect(result.text.endsWith('```python\nprint(1)\n```')).toBe(true) // the third block stays text
  })

  it('asks a served engine to stop at fences only while code still runs', async () => {
    const block = '\n```python\nprint(1)\n```\n'
    const stream = new PlannedStream(chars(block + block))
    await runHintLoop(stream, () => ({ execute: async () => ok('1\n') }), {
      hints: null,
      domain: 'math',
      startsThinking: true,
      maxTokens: 1000,
      maxToolCalls: 1,
      maxOutputChars: 1000,
    })
    expect(stream.plans[0]!.stops).toEqual(['```\n'])
    // After the one tool call nothing is left to decide: the rest is one request, with no stops.
    expect(stream.plans.at(-1)!.stops).toEqual([])
  })

  it('takes back the closing </think> and inserts a hint instead, up to --think-hints times', async () => {
    // After the hint the model writes on: the script resumes where the taken-back tag began.
    const script = chars('So 5.\n</Again 5.\n</think>\nThe answer is \\boxed{5}.')
    const { result, stream } = await run(script, {
      hints: {
        policy: { ...DEFAULT_HINT_POLICY, connectives: [], thinkHints: 1 },
        library,
        random: seededRandom(1),
      },
    })
    expect(result.text).toBe(
      'So 5.\nWait, maybe using Python here is a good idea.\nAgain 5.\n</think>\nThe answer is \\boxed{5}.',
    )
    expect(result.segments[1]).toMatchObject({ kind: 'hint', hint: { trigger: 'think-end' } })
    expect(stream.log).toContain('retract 2') // "<" already in the context, "/" just generated
    expect(stream.context).toBe(result.text)
  })

  it('with stopAtHint, ends where the first hint would go: the text before it, the point, and the insertion it implies', async () => {
    const policy = { ...DEFAULT_HINT_POLICY, minDistance: 0 }
    const hints = { policy, library, random: seededRandom(1) }
    const atConnective = await run(chars('2 + 3 = 6.\nWait, no.\n'), { hints, stopAtHint: true })
    expect(atConnective.result.finishReason).toBe('hint-point')
    expect(atConnective.result.text).toBe('2 + 3 = 6.\nWait,')
    expect(atConnective.result.segments.map((s) => s.kind)).toEqual(['model'])
    const point = atConnective.result.hintPoint!
    expect(point).toEqual({ trigger: 'connective', word: 'Wait', boundary: ',', thinking: true })
    // the same text as the loop inserts when it does not stop
    const { result: hinted } = await run(chars('2 + 3 = 6.\nWait, no.\n'), {
      hints: { policy: { ...policy, thinkHints: 0 }, library, random: seededRandom(1) },
    })
    expect(
      hinted.text.startsWith(
        atConnective.result.text + hintInsertion(point, library.hints[0]!, policy.connectives),
      ),
    ).toBe(true)

    const atThinkEnd = await run(chars('So 5.\n</Again 5.\n</think>\nDone.'), {
      hints: { policy: { ...policy, connectives: [] }, library, random: seededRandom(1) },
      stopAtHint: true,
    })
    expect(atThinkEnd.result.finishReason).toBe('hint-point')
    expect(atThinkEnd.result.text).toBe('So 5.\n')
    expect(atThinkEnd.result.hintPoint).toEqual({ trigger: 'think-end', before: '', thinking: true })
    expect(hintInsertion(atThinkEnd.result.hintPoint!, library.hints[0]!, [])).toBe(
      `${library.hints[0]!.text}\n`,
    )
  })

  it("fills a code hint's {tests} with the problem's sample tests", async () => {
    const tests = {
      name: 'code',
      hints: [
        {
          id: 'debug-t',
          category: 'code-test',
          domain: 'code' as const,
          text: 'Wait, let me run the examples:\n{tests}',
        },
      ],
    }
    const { result } = await run(chars('def f(x): return x\n</Again.\n</think>\nDone.'), {
      hints: { policy: { ...DEFAULT_HINT_POLICY, connectives: [] }, library: tests, random: seededRandom(1) },
      domain: 'code',
      hintValues: { tests: '>>> f(1)\n1' },
    })
    expect(result.segments[1]).toMatchObject({
      kind: 'hint',
      text: 'Wait, let me run the examples:\n>>> f(1)\n1\n',
      hint: { id: 'debug-t' },
    })
  })

  it('with hints off, leaves the thinking alone', async () => {
    const { result } = await run(chars('So 5.\nWait.\n</think>\nDone.'), { hints: null })
    expect(result.text).toBe('So 5.\nWait.\n</think>\nDone.')
    expect(result.segments).toHaveLength(1)
  })

  it('gives a model without <think> its hint at the end of its turn', async () => {
    const { result } = await run(chars('The answer is 5.'), {
      startsThinking: false,
      hints: {
        policy: { ...DEFAULT_HINT_POLICY, connectives: [], thinkHints: 1 },
        library,
        random: seededRandom(1),
      },
    })
    expect(result.text).toBe('The answer is 5.\nWait, maybe using Python here is a good idea.\n')
  })

  it('ends at --max-tokens with finish reason "length"', async () => {
    const { result } = await run(chars('a'.repeat(100)), { hints: null, maxTokens: 10 })
    expect(result.finishReason).toBe('length')
    expect(result.text).toBe('a'.repeat(10))
  })

  it('ends cleanly when the context is full', async () => {
    const stream = new ScriptedStream(chars('abc'), 1)
    const result = await runHintLoop(stream, () => ({ execute: async () => ok('') }), {
      hints: null,
      domain: 'math',
      startsThinking: true,
      maxTokens: 100,
      maxToolCalls: 6,
      maxOutputChars: 100,
    })
    expect(result.finishReason).toBe('context')
  })
})
