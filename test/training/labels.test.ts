import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureTrainingEnv } from '../../src/training/python-env.js'
import { type LabelDump, TrlTrainer } from '../../src/training/trainer.js'
import { tempDir } from '../integration/cli.js'

const BASE = resolve('../shared/models/testbed-tir-hf')
const D_SEED = resolve('test/fixtures/training/d_seed_testbed.jsonl')
const EOS = 2

/** Checks every token's label: prompt and interpreter output ignored, the rest (closing included) trained. */
function expectMask(dump: LabelDump): void {
  expect(dump.tokens.map((token) => token.text).join('')).toBe(dump.text)
  const promptEnd = dump.text.indexOf('<|assistant|>\n<think>\n') + '<|assistant|>\n<think>\n'.length
  const outputs = [...dump.text.matchAll(/\n```output\n[\s\S]*?```\n/g)].map((m) => [
    m.index,
    m.index + m[0].length,
  ])
  expect(outputs.length).toBeGreaterThan(0)
  let at = 0
  for (const token of dump.tokens) {
    const inOutput = outputs.some(([start, end]) => at >= start! && at < end!)
    if (at < promptEnd || inOutput || token.text === '')
      expect(token.label, `${at} ${JSON.stringify(token.text)}`).toBe(-100)
    else expect(token.label, `${at} ${JSON.stringify(token.text)}`).toBe(token.id)
    at += token.text.length
  }
  const last = dump.tokens.at(-1)!
  expect(last).toMatchObject({ id: EOS, label: EOS })
  expect(dump.text.endsWith('.<|end|></s>')).toBe(true) // the turn closes once, though the model wrote <|end|> itself
}

describe('the training labels, token by token (real tokenizer)', () => {
  let trainer: TrlTrainer
  beforeAll(async () => {
    trainer = new TrlTrainer(await ensureTrainingEnv())
  }, 600_000)

  it('masks the prompt and the output spans the filter marked, and trains the rest and the closing token', async () => {
    const dump = await trainer.labels(BASE, D_SEED, 0, join(tempDir(), 'labels.log'))
    expect(dump.text.startsWith('<s><|user|>\n')).toBe(true)
    expect(dump.text.match(/<think>/g)).toHaveLength(1) // the generation prompt's <think> is not doubled
    expectMask(dump)
  })

  it('finds the ```output blocks itself in chat JSONL made elsewhere (no outputSpans)', async () => {
    const record = JSON.parse(readFileSync(D_SEED, 'utf8').split('\n')[1]!)
    delete record.outputSpans
    const file = join(tempDir(), 'foreign.jsonl')
    writeFileSync(file, `${JSON.stringify(record)}\n`)
    const dump = await trainer.labels(BASE, file, 0, join(tempDir(), 'labels.log'))
    // Without the filter's spans the "\n" before ```output belongs to the model's text and is trained.
    const outputs = [...dump.text.matchAll(/```output\n[\s\S]*?```\n/g)]
    expect(outputs.length).toBeGreaterThan(0)
    let at = 0
    for (const token of dump.tokens) {
      const inOutput = outputs.some((m) => at >= m.index && at < m.index + m[0].length)
      if (inOutput) expect(token.label).toBe(-100)
      at += token.text.length
    }
    expect(dump.tokens.at(-1)).toMatchObject({ id: EOS, label: EOS })
  })

  it('step-wise examples: only the action is trained; a step that ends at a tool call trains no end of turn', async () => {
    const record = JSON.parse(readFileSync(D_SEED, 'utf8').split('\n')[0]!)
    const content: string = record.messages.at(-1).content
    const toolCall = content.slice(0, content.indexOf('```output'))
    const stateEnd = toolCall.lastIndexOf('\n', toolCall.indexOf('```python') - 2) + 1
    const trained = async (step: object) => {
      const file = join(tempDir(), 'step.jsonl')
      writeFileSync(file, `${JSON.stringify(step)}\n`)
      const dump = await trainer.labels(BASE, file, 0, join(tempDir(), 'labels.log'))
      return dump.tokens.filter((token) => token.label !== -100)
    }
    const middle = await trained({
      messages: [...record.messages.slice(0, -1), { role: 'assistant', content: toolCall }],
      outputSpans: [[0, stateEnd]],
      continues: true,
    })
    expect(middle.map((token) => token.text).join('')).toBe(toolCall.slice(stateEnd))
    expect(middle.some((token) => token.id === EOS)).toBe(false)
    const finalAt = content.lastIndexOf('```\n') + 4
    const last = await trained({ messages: record.messages, outputSpans: [[0, finalAt]] })
    expect(last.map((token) => token.text).join('')).toBe(
      `${content.slice(finalAt).replace(/<\|end\|>$/, '')}<|end|></s>`,
    )
    expect(last.at(-1)).toMatchObject({ id: EOS, label: EOS })
  })
})
