import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { type OptionSpecs, type OptionValues, resolveOptions } from '../core/options.js'
import { EVAL_OPTIONS } from '../eval/options.js'
import { runEval } from '../eval/run-eval.js'
import { runReport } from '../eval/run-report.js'
import { FILTER_OPTIONS } from '../filter/options.js'
import { runFilter } from '../filter/run-filter.js'
import { BACKEND_OPTIONS, HINT_INFER_OPTIONS } from '../inference/options.js'
import { runHintInfer } from '../inference/run-hint-infer.js'
import { RFT_OPTIONS } from '../rft/options.js'
import { runRft } from '../rft/run-rft.js'
import { RL_OPTIONS } from '../rl/options.js'
import { rlLayout, runRl } from '../rl/run-rl.js'
import type { StageEvent } from '../runner/events.js'
import { type PlanStep, type PlanStepReport, planSteps, runPlan } from '../runner/plan.js'
import { runStage } from '../runner/stage-run.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'
import { type ConfigSection, configLayers, loadConfig, type PipelineConfig } from './config.js'
import {
  configPool,
  configProblems,
  pipelineBenchmarks,
  pipelineModels,
  pipelinePaths,
  swirlLayout,
} from './layout.js'
import { runSwirlStage } from './swirl-stage.js'

export const PIPELINE_STAGES = [
  'hinted',
  'plain',
  'filter',
  'rft-1',
  'rft-2',
  'rl',
  'swirl',
  'eval',
  'report',
] as const
export type PipelineStage = (typeof PIPELINE_STAGES)[number]

export interface PipelineOptions {
  config: string
  db: string
  toolVersion: string
  /** Stop after this stage. */
  until?: PipelineStage
  /** Print the stages and which are done, and stop. */
  dryRun?: boolean
  onEvent?: (event: StageEvent) => void
  /** Progress of the stage running now. */
  onProgress?: (stage: PipelineStage, event: { done: number; total?: number; detail?: string }) => void
}

export interface PipelineSummary {
  run: string
  out: string
  dryRun: boolean
  stages: (PlanStepReport & { stage: string })[]
  report?: string
  summary?: string
}

/** A stage's settings from the config: its section, the top level, the sandbox section, the defaults. */
export function stageSettings<T extends OptionSpecs>(
  config: PipelineConfig,
  section: ConfigSection,
  specs: T,
): OptionValues<T> {
  return resolveOptions(specs, configLayers(config, section))
}

/**
 * `start pipeline`: hint-infer with and without hints -> filter -> rft stage 1 -> rft stage 2 -> eval ->
 * report, as a table of steps. One run id ties them: the pipeline's own run records finished steps, and
 * each stage's run is `<run>-<stage>`, resumable on its own.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const config = loadConfig(options.config)
  const paths = pipelinePaths(config)
  const common = { db: options.db, toolVersion: options.toolVersion, flags: { config: options.config } }
  const sandbox = toSandboxOptions(stageSettings(config, 'sandbox', SANDBOX_OPTIONS), 2)
  const progressOf = (stage: PipelineStage) => (event: { done: number; total?: number; detail?: string }) =>
    options.onProgress?.(stage, event)

  const sample = async (stage: 'hinted' | 'plain') => {
    const settings = stageSettings(config, 'hintInfer', HINT_INFER_OPTIONS)
    return runHintInfer({
      ...common,
      problems: [await configProblems(config)],
      model: config.model,
      settings: { ...settings, noHints: stage === 'plain' },
      // The base model may be served (the config's backend:); START-0 and START are this run's own files.
      backend: stageSettings(config, 'hintInfer', BACKEND_OPTIONS),
      sandbox: { ...sandbox, workers: 1 },
      out: stage === 'hinted' ? paths.hinted : paths.plain,
      runId: `${config.run}-${stage}`,
      onProgress: progressOf(stage),
    })
  }

  const rft = async (stage: 1 | 2) => {
    const section = stage === 1 ? 'rft.stage1' : 'rft.stage2'
    const pool = stage === 2 ? await configPool(config) : undefined
    return runRft({
      ...common,
      stage,
      base: config.model,
      out: paths.rft,
      data: paths.dSeed,
      problems: pool ? [pool] : undefined,
      settings: stageSettings(config, section, RFT_OPTIONS),
      sandbox: { ...sandbox, workers: 1 },
      dryRun: false,
      runId: `${config.run}-rft-${stage}`,
      onEvent: options.onEvent,
      onProgress: progressOf(stage === 1 ? 'rft-1' : 'rft-2'),
    })
  }

  const filterSettings = stageSettings(config, 'filter', FILTER_OPTIONS)
  const evalSettings = stageSettings(config, 'eval', EVAL_OPTIONS)
  const models = pipelineModels(config)
  const swirl = swirlLayout(config)
  const steps: Record<PipelineStage, Omit<PlanStep, 'id'>> = {
    hinted: {
      description: 'hint-infer with hints (the hinted trajectories)',
      inputs: [config.problems, config.model],
      outputs: [paths.hinted],
      run: () => sample('hinted'),
    },
    plain: {
      description: 'hint-infer without hints (the plain runs of the hint-gain rule)',
      inputs: [config.problems, config.model],
      outputs: [paths.plain],
      run: () => sample('plain'),
    },
    filter: {
      description: 'filter the hinted trajectories into D_seed',
      inputs: [paths.hinted, paths.plain],
      outputs: [paths.dSeed],
      run: () =>
        runFilter({
          ...common,
          inputs: [paths.hinted],
          plain: filterSettings.rule === 'hint-gain' ? [paths.plain] : [],
          settings: filterSettings,
          sandbox,
          out: paths.dSeed,
          runId: `${config.run}-filter`,
          onProgress: progressOf('filter'),
        }),
    },
    'rft-1': {
      description: 'rft stage 1: fine-tune the base on D_seed into START-0',
      inputs: [paths.dSeed],
      outputs: [paths.layout.start0Gguf],
      run: () => rft(1),
    },
    'rft-2': {
      description: 'rft stage 2: START-0 samples, rejection sampling, fine-tune into START',
      inputs: [paths.layout.start0Gguf],
      outputs: [paths.layout.startGguf],
      run: () => rft(2),
    },
    rl: {
      description:
        'rl: GRPO from START-0 with the interpreter in the rollouts (the config has an rl: section)',
      inputs: [paths.layout.start0Gguf],
      outputs: [paths.rlGguf],
      run: async () =>
        runRl({
          ...common,
          base: paths.layout.start0Gguf,
          problems: [await configPool(config)],
          out: paths.rl,
          settings: stageSettings(config, 'rl', RL_OPTIONS),
          sandbox,
          dryRun: false,
          runId: `${config.run}-rl`,
          onEvent: options.onEvent,
          onProgress: progressOf('rl'),
        }),
    },
    swirl: {
      description:
        'swirl: split the hinted trajectories into steps, judge them, fine-tune the base step-wise per step rule (the config has a swirl: section)',
      inputs: [paths.hinted, config.model],
      outputs: swirl.variants.map((variant) => variant.model),
      run: () =>
        runSwirlStage(config, { common, sandbox, onEvent: options.onEvent, onProgress: progressOf('swirl') }),
    },
    eval: {
      description: `eval the base, START-0, START${config.rl ? ', the RL policy' : ''}${config.swirl ? ', the SWiRL models' : ''}`,
      inputs: models,
      outputs: [paths.eval],
      run: () =>
        runEval({
          ...common,
          models,
          settings: { ...evalSettings, benchmarks: pipelineBenchmarks(config, evalSettings.benchmarks) },
          tracesDir: paths.evalTraces,
          sandbox,
          out: paths.eval,
          runId: `${config.run}-eval`,
          onProgress: progressOf('eval'),
        }),
    },
    report: {
      description: 'the HTML report and the markdown summary',
      inputs: [paths.eval, ...(config.rl ? [rlLayout(paths.rl, paths.layout.start0Gguf).metrics] : [])],
      outputs: [paths.report, paths.summary],
      run: async () => {
        const training = config.rl ? [rlLayout(paths.rl, paths.layout.start0Gguf).metrics] : []
        const report = await runReport({
          inputs: [paths.eval, ...training],
          out: paths.report,
          markdown: paths.summary,
        })
        return { rows: report.rows, steps: report.steps }
      },
    },
  }
  const table = PIPELINE_STAGES.filter(
    (id) => (id !== 'rl' || config.rl) && (id !== 'swirl' || config.swirl),
  ).map((id) => ({ id, ...steps[id] }))
  const summary: PipelineSummary = {
    run: config.run,
    out: config.out,
    dryRun: options.dryRun ?? false,
    stages: [],
  }
  const withStage = (reports: PlanStepReport[]) => reports.map((report) => ({ stage: report.id, ...report }))

  if (options.dryRun) {
    summary.stages = withStage(planSteps(table, options.db, config.run))
    return summary
  }
  return runStage(
    { ...common, runId: config.run, command: 'pipeline', out: undefined },
    async ({ store, finished }) => {
      await mkdir(config.out, { recursive: true })
      const reports = await runPlan(table, {
        store,
        runId: config.run,
        finished,
        onEvent: options.onEvent,
        until: options.until,
      })
      summary.stages = withStage(reports)
      if (existsSync(paths.summary) && reports.some((report) => report.id === 'report')) {
        summary.report = paths.report
        summary.summary = await readFile(paths.summary, 'utf8')
      }
      return summary
    },
  )
}
