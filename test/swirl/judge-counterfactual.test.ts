import { afterAll, describe, expect, it } from 'vitest'
import { Grader } from '../../src/grading/grader.js'
import type { GenerationOptions, InferenceEngine } from '../../src/inference/engine.js'
import { SandboxPool } from '../../src/sandbox/pool.js'
import { CounterfactualJudge, ShuffledOutputs } from '../../src/swirl/judge-counterfactual.js'
import type { JudgedStep } from '../../src/swirl/read-steps.js'
import { printed, ScriptedStream } from '../inference/scripted-stream.js'

const PROMPT = '<s>What is 3 + 4?\n<think>\n'
const CELL = "Let me compute.\n```python\nprint(r'\\boxed{7}')\n```"
const OUTPUT = '\n```output\n\\boxed{7}\n```\n'

/** A trajectory of two steps: a cell that prints the right answer boxed, then a final step that gives none. */
function trajectory(): JudgedStep[] {
  const common = {
    run: 'r',
    problemId: 'p1',
    sample: 0,
    steps: 2,
    trajectory: 'r/p1#0',
    insertedSpans: [],
    answer: '7',
    finishReason: 'stop',
  }
  const state = { messages: [{ role: 'user' as const, content: 'What is 3 + 4?' }], prompt: PROMPT }
  return [
    { ...common, step: 0, state: { ...state, text: '' }, action: CELL, toolOutput: OUTPUT, final: false },
    {
      ...common,
      step: 1,
      state: { ...state, text: CELL + OUTPUT },
      action: 'I am not sure.\n</think>\nI cannot tell.',
      toolOutput: null,
      final: true,
    },
  ]
}

/** An engine whose every continuation writes `ending`; it records what each started from. */
function scriptedEngine(ending: string) {
  const started: { prompt: string; continuation?: string }[] = []
  const engine = {
    modelName: 'scripted',
    renderPrompt: () => PROMPT,
    tokenizer: { encode: async () => [], decode: async () => '' },
    async startGeneration(prompt: string, _sampling: unknown, options: GenerationOptions = {}) {
      started.push({ prompt, continuation: options.continuation })
      return new ScriptedStream([ending])
    },
    close: async () => {},
  } satisfies InferenceEngine
  return { engine, started }
}

/** The continuations' sessions, scripted: every cell prints the boxed answer, as the step's own cell did. */
const sessions = {
  openSession: async () => ({ execute: async () => printed('\\boxed{7}\n'), close: async () => {} }),
} as unknown as SandboxPool

/** The real grader, on a real sandbox (sympy where an answer needs it). */
const graderPool = new SandboxPool({ workers: 1 })
afterAll(() => graderPool.close())

async function judge(ending: string) {
  const { engine, started } = scriptedEngine(ending)
  const settings = {
    ablate: 'empty' as const,
    k: 3,
    maxStepsPerTrajectory: 0,
    alpha: 0.05,
    temperature: 0.6,
    topP: 1,
    seed: 0,
    maxTokens: 64,
  }
  const units = new Map<string, unknown>()
  const judge = new CounterfactualJudge(
    engine,
    sessions,
    new Grader(graderPool),
    settings,
    new ShuffledOutputs(),
    {
      get: (key) => units.get(key),
      put: (key, value) => units.set(key, value),
    },
  )
  return { judgements: await judge.judgeTrajectory(trajectory()), started }
}

describe('the counterfactual judge: what it continues from and what it pays for', () => {
  it('a cell that prints the answer boxed earns no credit: only what the model then says is graded', async () => {
    const { judgements, started } = await judge('So the answer is unclear.\n</think>\nI cannot tell.')
    expect(judgements[0]).toMatchObject({
      verdict: 'no',
      counterfactual: { real: { right: 0, of: 3 }, ablated: { right: 0, of: 3 } },
    })
    expect(judgements[1]).toMatchObject({ verdict: 'unjudged' })
    // the prompt as rendered, the trajectory's text apart from it (the engine tokenizes it as appended text)
    expect(started.every(({ prompt }) => prompt === PROMPT)).toBe(true)
    expect(started.filter(({ continuation }) => continuation === CELL + OUTPUT)).toHaveLength(2)
    expect(
      started.filter(({ continuation }) => continuation?.startsWith(`${CELL}\n\`\`\`output\n\n`)),
    ).toHaveLength(3)
  })

  it('continuations that state the answer are graded right (the real arm opens with the trajectory ending)', async () => {
    const { judgements } = await judge('So the answer is 7.\n</think>\nThe answer is \\boxed{7}.')
    expect(judgements[0]).toMatchObject({
      verdict: 'no',
      counterfactual: { real: { right: 2, of: 3 }, ablated: { right: 3, of: 3 } },
    })
  })
})
