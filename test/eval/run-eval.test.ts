import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultOptions } from '../../src/core/options.js'
import { EVAL_OPTIONS } from '../../src/eval/options.js'
import { runEval } from '../../src/eval/run-eval.js'
import { runReport } from '../../src/eval/run-report.js'
import { tempDir } from '../integration/cli.js'

const DATA = resolve('../shared/datasets')

describe('start eval and start report say what is wrong', () => {
  const dir = tempDir()
  const evaluate = (
    models: string[],
    settings: Partial<ReturnType<typeof defaultOptions<typeof EVAL_OPTIONS>>>,
  ) =>
    runEval({
      models,
      settings: { ...defaultOptions(EVAL_OPTIONS), data: DATA, ...settings },
      tracesDir: join(dir, 'traces'),
      sandbox: {},
      db: join(dir, 's.db'),
      runId: 'e',
      flags: {},
      toolVersion: '0',
    })

  it.each([
    [
      ['no-such-run'],
      { benchmarks: ['testbed-dev'] },
      '--model no-such-run: no such file, and no run with that id',
    ],
    [
      ['m.gguf'],
      { benchmarks: ['nope'] },
      `--benchmarks nope: neither a file nor ${join(DATA, 'nope.jsonl')}`,
    ],
    [['m.gguf'], { benchmarks: ['nope'], data: undefined }, '--benchmarks nope: no such file'],
    [['m.gguf'], { benchmarks: undefined }, '--benchmarks: expected at least one benchmark'],
    [['m.gguf'], { benchmarks: ['testbed-dev'], modes: ['tools', 'best'] }, '--modes best: unknown mode'],
  ])('%j %j', async (models, settings, message) => {
    await expect(evaluate(models, settings)).rejects.toThrow(message)
  })

  it('a report row without its fields names the file and line', async () => {
    const rows = join(dir, 'rows.jsonl')
    writeFileSync(rows, '{"model": "m"}\n')
    await expect(runReport({ inputs: [rows], out: join(dir, 'r.html') })).rejects.toThrow(
      `${rows}:1: missing "benchmark"`,
    )
  })
})
