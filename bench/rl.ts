/**
 * `start rl` against bare baselines, in the same run on the same machine and model:
 *   - rollout tokens/s (the hint-infer loop with code in the sandbox, masks, grading) against plain HF
 *     generation of the same lengths and batch (goal: at least 0.8x);
 *   - the trainer's step time outside rollouts against bare TRL GRPO steps on completions of the same
 *     lengths (goal: at most 5% overhead);
 *   - the guards, in runs of their own on the same problems: dynamic sampling's cost in extra rollouts per
 *     group kept, and a LoRA policy's step time outside rollouts and memory against full fine-tuning's.
 *
 *   npm run bench:rl [-- --steps 6 --generations 8]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { ensureTrainingEnv } from '../src/training/python-env.js'
import { argument } from './arguments.js'

const steps = Number(argument('steps', '6'))
const generations = Number(argument('generations', '8'))
const base = resolve(argument('base', '../shared/models/testbed-tir-hf'))
const dir = join(tmpdir(), `start-bench-rl-${process.pid}`)
const problems = join(dir, 'train.jsonl')

const { python } = await ensureTrainingEnv()
await execa('mkdir', ['-p', dir])
writeFileSync(
  problems,
  readFileSync('../shared/datasets/testbed-train.jsonl', 'utf8').split('\n').slice(0, 32).join('\n'),
)
/** One `start rl` run into `<dir>/<name>`, the shared settings plus `extra`; its output folder. */
async function rlRun(name: string, extra: string[] = []): Promise<string> {
  const out = join(dir, name)
  await execa('node', [
    'bin/run.js',
    'rl',
    '--base',
    base,
    '--problems',
    problems,
    '--out',
    out,
    '--db',
    join(dir, `${name}.db`),
    '--max-steps',
    String(steps),
    '--num-generations',
    String(generations),
    '--max-tokens',
    '400',
    '--hints',
    '--outtype',
    'f32',
    '--save-steps',
    '1000',
    '--quiet',
    ...extra,
  ])
  return out
}

type Metrics = Record<string, number>
/** The logged steps after the first (which carries the trainer's start-up). */
const stepsAfterFirst = (out: string): Metrics[] =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Metrics)
    .slice(1)
const total = (rows: Metrics[], key: string) => rows.reduce((sum, row) => sum + (row[key] ?? 0), 0)

const started = performance.now()
const out = await rlRun('rl')
const wall = (performance.now() - started) / 1000

// Step 1 carries the trainer's start-up: the figures are over steps 2..N.
const logged = stepsAfterFirst(out)
const sum = (key: string) => total(logged, key)
const shapes = readdirSync(join(out, 'rollouts'))
  .sort()
  .slice(1)
  .map((file) => {
    const rollouts = readFileSync(join(out, 'rollouts', file), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    return {
      prompts: rollouts.map((rollout) => rollout.tokens.promptTokens as number),
      lengths: rollouts.map((rollout) => rollout.loss.completionTokens as number),
    }
  })
const shapesFile = join(dir, 'shapes.json')
writeFileSync(shapesFile, JSON.stringify(shapes))
const baseline = async (mode: string) =>
  JSON.parse(
    String(
      (
        await execa(python, [
          'bench/rl_baseline.py',
          mode,
          '--base',
          base,
          '--steps',
          shapesFile,
          '--work',
          join(dir, 'bare'),
          '--num-generations',
          String(generations),
        ])
      ).stdout,
    )
      .trim()
      .split('\n')
      .at(-1)!,
  )
const plain = await baseline('generate')
const bare = await baseline('train')

// Both sides count the completions' tokens (sampled and inserted) over the time it took to have them.
const completionTokens = shapes.reduce((total, shape) => total + shape.lengths.reduce((a, b) => a + b, 0), 0)
const rolloutRate = completionTokens / sum('rolloutSeconds')
const generateRate = sum('generatedTokens') / sum('generateSeconds')
const plainRate = plain.tokens / plain.seconds
const cliTrain = (sum('stepSeconds') - sum('rolloutSeconds')) / logged.length
const bareSteps = (bare.stepSeconds as number[]).slice(1)
const bareTrain = bareSteps.reduce((a, b) => a + b, 0) / bareSteps.length
const perStep = (key: string) => sum(key) / logged.length

const rows: [string, string, string, string][] = [
  [
    'completion tokens/s over the rollouts (loop, sandbox, grading included)',
    rolloutRate.toFixed(0),
    `plain HF generate, same lengths and batches: ${plainRate.toFixed(0)}`,
    `${(rolloutRate / plainRate).toFixed(2)}x`,
  ],
  [
    'sampled tokens/s inside the generate calls',
    generateRate.toFixed(0),
    plainRate.toFixed(0),
    `${(generateRate / plainRate).toFixed(2)}x`,
  ],
  [
    "wall seconds per step against TRL's own step time (the CLI's events, store, logs outside the step)",
    perStep('stepSeconds').toFixed(2),
    perStep('step_time').toFixed(2),
    `${((sum('stepSeconds') / sum('step_time') - 1) * 100).toFixed(1)}% overhead`,
  ],
  [
    'seconds per step outside rollouts (loss, backward, optimizer)',
    cliTrain.toFixed(2),
    `bare TRL GRPO step on random completions of the same shapes: ${bareTrain.toFixed(2)}`,
    `${((cliTrain / bareTrain - 1) * 100).toFixed(1)}%`,
  ],
]
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}; model ${base}; ${steps} steps x ${generations} rollouts (steps 2..${steps} measured); whole run ${wall.toFixed(1)} s`,
)
console.log('\n| measure | start rl | baseline | ratio |')
console.log('| --- | --- | --- | --- |')
for (const row of rows) console.log(`| ${row.join(' | ')} |`)
console.log(
  `\nrollouts: ${sum('rollouts')} (${(sum('toolCallsPerRollout') / logged.length).toFixed(2)} tool calls each), ${sum('generatedTokens')} tokens sampled in ${sum('rolloutSeconds').toFixed(1)} s of rollouts, ${sum('generateSeconds').toFixed(1)} s of it in generate`,
)

// The guards, each in a run of its own on the same problems and settings.
const dynamic = stepsAfterFirst(await rlRun('dynamic', ['--dynamic-sampling', '--max-sample-rounds', '3']))
const sampled = total(dynamic, 'groupsSampled')
const kept = total(dynamic, 'groupsKept')
const lora = stepsAfterFirst(await rlRun('lora', ['--lora', '--lora-r', '16', '--lr', '0.0001']))
const outsideRollouts = (rows: Metrics[]) =>
  (total(rows, 'stepSeconds') - total(rows, 'rolloutSeconds')) / rows.length
console.log('\n| guard | figure | baseline | ratio |')
console.log('| --- | --- | --- | --- |')
console.log(
  `| --dynamic-sampling (3 rounds at most) | ${sampled} groups sampled for ${kept} kept with a reward spread, of ${dynamic.length} needed | every group kept as sampled | ${kept ? (((sampled - dynamic.length) * generations) / kept).toFixed(1) : '-'} extra rollouts per group kept |`,
)
console.log(
  `| --lora --lora-r 16: seconds per step outside rollouts | ${outsideRollouts(lora).toFixed(2)} | full fine-tuning: ${cliTrain.toFixed(2)} | ${(outsideRollouts(lora) / cliTrain).toFixed(2)}x |`,
)
// The last step's memory: the optimizer's state is what LoRA saves; the peak is the process's (CPU) or
// the GPU's allocations (CUDA), start-up included.
for (const [figure, key] of [
  ["Adam's state, MiB", 'memory.optimizerStateMB'],
  ['weights, MiB', 'memory.weightsMB'],
  ['peak memory, MiB', 'memory.peakMB'],
] as const) {
  const withLora = lora.at(-1)![key]!
  const full = logged.at(-1)![key]!
  console.log(
    `| --lora --lora-r 16: ${figure} | ${withLora.toFixed(2)} | full fine-tuning: ${full.toFixed(2)} | ${(withLora / full).toFixed(3)}x |`,
  )
}
