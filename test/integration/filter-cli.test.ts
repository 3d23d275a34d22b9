import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { readJsonlFile, runCli, tempDir } from './cli.js'

const HINTED = resolve('test/fixtures/trajectories/hinted.jsonl')
const PLAIN = resolve('test/fixtures/trajectories/plain.jsonl')
const MATH500 = resolve('../shared/datasets/math500.jsonl')

describe('start filter', () => {
  it("applies START's hint-gain rule, dedups, decontaminates, and records the dataset's lineage", async () => {
    const dir = tempDir()
    const out = join(dir, 'seed.jsonl')
    const db = join(dir, 's.db')
    const args = ['filter', HINTED, '--plain', PLAIN, '--decontaminate', MATH500, '--out', out, '--db', db]
    const result = await runCli([...args, '--run', 'f1', '--scores', join(dir, 'scores.jsonl'), '--json'])
    expect(result.exitCode).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary).toMatchObject({
      trajectories: 11,
      kept: 2,
      problems: 5,
      keptProblems: 2,
      plainTrajectories: 6,
    })
    expect(summary.rejected).toEqual({
      contaminated: 1,
      malformed: 1,
      unjudged: 0,
      unreasonable: 0,
      incorrect: 1,
      'no-plain-run': 1,
      'no-hint-gain': 1,
      'no-tool-use': 1,
      'tool-cap': 0,
      'over-long': 0,
      repetitive: 1,
      duplicate: 1,
      'near-duplicate': 1,
      'per-problem-cap': 0,
    })
    const seed = readJsonlFile(out)
    expect(seed.map((r) => `${r.problemId}#${r.sample}`)).toEqual(['p1#0', 'p4#3'])
    for (const record of seed) {
      expect(record.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant'])
      const content = record.messages[1].content
      expect(content.startsWith('<think>\n')).toBe(true)
      for (const [start, end] of record.outputSpans)
        expect(content.slice(start, end)).toMatch(/^```output\n[\s\S]*```\n$/)
    }
    const scores = readJsonlFile(join(dir, 'scores.jsonl'))
    expect(scores).toHaveLength(11)
    expect(scores.filter((s) => s.kept).map((s) => s.problemId)).toEqual(['p1', 'p4'])

    const store = new Database(db, { readonly: true })
    expect(store.prepare("SELECT name, records, path FROM datasets WHERE id = 'f1'").get()).toEqual({
      name: 'D_seed',
      records: 2,
      path: out,
    })
    const parents = store
      .prepare("SELECT parent_kind, parent_id FROM lineage WHERE child_id = 'f1' ORDER BY 2")
      .all()
    store.close()
    expect(parents).toEqual([
      { parent_kind: 'run', parent_id: 'hint-run' },
      { parent_kind: 'trajectory', parent_id: 'hint-run/p1#0' },
      { parent_kind: 'trajectory', parent_id: 'hint-run/p4#3' },
    ])

    // A rerun of the run recomputes the same dataset and replaces it, lineage included.
    const again = await runCli([...args, '--run', 'f1', '--rule', 'correct', '--json'])
    expect(again.exitCode).toBe(0)
    expect(JSON.parse(again.stdout).kept).toBe(3) // p2 joins; p3 stays over the tool cap
    const reopened = new Database(db, { readonly: true })
    expect(
      reopened
        .prepare("SELECT COUNT(*) AS n FROM lineage WHERE child_id = 'f1' AND parent_kind = 'trajectory'")
        .get(),
    ).toEqual({ n: 3 })
    reopened.close()
  })

  it('--rule correct with a per-problem cap and --drop-hints, reading stdin', async () => {
    const dir = tempDir()
    const result = await runCli(
      [
        'filter',
        '-',
        '--rule',
        'correct',
        '--per-problem',
        '1',
        '--near-duplicate',
        '1',
        '--max-tool-calls',
        '7',
        '--drop-hints',
        '--db',
        join(dir, 's.db'),
        '--json',
      ],
      { input: readFileSync(HINTED, 'utf8') },
    )
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.trim().split('\n')
    const summary = JSON.parse(
      lines.slice(lines.findIndex((line) => line.startsWith('{') && !line.includes('"messages"'))).join('\n'),
    )
    expect(summary.kept).toBe(5)
    expect(summary.rejected).toMatchObject({ 'per-problem-cap': 1, 'near-duplicate': 0, 'no-plain-run': 0 })
    const seed = lines.filter((line) => line.includes('"messages"')).map((line) => JSON.parse(line))
    expect(seed.map((r) => r.problemId)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5'])
    expect(seed.every((r) => !r.messages[1].content.includes('maybe using Python'))).toBe(true)
  })
})

describe('start grade', () => {
  it('grades math and HumanEval records in order, and names a bad line', async () => {
    const dir = tempDir()
    const humaneval = JSON.parse(readFileSync('../shared/datasets/humaneval.jsonl', 'utf8').split('\n')[2]!)
    const records = [
      { completion: 'So $\\boxed{\\dfrac{1}{2}}$.', answer: '0.5', source: 'math' },
      { completion: 'The answer is 7.', answer: 8, source: 'math' },
      { ...humaneval, completion: humaneval.meta.canonical_solution, source: 'code' },
      { ...humaneval, completion: '    return -1\n', source: 'code' },
    ]
    const input = join(dir, 'in.jsonl')
    writeFileSync(input, records.map((r) => JSON.stringify(r)).join('\n'))
    const out = join(dir, 'graded.jsonl')
    const result = await runCli(['grade', input, '--out', out, '--json'])
    expect(result.exitCode).toBe(0)
    expect(readJsonlFile(out).map((r) => [r.predicted !== null, r.correct])).toEqual([
      [true, true],
      [true, false],
      [true, true],
      [true, false],
    ])
    expect(JSON.parse(result.stdout)).toMatchObject({
      records: 4,
      correct: 2,
      codeRuns: 2,
      bySource: { math: { records: 2, correct: 1 }, code: { records: 2, correct: 1 } },
    })
  })
})
