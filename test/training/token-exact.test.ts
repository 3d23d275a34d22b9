import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureTrainingEnv } from '../../src/training/python-env.js'

interface Checked {
  name: string
  pieceExact: boolean
  maskExact: boolean
  textExact: boolean
  differs: boolean
  continuationPlain: boolean
  divergences: { at: number; trained: string; once: string }[]
}

describe('token-exact rollouts (start rl): the ids trained on are the ids generated and inserted', () => {
  let checked: Checked[]
  beforeAll(async () => {
    const env = await ensureTrainingEnv()
    const stdout = execFileSync(
      env.python,
      ['test/training/token-exact.py', resolve('../shared/models/testbed-tir-hf')],
      {
        env: {
          ...process.env,
          PYTHONPATH: 'src/training',
          PYTHONDONTWRITEBYTECODE: '1',
          TOKENIZERS_PARALLELISM: 'false',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    checked = String(stdout)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
  }, 600_000)

  it('on the testbed, a Llama-3-style and a Qwen2.5-style tokenizer: never a re-tokenization', () => {
    expect(checked.map((result) => result.name)).toEqual(['testbed', 'llama3-style', 'qwen2.5-style'])
    for (const result of checked) {
      expect(result.pieceExact, result.name).toBe(true)
      expect(result.maskExact, result.name).toBe(true)
      expect(result.textExact, result.name).toBe(true)
    }
  })

  it('a state the rollout continues from (stepwise) is tokenized as inserted text: a printed end marker stays text', () => {
    for (const result of checked) expect(result.continuationPlain, result.name).toBe(true)
  })

  it('reports every place a one-pass tokenization of the text would give other tokens, and only those', () => {
    for (const result of checked) {
      expect(result.divergences.length > 0, result.name).toBe(result.differs)
      // a divergence is the same text cut into other tokens, never other text
      for (const divergence of result.divergences)
        expect(divergence.trained, result.name).toBe(divergence.once)
    }
    // the piece boundary ("```" then "\n```output") is one token or more in a single pass for these vocabularies
    expect(checked.some((result) => result.divergences.length > 0)).toBe(true)
  })
})
