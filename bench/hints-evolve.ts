/**
 * `start hints evolve`'s A/B stage against hint-infer's own rate on the same model, engine and problems,
 * in the same run (goal: at least 0.9x in tokens/s: the shared prefix is reused, not evaluated again);
 * and the same A/B with the prefix's KV not kept (every continuation evaluates its whole prompt).
 *
 *   npm run bench:hints-evolve [-- --problems 16 --continuations 4 --parallel 1 --model path.gguf --scale FFN,LAYERS]
 */
import { mkdtempSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { defaultOptions } from '../src/core/options.js'
import { EVOLVE_OPTIONS } from '../src/evolve/options.js'
import { runEvolve } from '../src/evolve/run-evolve.js'
import type { InferenceEngine } from '../src/inference/engine.js'
import { LlamaCppEngine } from '../src/inference/llama-cpp.js'
import { HINT_INFER_OPTIONS } from '../src/inference/options.js'
import { runHintInfer } from '../src/inference/run-hint-infer.js'
import { argument, devProblems } from './arguments.js'
import { scaledModel } from './scaled-model.js'

const source = resolve(argument('model', '../shared/models/testbed-tir-f32.gguf'))
const scale = argument('scale', '')
const problemCount = Number(argument('problems', '16'))
const continuations = Number(argument('continuations', '4'))
const parallel = Number(argument('parallel', '1'))
const threads = Number(argument('threads', String(availableParallelism())))
const dir = mkdtempSync(join(tmpdir(), 'start-bench-evolve-'))
// --scale FFN,LAYERS: the same function at a higher cost per token (bench/scaled_model.py)
const model = scale ? await scaledModel(source, scale, dir) : source
const problems = devProblems(problemCount, dir)
const sampling = { temperature: 0.6, topP: 0.95, maxTokens: 512, parallel, promptTemplate: '{problem}' }
const common = { model, flags: {}, toolVersion: 'bench', sandbox: {} }

const engine = await LlamaCppEngine.load({ model, parallel, threads })
const started = performance.now()
const hinted = await runHintInfer({
  ...common,
  problems: [problems],
  settings: { ...defaultOptions(HINT_INFER_OPTIONS), ...sampling, samples: continuations },
  out: join(dir, 'hinted.jsonl'),
  db: join(dir, 'hinted.db'),
  runId: 'bench-hint-infer',
  engine,
})
const hintInferSeconds = (performance.now() - started) / 1000

/** The A/B stage on `engine`: its summary and wall seconds. */
async function evolve(name: string, on: InferenceEngine) {
  const begun = performance.now()
  const summary = await runEvolve({
    ...common,
    problems: [problems],
    settings: {
      ...defaultOptions(EVOLVE_OPTIONS),
      ...sampling,
      prefixes: problemCount,
      continuations,
      candidates: 1,
    },
    out: join(dir, name),
    db: join(dir, `${name}.db`),
    runId: `bench-${name}`,
    dryRun: false,
    engine: on,
  })
  return { summary, seconds: (performance.now() - begun) / 1000 }
}
const reused = await evolve('evolve', engine)
// the same engine, every continuation's prompt evaluated whole (the option dropped)
const fresh = await evolve('evolve-fresh', {
  modelName: engine.modelName,
  tokenizer: engine.tokenizer,
  renderPrompt: (messages) => engine.renderPrompt(messages),
  startGeneration: (prompt, options) => engine.startGeneration(prompt, options),
  close: async () => {},
})
await engine.close()

const rate = (tokens: number, seconds: number) => tokens / seconds
const hintInferRate = rate(hinted.generatedTokens, hintInferSeconds)
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; model ${model.split('/').pop()}`,
)
console.log(
  `${problemCount} testbed-dev problems, temperature 0.6, parallel ${parallel}, ${threads} threads; ${continuations} samples (hint-infer) / continuations per hint (evolve)\n`,
)
console.log('| run | units | units/s | generated tok/s | vs hint-infer | prompt tokens kept (of all) |')
console.log('| --- | --- | --- | --- | --- | --- |')
console.log(
  `| hint-infer | ${hinted.trajectories} trajectories | ${(hinted.trajectories / hintInferSeconds).toFixed(2)} | ${hintInferRate.toFixed(0)} | 1.00x | - |`,
)
for (const [name, run] of [
  ['evolve, prefix kept', reused],
  ['evolve, prefix evaluated again', fresh],
] as const) {
  const { summary, seconds } = run
  const tokens = rate(summary.generatedTokens, seconds)
  console.log(
    `| ${name} | ${summary.continuations} continuations (${summary.prefixes} prefixes) | ${(summary.continuations / seconds).toFixed(2)} | ${tokens.toFixed(0)} | ${(tokens / hintInferRate).toFixed(2)}x | ${summary.reusedTokens} (${((summary.reusedTokens / Math.max(1, summary.promptTokens)) * 100).toFixed(0)}%) |`,
  )
}
