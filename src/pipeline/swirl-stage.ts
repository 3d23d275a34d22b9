import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises'
import { temporaryFor } from '../core/atomic-write.js'
import { UsageError } from '../core/errors.js'
import { openJsonlSink, readJsonl } from '../core/jsonl.js'
import { defaultOptions, resolveOptions } from '../core/options.js'
import { FILTER_OPTIONS } from '../filter/options.js'
import { IN_PROCESS } from '../inference/options.js'
import { RFT_OPTIONS } from '../rft/options.js'
import { rftLayout } from '../rft/plan.js'
import { runRft } from '../rft/run-rft.js'
import type { StageEvent } from '../runner/events.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { JUDGE_OPTIONS } from '../swirl/options.js'
import { runJudge } from '../swirl/run-judge.js'
import { runSplitSteps } from '../swirl/run-split-steps.js'
import { runStepFilter } from '../swirl/run-step-filter.js'
import { configLayers, type PipelineConfig } from './config.js'
import { configProblems, pipelinePaths, swirlLayout, swirlSettings } from './layout.js'

export interface SwirlStageContext {
  common: { db: string; toolVersion: string; flags: Record<string, unknown> }
  sandbox: SandboxOptions
  onEvent?: (event: StageEvent) => void
  onProgress?: (event: { done: number; total?: number; detail?: string }) => void
}

/**
 * The pipeline's swirl stage (SWiRL's table in miniature): the hinted trajectories split into steps and
 * judged (the rules judge, or `judgeModel` with the process rubric); per rule, the steps it keeps become
 * step-wise SFT data and the base is fine-tuned on them; with `holdOut`, one more model learns from the
 * other problem families only, and the eval benchmarks are cut to the held-out family. Each part is a
 * resumable run of its own (`<run>-swirl-…`).
 */
export async function runSwirlStage(config: PipelineConfig, context: SwirlStageContext) {
  const settings = swirlSettings(config)
  const layout = swirlLayout(config)
  const paths = pipelinePaths(config)
  const { common, sandbox } = context
  await mkdir(layout.dir, { recursive: true })
  const split = await runSplitSteps({
    ...common,
    inputs: [paths.hinted],
    out: layout.steps,
    runId: `${config.run}-swirl-steps`,
    onProgress: context.onProgress,
  })
  const judged = await runJudge({
    ...common,
    inputs: [layout.steps],
    out: layout.judged,
    settings: { ...defaultOptions(JUDGE_OPTIONS), judge: settings.judgeModel ? 'model' : 'rules' },
    model: settings.judgeModel,
    backend: IN_PROCESS,
    runId: `${config.run}-swirl-judge`,
    onProgress: context.onProgress,
  })
  if (settings.holdOut) await writeHeldOut(config, settings.holdOut, layout)

  const filterSettings = resolveOptions(FILTER_OPTIONS, configLayers(config, 'filter'))
  const training = resolveOptions(RFT_OPTIONS, configLayers(config, 'swirl'))
  const models = []
  for (const variant of layout.variants) {
    await mkdir(variant.rft, { recursive: true })
    const filtered = await runStepFilter({
      ...common,
      inputs: [variant.input],
      plain: [],
      settings: { ...filterSettings, rule: variant.rule, name: variant.name },
      sandbox,
      out: variant.data,
      runId: `${config.run}-${variant.name}-filter`,
    })
    if (filtered.kept === 0)
      throw new UsageError(`swirl: the ${variant.rule} rule kept no step of ${variant.input}`)
    await runRft({
      ...common,
      stage: 1,
      base: config.model,
      out: variant.rft,
      data: variant.data,
      settings: training,
      sandbox,
      dryRun: false,
      runId: `${config.run}-${variant.name}`,
      onEvent: context.onEvent,
    })
    await linkModel(rftLayout(variant.rft, config.model).start0Gguf, variant.model)
    models.push({ name: variant.name, rule: variant.rule, steps: filtered.kept, model: variant.model })
  }
  return { steps: split.steps, judgedYes: judged.yes, models }
}

/**
 * The held-out family's part: the judged steps of every other family (the training input), and each eval
 * benchmark's problems of that family (where the model is measured). Families are the problems' `meta.family`.
 */
async function writeHeldOut(config: PipelineConfig, family: string, layout: ReturnType<typeof swirlLayout>) {
  const familyOf = new Map<string, unknown>()
  const problems = await configProblems(config)
  for await (const { value } of readJsonl(problems)) {
    const record = value as { id?: string; meta?: { family?: unknown } }
    if (record.id) familyOf.set(record.id, record.meta?.family)
  }
  if (![...familyOf.values()].includes(family)) {
    throw new UsageError(
      `${config.file}: swirl.holdOut: no problem of ${problems} has meta.family "${family}"`,
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
      throw new UsageError(`${config.file}: swirl.holdOut: ${file} has no problem of family "${family}"`)
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
