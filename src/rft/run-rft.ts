import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { UsageError } from '../core/errors.js'
import { fingerprint } from '../core/fingerprint.js'
import { defaultOptions } from '../core/options.js'
import { checkOutputDirectory } from '../core/output-paths.js'
import { outputRunId } from '../core/run-id.js'
import { FILTER_OPTIONS } from '../filter/options.js'
import { runFilter } from '../filter/run-filter.js'
import { HINT_OPTIONS } from '../hints/options.js'
import type { BackendSettings } from '../inference/options.js'
import { runHintInfer } from '../inference/run-hint-infer.js'
import { noticesTo } from '../runner/events.js'
import { planSteps, runPlan } from '../runner/plan.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { appendTrainingLog, setParents } from '../store/lineage.js'
import type { Db } from '../store/store.js'
import { checkBaseModel, convertBase, exportModel } from '../training/model-steps.js'
import { toHyperParameters } from '../training/options.js'
import { ensureTrainingEnv } from '../training/python-env.js'
import { optimiserStep, TrlTrainer } from '../training/trainer.js'
import type { RftSettings } from './options.js'
import { planRft, type RftPlanStep, type RftPlanStepId, rftLayout } from './plan.js'
import type { RftSummary } from './types.js'

export interface RftOptions extends Omit<StageRunOptions, 'out'> {
  stage: 1 | 2
  /** GGUF file or Hugging Face checkpoint directory. */
  base: string
  /** Directory of everything the stages write. */
  out: string
  /** Stage 1: D_seed chat JSONL. */
  data?: string
  /** Stage 2: the problem pool. */
  problems?: string[]
  settings: RftSettings
  sandbox: SandboxOptions
  dryRun: boolean
  /** Stage 2: where START-0 samples; with a server, it must serve START-0 (the GGUF renders the prompts). */
  backend?: BackendSettings
  /**
   * A GGUF base's Hugging Face conversion made before (the pipeline's, for SWiRL's models): used, not
   * made again (it depends on the base file alone; for a 7B base it is minutes and gigabytes).
   */
  baseHf?: string
}

/** A run id that stays the same for the same output directory and stage, so a rerun resumes. */
export function rftRunId(out: string, stage: 1 | 2): string {
  return outputRunId(`rft-${stage}`, out)
}

/** `start rft --stage 1|2`: each step runs once; a rerun skips the steps whose outputs are current. */
export async function runRft(options: RftOptions): Promise<RftSummary> {
  validate(options)
  const plan = planRft({ ...options, from: options.settings.from })
  const layout = rftLayout(options.out, options.base, options.baseHf)
  const summary: RftSummary = {
    run: options.runId,
    stage: options.stage,
    out: options.out,
    dryRun: options.dryRun,
    steps: [],
    settings: options.settings,
  }
  if (options.dryRun) {
    summary.steps = planSteps(plan, options.db, options.runId)
    return summary
  }
  return runStage({ ...options, out: undefined, command: 'rft' }, async ({ db, store, finished }) => {
    const env = await ensureTrainingEnv({ venv: options.settings.venv, onLog: noticesTo(options.onEvent) })
    const context: RftStepContext = { options, layout, trainer: new TrlTrainer(env), db, summary }
    const steps = plan.map((step) => ({ ...step, run: () => runStep(step, context) }))
    summary.steps = await runPlan(steps, { store, runId: options.runId, finished, onEvent: options.onEvent })
    summary.model = options.stage === 1 ? layout.start0Gguf : layout.startGguf
    return summary
  })
}

interface RftStepContext {
  options: RftOptions
  layout: ReturnType<typeof rftLayout>
  trainer: TrlTrainer
  db: Db
  summary: RftSummary
}

type StepRunner = (step: RftPlanStep, context: RftStepContext, log: string) => Promise<unknown>

/** What runs each plan step of a stage; the step's trainer log is `logs/<step>.log`. */
const STEP_RUNNERS: Record<RftPlanStepId, StepRunner> = {
  'base-hf': (_, { options, layout, trainer }, log) => convertBase(trainer, options.base, layout.baseHf, log),
  'train-start-0': trainStep,
  'train-start': trainStep,
  'export-start-0': exportStep,
  'export-start': exportStep,
  sample: sampleStep,
  select: selectStep,
}

function runStep(step: RftPlanStep, context: RftStepContext): Promise<unknown> {
  return STEP_RUNNERS[step.id](step, context, join(context.layout.logs, `${step.id}.log`))
}

/** Fine-tunes START-0 (on D_seed) or START (on D_START), logging each optimiser step's loss. */
async function trainStep(
  step: RftPlanStep,
  { options, layout, trainer, db, summary }: RftStepContext,
  log: string,
) {
  const stageOne = step.id === 'train-start-0'
  const base = stageOne || options.settings.from === 'base' ? layout.baseHf : layout.start0
  const data = stageOne ? options.data! : layout.dStart
  const losses: number[] = []
  const done = await trainer.train(
    {
      base,
      data,
      out: stageOne ? layout.start0 : layout.start,
      hyper: toHyperParameters(options.settings),
      numProcesses: options.settings.numProcesses,
      accelerateConfig: options.settings.accelerateConfig,
      log,
    },
    (event) => {
      const logged = optimiserStep(event)
      if (!logged) return
      if (logged.loss !== undefined) {
        losses.push(logged.loss)
        appendTrainingLog(db, {
          runId: options.runId,
          unitKey: step.id,
          step: logged.step,
          loss: logged.loss,
          learningRate: logged.metrics.learningRate,
          epoch: logged.metrics.epoch,
        })
      }
      options.onEvent?.(logged)
    },
  )
  summary.training = {
    steps: done.steps,
    trainLoss: done.trainLoss,
    firstLoss: losses[0] ?? null,
    lastLoss: losses.at(-1) ?? null,
    seconds: done.seconds,
    tokensPerSecond: done.tokensPerSecond,
  }
  const model = stageOne ? layout.start0 : layout.start
  setParents(db, { kind: 'model', id: resolve(model) }, [
    { kind: 'model', id: resolve(base) },
    { kind: 'dataset', id: resolve(data) },
    { kind: 'run', id: options.runId },
  ])
  return summary.training
}

async function exportStep(step: RftPlanStep, { options, layout, trainer, db }: RftStepContext, log: string) {
  const stageOne = step.id === 'export-start-0'
  return exportModel(trainer, db, {
    checkpoint: stageOne ? layout.start0 : layout.start,
    gguf: stageOne ? layout.start0Gguf : layout.startGguf,
    base: options.base,
    outtype: options.settings.outtype,
    log,
  })
}

/** Stage 2: START-0 samples the pool (hint-infer, resumable on its own run). */
async function sampleStep(_: RftPlanStep, { options, layout, summary }: RftStepContext) {
  const { settings } = options
  await mkdir(dirname(layout.samples), { recursive: true })
  if (options.backend?.backend === 'openai') {
    options.onEvent?.({
      kind: 'notice',
      text: `stage 2 samples START-0 on ${options.backend.baseUrl}: serve ${layout.start0Gguf} there`,
    })
  }
  const sampled = await runHintInfer({
    problems: options.problems!,
    model: layout.start0Gguf,
    backend: options.backend,
    settings: {
      ...defaultOptions(HINT_OPTIONS),
      ...settings,
      noHints: !settings.hints,
      hints: undefined,
      skipInvalid: false,
    },
    sandbox: options.sandbox,
    out: layout.samples,
    db: options.db,
    // Keyed by START-0 and the pool: an interrupted sampling resumes, a new START-0 samples afresh.
    runId: `${options.runId}-sample-${fingerprint([layout.start0Gguf, ...options.problems!])}`,
    flags: options.flags,
    toolVersion: options.toolVersion,
    onEvent: options.onEvent,
  })
  summary.samples = sampled.trajectories
  return sampled
}

/** Stage 2: rejection sampling: the correct, deduplicated, capped samples become D_START (filter). */
async function selectStep(_: RftPlanStep, { options, layout, summary }: RftStepContext) {
  const selected = await runFilter({
    inputs: [layout.samples],
    plain: [],
    settings: {
      ...defaultOptions(FILTER_OPTIONS),
      rule: 'correct',
      minToolCalls: 0,
      maxToolCalls: options.settings.maxToolCalls,
      perProblem: options.settings.perProblem,
      name: 'D_START',
    },
    sandbox: options.sandbox,
    out: layout.dStart,
    db: options.db,
    runId: `${options.runId}-select`,
    flags: options.flags,
    toolVersion: options.toolVersion,
  })
  summary.kept = selected.kept
  if (selected.kept === 0) {
    throw new UsageError(
      `stage 2: none of START-0's ${selected.trajectories} samples was correct, so D_START is empty`,
      'sample more (--samples), or a larger or easier --problems pool',
    )
  }
  return selected
}

function validate(options: RftOptions): void {
  checkBaseModel(options.base)
  checkOutputDirectory('--out', options.out)
  if (options.stage === 1) {
    if (!options.data) throw new UsageError('--stage 1 needs --data (D_seed from `start filter`)')
    if (!existsSync(options.data)) throw new UsageError(`--data ${options.data}: no such file`)
  } else {
    if (!options.problems?.length)
      throw new UsageError('--stage 2 needs --problems (the pool START-0 samples)')
    const start0 = rftLayout(options.out, options.base).start0Gguf
    if (!options.dryRun && !existsSync(start0)) {
      throw new UsageError(`${start0}: missing; run --stage 1 with the same --out first`)
    }
  }
}
