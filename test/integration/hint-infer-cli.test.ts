import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI, committedUnits, readJsonlFile, runCli, tempDir } from './cli.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')
const DEV = resolve('../shared/datasets/testbed-dev.jsonl')

/** The first `n` dev problems in a file of their own. */
function devProblems(n: number): string {
  const file = join(tempDir(), 'problems.jsonl')
  writeFileSync(file, `${readFileSync(DEV, 'utf8').split('\n').slice(0, n).join('\n')}\n`)
  return file
}

// The testbed was trained on bare problems; the prompt template is a flag, so it gets its own.
const BASE = ['--model', MODEL, '--prompt-template', '{problem}', '--temperature', '0', '--threads', '1']

describe('start hint-infer on the testbed model', () => {
  it('inserts hints, runs the code, appends the real output and extracts answers', async () => {
    const dir = tempDir()
    const out = join(dir, 'traj.jsonl')
    const db = join(dir, 's.db')
    const result = await runCli([
      'hint-infer',
      devProblems(3),
      ...BASE,
      '--out',
      out,
      '--db',
      db,
      '--run',
      'h1',
      '--json',
    ])
    expect(result.exitCode).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary).toMatchObject({ trajectories: 3, resumed: 0, reevaluatedTokens: 0 })
    expect(summary.toolCalls).toBeGreaterThan(0)
    const records = readJsonlFile(out)
    for (const record of records) {
      expect(record.segments.map((s: { text: string }) => s.text).join('')).toBe(record.text)
      expect(record.hints.length).toBeGreaterThan(0)
      for (const hint of record.hints) {
        expect(record.text.slice(hint.offset)).toMatch(/^\s*\S/)
        expect(['connective', 'think-end']).toContain(hint.trigger)
      }
      expect(record.tokens.reevaluatedTokens).toBe(0)
      expect(record).toHaveProperty('answer')
      // Every output block holds what the sandbox really printed for the code before it.
      for (const segment of record.segments.filter((s: { kind: string }) => s.kind === 'output')) {
        const printed = segment.execution.stdout.trim()
        if (printed) expect(segment.text).toContain(printed)
      }
    }
    expect(records.filter((r) => r.toolCalls > 0).length).toBeGreaterThan(0)
    expect(records.every((r) => r.predicted !== null)).toBe(true)

    const store = new Database(db, { readonly: true })
    const count = (sql: string) => (store.prepare(sql).get() as { n: number }).n
    expect(count("SELECT COUNT(*) AS n FROM trajectories WHERE run_id = 'h1'")).toBe(3)
    expect(count("SELECT COUNT(*) AS n FROM executions WHERE run_id = 'h1'")).toBe(summary.toolCalls)
    expect(count("SELECT COUNT(*) AS n FROM segments WHERE kind = 'hint'")).toBe(summary.hints)
    store.close()
    expect(records[0]).toMatchObject({ run: 'h1', messages: [{ role: 'user', content: records[0].problem }] })

    // The trajectories go on through `start grade` and `start filter`, which score them in the same store.
    const graded = await runCli(['grade', out, '--out', join(dir, 'graded.jsonl'), '--json'])
    expect(graded.exitCode).toBe(0)
    const grades = readJsonlFile(join(dir, 'graded.jsonl'))
    expect(grades.map((g) => g.predicted)).toEqual(records.map((r) => r.predicted))
    expect(JSON.parse(graded.stdout).correct).toBe(grades.filter((g) => g.correct).length)
    const seed = join(dir, 'seed.jsonl')
    const filtered = await runCli([
      'filter',
      out,
      '--rule',
      'correct',
      '--min-tool-calls',
      '0',
      '--db',
      db,
      '--out',
      seed,
      '--json',
    ])
    expect(filtered.exitCode).toBe(0)
    const filterSummary = JSON.parse(filtered.stdout)
    expect(filterSummary).toMatchObject({ trajectories: 3, storedScores: 3 })
    const reader = new Database(db, { readonly: true })
    const scored = reader
      .prepare("SELECT COUNT(DISTINCT trajectory_id) AS n FROM scores WHERE name = 'correct'")
      .get()
    expect(scored).toEqual({ n: 3 })
    const parents = reader.prepare("SELECT parent_id FROM lineage WHERE parent_kind = 'trajectory'").all()
    reader.close()
    expect(parents).toHaveLength(filterSummary.kept)
    for (const { parent_id } of parents as { parent_id: string }[])
      expect(parent_id).toMatch(/^h1\/testbed-dev-\d+#0$/)
  })

  it('runs the plain model with --no-hints, two sequences in parallel', async () => {
    const dir = tempDir()
    const out = join(dir, 'plain.jsonl')
    const result = await runCli([
      'hint-infer',
      devProblems(2),
      ...BASE,
      '--no-hints',
      '--parallel',
      '2',
      '--samples',
      '2',
      '--out',
      out,
      '--db',
      join(dir, 's.db'),
      '--json',
    ])
    expect(result.exitCode).toBe(0)
    const records = readJsonlFile(out)
    expect(records.map((r) => `${r.problemId}#${r.sample}`)).toEqual([
      'testbed-dev-0#0',
      'testbed-dev-0#1',
      'testbed-dev-1#0',
      'testbed-dev-1#1',
    ])
    expect(records.every((r) => r.hints.length === 0 && r.hinted === false)).toBe(true)
    expect(records.every((r) => !r.segments.some((s: { kind: string }) => s.kind === 'hint'))).toBe(true)
  })

  it('resumes after a kill: finished samples are kept and not redone', async () => {
    const dir = tempDir()
    const db = join(dir, 's.db')
    const out = join(dir, 'traj.jsonl')
    const problems = devProblems(12)
    const args = ['hint-infer', problems, ...BASE, '--out', out, '--db', db, '--run', 'killed']
    const first = execa('node', [CLI, ...args], { reject: false })
    const deadline = Date.now() + 60_000
    let done = 0
    while (Date.now() < deadline && done < 2) {
      await new Promise((r) => setTimeout(r, 100))
      done = committedUnits(db, 'killed')
    }
    first.kill('SIGKILL')
    await first
    expect(done).toBeGreaterThanOrEqual(2)
    expect(existsSync(out)).toBe(false)

    const second = await runCli([...args, '--json'])
    expect(second.exitCode).toBe(0)
    const summary = JSON.parse(second.stdout)
    expect(summary.trajectories).toBe(12)
    expect(summary.resumed).toBeGreaterThanOrEqual(2)
    expect(readJsonlFile(out).map((r) => r.problemId)).toHaveLength(12)
    const store = new Database(db, { readonly: true })
    expect(
      (store.prepare("SELECT COUNT(*) AS n FROM trajectories WHERE run_id = 'killed'").get() as { n: number })
        .n,
    ).toBe(12)
    store.close()
  }, 120_000)
})
