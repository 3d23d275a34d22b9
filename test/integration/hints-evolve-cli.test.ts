import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { writeTwoHintLibrary } from '../hints/two-hint-library.js'
import { CLI, committedUnits, readJsonlFile, runCli, tempDir, writeJsonlFile } from './cli.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')

function problems(n: number): string {
  const file = join(tempDir(), 'train.jsonl')
  writeFileSync(
    file,
    readFileSync('../shared/datasets/testbed-train.jsonl', 'utf8').split('\n').slice(0, n).join('\n'),
  )
  return file
}

function evolveArgs(library: string, input: string, extra: string[] = []) {
  const dir = tempDir()
  const out = join(dir, 'evolved')
  const db = join(dir, 's.db')
  const args = [
    'hints',
    'evolve',
    input,
    '--model',
    MODEL,
    '--hints',
    library,
    '--out',
    out,
    '--db',
    db,
    '--prefixes',
    '2',
    '--continuations',
    '2',
    '--candidates',
    '1',
    '--max-tokens',
    '300',
    '--prompt-template',
    '{problem}',
    '--threads',
    '1',
  ]
  // a flag of `extra` replaces the default above
  for (let i = 0; i < extra.length; i++) {
    const at = extra[i]!.startsWith('--') ? args.indexOf(extra[i]!) : -1
    const value = extra[i + 1]
    if (at >= 0 && value !== undefined && !value.startsWith('--')) {
      args[at + 1] = value
      i++
    } else args.push(extra[i]!)
  }
  return { out, db, args }
}

describe('start hints evolve on the testbed model', () => {
  it('lists the candidates and the continuations planned with --dry-run, before loading anything', async () => {
    const { out, args } = evolveArgs(writeTwoHintLibrary(join(tempDir(), 'lib.json')), problems(2), [
      '--dry-run',
      '--json',
    ])
    const result = await runCli(args)
    expect(result.exitCode, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary.dryRun).toBe(true)
    expect(summary.candidates.map((c: { category: string }) => c.category)).toEqual([
      'complex-calculation',
      'self-reflection',
    ])
    expect(summary.candidates.map((c: { parent: string }) => c.parent)).toEqual(['calc-1', 'reflect-1'])
    // 2 prefixes x (2 candidates + 2 parents) x 2 continuations
    expect(summary.planned).toBe(16)
    expect(existsSync(out)).toBe(false)
    // the same from a pipeline config's hints: section (the model and problems from the config)
    const dir = tempDir()
    const config = join(dir, 'start.config.yaml')
    writeFileSync(
      config,
      [
        'run: c',
        `out: ${join(dir, 'out')}`,
        `model: ${MODEL}`,
        `problems: ${problems(2)}`,
        'eval: { benchmarks: [testbed-dev] }',
        `hints: { hints: ${writeTwoHintLibrary(join(tempDir(), 'lib.json'))}, prefixes: 2, continuations: 2, candidates: 1 }`,
      ].join('\n'),
    )
    const fromConfig = await runCli([
      'hints',
      'evolve',
      '--config',
      config,
      '--out',
      join(dir, 'ev'),
      '--dry-run',
      '--json',
    ])
    expect(fromConfig.exitCode, fromConfig.stderr).toBe(0)
    expect(JSON.parse(fromConfig.stdout)).toMatchObject({ planned: 16, problems: 2 })
  })

  it('tests each candidate against its parent on the same prefixes, writes a loadable library version with efficacy and lineage, and resumes after kill -9', async () => {
    const library = writeTwoHintLibrary(join(tempDir(), 'lib.json'))
    const input = problems(2)
    const { out, db, args } = evolveArgs(library, input, ['--alpha', '1', '--json'])
    const runId = `hints-evolve-${resolve(out)
      .replace(/[^\w.-]+/g, '_')
      .replace(/^_+/, '')}`
    // killed once some continuations are stored
    const first = execa('node', [CLI, ...args], { reject: false })
    while (committedUnits(db, runId) < 6 && first.exitCode === null)
      await new Promise((r) => setTimeout(r, 100))
    first.kill('SIGKILL')
    await first
    expect(existsSync(join(out, 'candidates.jsonl'))).toBe(false)
    const stored = committedUnits(db, runId)

    const result = await runCli(args)
    expect(result.exitCode, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary.resumed).toBeGreaterThan(0)
    expect(summary.resumed).toBeLessThanOrEqual(stored)
    expect(summary.prefixes).toBe(2) // every problem reached a hint point
    expect(summary.continuations).toBe(summary.planned)
    expect(summary.continuations).toBe(2 * 4 * 2)
    // every unit once: 2 prefixes and the continuations
    expect(committedUnits(db, runId)).toBe(2 + summary.planned)

    // the verdicts: a one-sided test on the paired difference; with --alpha 1, better is admitted
    expect(summary.verdicts).toHaveLength(2)
    for (const verdict of summary.verdicts) {
      expect(verdict.prefixes).toBe(2)
      expect(verdict.admitted).toBe(verdict.difference > 0)
      expect(verdict.pValue).toBe(verdict.difference > 0 ? expect.any(Number) : 1)
    }
    // the new version: the parent's hints with their efficacy, the admitted candidates with the test
    expect(summary.library).toBe(join(out, 'hint-library', 'small-g1.json'))
    const written = JSON.parse(readFileSync(summary.library, 'utf8'))
    expect(written).toMatchObject({ name: 'small-g1', generation: 1, parent: 'lib.json' })
    const ids = written.hints.map((hint: { id: string }) => hint.id)
    expect(ids).toEqual(['calc-1', 'reflect-1', ...summary.admitted])
    for (const hint of written.hints) {
      expect(hint.efficacy.prefixes).toBe(2)
      expect(hint.efficacy.continuations).toBe(4)
      for (const rate of [hint.efficacy.code, hint.efficacy.correct]) {
        expect(rate.low).toBeLessThanOrEqual(rate.rate)
        expect(rate.high).toBeGreaterThanOrEqual(rate.rate)
      }
    }
    for (const id of summary.admitted) {
      const hint = written.hints.find((h: { id: string }) => h.id === id)
      expect(hint.admitted.reason).toMatch(/^admitted: \+/)
    }
    // every candidate's verdict and why
    const candidates = readJsonlFile(join(out, 'candidates.jsonl'))
    expect(candidates.map((c) => c.id)).toEqual(summary.candidates.map((c: { id: string }) => c.id))
    for (const candidate of candidates) expect(candidate.verdict).toMatch(/^(admitted|not shown better): /)
    // lineage in the store
    const store = new Database(db, { readonly: true })
    const row = store
      .prepare('SELECT name, generation, parent_path, run_id, verdicts FROM hint_libraries')
      .get() as Record<string, string>
    store.close()
    expect(row).toMatchObject({ name: 'small-g1', generation: 1, parent_path: library, run_id: runId })
    expect(JSON.parse(row.verdicts!)).toHaveLength(2)

    // loadable by every --hints flag: hint-infer with it
    const hinted = await runCli([
      'hint-infer',
      problems(1),
      '--model',
      MODEL,
      '--hints',
      summary.library,
      '--max-tokens',
      '200',
      '--prompt-template',
      '{problem}',
      '--db',
      db,
    ])
    expect(hinted.exitCode, hinted.stderr).toBe(0)
    for (const record of hinted.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)))
      for (const hint of record.hints) expect(ids).toContain(hint.id)
  }, 300_000)

  it('refuses a library that does not validate, a problem without an answer, and a proposer that writes nothing usable', async () => {
    const broken = join(tempDir(), 'broken.json')
    writeFileSync(broken, JSON.stringify({ name: 'x', hints: [{ id: 'a', category: 'c', domain: 'math' }] }))
    const badLibrary = await runCli(evolveArgs(broken, problems(2)).args)
    expect(badLibrary.exitCode).toBe(2)
    expect(badLibrary.stderr).toContain(`--hints ${broken}: hints[0]: missing "text"`)

    const unanswered = writeJsonlFile(join(tempDir(), 'p.jsonl'), [
      { id: 'a', source: 's', problem: 'What is 2+2?', answer: '4' },
      { id: 'b', source: 's', problem: 'What is 3+3?' },
    ])
    const noAnswer = await runCli(
      evolveArgs(writeTwoHintLibrary(join(tempDir(), 'lib.json')), unanswered).args,
    )
    expect(noAnswer.exitCode).toBe(2)
    expect(noAnswer.stderr).toContain('p.jsonl:2: missing "answer"')

    // the testbed model writes arithmetic, not hints: nothing it proposes is usable
    const { args } = evolveArgs(writeTwoHintLibrary(join(tempDir(), 'lib.json')), problems(1), [
      '--proposer',
      MODEL,
      '--candidates',
      '0',
      '--max-tokens',
      '120',
    ])
    const proposer = await runCli(args)
    expect(proposer.exitCode).toBe(2)
    expect(proposer.stderr).toContain(`--proposer ${MODEL}: wrote no usable hint`)
  }, 120_000)
})
