import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultOptions } from '../../src/core/options.js'
import { FILTER_OPTIONS } from '../../src/filter/options.js'
import { runStepFilter } from '../../src/swirl/run-step-filter.js'
import { type SplittableTrajectory, splitSteps } from '../../src/swirl/split-steps.js'
import { tempDir, writeJsonlFile } from '../integration/cli.js'

const HINTED = 'test/fixtures/trajectories/hinted.jsonl'

describe('start filter over step records', () => {
  it('keeps the steps of problems outside the evaluation sets, and counts the contaminated ones', async () => {
    const dir = tempDir()
    const trajectories = readFileSync(HINTED, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SplittableTrajectory)
    const steps = join(dir, 'steps.jsonl')
    const all = trajectories.flatMap(splitSteps)
    writeJsonlFile(steps, all)
    // The evaluation set holds the first trajectory's problem, reworded around the same 13 words.
    const evaluation = join(dir, 'eval.jsonl')
    writeFileSync(
      evaluation,
      `${JSON.stringify({ id: 'e1', problem: `Show that ${trajectories[0]!.problem} holds.` })}\n`,
    )
    const out = join(dir, 'steps-kept.jsonl')
    const summary = await runStepFilter({
      inputs: [steps],
      plain: [],
      settings: {
        ...defaultOptions(FILTER_OPTIONS),
        rule: 'none',
        nearDuplicate: 1,
        decontaminate: [evaluation],
      },
      sandbox: { workers: 1 },
      out,
      db: join(dir, 's.db'),
      runId: 'f-steps',
      flags: {},
      toolVersion: '0',
    })
    const contaminated = all.filter((step) => step.problemId === trajectories[0]!.problemId)
    expect(contaminated.length).toBeGreaterThan(0)
    expect(summary).toMatchObject({ steps: all.length, evaluationProblems: 1 })
    expect(summary.rejected.contaminated).toBe(contaminated.length)
    const kept = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(kept.some((record) => record.problemId === trajectories[0]!.problemId)).toBe(false)
    const rejected = Object.values(summary.rejected).reduce((sum, count) => sum + count, 0)
    expect(kept.length + rejected).toBe(all.length)
  })
})
