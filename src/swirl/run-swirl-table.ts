import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises'
import { temporaryFor } from '../core/atomic-write.js'
import { UsageError } from '../core/errors.js'
import { openJsonlSink, readJsonl } from '../core/jsonl.js'
import { defaultOptions } from '../core/options.js'
import type { FilterSettings } from '../filter/options.js'
import type { StepRule } from '../filter/types.js'
import { IN_PROCESS } from '../inference/options.js'
import type { RftSettings } from '../rft/options.js'
import { rftLayout } from '../rft/plan.js'
import { runRft } from '../rft/run-rft.js'
import type { StageListener } from '../runner/events.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { JUDGE_OPTIONS } from './options.js'
import { runJudge } from './run-judge.js'
import { runSplitSteps } from './run-split-steps.js'
import { runStepFilter } from './run-step-filter.js'

/** One step-wise model of SWiRL's table: the steps it reads, the rule it keeps them by, what it makes. */
export interface SwirlVariant {
  name: string
  rule: StepRule
  input: string
  data: string
  rft: string
  model: string
}

/** Where SWiRL's table is written: the steps, their judgements, and per variant its data and model. */
export interface SwirlLayout {
  dir: string
  steps: string
  judged: string
  /** The judged steps of every family but the held-out one. */
  without: string | undefined
  variants: SwirlVariant[]
  /** The eval benchmarks cut to the held-out family (`resolve` finds the benchmark's file when it runs). */
  heldOutBenchmarks: { resolve: () => string; subset: string }[]
}

/** What SWiRL's table is made from: everything resolved by its caller (the pipeline, from its config). */
export interface SwirlTableInput {
  /** Run id prefix: each part is a resumable run `<run>-swirl-…`. */
  run: string
  /** Named in errors about the inputs (the pipeline's config file). */
  source: string
  /** The base model every variant is fine-tuned from. */
  base: string
  /** A GGUF base's Hugging Face conversion made before (the pipeline's rft stage's), shared by the variants. */
  baseHf?: string
  /** The hinted trajectories (hint-infer) to split into steps. */
  hinted: string
  /** The problems of the trajectories, with their `meta.family` (for the hold-out). */
  problems: () => Promise<string>
  layout: SwirlLayout
  holdOut?: string
  /** A GGUF process judge (rubrics/process.json); the rules judge when absent. */
  judgeModel?: string
  filter: FilterSettings
  training: RftSettings
}

export interface SwirlTableContext {
  common: { db: string; toolVersion: string; flags: Record<string, unknown> }
  sandbox: SandboxOptions
  onEvent?: StageListener
}

/**
 * SWiRL's table in miniature: the hinted trajectories split into steps and judged (the rules judge, or a
 * judge model with the process rubric); per rule, the steps it keeps become step-wise SFT data and the base
 * is fine-tuned on them; with a held-out family, one more model learns from the other problem families
 * only, and the eval benchmarks are cut to the held-out family. Each part is a resumable run of its own.
 */
export async function runSwirlTable(input: SwirlTableInput, context: SwirlTableContext) {
  const { layout } = input
  const { common, sandbox } = context
  await mkdir(layout.dir, { recursive: true })
  const split = await runSplitSteps({
    ...common,
    inputs: [input.hinted],
    out: layout.steps,
    runId: `${input.run}-swirl-steps`,
    onEvent: context.onEvent,
  })
  const judged = await runJudge({
    ...common,
    inputs: [layout.steps],
    out: layout.judged,
    settings: { ...defaultOptions(JUDGE_OPTIONS), judge: input.judgeModel ? 'model' : 'rules' },
    model: input.judgeModel,
    backend: IN_PROCESS,
    runId: `${input.run}-swirl-judge`,
    onEvent: context.onEvent,
  })
  if (input.holdOut) await writeHeldOut(input, input.holdOut)

  const models = []
  for (const variant of layout.variants) {
    await mkdir(variant.rft, { recursive: true })
    const filtered = await runStepFilter({
      ...common,
      inputs: [variant.input],
      plain: [],
      settings: { ...input.filter, rule: variant.rule, name: variant.name },
      sandbox,
      out: variant.data,
      runId: `${input.run}-${variant.name}-filter`,
    })
    if (filtered.kept === 0)
      throw new UsageError(`swirl: the ${variant.rule} rule kept no step of ${variant.input}`)
    await runRft({
      ...common,
      stage: 1,
      base: input.base,
      baseHf: input.baseHf,
      out: variant.rft,
      data: variant.data,
      settings: input.training,
      sandbox,
      dryRun: false,
      runId: `${input.run}-${variant.name}`,
      onEvent: context.onEvent,
    })
    await linkModel(rftLayout(variant.rft, input.base).start0Gguf, variant.model)
    models.push({ name: variant.name, rule: variant.rule, steps: filtered.kept, model: variant.model })
  }
  return { steps: split.steps, judgedYes: judged.yes, models }
}

/**
 * The held-out family's part: the judged steps of every other family (the training input), and each eval
 * benchmark's problems of that family (where the model is measured). Families are the problems' `meta.family`.
 */
async function writeHeldOut(input: SwirlTableInput, family: string) {
  const { layout } = input
  const familyOf = new Map<string, unknown>()
  const problems = await input.problems()
  for await (const { value } of readJsonl(problems)) {
    const record = value as { id?: string; meta?: { family?: unknown } }
    if (record.id) familyOf.set(record.id, record.meta?.family)
  }
  if (![...familyOf.values()].includes(family)) {
    throw new UsageError(
      `${input.source}: swirl.holdOut: no problem of ${problems} has meta.family "${family}"`,
    )
  }
  await writeMatching(
    layout.judged,
    layout.without!,
    (record) => familyOf.get(record.problemId as string) !== family,
  )
  for (const benchmark of layout.heldOutBenchmarks) {
    const file = benchmark.resolve()
    const kept = await writeMatching(
      file,
      benchmark.subset,
      (record) => (record.meta as { family?: unknown } | undefined)?.family === family,
    )
    if (kept === 0)
      throw new UsageError(`${input.source}: swirl.holdOut: ${file} has no problem of family "${family}"`)
  }
}

/** The records of `source` that pass, written atomically to `target`; how many. */
async function writeMatching(
  source: string,
  target: string,
  keep: (record: Record<string, unknown>) => boolean,
) {
  const sink = await openJsonlSink(target)
  let kept = 0
  for await (const { value } of readJsonl(source)) {
    if (!keep(value as Record<string, unknown>)) continue
    await sink.write(value)
    kept++
  }
  await sink.commit()
  return kept
}

/** The trained model under the variant's own name (eval labels models by file name): a hard link, else a copy. */
async function linkModel(source: string, target: string) {
  const temporary = temporaryFor(target)
  await rm(temporary, { force: true })
  await link(source, temporary).catch(() => copyFile(source, temporary))
  await rename(temporary, target)
}
