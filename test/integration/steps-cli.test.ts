import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI, committedUnits, readJsonlFile, runCli, tempDir, testbedRubric, writeJsonlFile } from './cli.js'

const HINTED = resolve('test/fixtures/trajectories/hinted.jsonl')
const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')

/** Steps whose action is a sum the testbed model works on: two trajectories, the second of two steps. */
function arithmeticSteps(): Record<string, unknown>[] {
  const step = (trajectory: string, index: number, steps: number, action: string) => ({
    run: 'r',
    problemId: trajectory,
    sample: 0,
    step: index,
    steps,
    trajectory: `r/${trajectory}#0`,
    state: { messages: [{ role: 'user', content: 'Sum?' }], prompt: '<|user|>Sum?', text: '' },
    action,
    insertedSpans: [],
    toolOutput: index === steps - 1 ? null : '```output\n51\n```\n',
    final: index === steps - 1,
    answer: '51',
  })
  return [step('a', 0, 1, '17 * 3'), step('b', 0, 2, '4821 * 317 - 2904'), step('b', 1, 2, '25 * 2')]
}

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
    expect(records.filter((record) => record.judgements.process.verdict === 'yes')).toHaveLength(summary.yes)
    expect(summary.yes).toBeGreaterThan(0)
    expect(summary.yes).toBeLessThan(records.length)
    const bad = await runCli(['judge', HINTED, '--db', join(dir, 's.db')])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain(`${HINTED}:1: not a step record`)
  }, 60_000)

  it('start judge --judge model: a real judge model answers a rubric file; verdicts are stored, resumed, and never a silent yes', async () => {
    const dir = tempDir()
    const steps = join(dir, 'steps.jsonl')
    writeJsonlFile(steps, arithmeticSteps())
    const rubric = (name: string, scope: 'step' | 'final', yes: string[], no: string[]) =>
      testbedRubric(dir, name, { scope, prompt: 'Compute {{action}}.', yes, no })
    const judge = (file: string, out: string, more: string[] = []) =>
      runCli([
        'judge',
        steps,
        '--judge',
        'model',
        '--rubric',
        file,
        '--model',
        MODEL,
        '--db',
        join(dir, 'j.db'),
        '--parallel',
        '2',
        // One thread: two test files share the two cores, and llama.cpp's threads wait by spinning.
        '--threads',
        '1',
        '--json',
        '--out',
        join(dir, out),
        ...more,
      ])

    const first = await judge(rubric('form', 'step', ['boxed'], ['fbox']), 'form.jsonl', [
      '--run',
      'judge-form',
    ])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout)).toMatchObject({ steps: 3, yes: 3, no: 0, unjudged: 0, resumed: 0 })
    const judged = readJsonlFile(join(dir, 'form.jsonl'))
    expect(judged.map((step) => step.action)).toEqual(arithmeticSteps().map((step) => step.action))
    for (const step of judged) {
      expect(step.judgements.form).toMatchObject({ judge: MODEL, verdict: 'yes' })
      expect(step.judgements.form.text).toMatch(/The answer is \\boxed\{\d+\}/)
      // The reason is what the judge wrote before its verdict, after its thinking.
      expect(step.judgements.form.reasons).toEqual(['The'])
    }
    expect(JSON.parse(first.stdout).generatedTokens).toBeGreaterThan(0)

    // The same run again: every verdict comes from the store, the output is the same.
    const again = await judge(join(dir, 'form.json'), 'form-again.jsonl', ['--run', 'judge-form'])
    expect(JSON.parse(again.stdout)).toMatchObject({ steps: 3, yes: 3, resumed: 3, generatedTokens: 0 })
    expect(readJsonlFile(join(dir, 'form-again.jsonl'))).toEqual(judged)

    // A verdict word the rubric does not know is unjudged, with the reason; never yes.
    const unknown = await judge(rubric('strict', 'step', ['correct'], ['wrong']), 'strict.jsonl')
    expect(JSON.parse(unknown.stdout)).toMatchObject({ yes: 0, no: 0, unjudged: 3 })
    expect(readJsonlFile(join(dir, 'strict.jsonl'))[0].judgements.strict.reasons).toEqual([
      'verdict "boxed" is neither yes nor no',
    ])

    // A final-scope rubric judges each trajectory's last step once; its verdict holds for every step.
    const outcome = await judge(rubric('final', 'final', ['fbox'], ['boxed']), 'final.jsonl')
    expect(JSON.parse(outcome.stdout)).toMatchObject({ steps: 3, no: 3 })
    const finals = readJsonlFile(join(dir, 'final.jsonl'))
    expect(finals[1].judgements.final).toEqual(finals[2].judgements.final)

    // The shipped process rubric: this tiny model never writes "Verdict: ...", so nothing is judged yes.
    const shipped = await judge('process', 'process.jsonl', ['--max-tokens', '48'])
    expect(JSON.parse(shipped.stdout)).toMatchObject({ unjudged: 3, yes: 0, no: 0 })
    expect(readJsonlFile(join(dir, 'process.jsonl'))[0].judgements.process.reasons[0]).toMatch(
      /no verdict matching|stopped on length/,
    )

    const bad = join(dir, 'bad.json')
    writeFileSync(bad, JSON.stringify({ name: 'bad', scope: 'step', prompt: 'Compute.', verdict: {} }))
    const refused = await judge(bad, 'bad.jsonl')
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain(`--rubric ${bad}: "prompt" must show the step`)
    const noModel = await runCli(['judge', steps, '--judge', 'model', '--db', join(dir, 'j.db')])
    expect(noModel.exitCode).toBe(2)
    expect(noModel.stderr).toContain('--judge model: needs --model')
  }, 180_000)

  it('start filter --rule process|outcome|both|none selects judged steps into step-wise SFT examples', async () => {
    const dir = tempDir()
    const db = join(dir, 's.db')
    const steps = join(dir, 'steps.jsonl')
    const judged = join(dir, 'judged.jsonl')
    expect((await runCli(['steps', HINTED, '--out', steps, '--db', db])).exitCode).toBe(0)
    expect((await runCli(['judge', steps, '--out', judged, '--db', db])).exitCode).toBe(0)
    const filter = async (rule: string, input = judged) => {
      const result = await runCli([
        'filter',
        input,
        '--rule',
        rule,
        '--db',
        db,
        '--json',
        '--out',
        join(dir, `${rule}.jsonl`),
        '--scores',
        join(dir, `${rule}-scores.jsonl`),
      ])
      return { result, scores: result.exitCode === 0 ? readJsonlFile(join(dir, `${rule}-scores.jsonl`)) : [] }
    }
    const all = readJsonlFile(judged)
    const kept = {} as Record<string, Set<string>>
    for (const rule of ['none', 'process', 'outcome', 'both']) {
      const { result, scores } = await filter(rule)
      expect(result.exitCode, result.stderr).toBe(0)
      const summary = JSON.parse(result.stdout)
      expect(summary).toMatchObject({ steps: all.length, trajectories: 11 })
      expect(scores).toHaveLength(all.length)
      const records = readJsonlFile(join(dir, `${rule}.jsonl`))
      expect(records).toHaveLength(summary.kept)
      kept[rule] = new Set(scores.filter((s) => s.kept).map((s) => `${s.trajectory}#${s.step}`))
      for (const score of scores.filter((s) => s.kept)) {
        if (rule === 'process' || rule === 'both') expect(score.process).toBe('yes')
        if (rule === 'outcome' || rule === 'both') expect(score.correct).toBe(true)
      }
      for (const record of records) expect(record.outputSpans[0][0]).toBe(0)
    }
    expect(kept.process!.size).toBeLessThan(kept.none!.size)
    expect(kept.outcome!.size).toBeLessThan(kept.none!.size)
    expect([...kept.both!].every((key) => kept.process!.has(key) && kept.outcome!.has(key))).toBe(true)
    // Unjudged steps under a process rule: one clear line naming the file and line, no output.
    const { result } = await filter('process', steps)
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(`${steps}:1: --rule process: the step has no "process" judgement`)
  }, 120_000)

  it('start judge --judge counterfactual: a credit per tool step from continuations with and without its output, resumed from the store, read by start filter --judgement', async () => {
    const dir = tempDir()
    const db = join(dir, 's.db')
    const steps = join(dir, 'steps.jsonl')
    const three = writeJsonlFile(join(dir, 'three.jsonl'), readJsonlFile(HINTED).slice(0, 3))
    expect((await runCli(['steps', three, '--out', steps, '--db', db])).exitCode).toBe(0)
    const judged = join(dir, 'judged.jsonl')
    const args = ['judge', steps, '--judge', 'counterfactual', '--model', MODEL, '--temperature', '0.6']
    const options = ['--k', '2', '--max-tokens', '200', '--threads', '1', '--db', db, '--run', 'cf', '--json']
    const first = await runCli([...args, ...options, '--out', judged])
    expect(first.exitCode, first.stderr).toBe(0)
    const summary = JSON.parse(first.stdout)
    const records = readJsonlFile(judged)
    const input = readJsonlFile(steps)
    expect(records.map((r) => `${r.trajectory}#${r.step}`)).toEqual(
      input.map((r) => `${r.trajectory}#${r.step}`),
    )
    const tools = records.filter((r) => r.toolOutput !== null)
    expect(tools.length).toBeGreaterThan(0)
    for (const record of records) {
      const judgement = record.judgements.counterfactual
      expect(judgement.judge).toBe('counterfactual')
      if (record.toolOutput === null) {
        expect(judgement).toMatchObject({ verdict: 'unjudged', reasons: ['no tool output to ablate'] })
        continue
      }
      const figures = judgement.counterfactual
      // the real arm: the trajectory's own ending and k - 1 samples; the ablated arm: k samples
      expect(figures).toMatchObject({ k: 2, ablate: 'empty', real: { of: 2 }, ablated: { of: 2 } })
      expect(figures.credit).toBeCloseTo(figures.real.right / 2 - figures.ablated.right / 2, 10)
      expect(figures.interval[0]).toBeLessThanOrEqual(figures.credit)
      expect(figures.interval[1]).toBeGreaterThanOrEqual(figures.credit)
      expect(judgement.verdict).toBe(figures.pValue <= 0.05 ? 'yes' : 'no')
    }
    expect(summary).toMatchObject({
      rubric: 'counterfactual',
      steps: records.length,
      continuations: tools.length * 3,
    })
    expect(summary.unjudged).toBe(records.length - tools.length)

    // the same run again: every continuation taken from the store, the same verdicts
    const again = await runCli([...args, ...options, '--out', join(dir, 'again.jsonl')])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ continuations: 0, resumed: tools.length * 3 })
    expect(readJsonlFile(join(dir, 'again.jsonl'))).toEqual(records)

    // the filter reads the counterfactual verdicts: only yes is kept
    const filtered = await runCli([
      'filter',
      judged,
      '--rule',
      'process',
      '--judgement',
      'counterfactual',
      '--db',
      db,
      '--json',
      '--out',
      join(dir, 'kept.jsonl'),
      '--scores',
      join(dir, 'scores.jsonl'),
    ])
    expect(filtered.exitCode, filtered.stderr).toBe(0)
    const scores = readJsonlFile(join(dir, 'scores.jsonl'))
    for (const score of scores) expect(score.kept ? score.process === 'yes' : true).toBe(true)
    expect(scores.filter((s) => s.process !== 'yes').every((s) => !s.kept)).toBe(true)
    const missing = await runCli([
      'filter',
      steps,
      '--rule',
      'process',
      '--judgement',
      'counterfactual',
      '--db',
      db,
      '--out',
      join(dir, 'x.jsonl'),
    ])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain(`${steps}:1: --rule process: the step has no "counterfactual" judgement`)
    // greedy continuations would all be one: refused
    const greedy = await runCli(['judge', steps, '--judge', 'counterfactual', '--model', MODEL, '--db', db])
    expect(greedy.exitCode).toBe(2)
    expect(greedy.stderr).toContain('--temperature 0: the k continuations of an arm would all be the same')
  }, 120_000)

  it('start judge --judge model killed mid-run: no partial output; the rerun asks only for the verdicts not stored', async () => {
    const dir = tempDir()
    const steps = join(dir, 'steps.jsonl')
    const records = [0, 1].flatMap((copy) =>
      arithmeticSteps().map((step) => ({ ...step, trajectory: `${step.trajectory}-${copy}` })),
    )
    writeJsonlFile(steps, records)
    const rubric = testbedRubric(dir, 'form', {
      scope: 'step',
      prompt: 'Compute {{action}}.',
      yes: ['boxed'],
      no: ['fbox'],
    })
    const db = join(dir, 'j.db')
    const out = join(dir, 'judged.jsonl')
    const args = [
      'judge',
      steps,
      '--judge',
      'model',
      '--rubric',
      rubric,
      '--model',
      MODEL,
      '--threads',
      '1',
      '--db',
      db,
      '--out',
      out,
      '--run',
      'judge-kill',
    ]
    const first = execa('node', [CLI, ...args], { reject: false })
    while (committedUnits(db, 'judge-kill') < 2 && first.exitCode === null)
      await new Promise((r) => setTimeout(r, 100))
    first.kill('SIGKILL')
    await first
    expect(existsSync(out)).toBe(false)
    const stored = committedUnits(db, 'judge-kill')
    expect(stored).toBeGreaterThanOrEqual(2)
    expect(stored).toBeLessThan(records.length)

    const second = await runCli([...args, '--json'])
    expect(second.exitCode, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({
      steps: records.length,
      resumed: stored,
      yes: records.length,
    })
    const judged = readJsonlFile(out)
    expect(judged.map((step) => step.trajectory)).toEqual(records.map((step) => step.trajectory))
    expect(committedUnits(db, 'judge-kill')).toBe(records.length)
  }, 180_000)
})
