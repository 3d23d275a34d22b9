import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readJsonlFile, runCli, tempDir } from './cli.js'

const HINTED = resolve('test/fixtures/trajectories/hinted.jsonl')

describe('start steps', () => {
  it('splits trajectory JSONL into step records (file or stdin), and stops on a bad line with file:line', async () => {
    const dir = tempDir()
    const out = join(dir, 'steps.jsonl')
    const result = await runCli(['steps', HINTED, '--out', out, '--db', join(dir, 's.db'), '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout)
    const steps = readJsonlFile(out)
    expect(steps).toHaveLength(summary.steps)
    expect(summary).toMatchObject({ trajectories: 11 })
    expect(steps.filter((step) => step.final)).toHaveLength(11)
    expect(steps.filter((step) => !step.final)).toHaveLength(summary.toolSteps)

    const piped = await runCli(['steps', '--db', join(dir, 's.db')], {
      input: readJsonlFile(HINTED)
        .map((r) => JSON.stringify(r))
        .join('\n'),
    })
    expect(piped.exitCode, piped.stderr).toBe(0)
    expect(
      piped.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual(steps)

    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, `${JSON.stringify(readJsonlFile(HINTED)[0])}\n{"run": "r"}\n`)
    const failed = await runCli([
      'steps',
      bad,
      '--out',
      join(dir, 'bad-steps.jsonl'),
      '--db',
      join(dir, 's.db'),
    ])
    expect(failed.exitCode).toBe(2)
    expect(failed.stderr).toContain(`${bad}:2: missing "problemId"`)
  }, 60_000)

  it('start judge --judge rules labels every step of start steps, a trajectory at a time', async () => {
    const dir = tempDir()
    const steps = join(dir, 'steps.jsonl')
    expect((await runCli(['steps', HINTED, '--out', steps, '--db', join(dir, 's.db')])).exitCode).toBe(0)
    const judged = await runCli([
      'judge',
      steps,
      '--judge',
      'rules',
      '--db',
      join(dir, 's.db'),
      '--json',
      '--out',
      join(dir, 'judged.jsonl'),
    ])
    expect(judged.exitCode, judged.stderr).toBe(0)
    const summary = JSON.parse(judged.stdout)
    const records = readJsonlFile(join(dir, 'judged.jsonl'))
    expect(records.map((record) => record.step)).toEqual(readJsonlFile(steps).map((record) => record.step))
    expect(summary.steps).toBe(records.length)
    expect(records.filter((record) => record.judgement.verdict === 'reasonable')).toHaveLength(
      summary.reasonable,
    )
    expect(summary.reasonable).toBeGreaterThan(0)
    expect(summary.reasonable).toBeLessThan(records.length)
    const bad = await runCli(['judge', HINTED, '--db', join(dir, 's.db')])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain(`${HINTED}:1: not a step record`)
  }, 60_000)
})
