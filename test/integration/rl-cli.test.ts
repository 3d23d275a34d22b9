import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI, readJsonlFile, runCli, tempDir, writeJsonlFile } from './cli.js'

const HF = resolve('../shared/models/testbed-tir-hf')
const GGUF = resolve('../shared/models/testbed-tir-f32.gguf')

/** The first `n` training problems in a file of their own. */
function trainProblems(n: number): string {
  const file = join(tempDir(), 'train.jsonl')
  const lines = readFileSync('../shared/datasets/testbed-train.jsonl', 'utf8').split('\n').slice(0, n)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

// The base model writes Python after a hint: with --hints every rollout has a hint and code output.
const SMALL = ['--num-generations', '4', '--max-tokens', '300', '--hints', '--outtype', 'f32']

/** `start rl` on the testbed base, into a fresh directory: its output folder, store and arguments. */
function rlRun(problems: string, steps: number, extra: string[] = []) {
  const dir = tempDir()
  const out = join(dir, 'rl')
  const db = join(dir, 's.db')
  const args = [
    'rl',
    '--base',
    HF,
    '--problems',
    problems,
    '--out',
    out,
    '--db',
    db,
    '--max-steps',
    String(steps),
    ...SMALL,
    ...extra,
  ]
  return { out, db, args }
}

function loggedSteps(db: string, run: string): { step: number; metrics: Record<string, number> }[] {
  const store = new Database(db, { readonly: true })
  try {
    const rows = store
      .prepare('SELECT step, loss, metrics FROM training_log WHERE run_id = ? ORDER BY step')
      .all(run) as { step: number; loss: number; metrics: string }[]
    return rows.map((row) => ({ step: row.step, metrics: { ...JSON.parse(row.metrics), loss: row.loss } }))
  } finally {
    store.close()
  }
}

/** The trainer's start event: the policy's parameters and how many of them train. */
function startEvent(out: string): { parameters: number; trainable: number } {
  const start = readFileSync(join(out, 'logs', 'rl.log'), 'utf8')
    .split('\n')
    .find((line) => line.startsWith('{"event": "start"'))!
  return JSON.parse(start)
}

/** A step's memory figures: fp32 weights, Adam's two fp32 numbers per trainable weight, a peak above both. */
function expectTrainingMemory(metrics: Record<string, number>, parameters: number, trainable: number): void {
  const mib = (bytes: number) => bytes / 2 ** 20
  expect(metrics['memory.weightsMB']).toBeCloseTo(mib(4 * parameters), 3)
  expect(metrics['memory.optimizerStateMB']).toBeGreaterThanOrEqual(mib(8 * trainable))
  expect(metrics['memory.optimizerStateMB']).toBeLessThan(mib(8 * trainable) * 1.01 + 0.01)
  expect(metrics['memory.peakMB']).toBeGreaterThan(
    metrics['memory.weightsMB']! + metrics['memory.optimizerStateMB']!,
  )
}

/**
 * Step records of two arithmetic problems: a state that ends in a hint (the model then writes the code),
 * and one whose code already ran before the hint (writing it again repeats a block: the rules judge says no).
 */
function stepStates(): string {
  const problems = readFileSync('../shared/datasets/testbed-train.jsonl', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((problem) => problem.meta.family === 'arith')
    .slice(0, 2)
  const hint = 'Wait, maybe using Python here is a good idea.\n'
  const states = problems.flatMap((problem) => {
    const expression = problem.meta.code.trim().replace(/^print\((.*)\)$/, '$1')
    const fresh = `I need to compute ${expression}.\n${hint}`
    const ran = `${fresh}\`\`\`python\nprint(${expression})\n\`\`\`\n\`\`\`output\n${problem.answer}\n\`\`\`\n${hint}`
    return [fresh, ran].map((text, step) => ({
      run: 'r',
      problemId: problem.id,
      sample: 0,
      step,
      steps: 3,
      trajectory: `r/${problem.id}#0`,
      state: { messages: [{ role: 'user', content: problem.problem }], prompt: '', text },
      action: '',
      insertedSpans: [],
      toolOutput: null,
      final: false,
      answer: problem.answer,
    }))
  })
  return writeJsonlFile(join(tempDir(), 'states.jsonl'), states)
}

describe('start rl on the testbed model (CPU, real trainer, sandbox and grader)', () => {
  const problems = trainProblems(24)

  it('rolls out with the interpreter, masks what the loop inserted, logs each step, resumes from its last checkpoint after kill -9 and exports a GGUF', async () => {
    const { out, db, args } = rlRun(problems, 2, ['--save-steps', '1'])
    const first = execa('node', [CLI, ...args], { reject: false })
    const checkpoint = join(out, 'work', 'checkpoint-1', 'trainer_state.json')
    while (!existsSync(checkpoint) && first.exitCode === null) await new Promise((r) => setTimeout(r, 200))
    first.kill('SIGKILL')
    await first
    expect(existsSync(join(out, 'rl.gguf'))).toBe(false)

    const result = await runCli([...args, '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const starts = readFileSync(join(out, 'logs', 'rl.log'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{"event": "start"'))
      .map((line) => JSON.parse(line).resumedFrom)
    expect(starts).toEqual([null, join(out, 'work', 'checkpoint-1')])
    const summary = JSON.parse(result.stdout)
    expect(summary.steps.map((step: { id: string; status: string }) => `${step.id}:${step.status}`)).toEqual([
      'rl:done',
      'export:done',
    ])
    expect(existsSync(join(out, 'rl.gguf'))).toBe(true)

    const logged = loggedSteps(db, summary.run)
    expect(logged.map((row) => row.step)).toEqual([1, 2])
    for (const { metrics } of logged) {
      for (const key of [
        'reward',
        'reward_std',
        'accuracy',
        'toolCallsPerRollout',
        'maskedFraction',
        'hintedShare',
        'tokenDivergentShare',
        'loss',
      ]) {
        expect(metrics[key], key).toBeTypeOf('number')
      }
      expect(metrics.rollouts).toBe(4)
      expect(metrics.maskedFraction).toBeGreaterThan(0)
      expect(metrics.frac_reward_zero_std).toBeGreaterThanOrEqual(0)
      // Every rollout not correct is logged under the class of its grader's reason.
      const refused = Object.entries(metrics).filter(([key]) => key.startsWith('refused.'))
      const share = refused.reduce((sum, [, value]) => sum + (value as number), 0)
      expect(share).toBeCloseTo(1 - (metrics.accuracy as number), 6)
    }
    expect(readJsonlFile(join(out, 'metrics.jsonl')).map((row) => row.step)).toEqual([1, 2])
    // every weight trains: Adam keeps two fp32 numbers for each
    const { parameters, trainable } = startEvent(out)
    expect(trainable).toBe(parameters)
    expectTrainingMemory(logged.at(-1)!.metrics, parameters, trainable)

    const files = readdirSync(join(out, 'rollouts')).sort()
    expect(files).toEqual(['step-00001.jsonl', 'step-00002.jsonl'])
    const rollouts = files.flatMap((file) => readJsonlFile(join(out, 'rollouts', file)))
    expect(rollouts).toHaveLength(8)
    for (const rollout of rollouts) {
      // Exactly the hints and code outputs are out of the loss, token for token.
      const inserted = rollout.segments
        .filter((segment: { kind: string }) => segment.kind !== 'model')
        .map((segment: { text: string }) => segment.text)
        .join('')
      expect(inserted.length).toBeGreaterThan(0)
      expect(rollout.loss.maskedText).toBe(inserted)
      expect(rollout.loss.trainedTokens).toBeLessThan(rollout.loss.completionTokens)
      // where a one-pass tokenization would differ: the same text in other tokens
      for (const divergence of rollout.loss.divergences) expect(divergence.trained).toBe(divergence.once)
      expect(rollout.hints.length).toBeGreaterThan(0)
      // The reward is the grader's outcome.
      expect(rollout.reward).toBe(rollout.correct ? 1 : -1)
    }
    // Rollouts of one step are one GRPO group: the same problem.
    expect(new Set(rollouts.slice(0, 4).map((rollout) => rollout.problemId)).size).toBe(1)

    const store = new Database(db, { readonly: true })
    const parents = store
      .prepare('SELECT parent_kind, parent_id FROM lineage WHERE child_id = ? ORDER BY parent_kind')
      .all(resolve(out, 'policy')) as { parent_kind: string; parent_id: string }[]
    store.close()
    expect(parents).toEqual([
      { parent_kind: 'dataset', parent_id: problems },
      { parent_kind: 'model', parent_id: HF },
      { parent_kind: 'run', parent_id: summary.run },
    ])
  }, 300_000)

  it('the guards: dynamic sampling replaces one-outcome groups, cut-off and void rollouts leave the loss, hints fade; a LoRA policy is merged for export', async () => {
    const guards = [
      '--dynamic-sampling',
      '--max-sample-rounds',
      '1',
      '--overlong',
      'mask',
      '--void-turns',
      'mask',
    ]
    const curriculum = ['--hint-prob-start', '1', '--hint-prob-end', '0']
    const lora = ['--lora', '--lora-r', '4', '--lr', '0.0001']
    const cut = ['--max-tool-output-tokens', '1', '--truncate-side', 'right']
    const { out, db, args } = rlRun(problems, 2, [...guards, ...curriculum, ...lora, ...cut])
    args[args.indexOf('--max-tokens') + 1] = '200' // a tighter budget: some hinted rollouts are cut off
    args[args.indexOf('--num-generations') + 1] = '2'
    const result = await runCli([...args, '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const logged = loggedSteps(db, JSON.parse(result.stdout).run)
    expect(logged.map((row) => row.step)).toEqual([1, 2])
    const files = readdirSync(join(out, 'rollouts')).sort()
    const rollouts = files.flatMap((file) =>
      readJsonlFile(join(out, 'rollouts', file)).map((rollout) => ({ ...rollout, file })),
    )
    for (const { step, metrics } of logged) {
      // one group a step is needed; each extra round samples one more
      expect(metrics.groupsSampled).toBe(1 + metrics.extraRounds!)
      expect(metrics.extraRounds).toBeLessThanOrEqual(1)
      expect(metrics.groupsKept).toBeLessThanOrEqual(1)
      const ofStep = rollouts.filter((rollout) => rollout.step === step)
      expect(ofStep).toHaveLength(2 * metrics.groupsSampled!)
      // kept: a group whose rollouts disagree, unless none did within the rounds
      const outcomes = new Map<string, Set<boolean>>()
      for (const rollout of ofStep) {
        const group = `${rollout.file}:${rollout.problemId}`
        outcomes.set(group, (outcomes.get(group) ?? new Set()).add(rollout.correct))
      }
      const informative = [...outcomes.values()].filter((seen) => seen.size > 1)
      expect(metrics.groupsKept).toBe(Math.min(1, informative.length))
      // trained on: exactly the batch of one group, excluded shares of it
      expect(metrics.rollouts).toBe(2)
      expect(metrics['excluded.overlong']).toBeGreaterThanOrEqual(0)
      expect(metrics['excluded.void']).toBeGreaterThanOrEqual(0)
    }
    // the curriculum: every rollout hinted at the first step, none at the last
    expect(logged[0]!.metrics.hintedShare).toBe(1)
    expect(logged[1]!.metrics.hintedShare).toBe(0)
    expect(rollouts.filter((r) => r.step === 2).every((r) => r.hints.length === 0)).toBe(true)
    // an excluded rollout trains no token, and was excluded for what it did
    const excluded = rollouts.filter((rollout) => rollout.exclude)
    for (const rollout of excluded) {
      expect(rollout.loss.trainedTokens).toBe(0)
      // out of the loss is not paid: its reward is its outcome's, as any rollout's
      expect(rollout.reward).toBe(rollout.correct ? 1 : -1)
      if (rollout.exclude === 'overlong') expect(['length', 'context']).toContain(rollout.finishReason)
      else expect(rollout.toolCalls).toBeGreaterThan(0)
    }
    expect(excluded.length).toBeGreaterThan(0) // 200 tokens cut some hinted rollouts short
    for (const rollout of rollouts.filter((r) => !r.exclude && r.finishReason === 'stop')) {
      expect(rollout.loss.trainedTokens).toBeGreaterThan(0)
    }
    // tool outputs cut to one of the policy's tokens (its tokenizer, in the trainer), and masked as cut
    const outputs = rollouts.flatMap((rollout) =>
      rollout.segments.filter((segment: { kind: string }) => segment.kind === 'output'),
    )
    expect(outputs.length).toBeGreaterThan(0)
    for (const output of outputs) {
      if (output.execution.stdout.trim().length >= 2) expect(output.text).toContain('tokens truncated] ...')
    }
    for (const rollout of rollouts.filter((r) => !r.exclude)) {
      const inserted = rollout.segments
        .filter((segment: { kind: string }) => segment.kind !== 'model')
        .map((segment: { text: string }) => segment.text)
        .join('')
      expect(rollout.loss.maskedText).toBe(inserted)
    }
    // LoRA: an adapter trains (a small share of the weights), the saved policy is whole and exported;
    // Adam's state is two numbers per adapter weight, not per weight
    const { parameters, trainable } = startEvent(out)
    expect(trainable).toBeLessThan(parameters / 10)
    expectTrainingMemory(logged.at(-1)!.metrics, parameters, trainable)
    expect(existsSync(join(out, 'policy', 'adapter_config.json'))).toBe(false)
    expect(existsSync(join(out, 'rl.gguf'))).toBe(true)
  }, 300_000)

  it('--pass-band: pass rates read from samples (--pass-rates-from), the rest estimated once (step 0), only problems within the band trained on; --eval-every: held-out curves', async () => {
    const six = trainProblems(6)
    const ids = readJsonlFile(six).map((problem) => problem.id as string)
    const answers = readJsonlFile(six).map((problem) => String(problem.answer))
    // sampled outcomes: 3 of 3 right, 1 of 2, 0 of 3; one sample only (too few: estimated); another problem's
    const sample = (index: number, right: boolean) => ({
      problemId: ids[index],
      answer: answers[index],
      text: `The answer is \\boxed{${right ? answers[index] : '-987654'}}.`,
    })
    const samples = join(tempDir(), 'samples.jsonl')
    writeJsonlFile(samples, [
      ...[true, true, true].map((right) => sample(0, right)),
      ...[true, false].map((right) => sample(1, right)),
      ...[false, false, false].map((right) => sample(2, right)),
      sample(3, true),
      { problemId: 'not-a-training-problem', answer: '1', text: '\\boxed{1}' },
    ])
    const heldOut = join(tempDir(), 'dev.jsonl')
    writeFileSync(
      heldOut,
      readFileSync('../shared/datasets/testbed-dev.jsonl', 'utf8').split('\n').slice(0, 2).join('\n'),
    )
    const validation = ['--eval-every', '1', '--eval-problems', heldOut]
    const { out, db, args } = rlRun(six, 1, [
      '--pass-band',
      '0,0.5',
      '--pass-band-samples',
      '2',
      '--pass-rates-from',
      samples,
      ...validation,
      '--no-export',
    ])
    args[args.indexOf('--num-generations') + 1] = '2'
    const result = await runCli(args)
    expect(result.exitCode, result.stderr).toBe(0)
    const rates = JSON.parse(readFileSync(join(out, 'pass-rates.json'), 'utf8')) as Record<string, number>
    expect(Object.keys(rates).sort()).toEqual([...ids].sort())
    expect([rates[ids[0]!], rates[ids[1]!], rates[ids[2]!]]).toEqual([1, 0.5, 0])
    for (const rate of Object.values(rates)) expect([0, 0.5, 1]).toContain(rate)
    const kept = ids.filter((id) => rates[id]! <= 0.5)
    expect(result.stderr).toContain(
      `pass band [0, 0.5]: ${kept.length} of 6 problems kept (rates in ${join(out, 'pass-rates.json')}: 3 read, 3 estimated by rollouts)`,
    )
    // the estimate: two rollouts of each problem the samples do not rate, stored as step 0, graded as every rollout
    const estimate = readdirSync(join(out, 'rollouts'))
      .filter((file) => file.startsWith('step-00000'))
      .flatMap((file) => readJsonlFile(join(out, 'rollouts', file)))
    expect(estimate).toHaveLength(6)
    expect(new Set(estimate.map((rollout) => rollout.problemId))).toEqual(new Set(ids.slice(3)))
    // each a real rollout of the starting policy: it generated, nothing failed before it could
    for (const rollout of estimate) {
      expect(rollout.error).toBeUndefined()
      expect(rollout.tokens.generatedTokens).toBeGreaterThan(0)
    }
    for (const id of ids.slice(3)) {
      const mine = estimate.filter((rollout) => rollout.problemId === id)
      expect(mine.filter((rollout) => rollout.correct).length / 2).toBe(rates[id])
    }
    // training draws only from the band
    const trained = readJsonlFile(join(out, 'rollouts', 'step-00001.jsonl'))
    for (const rollout of trained) expect(kept).toContain(rollout.problemId)

    // validation: each held-out problem once, greedy and without hints, figures in the step's log line
    const validated = readJsonlFile(join(out, 'validation', 'step-00001.jsonl'))
    expect(validated.map((rollout) => rollout.problemId)).toEqual(
      readJsonlFile(heldOut).map((problem) => problem.id),
    )
    for (const rollout of validated) expect(rollout.hints).toEqual([])
    const [step] = loggedSteps(
      db,
      JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n')[0]!).run,
    )
    expect(step!.metrics['val.problems']).toBe(2)
    expect(step!.metrics['val.accuracy']).toBe(validated.filter((rollout) => rollout.correct).length / 2)
    expect(step!.metrics['val.toolCallsPerRollout']).toBeTypeOf('number')
    // a held-out problem that is also a training problem is refused before anything runs
    const overlap = await runCli([...rlRun(six, 1, ['--eval-every', '1', '--eval-problems', six]).args])
    expect(overlap.exitCode).toBe(2)
    expect(overlap.stderr).toMatch(/train\.jsonl:1: held-out problem \S+ is also a training problem/)
    // a broken sample line, or samples without a band, is refused before anything runs
    const broken = join(tempDir(), 'broken.jsonl')
    writeFileSync(broken, `${JSON.stringify(sample(0, true))}\n{"problemId": "x", "answer": "1"}\n`)
    const bad = await runCli(rlRun(six, 1, ['--pass-band', '0,0.5', '--pass-rates-from', broken]).args)
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('broken.jsonl:2: missing "text"')
    const unbanded = await runCli(rlRun(six, 1, ['--pass-rates-from', samples]).args)
    expect(unbanded.exitCode).toBe(2)
    expect(unbanded.stderr).toContain('--pass-rates-from: give --pass-band LO,HI too')
  }, 300_000)

  it('bad input: one line naming the flag or the file and line, exit 2, nothing trained', async () => {
    const dir = tempDir()
    const missing = await runCli([
      'rl',
      '--base',
      join(dir, 'nope.gguf'),
      '--problems',
      problems,
      '--out',
      dir,
    ])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('--base')
    const broken = join(dir, 'broken.jsonl')
    writeFileSync(broken, '{"id": "a", "problem": "1+1?", "answer": "2"}\n{"id": "b", "problem": \n')
    const bad = await runCli([
      'rl',
      '--base',
      HF,
      '--problems',
      broken,
      '--out',
      join(dir, 'rl'),
      '--db',
      join(dir, 's.db'),
    ])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain(`${broken}:2`)
    // With a GGUF base, the bad line is reported before the base is converted (fail fast).
    const fromGguf = await runCli([
      'rl',
      '--base',
      GGUF,
      '--problems',
      broken,
      '--out',
      join(dir, 'rl-gguf'),
      '--db',
      join(dir, 's.db'),
    ])
    expect(fromGguf.exitCode).toBe(2)
    expect(fromGguf.stderr).toContain(`${broken}:2`)
    expect(existsSync(join(dir, 'rl-gguf', 'base-hf'))).toBe(false)
    // Problems where step records are expected: the first line that is not one.
    const notSteps = await runCli([
      'rl',
      '--base',
      HF,
      '--objective',
      'stepwise',
      '--problems',
      problems,
      '--out',
      join(dir, 'rl-steps'),
      '--db',
      join(dir, 's.db'),
    ])
    expect(notSteps.exitCode).toBe(2)
    expect(notSteps.stderr).toContain(`${problems}:1: not a step record`)
    // A flag of the other objective is refused, not ignored.
    const misplaced: [string[], string][] = [
      [['--objective', 'stepwise', '--hints'], '--hints: does not apply to --objective stepwise'],
      [['--judge-model', HF], '--judge-model: does not apply to --objective trajectory'],
      [['--judge-threads', '1'], '--judge-threads: does not apply to --objective trajectory'],
    ]
    for (const [flags, message] of misplaced) {
      const refused = await runCli([
        'rl',
        '--base',
        HF,
        ...flags,
        '--problems',
        problems,
        '--out',
        join(dir, 'x'),
      ])
      expect(refused.exitCode, message).toBe(2)
      expect(refused.stderr).toContain(message)
    }
    const steps = [
      'rl',
      '--base',
      HF,
      '--objective',
      'stepwise',
      '--problems',
      stepStates(),
      '--out',
      join(dir, 'z'),
    ]
    const noModel = await runCli([...steps, '--judge', 'counterfactual'])
    expect(noModel.exitCode).toBe(2)
    expect(noModel.stderr).toContain('--judge counterfactual: needs --judge-model (a GGUF model)')
    const greedy = await runCli([
      ...steps,
      '--judge',
      'counterfactual',
      '--judge-model',
      GGUF,
      '--temperature',
      '0',
    ])
    expect(greedy.exitCode).toBe(2)
    expect(greedy.stderr).toContain('--temperature 0: the k continuations of an arm would all be the same')
    expect(existsSync(join(dir, 'rl-steps', 'policy'))).toBe(false)
  }, 120_000)

  it('--objective stepwise: one action per state, judged; the batch baseline learns where every group is judged alike', async () => {
    const states = stepStates()
    const stepwise = async (baseline: string) => {
      const dir = tempDir()
      const out = join(dir, 'rl')
      const result = await runCli([
        'rl',
        '--base',
        HF,
        '--objective',
        'stepwise',
        '--problems',
        states,
        '--out',
        out,
        '--db',
        join(dir, 's.db'),
        '--max-steps',
        '1',
        '--num-generations',
        '2',
        '--prompts-per-step',
        '4',
        // Greedy: both samples of a state are the same action, so every GRPO group has one reward.
        '--temperature',
        '0',
        '--max-tokens',
        '120',
        '--baseline',
        baseline,
        // the policy stays a checkpoint: no GGUF export
        '--no-export',
        '--json',
      ])
      expect(result.exitCode, result.stderr).toBe(0)
      const summary = JSON.parse(result.stdout)
      expect(summary.steps.map((step: { id: string }) => step.id)).toEqual(['rl'])
      expect(summary.model).toBe(join(out, 'policy'))
      expect(existsSync(join(out, 'policy', 'config.json'))).toBe(true)
      expect(existsSync(join(out, 'rl.gguf'))).toBe(false)
      const rollouts = readJsonlFile(join(out, 'rollouts', 'step-00001.jsonl'))
      return { metrics: summary.last, rollouts }
    }
    const batch = await stepwise('batch')
    expect(batch.rollouts).toHaveLength(8)
    for (const rollout of batch.rollouts) {
      // The action ends where its code block ran; the output is not trained, nothing else is masked.
      expect(rollout.action).toMatch(/```python\n[\s\S]*```\n?$/)
      expect(rollout.toolOutput).toMatch(/^\n?```output\n/)
      expect(rollout.loss.maskedText).toBe('')
      expect(rollout.loss.trainedTokens).toBe(rollout.loss.completionTokens)
      expect(rollout.reward).toBe(rollout.judgement.verdict === 'yes' ? 1 : -1)
    }
    const rewards = new Set(batch.rollouts.map((rollout: { reward: number }) => rollout.reward))
    expect(rewards).toEqual(new Set([1, -1])) // the repeated code block is judged no
    expect(batch.metrics.frac_reward_zero_std).toBe(1)
    expect(batch.metrics.absAdvantage).toBeGreaterThan(0)
    expect(batch.metrics.loss).not.toBe(0)
    // GRPO's group baseline has nothing to learn from the same rollouts.
    const group = await stepwise('group')
    expect(group.rollouts.map((rollout: { reward: number }) => rollout.reward)).toEqual(
      batch.rollouts.map((rollout: { reward: number }) => rollout.reward),
    )
    expect(group.metrics.absAdvantage).toBe(0)
  }, 300_000)

  it('--objective stepwise --judge counterfactual: an action is paid when its tool output changes how often the judge model ends right', async () => {
    const dir = tempDir()
    const out = join(dir, 'rl')
    const result = await runCli([
      'rl',
      '--base',
      HF,
      '--objective',
      'stepwise',
      '--problems',
      stepStates(),
      '--out',
      out,
      '--db',
      join(dir, 's.db'),
      '--judge',
      'counterfactual',
      '--judge-model',
      GGUF,
      // One thread: test files share the two cores, and llama.cpp's threads wait by spinning.
      '--judge-threads',
      '1',
      '--k',
      '1',
      '--alpha',
      '0.5',
      '--max-steps',
      '1',
      '--num-generations',
      '2',
      '--prompts-per-step',
      '2',
      '--temperature',
      '0.6',
      '--max-tokens',
      '80',
      '--no-export',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    const rollouts = readJsonlFile(join(out, 'rollouts', 'step-00001.jsonl'))
    expect(rollouts).toHaveLength(4)
    for (const rollout of rollouts) {
      const { judgement } = rollout
      expect(judgement.judge).toBe('counterfactual')
      expect(rollout.reward).toBe(judgement.verdict === 'yes' ? 1 : -1)
      if (rollout.toolOutput === null) {
        expect(judgement.verdict).toBe('unjudged')
        continue
      }
      // one continuation an arm, after the action's own output and after an empty one: Fisher's p is 0.5
      // when only the real one ended right, 1 otherwise
      expect(judgement.counterfactual).toMatchObject({
        k: 1,
        ablate: 'empty',
        real: { of: 1 },
        ablated: { of: 1 },
      })
      expect(judgement.verdict).toBe(judgement.counterfactual.credit === 1 ? 'yes' : 'no')
    }
  }, 300_000)
})
