/**
 * `start rft --stage 1`'s training against the bare training script (the same start_trainer.py under
 * accelerate launch, same data and flags), alternated in the same run. The CLI's time is its whole
 * wall time minus the GGUF export step, which the bare script does not do; the ratio is the CLI's
 * overhead (start-up, store, event streaming).
 *
 *   npm run bench:rft [-- --steps 40 --repeats 3]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { ensureTrainingEnv, TRAINING_DIR } from '../src/training/python-env.js'
import { argument } from './arguments.js'
import { percentile } from './measure.js'

const steps = Number(argument('steps', '40'))
const repeats = Number(argument('repeats', '3'))
const BASE = resolve('../shared/models/testbed-tir-hf')
const DATA = resolve('test/fixtures/training/d_seed_testbed.jsonl')
const FLAGS = { lr: '1e-4', batch: '4', accum: '1', maxLength: '1024', seed: '0' }

const env = await ensureTrainingEnv()
const dir = await mkdtemp(join(tmpdir(), 'start-bench-rft-'))

async function bare(out: string): Promise<number> {
  const started = performance.now()
  await execa(env.python, [
    '-m',
    'accelerate.commands.launch',
    '--num_machines',
    '1',
    '--mixed_precision',
    'no',
    '--dynamo_backend',
    'no',
    '--num_processes',
    '1',
    join(TRAINING_DIR, 'start_trainer.py'),
    'train',
    '--base',
    BASE,
    '--data',
    DATA,
    '--out',
    out,
    '--work',
    `${out}.work`,
    '--max-steps',
    String(steps),
    '--lr',
    FLAGS.lr,
    '--batch-size',
    FLAGS.batch,
    '--grad-accum',
    FLAGS.accum,
    '--max-length',
    FLAGS.maxLength,
    '--seed',
    FLAGS.seed,
  ])
  return (performance.now() - started) / 1000
}

async function cli(out: string): Promise<{ seconds: number; trainStep: number }> {
  const started = performance.now()
  const result = await execa('node', [
    'bin/run.js',
    'rft',
    '--stage',
    '1',
    '--base',
    BASE,
    '--data',
    DATA,
    '--out',
    out,
    '--db',
    join(dir, 'bench.db'),
    '--max-steps',
    String(steps),
    '--lr',
    FLAGS.lr,
    '--batch-size',
    FLAGS.batch,
    '--grad-accum',
    FLAGS.accum,
    '--max-length',
    FLAGS.maxLength,
    '--train-seed',
    FLAGS.seed,
    '--outtype',
    'f32',
    '--json',
  ])
  const seconds = (performance.now() - started) / 1000
  const summary = JSON.parse(result.stdout) as { steps: { id: string; seconds: number }[] }
  const exportStep = summary.steps.find((step) => step.id === 'export-start-0')!.seconds
  const trainStep = summary.steps.find((step) => step.id === 'train-start-0')!.seconds
  return { seconds: seconds - exportStep, trainStep }
}

const median = (values: number[]) => percentile(values, 0.5)
try {
  const bareTimes: number[] = []
  const cliTimes: number[] = []
  const trainSteps: number[] = []
  for (let i = 0; i < repeats; i++) {
    bareTimes.push(await bare(join(dir, `bare-${i}`)))
    const run = await cli(join(dir, `cli-${i}`))
    cliTimes.push(run.seconds)
    trainSteps.push(run.trainStep)
  }
  const bareSeconds = median(bareTimes)
  const cliSeconds = median(cliTimes)
  console.log(
    `| optimizer steps | bare script s (median of ${repeats}) | CLI s, export excluded | CLI train step s | overhead |`,
  )
  console.log('| ---: | ---: | ---: | ---: | ---: |')
  console.log(
    `| ${steps} | ${bareSeconds.toFixed(1)} | ${cliSeconds.toFixed(1)} | ${median(trainSteps).toFixed(1)} | ` +
      `${(((cliSeconds - bareSeconds) / bareSeconds) * 100).toFixed(1)}% |`,
  )
  console.log(
    `bare: ${bareTimes.map((t) => t.toFixed(1)).join(', ')}; CLI: ${cliTimes.map((t) => t.toFixed(1)).join(', ')}`,
  )
} finally {
  await rm(dir, { recursive: true, force: true })
}
