/**
 * Hint-infer throughput against plain node-llama-cpp generation of the same token counts, at the
 * same --parallel, in the same run; plus the prefix tokens hint-infer evaluated twice (goal: 0).
 *
 *   npm run bench:hint-infer [-- --problems 24 --parallel 2 --model path.gguf --threads N]
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { defaultOptions } from '../src/core/options.js'
import { LlamaCppEngine } from '../src/inference/llama-cpp.js'
import { HINT_INFER_OPTIONS } from '../src/inference/options.js'
import { runHintInfer } from '../src/inference/run-hint-infer.js'
import type { TrajectoryRecord } from '../src/inference/types.js'
import { argument, devProblems } from './arguments.js'
import { plainGenerationRate } from './plain-generation.js'

const model = resolve(argument('model', '../shared/models/testbed-tir-f32.gguf'))
const problemCount = Number(argument('problems', '24'))
const threads = Number(argument('threads', String(availableParallelism())))
const gpu = argument('gpu', 'auto') === 'off' ? false : ('auto' as const)

const dir = mkdtempSync(join(tmpdir(), 'start-bench-'))
const problems = devProblems(problemCount, dir)

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; model ${model.split('/').pop()}`,
)
console.log(`${problemCount} problems, greedy, ${threads} threads, gpu ${gpu}\n`)
console.log(
  '| parallel | generated + appended tokens | hint-infer generated tok/s | plain, same count | ratio | hint-infer context tok/s | plain, same length | ratio | tool calls | hints | re-evaluated prefix tokens |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')

for (const parallel of (argument('parallel', '1,2') as string).split(',').map(Number)) {
  const engine = await LlamaCppEngine.load({ model, parallel, threads, gpu: gpu || false })
  const out = join(dir, `traj-${parallel}.jsonl`)
  const summary = await runHintInfer({
    problems: [problems],
    model,
    settings: {
      ...defaultOptions(HINT_INFER_OPTIONS),
      parallel,
      temperature: 0,
      topP: 1,
      maxTokens: 1024,
      promptTemplate: '{problem}',
      codePromptTemplate: '{problem}',
    },
    out,
    db: join(dir, `bench-${parallel}.db`),
    runId: `bench-${parallel}`,
    flags: {},
    toolVersion: 'bench',
    sandbox: {},
    engine,
  })
  await engine.close()
  const records = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TrajectoryRecord)

  // Baselines: plain node-llama-cpp from the same prompts, (a) the same number of generated tokens per
  // trajectory, (b) generated + appended, so that each sequence reaches the same context length.
  const baseline = { model, threads, parallel, gpu: gpu || (false as const) }
  const sameCount = await plainGenerationRate(
    baseline,
    records.map((record) => ({ prompt: record.prompt, tokens: record.tokens.generatedTokens })),
  )
  const sameLength = await plainGenerationRate(
    baseline,
    records.map((record) => ({
      prompt: record.prompt,
      tokens: record.tokens.generatedTokens + record.tokens.appendedTokens,
    })),
  )

  // hint-infer's rate counts generated tokens over the time after start-up (summary.tokensPerSecond);
  // its context rate adds the appended hint and output tokens it evaluated on top.
  const appended = records.reduce((sum, record) => sum + record.tokens.appendedTokens, 0)
  const hintRate = summary.tokensPerSecond
  const contextRate = (hintRate * (summary.generatedTokens + appended)) / summary.generatedTokens
  console.log(
    `| ${parallel} | ${summary.generatedTokens} + ${appended} | ${hintRate.toFixed(0)} | ${sameCount.toFixed(0)} | ${(hintRate / sameCount).toFixed(2)}x | ${contextRate.toFixed(0)} | ${sameLength.toFixed(0)} | ${(contextRate / sameLength).toFixed(2)}x | ${summary.toolCalls} | ${summary.hints} | ${summary.reevaluatedTokens} |`,
  )
}
