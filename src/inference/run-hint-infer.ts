import { countRecords } from '../core/jsonl.js'
import { orderedMap } from '../core/ordered-map.js'
import { extractBoxed, promptOpensThinking } from '../grading/extract-answer.js'
import { type HintLibrary, loadHintLibrary } from '../hints/library.js'
import { toHintPolicy } from '../hints/options.js'
import { type HintPolicy, sampleSeed, seededRandom } from '../hints/policy.js'
import { readProblems } from '../problems/read-problems.js'
import { sampleTests } from '../problems/sample-tests.js'
import type { Problem } from '../problems/types.js'
import { noticesTo } from '../runner/events.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { insertTrajectory, type TrajectoryRow } from '../store/trajectories.js'
import { type GenerationStream, type InferenceEngine, PromptTooLongError } from './engine.js'
import type { OutputTokenLimit } from './format-output.js'
import { type LoopOptions, runHintLoop } from './hint-loop.js'
import { modelLabel, openEngine, trajectoriesInFlight } from './open-engine.js'
import {
  type BackendSettings,
  type HintInferSettings,
  IN_PROCESS,
  type SamplingSettings,
  type TruncateSide,
} from './options.js'
import type { TrajectoryRecord, TrajectoryResult } from './types.js'

export interface HintInferOptions extends StageRunOptions {
  problems: string[]
  /** The GGUF (in process), or with a served backend the GGUF whose chat template renders prompts. */
  model?: string
  settings: HintInferSettings
  /** Where the model runs; default: in process. */
  backend?: BackendSettings
  sandbox: SandboxOptions
  /** An engine already loaded (tests, benchmarks, eval); default: `backend` on `model`. */
  engine?: InferenceEngine
}

export interface HintInferSummary {
  run: string
  out: string
  trajectories: number
  resumed: number
  toolCalls: number
  hints: number
  answered: number
  generatedTokens: number
  tokensPerSecond: number
  reevaluatedTokens: number
  /** Records whose prompt did not fit the context. */
  failed: number
  settings: HintInferSettings
}

export function promptFor(
  problem: Problem,
  settings: Pick<SamplingSettings, 'promptTemplate' | 'codePromptTemplate'>,
): string {
  const template = problem.kind === 'code' ? settings.codePromptTemplate : settings.promptTemplate
  return template.replaceAll('{problem}', problem.problem)
}

/**
 * Sandbox sessions to start before the first trajectory: one per trajectory in flight, but no more than
 * are left to sample. Each is an interpreter that imports numpy and sympy, about a second of CPU: one
 * problem at `--concurrency 8` used to wait 3.4 s for seven sessions it never opened.
 */
export function sessionsToWarm(inFlight: number, total: number | undefined, finished: number): number {
  return total === undefined ? inFlight : Math.min(inFlight, Math.max(0, total - finished))
}

/** `start hint-infer`: every problem x sample through the Hint-infer loop; resumable by run id. */
export async function runHintInfer(options: HintInferOptions): Promise<HintInferSummary> {
  const { settings } = options
  const policy = toHintPolicy(settings)
  const hints = policy ? { policy, library: await loadHintLibrary(settings.hints) } : null
  const backend = options.backend ?? IN_PROCESS
  const width = trajectoriesInFlight(settings, backend)
  const stage = {
    ...options,
    inputs: options.problems,
    command: 'hint-infer',
    model: modelLabel(options.model, backend),
  }
  return runStage(stage, async ({ store, sink, finished }) => {
    const summary = emptySummary(options)
    const pool = new SandboxPool({ ...options.sandbox, workers: 1 })
    let engine = options.engine
    try {
      const records = await countRecords(options.problems)
      const total = records === undefined ? undefined : records * settings.samples
      // Sandbox workers start while the model loads.
      const warming = pool.warmSessions(sessionsToWarm(width, total, finished.size))
      warming.catch(() => {})
      engine ??= await openEngine(options.model, settings, backend, noticesTo(options.onEvent))
      await warming
      const started = performance.now() // tokens/s counts generation, not start-up
      const loaded = engine
      const trajectories = orderedMap(sampleUnits(options), width, async ({ located, sample }) => {
        const key = `${located.problem.id}#${sample}`
        const done = finished.get(key) as TrajectoryRecord | undefined
        if (done) {
          summary.resumed++
          return done
        }
        const record = await sampleTrajectory(loaded, pool, located.problem, sample, options, hints)
        if (record.error) {
          summary.failed++
          options.onEvent?.({
            kind: 'invalid',
            message: `${located.at.file}:${located.at.line}: ${record.error}`,
          })
        }
        store.completeUnit(options.runId, key, record, (tx) =>
          insertTrajectory(tx, trajectoryRow(options.runId, key, record)),
        )
        summary.generatedTokens += record.tokens.generatedTokens
        summary.reevaluatedTokens += record.tokens.reevaluatedTokens
        return record
      })
      for await (const record of trajectories) {
        await sink.write(record)
        tally(summary, record, performance.now() - started)
        const detail = `${summary.tokensPerSecond.toFixed(0)} tok/s, ${summary.toolCalls} tool calls`
        options.onEvent?.({ kind: 'progress', done: summary.trajectories, total, detail })
      }
      store.setTotal(options.runId, summary.trajectories)
      return summary
    } finally {
      await pool.close()
      if (!options.engine) await engine?.close()
    }
  })
}

function emptySummary(options: HintInferOptions): HintInferSummary {
  return {
    run: options.runId,
    out: options.out ?? '-',
    trajectories: 0,
    resumed: 0,
    toolCalls: 0,
    hints: 0,
    answered: 0,
    generatedTokens: 0,
    tokensPerSecond: 0,
    reevaluatedTokens: 0,
    failed: 0,
    settings: options.settings,
  }
}

/** Every problem of the inputs, `samples` times each, in input order. */
async function* sampleUnits(options: HintInferOptions) {
  const problems = readProblems(options.problems, {
    skipInvalid: options.settings.skipInvalid,
    onInvalid: (message) => options.onEvent?.({ kind: 'invalid', message }),
  })
  for await (const located of problems) {
    for (let sample = 0; sample < options.settings.samples; sample++) yield { located, sample }
  }
}

/** A written trajectory counted into the summary; `elapsedMs` since generation started. */
function tally(summary: HintInferSummary, record: TrajectoryRecord, elapsedMs: number): void {
  summary.trajectories++
  summary.toolCalls += record.toolCalls
  summary.hints += record.hints.length
  if (record.predicted !== null) summary.answered++
  summary.tokensPerSecond = summary.generatedTokens / Math.max(elapsedMs / 1000, 1e-3)
}

function trajectoryRow(runId: string, unitKey: string, record: TrajectoryRecord): TrajectoryRow {
  return {
    runId,
    unitKey,
    problemId: record.problemId,
    sample: record.sample,
    prompt: record.prompt,
    text: record.text,
    predicted: record.predicted ?? undefined,
    finishReason: record.finishReason,
    toolCalls: record.toolCalls,
    promptTokens: record.tokens.promptTokens,
    completionTokens: record.tokens.generatedTokens,
    segments: record.segments,
    details: { hints: record.hints, tokens: record.tokens, ms: record.ms },
  }
}

/** What one trajectory is sampled with: the prompt, the sampler, the loop's budgets. */
export type TrajectorySettings = Pick<
  SamplingSettings,
  | 'system'
  | 'promptTemplate'
  | 'codePromptTemplate'
  | 'seed'
  | 'temperature'
  | 'topP'
  | 'maxTokens'
  | 'maxToolCalls'
  | 'maxOutputChars'
  | 'maxToolOutputTokens'
  | 'truncateSide'
>

/** `--max-tool-output-tokens` on `engine`'s tokenizer, or none (the character limit alone). */
export function outputTokenLimit(
  settings: Pick<SamplingSettings, 'maxToolOutputTokens' | 'truncateSide'>,
  engine: InferenceEngine,
): OutputTokenLimit | undefined {
  if (!settings.maxToolOutputTokens) return undefined
  return {
    maxTokens: settings.maxToolOutputTokens,
    side: settings.truncateSide as TruncateSide,
    tokenizer: engine.tokenizer,
  }
}

/**
 * The hint loop on a stream, its code run in one sandbox session (later blocks see earlier variables),
 * opened at the first block and closed when the loop ends.
 */
export async function runLoopInSession(
  stream: GenerationStream,
  pool: SandboxPool,
  options: LoopOptions,
  /** Code run first in the session, its output unseen: the blocks of a prefix the loop continues. */
  replay: readonly string[] = [],
): Promise<TrajectoryResult> {
  let session: Awaited<ReturnType<SandboxPool['openSession']>> | undefined
  let opening: Promise<typeof session> | undefined
  const open = async () => {
    const opened = await pool.openSession()
    for (const code of replay) await opened.execute(code)
    return opened
  }
  try {
    return await runHintLoop(
      stream,
      () => ({
        async execute(code) {
          opening ??= open()
          session = await opening
          return session!.execute(code)
        },
      }),
      options,
    )
  } finally {
    await session?.close()
  }
}

/** One problem x sample through the Hint-infer loop (hint-infer, and the rollouts of `start rl`). */
export async function sampleTrajectory(
  engine: InferenceEngine,
  pool: SandboxPool,
  problem: Problem,
  sample: number,
  options: { runId: string; settings: TrajectorySettings },
  hints: { policy: HintPolicy; library: HintLibrary } | null,
  loop: Pick<LoopOptions, 'stopAtHint'> = {},
): Promise<TrajectoryRecord> {
  const { settings } = options
  const seed = sampleSeed(settings.seed, problem.id, sample)
  const messages = [
    ...(settings.system ? [{ role: 'system' as const, content: settings.system }] : []),
    { role: 'user' as const, content: promptFor(problem, settings) },
  ]
  const prompt = engine.renderPrompt(messages)
  const started = performance.now()
  const record = {
    run: options.runId,
    problemId: problem.id,
    source: problem.source,
    sample,
    problem: problem.problem,
    messages,
    prompt,
    ...(problem.kind === 'math'
      ? { answer: problem.answer }
      : { tests: problem.tests, entry_point: problem.entryPoint }),
    hinted: hints !== null,
  }
  let stream: GenerationStream | undefined
  let result: TrajectoryResult
  try {
    stream = await engine.startGeneration(prompt, {
      temperature: settings.temperature,
      topP: settings.topP,
      seed,
    })
    result = await runLoopInSession(stream, pool, {
      hints: hints ? { ...hints, random: seededRandom(seed) } : null,
      domain: problem.kind,
      startsThinking: promptOpensThinking(prompt),
      maxTokens: settings.maxTokens,
      maxToolCalls: settings.maxToolCalls,
      maxOutputChars: settings.maxOutputChars,
      outputTokens: outputTokenLimit(settings, engine),
      hintValues: { tests: sampleTests(problem) },
      ...loop,
    })
  } catch (error) {
    // A prompt that does not fit (found before generating, or by the server's first answer).
    if (!(error instanceof PromptTooLongError)) throw error
    return {
      ...record,
      text: '',
      segments: [],
      predicted: null,
      hints: [],
      toolCalls: 0,
      finishReason: 'context',
      tokens: {
        promptTokens: error.promptTokens,
        generatedTokens: 0,
        appendedTokens: 0,
        reevaluatedTokens: 0,
      },
      ms: Math.round(performance.now() - started),
      error: error.message,
    }
  } finally {
    await stream?.close()
  }
  let offset = 0
  const placed: TrajectoryRecord['hints'] = []
  for (const segment of result.segments) {
    if (segment.hint) placed.push({ ...segment.hint, offset })
    offset += segment.text.length
  }
  return {
    ...record,
    text: result.text,
    segments: result.segments,
    predicted: extractBoxed(result.text) ?? null,
    hints: placed,
    toolCalls: result.toolCalls,
    finishReason: result.finishReason,
    tokens: result.stats,
    ms: Math.round(performance.now() - started),
    ...(result.hintPoint ? { hintPoint: result.hintPoint } : {}),
  }
}
