import { countRecords } from '../cli/jsonl.js'
import { runStage, type StageRunOptions } from '../cli/stage-run.js'
import { extractBoxed } from '../grading/extract-answer.js'
import { loadHintLibrary } from '../hints/library.js'
import { type LocatedProblem, readProblems } from '../problems/read-problems.js'
import type { Problem } from '../problems/types.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { insertTrajectory, type TrajectoryRow } from '../store/trajectories.js'
import { orderedMap } from '../util/ordered-map.js'
import type { ChatMessage, InferenceEngine, Sampling } from './engine.js'
import { type LoopOptions, runHintLoop } from './hint-loop.js'
import { type HintPolicy, sampleSeed, seededRandom } from './hint-policy.js'
import { LlamaCppEngine } from './llama-cpp.js'
import type { TrajectoryResult } from './types.js'

/** START's cap on the code blocks run per trajectory. */
export const DEFAULT_MAX_TOOL_CALLS = 6
/** Characters of an execution's output shown to the model. */
export const DEFAULT_MAX_OUTPUT_CHARS = 2048

export const DEFAULT_MATH_PROMPT =
  '{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.'
export const DEFAULT_CODE_PROMPT =
  'Complete the following Python function. Think step by step, then give the whole function in a ```python code block.\n\n{problem}'

export interface HintInferOptions extends StageRunOptions {
  problems: string[]
  model: string
  /** Sequences decoded together. Default 1. */
  parallel: number
  samples: number
  sampling: Omit<Sampling, 'seed'> & { seed: number }
  /** null: the plain model (no hints; code still runs). */
  hints: { policy: HintPolicy; file?: string } | null
  maxTokens: number
  maxToolCalls: number
  maxOutputChars: number
  mathPrompt: string
  codePrompt: string
  system?: string
  contextSize?: number
  threads?: number
  skipInvalid: boolean
  onInvalid?: (message: string) => void
  sandbox: SandboxOptions
  /** An engine already loaded (tests, benchmarks); default: node-llama-cpp on `model`. */
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
}

/** A trajectory as written to JSONL: ready for `start grade` / `start filter`. */
export interface TrajectoryRecord {
  /** The hint-infer run that made it (lineage for filter datasets). */
  run: string
  problemId: string
  source: string
  sample: number
  /** The problem statement (for code: the function prompt the tests complete). */
  problem: string
  /** The chat messages the model was given; `prompt` is them rendered with the chat template. */
  messages: ChatMessage[]
  prompt: string
  text: string
  segments: TrajectoryResult['segments']
  /** The last \boxed{} of the text. */
  predicted: string | null
  /** The problem's reference: `answer` (math) or `tests` + `entry_point` (code). */
  answer?: string
  tests?: string
  entry_point?: string
  hints: { id: string; category: string; trigger: string; word?: string; offset: number }[]
  toolCalls: number
  finishReason: TrajectoryResult['finishReason']
  tokens: TrajectoryResult['stats']
  ms: number
  hinted: boolean
}

export function promptFor(
  problem: Problem,
  options: Pick<HintInferOptions, 'mathPrompt' | 'codePrompt'>,
): string {
  const template = problem.kind === 'code' ? options.codePrompt : options.mathPrompt
  return template.replaceAll('{problem}', problem.problem)
}

/** `start hint-infer`: every problem x sample through the Hint-infer loop; resumable by run id. */
export async function runHintInfer(options: HintInferOptions): Promise<HintInferSummary> {
  const library = options.hints ? await loadHintLibrary(options.hints.file) : undefined
  return runStage(
    { ...options, command: 'hint-infer', model: options.model },
    async ({ store, sink, finished }) => {
      const summary: HintInferSummary = {
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
      }
      const pool = new SandboxPool({ ...options.sandbox, workers: 1 })
      let engine = options.engine
      try {
        // Sandbox workers start (about a second each) while the model loads.
        const warming = pool.warmSessions(options.parallel)
        warming.catch(() => {})
        engine ??= await LlamaCppEngine.load({
          model: options.model,
          parallel: options.parallel,
          contextSize: options.contextSize,
          threads: options.threads,
        })
        await warming
        const records = await countRecords(options.problems)
        const total = records === undefined ? undefined : records * options.samples
        const started = performance.now() // tokens/s counts generation, not start-up
        const loaded = engine
        const units = async function* () {
          const problems = readProblems(options.problems, {
            skipInvalid: options.skipInvalid,
            onInvalid: options.onInvalid,
          })
          for await (const located of problems) {
            for (let sample = 0; sample < options.samples; sample++) yield { located, sample }
          }
        }
        const trajectories = orderedMap(units(), options.parallel, async ({ located, sample }) => {
          const key = `${located.problem.id}#${sample}`
          const done = finished.get(key) as TrajectoryRecord | undefined
          if (done) {
            summary.resumed++
            return done
          }
          const record = await runOne(loaded, pool, located, sample, options, library)
          store.completeUnit(options.runId, key, record, (tx) =>
            insertTrajectory(tx, trajectoryRow(options.runId, key, record)),
          )
          summary.generatedTokens += record.tokens.generatedTokens
          summary.reevaluatedTokens += record.tokens.reevaluatedTokens
          return record
        })
        for await (const record of trajectories) {
          await sink.write(record)
          summary.trajectories++
          summary.toolCalls += record.toolCalls
          summary.hints += record.hints.length
          if (record.predicted !== null) summary.answered++
          summary.tokensPerSecond =
            summary.generatedTokens / Math.max((performance.now() - started) / 1000, 1e-3)
          options.onProgress?.({
            done: summary.trajectories,
            total,
            detail: `${summary.tokensPerSecond.toFixed(0)} tok/s, ${summary.toolCalls} tool calls`,
          })
        }
        store.setTotal(options.runId, summary.trajectories)
        return summary
      } finally {
        await pool.close()
        if (!options.engine) await engine?.close()
      }
    },
  )
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

async function runOne(
  engine: InferenceEngine,
  pool: SandboxPool,
  { problem }: LocatedProblem,
  sample: number,
  options: HintInferOptions,
  library: Awaited<ReturnType<typeof loadHintLibrary>> | undefined,
): Promise<TrajectoryRecord> {
  const seed = sampleSeed(options.sampling.seed, problem.id, sample)
  const messages = [
    ...(options.system ? [{ role: 'system' as const, content: options.system }] : []),
    { role: 'user' as const, content: promptFor(problem, options) },
  ]
  const prompt = engine.renderPrompt(messages)
  const started = performance.now()
  const stream = await engine.startGeneration(prompt, { ...options.sampling, seed })
  let session: Awaited<ReturnType<SandboxPool['openSession']>> | undefined
  let opening: Promise<typeof session> | undefined
  const loopOptions: LoopOptions = {
    hints:
      options.hints && library ? { policy: options.hints.policy, library, random: seededRandom(seed) } : null,
    domain: problem.kind,
    startsThinking: /<think>\s*$/.test(prompt),
    maxTokens: options.maxTokens,
    maxToolCalls: options.maxToolCalls,
    maxOutputChars: options.maxOutputChars,
  }
  let result: TrajectoryResult
  try {
    result = await runHintLoop(
      stream,
      () => ({
        async execute(code) {
          opening ??= pool.openSession()
          session = await opening
          return session!.execute(code)
        },
      }),
      loopOptions,
    )
  } finally {
    await stream.close()
    await session?.close()
  }
  let offset = 0
  const hints: TrajectoryRecord['hints'] = []
  for (const segment of result.segments) {
    if (segment.hint) hints.push({ ...segment.hint, offset })
    offset += segment.text.length
  }
  return {
    run: options.runId,
    problemId: problem.id,
    source: problem.source,
    sample,
    problem: problem.problem,
    messages,
    prompt,
    text: result.text,
    segments: result.segments,
    predicted: extractBoxed(result.text) ?? null,
    ...(problem.kind === 'math'
      ? { answer: problem.answer }
      : { tests: problem.tests, entry_point: problem.entryPoint }),
    hints,
    toolCalls: result.toolCalls,
    finishReason: result.finishReason,
    tokens: result.stats,
    ms: Math.round(performance.now() - started),
    hinted: loopOptions.hints !== null,
  }
}
