import { UsageError } from '../core/errors.js'
import { orderedMap } from '../core/ordered-map.js'
import { Grader } from '../grading/grader.js'
import type { InferenceEngine } from '../inference/engine.js'
import { modelLabel, openEngine, trajectoriesInFlight } from '../inference/open-engine.js'
import type { BackendSettings } from '../inference/options.js'
import { noticesTo } from '../runner/events.js'
import { runStage, type StageRun, type StageRunOptions } from '../runner/stage-run.js'
import { SandboxPool } from '../sandbox/pool.js'
import type { Ablation } from './counterfactual.js'
import { CounterfactualJudge, type CounterfactualSettings, ShuffledOutputs } from './judge-counterfactual.js'
import { ModelJudge } from './judge-model.js'
import { judgeByRules, type StepJudgement } from './judge-rules.js'
import type { JudgeSettings } from './options.js'
import { type JudgedStep, readStepGroups, readSteps } from './read-steps.js'
import { loadRubric, type Rubric } from './rubric.js'
import type { StepRecord } from './split-steps.js'

export interface JudgeOptions extends StageRunOptions {
  inputs: string[]
  settings: JudgeSettings
  /** The judge model (GGUF or URI); with --backend openai, optional (its chat template). */
  model?: string
  backend: BackendSettings
}

export interface JudgeSummary {
  run: string
  out: string
  judge: string
  rubric: string
  steps: number
  yes: number
  no: number
  /** Steps without a verdict: the judge's answer could not be read (never counted as yes). */
  unjudged: number
  /** Verdicts taken from an earlier try of the same run. */
  resumed: number
  /** How often each reason made a step fail the rules judge. */
  reasons: Record<string, number>
  /** Continuations the counterfactual judge sampled now (its cost; 0 for the other judges). */
  continuations: number
  /** Tokens the judge model (or the counterfactual continuations) wrote, and how fast. */
  generatedTokens: number
  tokensPerSecond: number
}

/**
 * `start judge`: each step record of `start steps` with a judgement under `judgements[rubric]`, in
 * input order. A model judge's verdicts are stored as they come: a rerun of the run asks only for the rest.
 */
export async function runJudge(options: JudgeOptions): Promise<JudgeSummary> {
  const { settings, backend } = options
  if (settings.judge === 'counterfactual') return runCounterfactualJudge(options)
  const rubric = settings.judge === 'model' ? await loadRubric(settings.rubric) : undefined
  if (settings.judge === 'rules' && settings.rubric !== 'process') {
    throw new UsageError(
      `--rubric ${settings.rubric}: the rules judge answers the process rubric only`,
      'use --judge model for other rubrics',
    )
  }
  const label = rubric ? modelLabel(options.model, backend) : 'rules'
  return runStage({ ...options, command: 'judge', model: rubric ? label : undefined }, async (run) => {
    const summary = emptySummary(options, rubric?.name ?? 'process', label)
    const write = async (step: JudgedStep, judgement: StepJudgement) => {
      await run.sink.write({ ...step, judgements: { ...step.judgements, [summary.rubric]: judgement } })
      summary.steps++
      summary[judgement.verdict]++
      if (judgement.judge === 'rules') {
        for (const reason of judgement.reasons) summary.reasons[reason] = (summary.reasons[reason] ?? 0) + 1
      }
      const detail = `${summary.yes} yes, ${summary.unjudged} unjudged`
      options.onEvent?.({ kind: 'progress', done: summary.steps, detail })
    }
    if (rubric) await judgeByModel(options, { rubric, label, run, summary, write })
    else {
      for await (const group of trajectories(options.inputs)) {
        for (const [index, judgement] of judgeByRules(group).entries()) await write(group[index]!, judgement)
      }
    }
    return summary
  })
}

function emptySummary(options: JudgeOptions, rubric: string, judge: string): JudgeSummary {
  return {
    run: options.runId,
    out: options.out ?? '-',
    judge,
    rubric,
    steps: 0,
    yes: 0,
    no: 0,
    unjudged: 0,
    resumed: 0,
    reasons: {},
    continuations: 0,
    generatedTokens: 0,
    tokensPerSecond: 0,
  }
}

interface ModelJudging {
  rubric: Rubric
  label: string
  run: StageRun
  summary: JudgeSummary
  write: (step: JudgedStep, judgement: StepJudgement) => Promise<void>
}

/** A judge model answers the rubric: per step, or (a final rubric) per trajectory on its last step. */
async function judgeByModel(options: JudgeOptions, { rubric, label, run, summary, write }: ModelJudging) {
  const { settings, backend } = options
  let engine: InferenceEngine | undefined
  const pool = new SandboxPool({ workers: 1 })
  try {
    engine = await openEngine(options.model, settings, backend, noticesTo(options.onEvent))
    const started = performance.now() // the rate is the judging's, not the model loading's
    const judge = new ModelJudge(engine, pool, rubric, settings, label)
    const verdictOf = async (step: StepRecord): Promise<StepJudgement> => {
      const key = `${rubric.name}:${step.trajectory}#${step.step}`
      const done = run.finished.get(key) as StepJudgement | undefined
      if (done) {
        summary.resumed++
        return done
      }
      const { judgement, generatedTokens } = await judge.judge(step)
      summary.generatedTokens += generatedTokens
      run.store.completeUnit(options.runId, key, judgement)
      return judgement
    }
    const units = rubric.scope === 'step' ? steps(options.inputs) : trajectories(options.inputs)
    const judged = orderedMap(units, trajectoriesInFlight(settings, backend), async (group) => {
      const last = group.at(-1)!
      const judgement: StepJudgement =
        rubric.scope === 'step' || last.final
          ? await verdictOf(last)
          : { judge: label, verdict: 'unjudged', reasons: ['the trajectory has no final step'] }
      return { group, judgement }
    })
    for await (const { group, judgement } of judged) {
      for (const step of group) await write(step, judgement)
    }
    summary.tokensPerSecond = summary.generatedTokens / Math.max((performance.now() - started) / 1000, 1e-3)
  } finally {
    await engine?.close()
    await pool.close()
  }
}

/**
 * `--judge counterfactual`: each trajectory's steps judged by continuing after them with and without
 * their tool output (`CounterfactualJudge`); the judgement goes under `judgements.counterfactual`. Every
 * continuation is a stored unit: a rerun of the run samples only the rest.
 */
async function runCounterfactualJudge(options: JudgeOptions): Promise<JudgeSummary> {
  const { settings, backend } = options
  if (settings.temperature === 0 && settings.k > 1) {
    throw new UsageError(
      '--temperature 0: the k continuations of an arm would all be the same',
      'give --temperature above 0 (e.g. 0.6), or --k 1',
    )
  }
  const label = modelLabel(options.model, backend)
  // --ablate shuffled takes another problem's output of the same shape: every output is read first
  const shuffled = new ShuffledOutputs()
  if (settings.ablate === 'shuffled')
    for await (const { step } of readSteps(options.inputs)) shuffled.add(step)
  return runStage({ ...options, command: 'judge', model: label }, async (run) => {
    const summary = emptySummary(options, 'counterfactual', label)
    const pool = new SandboxPool({ workers: 1 })
    let engine: InferenceEngine | undefined
    try {
      engine = await openEngine(options.model, settings, backend, noticesTo(options.onEvent))
      const started = performance.now()
      const units = {
        get: (key: string) => {
          const done = run.finished.get(key)
          if (done) summary.resumed++
          return done
        },
        put: (key: string, result: unknown) => run.store.completeUnit(options.runId, key, result),
      }
      const judge = new CounterfactualJudge(
        engine,
        pool,
        new Grader(pool),
        counterfactualSettings(settings),
        shuffled,
        units,
      )
      const judged = orderedMap(
        trajectories(options.inputs),
        trajectoriesInFlight(settings, backend),
        async (group) => ({
          group,
          judgements: await judge.judgeTrajectory(group),
        }),
      )
      for await (const { group, judgements } of judged) {
        for (const [index, step] of group.entries()) {
          await run.sink.write({
            ...step,
            judgements: { ...step.judgements, counterfactual: judgements[index] },
          })
          summary.steps++
          summary[judgements[index]!.verdict]++
        }
        summary.continuations = judge.continuations
        summary.generatedTokens = judge.generatedTokens
        const detail = `${summary.yes} yes, ${summary.no} no, ${judge.continuations} continuations`
        options.onEvent?.({ kind: 'progress', done: summary.steps, detail })
      }
      summary.tokensPerSecond = summary.generatedTokens / Math.max((performance.now() - started) / 1000, 1e-3)
    } finally {
      await engine?.close()
      await pool.close()
    }
    return summary
  })
}

function counterfactualSettings(settings: JudgeSettings): CounterfactualSettings {
  return {
    ablate: settings.ablate as Ablation,
    k: settings.k,
    maxStepsPerTrajectory: settings.maxStepsPerTrajectory,
    alpha: settings.alpha,
    temperature: settings.temperature,
    topP: settings.topP,
    seed: settings.seed,
    maxTokens: settings.maxTokens ?? 1024,
  }
}

/** Each step alone, as a one-step unit. */
async function* steps(inputs: string[]): AsyncGenerator<JudgedStep[]> {
  for await (const { step } of readSteps(inputs)) yield [step]
}

/** A trajectory's steps together. */
async function* trajectories(inputs: string[]): AsyncGenerator<JudgedStep[]> {
  for await (const group of readStepGroups(inputs)) yield group.map(({ step }) => step)
}
