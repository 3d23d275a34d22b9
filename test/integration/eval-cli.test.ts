import { copyFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readJsonlFile, runCli, tempDir } from './cli.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')
const DATA = resolve('../shared/datasets')

describe('start eval and start report', () => {
  it('evaluates a model in each mode, stores the rows, resumes, and reports them', async () => {
    const dir = tempDir()
    const out = join(dir, 'eval.jsonl')
    const model = join(dir, 'testbed-tir-f32.gguf')
    copyFileSync(MODEL, model)
    const args = [
      'eval',
      '--model',
      model,
      '--benchmarks',
      'testbed-dev',
      '--data',
      DATA,
      '--limit',
      '3',
      '--samples',
      '2',
      '--modes',
      'no-tools,tools,hints',
      '--think-hints',
      '2',
      '--temperature',
      '0.6',
      '--max-tokens',
      '300',
      '--prompt-template',
      '{problem}',
      '--cluster-key',
      'meta.code',
      '--threads',
      '1',
      '--db',
      join(dir, 's.db'),
      '--run',
      'e1',
      '--out',
      out,
    ]
    const result = await runCli([...args, '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ run: 'e1', units: 4, resumed: 0 })
    const rows = readJsonlFile(out)
    expect(rows.map((r) => `${r.mode}:${r.thinkHints}:${r.tools}`)).toEqual([
      'no-tools:0:false',
      'tools:0:true',
      'hints-1:1:true',
      'hints-2:2:true',
    ])
    for (const row of rows) {
      expect(row).toMatchObject({
        model: 'testbed-tir-f32',
        benchmark: 'testbed-dev',
        problems: 3,
        samples: 6,
        k: 2,
      })
      expect(row.pass1).toBeGreaterThanOrEqual(0)
      expect(row.passK).toBeGreaterThanOrEqual(row.pass1)
      expect(row.pass1Interval[0]).toBeLessThanOrEqual(row.pass1)
      expect(row.pass1Interval[1]).toBeGreaterThanOrEqual(row.pass1)
      // --cluster-key meta.code: each problem's template, and the interval over templates
      expect(Object.keys(row.clusters).sort()).toEqual(Object.keys(row.perProblem).sort())
      expect(row.clusters['testbed-dev-0']).toBe('print(# * # * #)')
      expect(row.pass1ClusterInterval[0]).toBeLessThanOrEqual(row.pass1)
      expect(row.pass1ClusterInterval[1]).toBeGreaterThanOrEqual(row.pass1)
    }
    expect(rows[0].toolUseRate).toBe(0) // no tools: code is never run
    expect(rows[2].toolUseRate).toBeGreaterThan(0) // the testbed writes code after a hint
    expect(rows[2].hints.length).toBeGreaterThan(0)
    expect(rows[2].hints[0]).toMatchObject({ trigger: 'think-end' })

    const again = await runCli([...args, '--json'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ units: 4, resumed: 4 })
    expect(readJsonlFile(out)).toEqual(rows)

    const report = await runCli(['report', out, '--out', join(dir, 'report.html'), '--markdown', '-'])
    expect(report.exitCode).toBe(0)
    expect(report.stdout.trim().split('\n')).toHaveLength(2 + 4)

    // A different model under the same file name (a remade policy) is evaluated afresh, not resumed.
    copyFileSync(resolve('../shared/models/stories260k-f32.gguf'), model)
    const remade = await runCli([...args, '--json'])
    expect(remade.exitCode, remade.stderr).toBe(0)
    expect(JSON.parse(remade.stdout)).toMatchObject({ units: 4, resumed: 0 })
    expect(readJsonlFile(out).map((row) => row.meanTokens)).not.toEqual(rows.map((row) => row.meanTokens))
  }, 240_000)
})
