import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultOptions } from '../../src/core/options.js'
import { FILTER_OPTIONS } from '../../src/filter/options.js'
import { runFilter } from '../../src/filter/run-filter.js'
import { runGrade } from '../../src/grading/run-grade.js'
import { tempDir } from '../integration/cli.js'

const HINTED = 'test/fixtures/trajectories/hinted.jsonl'

describe('start filter and start grade stop on bad input, leaving no output', () => {
  const dir = tempDir()
  const out = join(dir, 'seed.jsonl')
  const filter = (inputs: string[], rule: 'hint-gain' | 'correct') =>
    runFilter({
      inputs,
      plain: [],
      settings: { ...defaultOptions(FILTER_OPTIONS), rule },
      sandbox: { workers: 1 },
      out,
      db: join(dir, 's.db'),
      runId: `f-${rule}`,
      flags: {},
      toolVersion: '0',
    })

  it('needs the plain runs for the hint-gain rule', async () => {
    await expect(filter([HINTED], 'hint-gain')).rejects.toThrow('--rule hint-gain needs --plain')
  })

  it('names the line of a trajectory without a reference', async () => {
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, `${readFileSync(HINTED, 'utf8').split('\n')[0]}\n{"problemId": "x", "text": "y"}\n`)
    await expect(filter([bad], 'correct')).rejects.toThrow(`${bad}:2: missing "answer" (or "tests")`)
    expect(existsSync(out)).toBe(false)
  })

  it('grade names the line of a record without a completion', async () => {
    const bad = join(dir, 'grade.jsonl')
    writeFileSync(bad, '{"completion": "1", "answer": "1"}\n{"answer": "2"}\n')
    const graded = join(dir, 'graded.jsonl')
    await expect(runGrade({ inputs: [bad], out: graded, sandbox: { workers: 1 } })).rejects.toThrow(
      `${bad}:2: missing "completion" (or "text")`,
    )
    expect(existsSync(graded)).toBe(false)
  })
})
