import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultOptions } from '../../src/core/options.js'
import { LlamaCppEngine } from '../../src/inference/llama-cpp.js'
import { HINT_INFER_OPTIONS } from '../../src/inference/options.js'
import { runHintInfer } from '../../src/inference/run-hint-infer.js'
import type { TrajectoryRecord } from '../../src/inference/types.js'
import { tempDir } from '../integration/cli.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')

describe('a prompt longer than the context', () => {
  it('fails its own record at once with the reason, and the run goes on', async () => {
    const dir = tempDir()
    const problems = join(dir, 'problems.jsonl')
    const dev = readFileSync('../shared/datasets/testbed-dev.jsonl', 'utf8').split('\n')
    const huge = { id: 'huge', source: 't', problem: 'Compute 1 + 1. '.repeat(200_000), answer: '2' }
    const long = { id: 'long', source: 't', problem: 'Compute 1 + 1. '.repeat(60), answer: '2' }
    writeFileSync(problems, `${dev[0]}\n${JSON.stringify(huge)}\n${JSON.stringify(long)}\n`)
    const engine = await LlamaCppEngine.load({ model: MODEL, contextSize: 256, threads: 1 })
    const warnings: string[] = []
    try {
      const out = join(dir, 'out.jsonl')
      const summary = await runHintInfer({
        problems: [problems],
        model: MODEL,
        engine,
        settings: {
          ...defaultOptions(HINT_INFER_OPTIONS),
          temperature: 0,
          maxTokens: 64,
          promptTemplate: '{problem}',
        },
        onEvent: (event) => {
          if (event.kind === 'invalid') warnings.push(event.message)
        },
        sandbox: {},
        out,
        db: join(dir, 's.db'),
        runId: 'r',
        flags: {},
        toolVersion: '0',
      })
      expect(summary).toMatchObject({ trajectories: 3, failed: 2 })
      const records = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as TrajectoryRecord)
      expect(records.map((record) => [record.problemId, record.finishReason, record.error ?? null])).toEqual([
        ['testbed-dev-0', expect.any(String), null],
        [
          'huge',
          'context',
          expect.stringMatching(/^the prompt \(3000\d+ characters\) does not fit the context of 256 tokens$/),
        ],
        [
          'long',
          'context',
          expect.stringMatching(/^the prompt \(\d+ tokens\) does not fit the context of 256 tokens$/),
        ],
      ])
      expect(records[0]!.text.length).toBeGreaterThan(0)
      expect(warnings).toEqual([
        expect.stringMatching(`^${problems}:2: the prompt`),
        expect.stringMatching(`^${problems}:3: the prompt`),
      ])
    } finally {
      await engine.close()
    }
  })
})
