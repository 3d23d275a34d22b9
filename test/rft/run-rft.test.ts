import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/core/errors.js'
import { defaultOptions } from '../../src/core/options.js'
import { RFT_OPTIONS } from '../../src/rft/options.js'
import { runRft } from '../../src/rft/run-rft.js'
import { tempDir } from '../integration/cli.js'

const HF = resolve('../shared/models/testbed-tir-hf')

describe('start rft checks its inputs before it starts', () => {
  const dir = tempDir()
  const run = (options: { stage: 1 | 2; base: string; data?: string; problems?: string[] }) =>
    runRft({
      ...options,
      out: join(dir, 'out'),
      settings: defaultOptions(RFT_OPTIONS),
      sandbox: {},
      dryRun: false,
      db: join(dir, 's.db'),
      runId: 'r',
      flags: {},
      toolVersion: '0',
    })

  it.each([
    [{ stage: 1 as const, base: HF }, '--stage 1 needs --data (D_seed from `start filter`)'],
    [
      { stage: 1 as const, base: join(dir, 'nope.gguf'), data: 'd.jsonl' },
      `--base ${join(dir, 'nope.gguf')}: no such file or directory`,
    ],
    [
      { stage: 1 as const, base: dir, data: 'd.jsonl' },
      `--base ${dir}: not a GGUF file nor a Hugging Face checkpoint`,
    ],
    [
      { stage: 1 as const, base: HF, data: join(dir, 'none.jsonl') },
      `--data ${join(dir, 'none.jsonl')}: no such file`,
    ],
    [{ stage: 2 as const, base: HF }, '--stage 2 needs --problems'],
    [
      { stage: 2 as const, base: HF, problems: ['p.jsonl'] },
      `${join(dir, 'out', 'start-0.gguf')}: missing; run --stage 1`,
    ],
  ])('%j', async (options, message) => {
    writeFileSync(join(dir, 'placeholder'), '')
    const failure = run(options)
    await expect(failure).rejects.toThrow(UsageError)
    await expect(failure).rejects.toThrow(message)
  })
})
