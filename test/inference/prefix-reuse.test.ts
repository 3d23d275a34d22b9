import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GenerationOptions } from '../../src/inference/engine.js'
import { LlamaCppEngine } from '../../src/inference/llama-cpp.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')
const GREEDY = { temperature: 0, topP: 1, seed: 0 }

describe('continuations of one prefix in process (real testbed model)', () => {
  let engine: LlamaCppEngine
  beforeAll(async () => {
    engine = await LlamaCppEngine.load({ model: MODEL, contextSize: 512, parallel: 2, threads: 1 })
  }, 60_000)
  afterAll(() => engine.close())

  async function generate(prompt: string, tokens: number, options?: GenerationOptions) {
    const stream = await engine.startGeneration(prompt, GREEDY, options)
    let text = ''
    try {
      for (let i = 0; i < tokens; i++) {
        const piece = await stream.next()
        if (piece === null) break
        text += piece
      }
      return { text, stats: { ...stream.stats } }
    } finally {
      await stream.close()
    }
  }

  it('keeps the shared prefix of the prompt from the sequence that holds it, evaluates only the rest, and samples the same', async () => {
    const prompt = engine.renderPrompt([{ role: 'user', content: 'What is 17 * 23?' }])
    const first = await generate(prompt, 24)
    // the other sequence is busy with an unrelated prompt: reuse must find the one holding the prefix
    const other = await engine.startGeneration(
      engine.renderPrompt([{ role: 'user', content: 'Name a prime.' }]),
      GREEDY,
    )
    const continued = { continuation: first.text.slice(0, 20) }
    const fresh = await generate(prompt, 16, continued)
    await other.close()
    const reused = await generate(prompt, 16, { ...continued, reusePrefix: true })
    const promptTokens = engine.tokenizePrompt(prompt).length
    expect(fresh.stats.reusedTokens).toBeUndefined()
    expect(reused.stats.reusedTokens).toBeGreaterThanOrEqual(promptTokens)
    expect(reused.stats.reusedTokens).toBeLessThan(reused.stats.promptTokens)
    expect(reused.stats.reevaluatedTokens).toBe(0)
    expect(reused.stats.promptTokens).toBe(fresh.stats.promptTokens)
    expect(reused.text).toBe(fresh.text)
    // the same prompt again: all but its last token kept
    const again = await generate(prompt, 16, { ...continued, reusePrefix: true })
    expect(again.stats.reusedTokens).toBe(again.stats.promptTokens - 1)
    expect(again.text).toBe(fresh.text)
  })

  it('reads a continuation as the text the loop appended: an end-of-turn marker a cell printed stays text', async () => {
    const prompt = engine.renderPrompt([{ role: 'user', content: 'What is 2 + 3?' }])
    const continuation = "<think>\n```python\nprint('</s>')\n```\n```output\n</s>\n```\n"
    const { stats } = await generate(prompt, 4, { continuation })
    const asAppended = await engine.tokenizer.encode(continuation)
    expect(stats.promptTokens).toBe(engine.tokenizePrompt(prompt).length + asAppended.length)
    // parsed for special tokens, each "</s>" would have been the model's end-of-sequence token
    expect(engine.tokenize(prompt + continuation)).toContain(2)
    expect(asAppended).not.toContain(2)
  })
})
