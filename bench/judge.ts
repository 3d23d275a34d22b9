/**
 * `start judge --judge model` throughput against plain node-llama-cpp generation of the same token counts
 * from the same prompts, at the same --parallel, in the same run (issue 15: the judge's machinery, store
 * and verdict parsing should cost little next to the model).
 *
 *   npm run bench:judge [-- --steps 48 --parallel 1,2 --model path.gguf --threads N]
 *
 * The testbed model cannot answer the shipped rubrics (its context is 1024 tokens and it only knows its
 * three problem families), so the bench's rubric asks it to solve the step's text, a testbed problem, and
 * reads its "The answer is \boxed{..}" as the verdict: the same tokens a judge's answer costs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { defaultOptions } from '../src/core/options.js'
import { LlamaCppEngine } from '../src/inference/llama-cpp.js'
import { IN_PROCESS } from '../src/inference/options.js'
import { JUDGE_OPTIONS } from '../src/swirl/options.js'
import { type Rubric, renderRubric } from '../src/swirl/rubric.js'
import { runJudge } from '../src/swirl/run-judge.js'
import type { StepRecord } from '../src/swirl/split-steps.js'
import { argument } from './arguments.js'
import { plainGenerationRate } from './plain-generation.js'

const model = resolve(argument('model', '../shared/models/testbed-tir-f32.gguf'))
const stepCount = Number(argument('steps', '48'))
const threads = Number(argument('threads', String(availableParallelism())))
const gpu = argument('gpu', 'auto') === 'off' ? false : ('auto' as const)

const dir = mkdtempSync(join(tmpdir(), 'start-bench-judge-'))
const rubric = {
  name: 'bench',
  scope: 'step',
  prompt: '{{action}}',
  verdict: { pattern: 'answer is \\\\(\\w+)', yes: ['boxed'], no: ['fbox'] },
  maxTokens: 400,
}
const rubricFile = join(dir, 'rubric.json')
writeFileSync(rubricFile, JSON.stringify(rubric))
const problems = readFileSync(resolve('../shared/datasets/testbed-dev.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .slice(0, stepCount)
  .map((line) => JSON.parse(line) as { id: string; problem: string })
const steps: StepRecord[] = problems.map((problem) => ({
  run: 'bench',
  problemId: problem.id,
  sample: 0,
  step: 0,
  steps: 1,
  trajectory: `bench/${problem.id}#0`,
  state: { messages: [{ role: 'user', content: problem.problem }], prompt: '', text: '' },
  action: problem.problem,
  insertedSpans: [],
  toolOutput: null,
  final: true,
}))
const stepsFile = join(dir, 'steps.jsonl')
writeFileSync(stepsFile, `${steps.map((step) => JSON.stringify(step)).join('\n')}\n`)

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; model ${model.split('/').pop()}`,
)
console.log(`${stepCount} steps, greedy, ${threads} threads, gpu ${gpu}\n`)
console.log('| parallel | judge tokens | start judge tok/s | plain, same tokens | ratio | verdicts read |')
console.log('| --- | --- | --- | --- | --- | --- |')

for (const parallel of argument('parallel', '1,2').split(',').map(Number)) {
  const out = join(dir, `judged-${parallel}.jsonl`)
  const summary = await runJudge({
    inputs: [stepsFile],
    settings: { ...defaultOptions(JUDGE_OPTIONS), judge: 'model', rubric: rubricFile, parallel, threads },
    model,
    backend: IN_PROCESS,
    out,
    db: join(dir, `bench-${parallel}.db`),
    runId: `bench-${parallel}`,
    flags: {},
    toolVersion: 'bench',
  })
  // The same prompts the judge rendered, each generating the tokens the judge's answer took.
  const judged = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as StepRecord & { judgements: { bench: { text: string } } })
  const engine = await LlamaCppEngine.load({ model, parallel: 1, threads, gpu })
  const prompts = judged.map((step) =>
    engine.renderPrompt([{ role: 'user', content: renderRubric(rubric as Rubric, step) }]),
  )
  await engine.close()
  const perStep = summary.generatedTokens / judged.length
  const plain = await plainGenerationRate(
    { model, threads, parallel, gpu },
    prompts.map((prompt) => ({ prompt, tokens: Math.round(perStep) })),
  )
  console.log(
    `| ${parallel} | ${summary.generatedTokens} | ${summary.tokensPerSecond.toFixed(0)} | ${plain.toFixed(0)} | ${(summary.tokensPerSecond / plain).toFixed(2)}x | ${summary.yes} of ${summary.steps} |`,
  )
}
