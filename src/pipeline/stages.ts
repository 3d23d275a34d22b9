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
import type { StageListener } from '../runner/events.js'
import type { PlanStep } from '../runner/plan.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { runSwirlTable } from '../swirl/run-swirl-table.js'
import { type ConfigSection, type PipelineConfig, stageSettings } from './config.js'
import {
  configPool,
  configProblems,
  pipelineBenchmarks,
  pipelineModels,
  type pipelinePaths,
  pipelineRlSettings,
  swirlLayout,
  swirlSettings,
} from './layout.js'

/** What every stage of the pipeline is given: the config, where things go, and the settings all share. */
export interface StageContext {
  config: PipelineConfig
  paths: ReturnType<typeof pipelinePaths>
  common: { db: string; toolVersion: string; flags: Record<string, unknown> }
  sandbox: SandboxOptions
  /** The stage's events (its progress labelled by the pipeline). */
  onEvent?: StageListener
}

/** One stage: its id (the run is `<run>-<id>`), and the plan step that makes its outputs from its inputs. */
interface StageSpec {
  id: string
  /** What it does, for the docs' table of stages. */
  does: string
  /** The config section whose options it takes (CONFIG_SECTIONS), if any. */
  section?: ConfigSection
  /** Runs only when this holds (a stage whose config section is optional: rl:, swirl:). */
  when?: (config: PipelineConfig) => boolean
  step: (context: StageContext) => Omit<PlanStep, 'id'>
}

/**
 * The stages of `start pipeline`, in order: the one list the pipeline, `--until` and `--dry-run` read.
 * Adding a stage is an entry here (and its section in CONFIG_SECTIONS when it takes settings).
 */
export const PIPELINE_STAGES = [
  {
    id: 'hinted',
    does: 'hint-infer on `problems` with hints: the hinted trajectories',
    section: 'hintInfer',
    step: (context) => sampleStep(context, 'hinted'),
  },
  {
    id: 'plain',
    does: 'the same problems without hints: what the base does unprompted (the hint-gain rule compares)',
    section: 'hintInfer',
    step: (context) => sampleStep(context, 'plain'),
  },
  { id: 'filter', does: 'grade, drop and deduplicate: D_seed', section: 'filter', step: filterStep },
  {
    id: 'rft-1',
    does: 'fine-tune the base on D_seed: START-0',
    section: 'rft.stage1',
    step: (context) => rftStep(context, 1),
  },
  {
    id: 'rft-2',
    does: 'START-0 samples the pool, its right and diverse answers (D_START) fine-tune the base: START',
    section: 'rft.stage2',
    step: (context) => rftStep(context, 2),
  },
  {
    id: 'rl',
    does: 'GRPO from START-0 on the pool, the interpreter in each rollout: the RL policy',
    section: 'rl',
    when: (config) => config.rl,
    step: rlStep,
  },
  {
    id: 'swirl',
    does: "SWiRL's table: steps, judged, filtered per rule, a model fine-tuned on each",
    section: 'swirl',
    when: (config) => config.swirl,
    step: swirlStep,
  },
  { id: 'eval', does: 'every model on every benchmark, in each mode', section: 'eval', step: evalStep },
  { id: 'report', does: 'the report: tables and charts of the runs', step: reportStep },
] as const satisfies readonly StageSpec[]
export type PipelineStage = (typeof PIPELINE_STAGES)[number]['id']

/** hint-infer on the config's problems with hints (the hinted trajectories) or without (the plain runs). */
function sampleStep(context: StageContext, stage: 'hinted' | 'plain'): Omit<PlanStep, 'id'> {
  const { config, paths, common, sandbox, onEvent } = context
  const out = stage === 'hinted' ? paths.hinted : paths.plain
  return {
    description:
      stage === 'hinted'
        ? 'hint-infer with hints (the hinted trajectories)'
        : 'hint-infer without hints (the plain runs of the hint-gain rule)',
    inputs: [config.problems, config.model],
    outputs: [out],
    run: async () =>
      runHintInfer({
        ...common,
        problems: [await configProblems(config)],
        model: config.model,
        settings: { ...stageSettings(config, 'hintInfer', HINT_INFER_OPTIONS), noHints: stage === 'plain' },
        // The base model may be served (the config's backend:); START-0 and START are this run's own files.
        backend: stageSettings(config, 'hintInfer', BACKEND_OPTIONS),
        sandbox: { ...sandbox, workers: 1 },
        out,
        runId: `${config.run}-${stage}`,
        onEvent,
      }),
  }
}

function filterStep({ config, paths, common, sandbox, onEvent }: StageContext): Omit<PlanStep, 'id'> {
  const settings = stageSettings(config, 'filter', FILTER_OPTIONS)
  return {
    description: 'filter the hinted trajectories into D_seed',
    inputs: [paths.hinted, paths.plain],
    outputs: [paths.dSeed],
    run: () =>
      runFilter({
        ...common,
        inputs: [paths.hinted],
        plain: settings.rule === 'hint-gain' ? [paths.plain] : [],
        settings,
        sandbox,
        out: paths.dSeed,
        runId: `${config.run}-filter`,
        onEvent,
      }),
  }
}

function rftStep(context: StageContext, stage: 1 | 2): Omit<PlanStep, 'id'> {
  const { config, paths, common, sandbox } = context
  const run = async () => {
    const pool = stage === 2 ? await configPool(config) : undefined
    return runRft({
      ...common,
      stage,
      base: config.model,
      out: paths.rft,
      data: paths.dSeed,
      problems: pool ? [pool] : undefined,
      settings: stageSettings(config, stage === 1 ? 'rft.stage1' : 'rft.stage2', RFT_OPTIONS),
      sandbox: { ...sandbox, workers: 1 },
      dryRun: false,
      runId: `${config.run}-rft-${stage}`,
      onEvent: context.onEvent,
    })
  }
  return stage === 1
    ? {
        description: 'rft stage 1: fine-tune the base on D_seed into START-0',
        inputs: [paths.dSeed],
        outputs: [paths.layout.start0Gguf],
        run,
      }
    : {
        description: 'rft stage 2: START-0 samples, rejection sampling, fine-tune into START',
        inputs: [paths.layout.start0Gguf],
        outputs: [paths.layout.startGguf],
        run,
      }
}

function rlStep({ config, paths, common, sandbox, onEvent }: StageContext): Omit<PlanStep, 'id'> {
  return {
    description: 'rl: GRPO from START-0 with the interpreter in the rollouts (the config has an rl: section)',
    inputs: [paths.layout.start0Gguf],
    outputs: [paths.rlGguf],
    run: async () =>
      runRl({
        ...common,
        base: paths.layout.start0Gguf,
        problems: [await configPool(config)],
        out: paths.rl,
        settings: pipelineRlSettings(config, stageSettings(config, 'rl', RL_OPTIONS)),
        sandbox,
        dryRun: false,
        runId: `${config.run}-rl`,
        onEvent,
      }),
  }
}

function swirlStep({ config, paths, common, sandbox, onEvent }: StageContext): Omit<PlanStep, 'id'> {
  return {
    description:
      'swirl: split the hinted trajectories into steps, judge them, fine-tune the base step-wise per step rule (the config has a swirl: section)',
    inputs: [paths.hinted, config.model],
    outputs: swirlLayout(config).variants.map((variant) => variant.model),
    run: () => {
      const settings = swirlSettings(config)
      return runSwirlTable(
        {
          run: config.run,
          source: config.file,
          base: config.model,
          baseHf: paths.layout.baseHf,
          hinted: paths.hinted,
          problems: () => configProblems(config),
          layout: swirlLayout(config),
          holdOut: settings.holdOut,
          judgeModel: settings.judgeModel,
          filter: stageSettings(config, 'filter', FILTER_OPTIONS),
          training: stageSettings(config, 'swirl', RFT_OPTIONS),
        },
        { common, sandbox, onEvent },
      )
    },
  }
}

function evalStep({ config, paths, common, sandbox, onEvent }: StageContext): Omit<PlanStep, 'id'> {
  const settings = stageSettings(config, 'eval', EVAL_OPTIONS)
  const models = pipelineModels(config)
  return {
    description: `eval the base, START-0, START${config.rl ? ', the RL policy' : ''}${config.swirl ? ', the SWiRL models' : ''}`,
    inputs: models,
    outputs: [paths.eval],
    run: () =>
      runEval({
        ...common,
        models,
        settings: { ...settings, benchmarks: pipelineBenchmarks(config, settings.benchmarks) },
        tracesDir: paths.evalTraces,
        sandbox,
        out: paths.eval,
        runId: `${config.run}-eval`,
        onEvent,
      }),
  }
}

function reportStep({ config, paths }: StageContext): Omit<PlanStep, 'id'> {
  const training = config.rl ? [rlLayout(paths.rl, paths.layout.start0Gguf).metrics] : []
  return {
    description: 'the HTML report and the markdown summary',
    inputs: [paths.eval, ...training],
    outputs: [paths.report, paths.summary],
    run: async () => {
      const report = await runReport({
        inputs: [paths.eval, ...training],
        out: paths.report,
        markdown: paths.summary,
      })
      return { rows: report.rows, steps: report.steps }
    },
  }
}
