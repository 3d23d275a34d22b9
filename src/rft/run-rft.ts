import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { UsageError } from '../cli/errors.js'
import { runStage, type StageRunOptions } from '../cli/stage-run.js'
import { runFilter } from '../filter/run-filter.js'
import { DEFAULT_FILTER_POLICY } from '../filter/types.js'
import type { HintPolicy } from '../inference/hint-policy.js'
import {
  DEFAULT_CODE_PROMPT,
  DEFAULT_MAX_OUTPUT_CHARS,
  type HintInferOptions,
  runHintInfer,
} from '../inference/run-hint-infer.js'
import type { SandboxOptions } from '../sandbox/pool.js'
import { appendTrainingLog, setParents } from '../store/lineage.js'
import { RunStore } from '../store/runs.js'
import { type Db, openDatabase } from '../store/store.js'
import { ensureTrainingEnv, type TrainingEnvOptions } from '../training/python-env.js'
import { checkpointExists, type HyperParameters, type TrainEvent, TrlTrainer } from '../training/trainer.js'
import { fingerprint } from '../util/fingerprint.js'
import { isGguf, planRft, type RftStep, rftLayout } from './plan.js'

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
  /** Stage 2: fine-tune the base (the paper) or continue from START-0. Default 'base'. */
  from: 'base' | 'start-0'
  hyper: HyperParameters
  /** GGUF tensor type of the exports (f32, f16, bf16, q8_0). */
  outtype: string
  numProcesses?: number
  accelerateConfig?: string
  /** Stage 2 sampling, as `start hint-infer` takes it. */
  sampling: Pick<
    HintInferOptions,
    'samples' | 'parallel' | 'maxTokens' | 'mathPrompt' | 'threads' | 'contextSize'
  > & {
    temperature: number
    topP: number
    seed: number
    /** Hints while sampling; null: none (START's default). */
    hints: HintPolicy | null
  }
  /** Stage 2 selection: most samples kept per problem, most tool calls. */
  selection: { perProblem: number; maxToolCalls: number }
  sandbox: SandboxOptions
  env?: TrainingEnvOptions
  dryRun: boolean
  onEvent?: (event: RftEvent) => void
}

export type RftEvent =
  | { kind: 'step-start'; step: RftStep }
  | { kind: 'step-skip'; step: RftStep }
  | { kind: 'step-done'; step: RftStep; seconds: number }
  | { kind: 'train'; step: RftStep; event: TrainEvent }

export interface RftSummary {
  run: string
  stage: 1 | 2
  out: string
  dryRun: boolean
  steps: {
    id: string
    description: string
    status: 'done' | 'skipped' | 'pending'
    outputs: string[]
    seconds?: number
  }[]
  model?: string
  training?: {
    steps: number
    trainLoss: number
    firstLoss: number | null
    lastLoss: number | null
    seconds: number
    tokensPerSecond: number | null
  }
  samples?: number
  kept?: number
}

/** A run id that stays the same for the same output directory and stage, so a rerun resumes. */
export function rftRunId(out: string, stage: 1 | 2): string {
  return `rft-${stage}-${resolve(out)
    .replace(/[^\w.-]+/g, '_')
    .replace(/^_+/, '')}`
}

/** `start rft --stage 1|2`: each step runs once; a rerun skips the steps whose outputs are there. */
export async function runRft(options: RftOptions): Promise<RftSummary> {
  validate(options)
  const plan = planRft(options)
  const layout = rftLayout(options.out, options.base)
  const summary: RftSummary = {
    run: options.runId,
    stage: options.stage,
    out: options.out,
    dryRun: options.dryRun,
    steps: [],
  }
  if (options.dryRun) {
    const db = openDatabase(options.db)
    const finished = new RunStore(db).finishedUnits(options.runId)
    db.close()
    summary.steps = plan.map((step) => ({
      id: step.id,
      description: step.description,
      status: isCurrent(step, finished) ? 'done' : 'pending',
      outputs: step.outputs,
    }))
    return summary
  }
  return runStage({ ...options, out: undefined, command: 'rft' }, async ({ db, store, finished }) => {
    const env = await ensureTrainingEnv(options.env)
    const trainer = new TrlTrainer(env)
    for (const step of plan) {
      if (isCurrent(step, finished)) {
        options.onEvent?.({ kind: 'step-skip', step })
        summary.steps.push({
          id: step.id,
          description: step.description,
          status: 'skipped',
          outputs: step.outputs,
        })
        continue
      }
      options.onEvent?.({ kind: 'step-start', step })
      const started = performance.now()
      const result = await runStep(step, { options, layout, trainer, db, summary })
      const seconds = (performance.now() - started) / 1000
      store.completeUnit(options.runId, step.id, { ...(result as object), inputs: fingerprint(step.inputs) })
      options.onEvent?.({ kind: 'step-done', step, seconds })
      summary.steps.push({
        id: step.id,
        description: step.description,
        status: 'done',
        outputs: step.outputs,
        seconds,
      })
    }
    summary.model = options.stage === 1 ? layout.start0Gguf : layout.startGguf
    return summary
  })
}

/**
 * Outputs appear by rename, so one that exists is whole; it is current when this run (same flags) made
 * it from the inputs as they are now. The base's conversion depends on the base file alone, so stage 2
 * reuses stage 1's.
 */
function isCurrent(step: RftStep, finished: Map<string, unknown>): boolean {
  if (!step.outputs.every((output) => existsSync(output))) return false
  const record = finished.get(step.id) as { inputs?: string } | undefined
  return step.id === 'base-hf' || record?.inputs === fingerprint(step.inputs)
}

interface StepContext {
  options: RftOptions
  layout: ReturnType<typeof rftLayout>
  trainer: TrlTrainer
  db: Db
  summary: RftSummary
}

async function runStep(step: RftStep, context: StepContext): Promise<unknown> {
  const { options, layout, trainer, db, summary } = context
  const log = join(layout.logs, `${step.id}.log`)
  switch (step.id) {
    case 'base-hf':
      await trainer.ggufToHf(resolve(options.base), layout.baseHf, log)
      return {}
    case 'train-start-0':
    case 'train-start': {
      const stageOne = step.id === 'train-start-0'
      const base = stageOne || options.from === 'base' ? layout.baseHf : layout.start0
      const data = stageOne ? options.data! : layout.dStart
      const losses: number[] = []
      const done = await trainer.train(
        {
          base,
          data,
          out: stageOne ? layout.start0 : layout.start,
          hyper: options.hyper,
          numProcesses: options.numProcesses,
          accelerateConfig: options.accelerateConfig,
          log,
        },
        (event) => {
          if (event.event === 'log' && event.loss !== undefined) {
            losses.push(event.loss)
            appendTrainingLog(db, {
              runId: options.runId,
              unitKey: step.id,
              step: event.step,
              loss: event.loss,
              learningRate: event.learning_rate,
              epoch: event.epoch,
            })
          }
          options.onEvent?.({ kind: 'train', step, event })
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
    case 'export-start-0':
    case 'export-start': {
      const checkpoint = step.id === 'export-start-0' ? layout.start0 : layout.start
      const gguf = step.id === 'export-start-0' ? layout.start0Gguf : layout.startGguf
      await trainer.exportGguf(checkpoint, gguf, {
        outtype: options.outtype,
        tokenizerFrom: isGguf(options.base) ? resolve(options.base) : undefined,
        log,
      })
      setParents(db, { kind: 'model', id: resolve(gguf) }, [{ kind: 'model', id: resolve(checkpoint) }])
      return { gguf }
    }
    case 'sample': {
      const { sampling } = options
      await mkdir(dirname(layout.samples), { recursive: true })
      const sampled = await runHintInfer({
        problems: options.problems!,
        model: layout.start0Gguf,
        parallel: sampling.parallel,
        samples: sampling.samples,
        sampling: { temperature: sampling.temperature, topP: sampling.topP, seed: sampling.seed },
        hints: sampling.hints ? { policy: sampling.hints } : null,
        maxTokens: sampling.maxTokens,
        maxToolCalls: options.selection.maxToolCalls,
        maxOutputChars: DEFAULT_MAX_OUTPUT_CHARS,
        mathPrompt: sampling.mathPrompt,
        codePrompt: DEFAULT_CODE_PROMPT,
        contextSize: sampling.contextSize,
        threads: sampling.threads,
        skipInvalid: false,
        sandbox: options.sandbox,
        out: layout.samples,
        db: options.db,
        // Keyed by START-0 and the pool: an interrupted sampling resumes, a new START-0 samples afresh.
        runId: `${options.runId}-sample-${fingerprint([layout.start0Gguf, ...options.problems!])}`,
        flags: options.flags,
        toolVersion: options.toolVersion,
      })
      summary.samples = sampled.trajectories
      return sampled
    }
    case 'select': {
      const selected = await runFilter({
        inputs: [layout.samples],
        plain: [],
        policy: {
          ...DEFAULT_FILTER_POLICY,
          rule: 'correct',
          minToolCalls: 0,
          maxToolCalls: options.selection.maxToolCalls,
          perProblem: options.selection.perProblem,
        },
        decontaminate: [],
        dropHints: false,
        name: 'D_START',
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
  }
}

function validate(options: RftOptions): void {
  if (!existsSync(options.base)) throw new UsageError(`--base ${options.base}: no such file or directory`)
  if (!isGguf(options.base) && !checkpointExists(options.base)) {
    throw new UsageError(
      `--base ${options.base}: not a GGUF file nor a Hugging Face checkpoint (no config.json)`,
    )
  }
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
