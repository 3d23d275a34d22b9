/**
 * `start rl` against bare baselines, in the same run on the same machine and model:
 *   - rollout tokens/s (the hint-infer loop with code in the sandbox, masks, grading) against plain HF
 *     generation of the same lengths and batch (goal: at least 0.8x);
 *   - the trainer's step time outside rollouts against bare TRL GRPO steps on completions of the same
 *     lengths (goal: at most 5% overhead).
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
const out = join(dir, 'rl')
const started = performance.now()
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
  join(dir, 's.db'),
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
])
const wall = (performance.now() - started) / 1000

// Step 1 carries the trainer's start-up: the figures are over steps 2..N.
type Metrics = Record<string, number>
const logged = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as Metrics)
  .slice(1)
const sum = (key: string) => logged.reduce((total, row) => total + (row[key] ?? 0), 0)
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
