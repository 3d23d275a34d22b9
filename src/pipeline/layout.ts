import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { writeFirstRecords } from '../core/jsonl.js'
import { resolveOptions } from '../core/options.js'
import { EVAL_OPTIONS } from '../eval/options.js'
import { resolveBenchmark } from '../eval/run-eval.js'
import type { StepRule } from '../filter/types.js'
import { rftLayout } from '../rft/plan.js'
import { passBandBounds, type RlSettings } from '../rl/options.js'
import { SWIRL_OPTIONS, type SwirlSettings } from '../swirl/options.js'
import type { SwirlLayout, SwirlVariant } from '../swirl/run-swirl-table.js'
import { configLayers, type PipelineConfig } from './config.js'

/** Where the pipeline writes each artifact under the config's `out`; stage commands with --config read them. */
export function pipelinePaths(config: PipelineConfig) {
  const rft = join(config.out, 'rft')
  return {
    problems: join(config.out, 'problems.jsonl'),
    pool: join(config.out, 'pool.jsonl'),
    hinted: join(config.out, 'hinted.jsonl'),
    plain: join(config.out, 'plain.jsonl'),
    dSeed: join(config.out, 'd_seed.jsonl'),
    rft,
    layout: rftLayout(rft, config.model),
    rl: join(config.out, 'rl'),
    rlGguf: join(config.out, 'rl', 'rl.gguf'),
    eval: join(config.out, 'eval.jsonl'),
    evalTraces: join(config.out, 'eval-traces'),
    report: join(config.out, 'report.html'),
    summary: join(config.out, 'summary.md'),
  }
}

/**
 * The models the pipeline evaluates: the base, START-0, START, with an `rl:` section the RL policy, and
 * with a `swirl:` section the step-wise models.
 */
export function pipelineModels(config: PipelineConfig): string[] {
  const { layout, rlGguf } = pipelinePaths(config)
  return [
    config.model,
    layout.start0Gguf,
    layout.startGguf,
    ...(config.rl ? [rlGguf] : []),
    ...(config.swirl ? swirlLayout(config).variants.map((variant) => variant.model) : []),
  ]
}

/** Where the swirl stage writes: the steps, their judgements, and per variant its data and model. */
export function swirlLayout(config: PipelineConfig): SwirlLayout {
  const settings = swirlSettings(config)
  const dir = join(config.out, 'swirl')
  const judged = join(dir, 'judged.jsonl')
  const variant = (rule: StepRule, name: string, input: string): SwirlVariant => ({
    name,
    rule,
    input,
    data: join(dir, name, 'd_steps.jsonl'),
    rft: join(dir, name),
    model: join(dir, `${name}.gguf`),
  })
  const holdOut = settings.holdOut
  const evaluation = resolveOptions(EVAL_OPTIONS, configLayers(config, 'eval'))
  const without = holdOut && join(dir, `judged-without-${holdOut}.jsonl`)
  return {
    dir,
    steps: join(dir, 'steps.jsonl'),
    judged,
    without,
    variants: [
      ...(settings.rules as StepRule[]).map((rule) => variant(rule, `swirl-${rule}`, judged)),
      ...(without
        ? [variant(settings.transferRule, `swirl-${settings.transferRule}-without-${holdOut}`, without)]
        : []),
    ],
    /** The eval benchmarks cut to the held-out family. */
    heldOutBenchmarks: holdOut
      ? (evaluation.benchmarks ?? []).map((given) => ({
          /** Resolved when the stage runs: the benchmark's file need not exist to plan. */
          resolve: () => resolveBenchmark(given, evaluation.data).file,
          subset: join(dir, `${basename(given).replace(/\.jsonl$/, '')}-${holdOut}.jsonl`),
        }))
      : [],
  }
}

/** The benchmarks the pipeline evaluates on: the eval section's, and with `swirl.holdOut` their held-out family cuts. */
export function pipelineBenchmarks(config: PipelineConfig, benchmarks: string[] = []): string[] {
  return [...benchmarks, ...swirlLayout(config).heldOutBenchmarks.map((benchmark) => benchmark.subset)]
}

export function swirlSettings(config: PipelineConfig): SwirlSettings {
  return resolveOptions(SWIRL_OPTIONS, configLayers(config, 'swirl'))
}

/** The first `limit` records of `file` in a file of their own (written once), or the file itself. */
export async function problemSubset(
  file: string,
  limit: number | undefined,
  target: string,
): Promise<string> {
  if (!limit) return file
  if (existsSync(target)) return target
  await mkdir(dirname(target), { recursive: true })
  return writeFirstRecords(file, limit, target)
}

/** The problems hint-infer samples for D_seed (the config's `problems`, first `limit`). */
export function configProblems(config: PipelineConfig): Promise<string> {
  return problemSubset(config.problems, config.limit, pipelinePaths(config).problems)
}

/** Stage 2's problem pool (`rft.stage2.problems`, else `problems`; first `rft.stage2.limit`). */
export function configPool(config: PipelineConfig): Promise<string> {
  return problemSubset(config.pool.problems, config.pool.limit, pipelinePaths(config).pool)
}

/**
 * The config's rl settings: with a pass band and no --pass-rates-from, the rates come from stage 2's
 * samples when they exist (START-0 sampling the same pool: the starting policy's own outcomes), so no
 * rollout is spent estimating them.
 */
export function pipelineRlSettings(config: PipelineConfig, settings: RlSettings): RlSettings {
  const { passBandLow, passBandHigh } = passBandBounds(settings.passBand)
  const samples = pipelinePaths(config).layout.samples
  const banded = passBandLow > 0 || passBandHigh < 1
  if (!banded || (settings.passRatesFrom ?? []).length > 0 || !existsSync(samples)) return settings
  return { ...settings, passRatesFrom: [samples] }
}
