import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { writeFileAtomically } from '../core/atomic-write.js'
import { UsageError } from '../core/errors.js'
import { defaultOptions } from '../core/options.js'
import { checkOutputDirectory } from '../core/output-paths.js'
import { outputRunId } from '../core/run-id.js'
import type { FilterTrajectory } from '../filter/types.js'
import { Grader } from '../grading/grader.js'
import { loadHintLibrary } from '../hints/library.js'
import { HINT_OPTIONS, toHintPolicy } from '../hints/options.js'
import { readCheckpointChatTemplate } from '../inference/chat-template.js'
import { TURN_END_MARKERS } from '../inference/engine.js'
import { openEngine } from '../inference/open-engine.js'
import { IN_PROCESS } from '../inference/options.js'
import { readProblems } from '../problems/read-problems.js'
import type { Problem } from '../problems/types.js'
import { type PlanStep, type PlanStepReport, planSteps, runPlan } from '../runner/plan.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { appendTrainingLog, setParents, trainingLog } from '../store/lineage.js'
import type { Db } from '../store/store.js'
import type { Ablation } from '../swirl/counterfactual.js'
import { CounterfactualJudge, ShuffledOutputs } from '../swirl/judge-counterfactual.js'
import { ModelJudge } from '../swirl/judge-model.js'
import { ruleReasons, rulesJudgement } from '../swirl/judge-rules.js'
import { JUDGE_OPTIONS } from '../swirl/options.js'
import { type JudgedStep, readSteps } from '../swirl/read-steps.js'
import { loadRubric } from '../swirl/rubric.js'
import type { StepRecord } from '../swirl/split-steps.js'
import { baseHfSteps, checkBaseModel, convertBase, exportModel, isGguf } from '../training/model-steps.js'
import { ensureTrainingEnv } from '../training/python-env.js'
import { optimiserStep, type RlRequest, TrlTrainer } from '../training/trainer.js'
import { TrainerChannel } from '../training/trainer-channel.js'
import type { RlEventOf } from '../training/trainer-protocol.js'
import { passBandBounds, type RlSettings } from './options.js'
import { gradedPassRates, readSampleTrajectories } from './pass-rates.js'
import { type RolloutContext, rollOutBatch } from './rollouts.js'

export interface RlOptions extends Omit<StageRunOptions, 'out'> {
  /** The starting policy: START-0 as GGUF or a Hugging Face checkpoint. */
  base: string
  problems: string[]
  out: string
  settings: RlSettings
  sandbox: SandboxOptions
  dryRun: boolean
}

export interface RlSummary {
  run: string
  out: string
  dryRun: boolean
  steps: PlanStepReport[]
  model?: string
  /** The first and last logged step: did the reward move? */
  first?: Record<string, number>
  last?: Record<string, number>
  settings: RlSettings
}

/** Where each artifact of `start rl --out DIR` lives. */
export function rlLayout(out: string, base: string) {
  return {
    baseHf: isGguf(base) ? join(out, 'base-hf') : base,
    problems: join(out, 'problems.jsonl'),
    heldOut: join(out, 'eval-problems.jsonl'),
    validation: join(out, 'validation'),
    work: join(out, 'work'),
    policy: join(out, 'policy'),
    gguf: join(out, 'rl.gguf'),
    rollouts: join(out, 'rollouts'),
    metrics: join(out, 'metrics.jsonl'),
    passRates: join(out, 'pass-rates.json'),
    logs: join(out, 'logs'),
  }
}

/** A run id that stays the same for the same output directory, so a rerun resumes. */
export function rlRunId(out: string): string {
  return outputRunId('rl', out)
}

/** `start rl`: GRPO from START-0 with the hint-infer rollout loop; resumable from its checkpoints. */
export async function runRl(options: RlOptions): Promise<RlSummary> {
  validate(options)
  const layout = rlLayout(options.out, options.base)
  const plan: Omit<PlanStep, 'run'>[] = [
    ...baseHfSteps(options.base, layout.baseHf),
    {
      id: 'rl',
      description: 'GRPO: rollouts with the interpreter, graded, the policy updated',
      inputs: [layout.baseHf, ...options.problems],
      outputs: [layout.policy],
    },
    ...(options.settings.noExport
      ? []
      : [
          {
            id: 'export',
            description: 'export the policy to GGUF',
            inputs: [layout.policy],
            outputs: [layout.gguf],
          },
        ]),
  ]
  const summary: RlSummary = {
    run: options.runId,
    out: options.out,
    dryRun: options.dryRun,
    steps: [],
    settings: options.settings,
  }
  if (options.dryRun) {
    summary.steps = planSteps(plan, options.db, options.runId)
    return summary
  }
  // Every input is read and checked before any expensive work: a bad line 3 is reported before the
  // virtualenv, the base's conversion and the trainer.
  const inputs = await readRlInputs(options)
  return runStage({ ...options, out: undefined, command: 'rl' }, async ({ db, store, finished }) => {
    const env = await ensureTrainingEnv({ venv: options.settings.venv })
    const trainer = new TrlTrainer(env)
    const run = async (id: string) => {
      const log = join(layout.logs, `${id}.log`)
      if (id === 'base-hf') return convertBase(trainer, options.base, layout.baseHf, log)
      if (id === 'rl') return train(options, inputs, layout, trainer, db, log)
      return exportModel(trainer, db, {
        checkpoint: layout.policy,
        gguf: layout.gguf,
        base: options.base,
        outtype: options.settings.outtype,
        log,
      })
    }
    const steps = plan.map((step) => ({ ...step, run: () => run(step.id) }))
    summary.steps = await runPlan(steps, { store, runId: options.runId, finished, onEvent: options.onEvent })
    const logged = trainingLog(db, options.runId, 'rl')
    summary.first = logged[0]?.metrics
    summary.last = logged.at(-1)?.metrics
    summary.model = options.settings.noExport ? layout.policy : layout.gguf
    return summary
  })
}

/** What the rollouts start from: problems, or (`--objective stepwise`) the states of step records. */
interface RlInputs {
  problems: Map<string, Problem>
  states: Map<string, JudgedStep>
  /** `--eval-problems`: held out, rolled out greedily every `--eval-every` steps. */
  heldOut: Map<string, Problem>
  /** `--pass-rates-from`: the training problems' sampled trajectories, graded into pass rates. */
  samples: FilterTrajectory[]
}

/** `--problems`, read whole and checked: a bad line stops with `file:line`, an empty input names the flag. */
async function readRlInputs(options: RlOptions): Promise<RlInputs> {
  const stepwise = options.settings.objective === 'stepwise'
  const problems = new Map<string, Problem>()
  const states = new Map<string, JudgedStep>()
  if (stepwise) {
    // each state stands alone: a subset of a trajectory's steps, in any order, is a set of states
    for await (const { step } of readSteps(options.problems, { anyOrder: true }))
      states.set(`${step.trajectory}#${step.step}`, step)
  } else {
    for await (const { problem } of readProblems(options.problems)) problems.set(problem.id, problem)
  }
  if (problems.size + states.size === 0) {
    throw new UsageError(
      `--problems ${options.problems.join(' ')}: no ${stepwise ? 'step records' : 'problems'}`,
    )
  }
  return {
    problems,
    states,
    heldOut: await readHeldOut(options.settings, problems),
    samples: await readPassRateSamples(options.settings, problems),
  }
}

/** `--pass-rates-from`, with --pass-band: the samples of the training problems (others are ignored). */
async function readPassRateSamples(
  settings: RlSettings,
  training: Map<string, Problem>,
): Promise<FilterTrajectory[]> {
  const files = settings.passRatesFrom ?? []
  if (files.length === 0) return []
  const { passBandLow, passBandHigh } = passBandBounds(settings.passBand)
  if (passBandLow <= 0 && passBandHigh >= 1)
    throw new UsageError('--pass-rates-from: give --pass-band LO,HI too (the rates select problems for it)')
  return readSampleTrajectories(files, new Set(training.keys()))
}

/** `--eval-problems` for `--eval-every`: problems none of which is also trained on. */
async function readHeldOut(
  settings: RlSettings,
  training: Map<string, Problem>,
): Promise<Map<string, Problem>> {
  const heldOut = new Map<string, Problem>()
  const files = settings.evalProblems ?? []
  if (settings.evalEvery === 0) {
    if (files.length > 0)
      throw new UsageError('--eval-problems: give --eval-every N too (how often to evaluate)')
    return heldOut
  }
  if (files.length === 0)
    throw new UsageError('--eval-every: give --eval-problems FILE (the held-out problems)')
  if (settings.objective === 'stepwise')
    throw new UsageError('--eval-every: does not apply to --objective stepwise')
  for await (const { problem, at } of readProblems(files)) {
    if (training.has(problem.id)) {
      throw new UsageError(`${at.file}:${at.line}: held-out problem ${problem.id} is also a training problem`)
    }
    heldOut.set(problem.id, problem)
  }
  return heldOut
}

/** The rl step: the trainer asks for rollouts, this process rolls them out and logs each optimiser step. */
async function train(
  options: RlOptions,
  inputs: RlInputs,
  layout: ReturnType<typeof rlLayout>,
  trainer: TrlTrainer,
  db: Db,
  log: string,
): Promise<unknown> {
  const { settings } = options
  const ids = [...(settings.objective === 'stepwise' ? inputs.states.keys() : inputs.problems.keys())]
  const idLines = (keys: Iterable<string>) => [...keys].map((id) => `${JSON.stringify({ id })}\n`).join('')
  await mkdir(layout.rollouts, { recursive: true })
  await writeFileAtomically(layout.problems, idLines(ids))
  await writeFileAtomically(layout.heldOut, idLines(inputs.heldOut.keys()))
  const channel = new TrainerChannel()
  const { context, close } = await openRolloutContext(options, inputs, layout, channel)
  const parts = new Map<string, number>()
  try {
    // the trainer reads the rates it finds and estimates only the problems they lack
    if (inputs.samples.length > 0 && !existsSync(layout.passRates)) {
      const rates = await gradedPassRates(inputs.samples, context.grader)
      await writeFileAtomically(layout.passRates, `${JSON.stringify(rates, null, 1)}\n`)
    }
    await context.pool.warmSessions(Math.min(settings.numGenerations * settings.promptsPerStep, 16))
    await trainer.reinforce(rlRequest(settings, layout, log), channel, (event) => {
      if (event.event === 'loaded') context.contextSize = event.contextSize
      if (event.event === 'rollouts') {
        // Batches of one optimizer step (dynamic sampling's rounds too) are numbered within the step;
        // validation's apart, as they go to a folder of their own.
        const key = `${event.purpose ?? 'training'}:${event.step}`
        const part = parts.get(key) ?? 0
        parts.set(key, part + 1)
        rollOutBatch(event, part, context).catch((error: Error) => channel.abort(error))
      }
      if (event.event === 'log') logOptimiserStep(db, options, event)
      if (event.event === 'band') {
        const read = event.problems - event.estimated
        const text = `pass band [${event.low}, ${event.high}]: ${event.kept} of ${event.problems} problems kept (rates in ${layout.passRates}: ${read} read, ${event.estimated} estimated by rollouts)`
        options.onEvent?.({ kind: 'notice', text })
      }
    })
  } finally {
    await close()
  }
  return recordPolicy(db, options, layout)
}

/** What the rollouts need: the chat template, hints, a sandbox, the grader (or a step judge). */
async function openRolloutContext(
  options: RlOptions,
  { problems, states, heldOut }: RlInputs,
  layout: ReturnType<typeof rlLayout>,
  channel: TrainerChannel,
): Promise<{ context: RolloutContext; close: () => Promise<void> }> {
  const { settings } = options
  const policy = settings.hints
    ? toHintPolicy({
        ...defaultOptions(HINT_OPTIONS),
        thinkHints: settings.thinkHints,
        connectiveHints: settings.connectiveHints,
      })
    : null
  const rolloutsPerStep = settings.numGenerations * settings.promptsPerStep
  const pool = new SandboxPool({ ...options.sandbox, workers: 1 })
  const judge =
    settings.objective === 'stepwise'
      ? await openStepJudge(settings, states, pool, Math.min(rolloutsPerStep, 8))
      : undefined
  const context: RolloutContext = {
    settings,
    runId: options.runId,
    // held-out problems are rolled out only for validation, and none is a training problem
    problems: new Map([...problems, ...heldOut]),
    states,
    judgeStep: judge?.judgeStep ?? (() => Promise.reject(new Error('no step judge'))),
    chat: await readCheckpointChatTemplate(layout.baseHf),
    contextSize: 0, // the trainer's loaded event says
    hints: policy ? { policy, library: await loadHintLibrary() } : null,
    pool,
    grader: new Grader(pool),
    channel,
    rolloutsDir: layout.rollouts,
    validationDir: layout.validation,
  }
  const close = async () => {
    await judge?.close()
    await pool.close()
  }
  return { context, close }
}

function rlRequest(settings: RlSettings, layout: ReturnType<typeof rlLayout>, log: string): RlRequest {
  const stepwise = settings.objective === 'stepwise'
  return {
    base: layout.baseHf,
    problems: layout.problems,
    out: layout.policy,
    work: layout.work,
    maxSteps: settings.maxSteps,
    lr: settings.lr,
    numGenerations: settings.numGenerations,
    promptsPerStep: settings.promptsPerStep,
    maxTokens: settings.maxTokens,
    temperature: settings.temperature,
    topP: settings.topP,
    beta: settings.beta,
    clip: settings.clip,
    baseline: settings.baseline === 'batch' || (stepwise && !settings.baseline) ? 'batch' : 'group',
    saveSteps: settings.saveSteps,
    seed: settings.trainSeed,
    dynamicSampling: settings.dynamicSampling,
    maxSampleRounds: settings.maxSampleRounds,
    oversample: settings.oversample,
    ...passBandBounds(settings.passBand),
    passBandSamples: settings.passBandSamples,
    passRates: layout.passRates,
    evalEvery: settings.evalEvery,
    evalProblems: layout.heldOut,
    lora: settings.lora,
    loraR: settings.loraR,
    loraAlpha: settings.loraAlpha,
    turnEndMarkers: TURN_END_MARKERS,
    log,
  }
}

function logOptimiserStep(db: Db, options: RlOptions, event: RlEventOf<'log'>): void {
  const { loss, learning_rate: learningRate, epoch, ...metrics } = event.metrics
  appendTrainingLog(db, {
    runId: options.runId,
    unitKey: 'rl',
    step: event.step,
    loss,
    learningRate,
    epoch,
    metrics,
  })
  options.onEvent?.(optimiserStep(event)!)
}

/** The per-step metrics as a file, and the policy's lineage: its base, its problems, this run. */
async function recordPolicy(db: Db, options: RlOptions, layout: ReturnType<typeof rlLayout>) {
  const logged = trainingLog(db, options.runId, 'rl')
  await writeFileAtomically(
    layout.metrics,
    logged
      .map((row) => `${JSON.stringify({ run: options.runId, step: row.step, ...row.metrics })}\n`)
      .join(''),
  )
  setParents(db, { kind: 'model', id: resolve(layout.policy) }, [
    { kind: 'model', id: resolve(layout.baseHf) },
    ...options.problems.map((file) => ({ kind: 'dataset' as const, id: resolve(file) })),
    { kind: 'run', id: options.runId },
  ])
  return { steps: logged.length }
}

/** Which judge rewards a step-wise action: --judge, else the model judge when --judge-model is given. */
export function stepJudgeOf(settings: RlSettings): 'rules' | 'model' | 'counterfactual' {
  return (
    (settings.judge as 'rules' | 'model' | 'counterfactual' | undefined) ??
    (settings.judgeModel ? 'model' : 'rules')
  )
}

/**
 * What rewards a step-wise action: the rules judge on the step alone (`ruleReasons`), a judge model
 * answering the rubric, or the counterfactual judge (the judge model continues after the action with its
 * tool output and with it ablated): in this process, out of the policy's reach.
 */
async function openStepJudge(
  settings: RlSettings,
  states: Map<string, JudgedStep>,
  pool: SandboxPool,
  parallel: number,
) {
  const kind = stepJudgeOf(settings)
  if (kind === 'rules') {
    return { judgeStep: async (step: StepRecord) => rulesJudgement(ruleReasons(step)), close: async () => {} }
  }
  if (kind === 'counterfactual') return openCounterfactualJudge(settings, states, pool, parallel)
  const rubric = await loadRubric(settings.rubric)
  const engine = await openEngine(
    settings.judgeModel!,
    { parallel, contextSize: undefined, threads: settings.judgeThreads },
    IN_PROCESS,
  )
  const judge = new ModelJudge(
    engine,
    pool,
    rubric,
    { ...defaultOptions(JUDGE_OPTIONS) },
    settings.judgeModel!,
  )
  return {
    judgeStep: async (step: StepRecord) => (await judge.judge(step)).judgement,
    close: () => engine.close(),
  }
}

/**
 * The counterfactual reward of an action: `--k` continuations of the judge model after it with its real
 * tool output and `--k` with the output ablated, sampled as the rollouts are; yes (+1) when the real
 * output made a right ending more likely at `--alpha`. Outcomes are kept for the run only.
 */
async function openCounterfactualJudge(
  settings: RlSettings,
  states: Map<string, JudgedStep>,
  pool: SandboxPool,
  parallel: number,
) {
  const engine = await openEngine(
    settings.judgeModel!,
    { parallel, contextSize: undefined, threads: settings.judgeThreads },
    IN_PROCESS,
  )
  const shuffled = new ShuffledOutputs()
  for (const state of states.values()) shuffled.add(state)
  const outcomes = new Map<string, unknown>()
  const judge = new CounterfactualJudge(
    engine,
    pool,
    new Grader(pool),
    {
      ablate: settings.ablate as Ablation,
      k: settings.k,
      maxStepsPerTrajectory: 0,
      alpha: settings.alpha,
      temperature: settings.temperature,
      topP: settings.topP,
      seed: settings.seed,
      maxTokens: settings.maxTokens,
    },
    shuffled,
    { get: (key) => outcomes.get(key), put: (key, result) => outcomes.set(key, result) },
  )
  let rollout = 0
  return {
    // each rollout's action is its own step: a key of its own, so no two share continuations
    judgeStep: async (step: StepRecord) =>
      (await judge.judgeTrajectory([{ ...step, trajectory: `${step.trajectory}@${rollout++}` }]))[0]!,
    close: () => engine.close(),
  }
}

function validate(options: RlOptions): void {
  checkBaseModel(options.base)
  passBandBounds(options.settings.passBand)
  checkOutputDirectory('--out', options.out)
  if (options.problems.length === 0)
    throw new UsageError('--problems: required (the problems rollouts solve)')
  const { settings } = options
  // Flags of one objective given to the other would be ignored silently: refuse them instead.
  const misplaced =
    settings.objective === 'stepwise'
      ? [settings.hints && '--hints', settings.reward !== 'outcome' && `--reward ${settings.reward}`]
      : [
          settings.judgeModel && '--judge-model',
          settings.judge && `--judge ${settings.judge}`,
          settings.judgeThreads && '--judge-threads',
        ]
  const judge = stepJudgeOf(settings)
  if (settings.objective === 'stepwise' && judge !== 'rules' && !settings.judgeModel) {
    throw new UsageError(`--judge ${judge}: needs --judge-model (a GGUF model)`)
  }
  if (judge === 'counterfactual' && settings.temperature === 0 && settings.k > 1) {
    throw new UsageError('--temperature 0: the k continuations of an arm would all be the same', 'or --k 1')
  }
  const flag = misplaced.find(Boolean)
  if (flag) {
    throw new UsageError(
      `${flag}: does not apply to --objective ${settings.objective}`,
      settings.objective === 'stepwise'
        ? 'a step-wise rollout is one action from a recorded state, rewarded by the judge'
        : 'a trajectory rollout is rewarded by the grader; the judge model is for --objective stepwise',
    )
  }
}
