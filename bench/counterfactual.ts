/**
 * The counterfactual judge's cost against the model judge's, on the same steps of real testbed
 * trajectories in the same run (issue 35): continuations, tokens and seconds per judged step; and how its
 * verdicts agree with the rules judge's on the steps both judged.
 *
 *   npm run bench:counterfactual [-- --problems 16 --k 4 --model path.gguf --threads N]
 *
 * The model judge answers the bench rubric of bench:judge (the testbed model cannot read the shipped
 * rubrics): the tokens a judge's answer costs, not a judgement to compare verdicts with.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { defaultOptions } from '../src/core/options.js'
import { HINT_INFER_OPTIONS, IN_PROCESS } from '../src/inference/options.js'
import { runHintInfer } from '../src/inference/run-hint-infer.js'
import type { TrajectoryRecord } from '../src/inference/types.js'
import type { StepJudgement } from '../src/swirl/judge-rules.js'
import { JUDGE_OPTIONS, type JudgeSettings } from '../src/swirl/options.js'
import { runJudge } from '../src/swirl/run-judge.js'
import { splitSteps } from '../src/swirl/split-steps.js'
import { argument, devProblems } from './arguments.js'

const model = resolve(argument('model', '../shared/models/testbed-tir-f32.gguf'))
const problemCount = Number(argument('problems', '16'))
const k = Number(argument('k', '4'))
const threads = Number(argument('threads', String(availableParallelism())))
const dir = mkdtempSync(join(tmpdir(), 'start-bench-counterfactual-'))
const common = { flags: {}, toolVersion: 'bench', db: join(dir, 's.db') }

// real trajectories with hints and tool calls, split into steps
const hinted = join(dir, 'hinted.jsonl')
await runHintInfer({
  ...common,
  problems: [devProblems(problemCount, dir)],
  model,
  settings: {
    ...defaultOptions(HINT_INFER_OPTIONS),
    temperature: 0,
    maxTokens: 512,
    promptTemplate: '{problem}',
    threads,
  },
  out: hinted,
  runId: 'bench-hinted',
  sandbox: {},
})
const trajectories = readFileSync(hinted, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as TrajectoryRecord)
const steps = trajectories.flatMap((trajectory) => splitSteps(trajectory))
const stepsFile = join(dir, 'steps.jsonl')
writeFileSync(stepsFile, `${steps.map((step) => JSON.stringify(step)).join('\n')}\n`)

const rubricFile = join(dir, 'rubric.json')
writeFileSync(
  rubricFile,
  JSON.stringify({
    name: 'bench',
    scope: 'step',
    prompt: '{{action}}',
    verdict: { pattern: 'answer is \\\\(\\w+)', yes: ['boxed'], no: ['fbox'] },
    maxTokens: 400,
  }),
)

/** One judge over the steps: its summary, wall seconds, and the verdicts by step. */
async function judge(name: string, settings: Partial<JudgeSettings>) {
  const out = join(dir, `${name}.jsonl`)
  const started = performance.now()
  const summary = await runJudge({
    ...common,
    inputs: [stepsFile],
    settings: { ...defaultOptions(JUDGE_OPTIONS), threads, ...settings },
    model,
    backend: IN_PROCESS,
    out,
    runId: `bench-${name}`,
  })
  const seconds = (performance.now() - started) / 1000
  const verdicts = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { judgements: Record<string, StepJudgement> })
  return { summary, seconds, verdicts }
}
const counterfactual = await judge('counterfactual', {
  judge: 'counterfactual',
  k,
  temperature: 0.6,
  maxTokens: 512,
})
const byModel = await judge('model', { judge: 'model', rubric: rubricFile })
const rules = await judge('rules', {})

const judged = counterfactual.summary.yes + counterfactual.summary.no
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; model ${model.split('/').pop()}`,
)
console.log(
  `${trajectories.length} testbed-dev trajectories (greedy, hints) -> ${steps.length} steps, ${judged} with a tool output judged; k ${k}, temperature 0.6, ${threads} threads\n`,
)
console.log(
  '| judge | steps judged | continuations per judged step | tokens per judged step | seconds per judged step |',
)
console.log('| --- | --- | --- | --- | --- |')
for (const [name, run, count] of [
  ['counterfactual (--ablate empty)', counterfactual, judged],
  ['model (bench rubric)', byModel, byModel.summary.steps],
] as const) {
  const per = (value: number) => (value / Math.max(1, count)).toFixed(1)
  console.log(
    `| ${name} | ${count} | ${per(run.summary.continuations)} | ${per(run.summary.generatedTokens)} | ${per(run.seconds)} |`,
  )
}
// agreement with the rules judge where the counterfactual judge gave a verdict
const pairs = counterfactual.verdicts
  .map((record, i) => [
    record.judgements.counterfactual!.verdict,
    rules.verdicts[i]!.judgements.process!.verdict,
  ])
  .filter(([verdict]) => verdict !== 'unjudged')
const same = pairs.filter(([a, b]) => a === b).length
const table = ['yes', 'no'].flatMap((a) =>
  ['yes', 'no'].map((b) => `${a}/${b} ${pairs.filter(([x, y]) => x === a && y === b).length}`),
)
console.log(
  `\nagreement with the rules judge on ${pairs.length} steps: ${same} (${((same / Math.max(1, pairs.length)) * 100).toFixed(0)}%); counterfactual/rules: ${table.join(', ')}`,
)
