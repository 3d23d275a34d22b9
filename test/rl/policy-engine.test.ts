import { Template } from '@huggingface/jinja'
import { describe, expect, it } from 'vitest'
import type { HintLibrary } from '../../src/hints/library.js'
import { DEFAULT_HINT_POLICY, seededRandom } from '../../src/hints/policy.js'
import { runHintLoop } from '../../src/inference/hint-loop.js'
import { type PolicyChannel, PolicyEngine } from '../../src/rl/policy-engine.js'
import { eventViolation, opViolation, type RlOp } from '../../src/training/trainer-protocol.js'
import { printed } from '../inference/scripted-stream.js'

const library: HintLibrary = {
  name: 'test',
  hints: [
    { id: 'h1', category: 'any', domain: 'any', text: 'Wait, maybe using Python here is a good idea.' },
  ],
}
/**
 * The trainer's side, scripted: answers "next" from a list, keeps the text as the trainer would. Every
 * operation and answer is held to the trainer protocol, as the real channel and trainer hold them.
 */
class ScriptedTrainer implements PolicyChannel {
  ops: Record<string, unknown>[] = []
  text = ''
  private inserted = 0
  constructor(private readonly answers: { text: string; stop: 'stop' | 'eos' | 'limit' }[]) {}
  send(op: RlOp): void {
    const sent = op as unknown as Record<string, unknown>
    expect(opViolation(sent)).toBeUndefined()
    this.ops.push(sent)
    if (op.op === 'append') {
      this.text += op.text
      this.inserted += op.text.length
    }
    if (op.op === 'retract') this.text = this.text.slice(0, this.text.length - op.chars)
  }
  // biome-ignore lint/suspicious/noExplicitAny: the answer's type follows the op's, as TrainerChannel's does
  async request(op: RlOp): Promise<any> {
    this.send(op)
    const answer: Record<string, unknown> =
      op.op === 'start'
        ? { event: 'started', rid: op.rid, promptTokens: 10 }
        : (() => {
            const next = this.answers.shift()!
            this.text += next.text
            // One "token" per character keeps the counts checkable.
            const counts = { completionTokens: this.text.length, insertedTokens: this.inserted }
            return { event: 'generated', rid: op.rid, ...next, sampled: next.text.length, ...counts }
          })()
    expect(eventViolation('rl', answer)).toBeUndefined()
    return answer
  }
}

const chat = {
  template: new Template('{{ bos_token }}{{ messages[0].content }}\n<think>\n'),
  eosToken: '</s>',
  bosToken: '<s>',
}

describe('PolicyEngine: the hint-infer loop over the trainer', () => {
  it('renders the prompt with its BOS, as transformers does for the trainer', () => {
    const engine = new PolicyEngine(new ScriptedTrainer([]), chat, 100, 'r', 'policy')
    expect(engine.renderPrompt([{ role: 'user', content: 'Q' }])).toBe('<s>Q\n<think>')
  })

  it('asks for text to the loop stops, appends code output, replaces the closing tag by a hint, ends', async () => {
    const trainer = new ScriptedTrainer([
      { text: 'I think 42.\n</think>', stop: 'stop' },
      { text: '```python\nprint(6 * 7)\n```', stop: 'stop' },
      { text: '\nIt is 42.\n</think>\nThe answer is \\boxed{42}.', stop: 'eos' },
    ])
    const engine = new PolicyEngine(trainer, chat, 1000, 'r1', 'policy')
    const stream = await engine.startGeneration('<s>Q\n<think>\n', { temperature: 1, topP: 1, seed: 0 })
    const result = await runHintLoop(stream, () => ({ execute: async () => printed('42\n') }), {
      hints: { policy: { ...DEFAULT_HINT_POLICY, maxConnectiveHints: 0 }, library, random: seededRandom(1) },
      domain: 'math',
      startsThinking: true,
      maxTokens: 500,
      maxToolCalls: 6,
      maxOutputChars: 100,
    })
    expect(result.text).toBe(
      'I think 42.\nWait, maybe using Python here is a good idea.\n```python\nprint(6 * 7)\n```\n```output\n42\n```\n\nIt is 42.\n</think>\nThe answer is \\boxed{42}.',
    )
    // The trainer holds exactly the loop's text: what it retracted and what was appended agree.
    expect(trainer.text).toBe(result.text)
    const kinds = trainer.ops.map((op) => op.op)
    expect(kinds).toEqual(['start', 'next', 'retract', 'append', 'next', 'append', 'next'])
    expect(trainer.ops[2]).toMatchObject({ chars: '</think>'.length })
    expect(trainer.ops[3]).toMatchObject({ text: 'Wait, maybe using Python here is a good idea.\n' })
    expect(trainer.ops[5]).toMatchObject({ text: '\n```output\n42\n```\n' })
    // Each request says where the loop decides next, within the budget left.
    expect(trainer.ops[1]!.stops).toContain('</think>')
    expect(trainer.ops[4]!.maxTokens).toBeLessThan(500)
    expect(result.stats.generatedTokens + result.stats.appendedTokens).toBe(trainer.text.length)
  })

  it('sends a state to continue from apart from the prompt, for the trainer to tokenize as inserted text', async () => {
    const trainer = new ScriptedTrainer([])
    const engine = new PolicyEngine(trainer, chat, 1000, 'r3', 'policy')
    const continuation = "```python\nprint('</s>')\n```\n```output\n</s>\n```\n"
    await engine.startGeneration('<s>Q\n<think>\n', { temperature: 1, topP: 1, seed: 0 }, { continuation })
    expect(trainer.ops).toEqual([{ op: 'start', rid: 'r3', prompt: '<s>Q\n<think>\n', continuation }])
  })

  it('a prompt longer than the context fails that rollout before generating', async () => {
    const engine = new PolicyEngine(new ScriptedTrainer([]), chat, 5, 'r2', 'policy')
    await expect(engine.startGeneration('long', { temperature: 1, topP: 1, seed: 0 })).rejects.toThrow(
      /does not fit the context of 5 tokens/,
    )
  })
})
