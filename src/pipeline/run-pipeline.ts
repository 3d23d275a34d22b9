import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import type { StageEvent, StageListener } from '../runner/events.js'
import { type PlanStepReport, planSteps, runPlan } from '../runner/plan.js'
import { runStage } from '../runner/stage-run.js'
import { SANDBOX_OPTIONS, toSandboxOptions } from '../sandbox/options.js'
import { loadConfig, stageSettings } from './config.js'
import { pipelinePaths } from './layout.js'
import { PIPELINE_STAGES, type PipelineStage } from './stages.js'

export interface PipelineOptions {
  config: string
  db: string
  toolVersion: string
  /** Stop after this stage. */
  until?: PipelineStage
  /** Print the stages and which are done, and stop. */
  dryRun?: boolean
  /** Every stage's events; a stage's progress names the stage first in its detail. */
  onEvent?: StageListener
}

export interface PipelineSummary {
  run: string
  out: string
  dryRun: boolean
  stages: (PlanStepReport & { stage: string })[]
  report?: string
  summary?: string
}

/**
 * `start pipeline`: the stages of PIPELINE_STAGES that the config asks for, as a plan. One run id ties
 * them: the pipeline's own run records finished stages, and each stage's run is `<run>-<stage>`,
 * resumable on its own.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  const config = loadConfig(options.config)
  const paths = pipelinePaths(config)
  const common = { db: options.db, toolVersion: options.toolVersion, flags: { config: options.config } }
  const sandbox = toSandboxOptions(stageSettings(config, 'sandbox', SANDBOX_OPTIONS), 2)
  const table = PIPELINE_STAGES.filter((stage) => !('when' in stage) || stage.when(config)).map((stage) => ({
    id: stage.id,
    ...stage.step({
      config,
      paths,
      common,
      sandbox,
      onEvent: options.onEvent && labelled(stage.id, options.onEvent),
    }),
  }))
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

/** A stage's events with its progress labelled by the stage (`eval 4/9 ...`), the rest as they are. */
function labelled(stage: string, onEvent: StageListener): StageListener {
  return (event: StageEvent) =>
    onEvent(
      event.kind === 'progress'
        ? { ...event, detail: `${stage}${event.detail ? ` ${event.detail}` : ''}` }
        : event,
    )
}
