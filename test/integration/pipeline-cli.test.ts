import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI, readJsonlFile, runCli, tempDir } from './cli.js'

const CONFIG = `
run: tiny
out: out
model: ${resolve('../shared/models/testbed-tir-f32.gguf')}
problems: ${resolve('../shared/datasets/testbed-train.jsonl')}
limit: 8
promptTemplate: '{problem}'
threads: 1
hintInfer: { samples: 1, temperature: 0, maxTokens: 300, thinkHints: 0 }
filter: { rule: hint-gain }
rft:
  stage1: { maxSteps: 2, lr: 0.0002, batchSize: 8, gradAccum: 1, outtype: f32 }
  stage2: { limit: 6, samples: 1, temperature: 0, hints: true, thinkHints: 0, maxTokens: 300, maxSteps: 1, lr: 0.0002, batchSize: 8, gradAccum: 1, outtype: f32 }
rl: { maxSteps: 1, numGenerations: 2, maxTokens: 200, temperature: 0.6, outtype: f32 }
swirl: { rules: [none], holdOut: arith, transferRule: none, maxSteps: 1, lr: 0.0002, batchSize: 8, gradAccum: 1, outtype: f32 }
eval: { benchmarks: [testbed-dev], data: ${resolve('../shared/datasets')}, limit: 1, samples: 1, temperature: 0, maxTokens: 300, modes: [tools, hints] }
`

describe('start pipeline', () => {
  it('runs the whole loop from a config, and after a kill between stages resumes where it stopped', async () => {
    const dir = tempDir()
    const config = join(dir, 'start.config.yaml')
    writeFileSync(config, CONFIG)
    const db = join(dir, 's.db')
    // First run: killed once D_seed is written, i.e. between the filter and the fine-tuning.
    const first = execa('node', [CLI, 'pipeline', '--config', config, '--db', db], { reject: false })
    const dSeed = join(dir, 'out', 'd_seed.jsonl')
    while (!existsSync(dSeed) && first.exitCode === null) await new Promise((r) => setTimeout(r, 100))
    first.kill('SIGKILL')
    await first
    expect(existsSync(dSeed)).toBe(true)
    expect(existsSync(join(dir, 'out', 'report.html'))).toBe(false)

    const second = await runCli(['pipeline', '--config', config, '--db', db, '--json'])
    expect(second.exitCode, second.stderr).toBe(0)
    const summary = JSON.parse(second.stdout)
    const statuses = summary.stages.map((s: { stage: string; status: string }) => `${s.stage}:${s.status}`)
    expect(statuses.slice(0, 3)).toEqual(['hinted:skipped', 'plain:skipped', 'filter:skipped'])
    expect(statuses.slice(4)).toEqual(['rft-2:done', 'rl:done', 'swirl:done', 'eval:done', 'report:done'])
    const [results, paired, training] = summary.summary.trim().split('\n\n')
    // base, START-0, START, RL, SWiRL (all families; without arith) x 2 modes x 2 benchmarks (dev, its arith cut)
    expect(results.split('\n')).toHaveLength(2 + 6 * 2 * 2)
    expect(results).toContain('| swirl-none-without-arith | testbed-dev-arith | tools |')
    expect(paired.split('\n')).toHaveLength(2 + 15 * 2 * 2) // every two of the 6 models, per mode and benchmark
    // SWiRL's models train from the rft stage's conversion of the GGUF base, not one each
    expect(existsSync(join(dir, 'out', 'rft', 'base-hf', 'config.json'))).toBe(true)
    for (const variant of ['swirl-none', 'swirl-none-without-arith'])
      expect(existsSync(join(dir, 'out', 'swirl', variant, 'base-hf'))).toBe(false)
    const swirlData = readJsonlFile(join(dir, 'out', 'swirl', 'swirl-none-without-arith', 'd_steps.jsonl'))
    expect(swirlData.length).toBeGreaterThan(0)
    expect(swirlData.every((record) => record.outputSpans[0][0] === 0)).toBe(true)
    const arith = new Set(
      readJsonlFile(join(dir, 'out', 'problems.jsonl'))
        .filter((problem) => problem.meta.family === 'arith')
        .map((problem) => problem.id),
    )
    expect(swirlData.some((record) => arith.has(record.problemId))).toBe(false)
    expect(
      readJsonlFile(join(dir, 'out', 'swirl', 'testbed-dev-arith.jsonl')).every(
        (p) => p.meta.family === 'arith',
      ),
    ).toBe(true)
    expect(training).toMatch(/\| tiny-rl \| 1 \|/)
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toContain('START evaluation')

    const third = await runCli(['pipeline', '--config', config, '--db', db, '--json'])
    expect(JSON.parse(third.stdout).stages.every((s: { status: string }) => s.status === 'skipped')).toBe(
      true,
    )
    // Off a terminal (a log, nohup) each stage still says what it does.
    const logged = await runCli(['pipeline', '--config', config, '--db', db])
    for (const stage of ['hinted', 'plain', 'filter', 'rft-1', 'rft-2', 'rl', 'swirl', 'eval', 'report'])
      expect(logged.stderr).toContain(`${stage}: done before, skipped`)
    const runs = await runCli(['runs', '--db', db])
    const filterRun = runs.stdout.split('\n').find((line) => line.startsWith('tiny-filter\t'))
    expect(filterRun).toMatch(/\tfilter\tdone\t.*, kept \d+.*rejected \d+ \(/)
    const plan = await runCli(['pipeline', '--config', config, '--db', db, '--dry-run'])
    expect(plan.stdout.trim().split('\n')).toHaveLength(9)
    expect(plan.stdout).not.toContain('[pending]')

    // One flag reproduces the pipeline's eval: the same settings, the same models, the same numbers.
    const alone = await runCli([
      'eval',
      '--config',
      config,
      '--db',
      join(dir, 'other.db'),
      '--json',
      '--out',
      join(dir, 'alone.jsonl'),
    ])
    expect(alone.exitCode, alone.stderr).toBe(0)
    const rows = (file: string) =>
      readJsonlFile(file).map((row) => [row.model, row.mode, row.pass1, row.meanTokens, row.unrunCodeRate])
    expect(rows(join(dir, 'alone.jsonl'))).toEqual(rows(join(dir, 'out', 'eval.jsonl')))
    expect(JSON.parse(alone.stdout).settings).toMatchObject({
      temperature: 0,
      maxTokens: 300,
      promptTemplate: '{problem}',
      limit: 1,
    })
  }, 400_000)
})
