import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { UsageError } from '../cli/errors.js'
import { readJsonl, writeFirstRecords } from '../cli/jsonl.js'
import { runStage, type StageRunOptions } from '../cli/stage-run.js'
import { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import { DEFAULT_HINT_POLICY } from '../inference/hint-policy.js'
import { LlamaCppEngine } from '../inference/llama-cpp.js'
import {
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_TOOL_CALLS,
  runHintInfer,
  type TrajectoryRecord,
} from '../inference/run-hint-infer.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { RunStore } from '../store/runs.js'
import { openDatabase } from '../store/store.js'
import { type AccuracySummary, majorityGroup, type ProblemOutcome, summarizeAccuracy } from './metrics.js'

/** How a model is run: with or without the interpreter, and how many end-of-thinking hints. */
export interface EvalMode {
  name: string
  tools: boolean
  thinkHints: number
}

/** `no-tools`, `tools` (no hints), and `hints` expanded to think-hints 1..max (START's scaling curve). */
export function evalModes(names: string[], maxThinkHints: number): EvalMode[] {
  return names.flatMap((name): EvalMode[] => {
    if (name === 'no-tools') return [{ name, tools: false, thinkHints: 0 }]
    if (name === 'tools') return [{ name, tools: true, thinkHints: 0 }]
    if (name === 'hints') {
      return Array.from({ length: maxThinkHints }, (_, i) => ({
        name: `hints-${i + 1}`,
        tools: true,
        thinkHints: i + 1,
      }))
    }
    throw new UsageError(`--modes ${name}: unknown mode`, 'modes are no-tools, tools and hints')
  })
}

export interface EvalOptions extends StageRunOptions {
  /** GGUF paths, model URIs, or run ids of `start rft` (their exported model). */
  models: string[]
  /** Benchmark names (files in `dataDir`) or JSONL files. */
  benchmarks: string[]
  dataDir?: string
  samples: number
  modes: EvalMode[]
  /** The first N problems of each benchmark. */
  limit?: number
  /** Where each unit's trajectories are written. */
  tracesDir: string
  inference: {
    temperature: number
    topP: number
    seed: number
    maxTokens: number
    parallel: number
    threads?: number
    contextSize?: number
    mathPrompt: string
    codePrompt: string
    system?: string
  }
  sandbox: SandboxOptions
}

/** One evaluated (model, benchmark, mode): accuracy and how the tools were used. */
export interface EvalRow extends AccuracySummary {
  model: string
  modelPath: string
  benchmark: string
  mode: string
  tools: boolean
  thinkHints: number
  /** Share of trajectories with at least one executed code block. */
  toolUseRate: number
  meanToolCalls: number
  meanChars: number
  meanTokens: number
  /** Per hint and where it went: how often it was followed by code, and how often the answer was right. */
  hints: HintStat[]
}

export interface HintStat {
  hint: string
  trigger: string
  position: 'early' | 'middle' | 'late'
  count: number
  followedByTool: number
  correct: number
}

export interface EvalSummary {
  run: string
  out: string
  units: number
  resumed: number
  rows: EvalRow[]
}

/** `start eval`: every model x benchmark x mode, graded; each finished unit is stored and skipped on a rerun. */
export async function runEval(options: EvalOptions): Promise<EvalSummary> {
  const benchmarks = options.benchmarks.map((benchmark) => resolveBenchmark(benchmark, options.dataDir))
  const models = resolveModels(options.models, options.db)
  return runStage({ ...options, command: 'eval' }, async ({ sink, finished, store }) => {
    const summary: EvalSummary = {
      run: options.runId,
      out: options.out ?? '-',
      units: 0,
      resumed: 0,
      rows: [],
    }
    await mkdir(options.tracesDir, { recursive: true })
    const problemFiles = new Map<string, string>()
    for (const benchmark of benchmarks) {
      const subset = join(options.tracesDir, `${benchmark.name}-first-${options.limit}.jsonl`)
      problemFiles.set(
        benchmark.name,
        options.limit ? await writeFirstRecords(benchmark.file, options.limit, subset) : benchmark.file,
      )
    }
    const total = models.length * benchmarks.length * options.modes.length
    const pool = new SandboxPool(options.sandbox)
    const grader = new Grader(pool)
    try {
      for (const model of models) {
        let engine: LlamaCppEngine | undefined
        try {
          for (const benchmark of benchmarks) {
            for (const mode of options.modes) {
              const key = unitKey(model.label, benchmark.name, mode.name)
              let row = finished.get(key) as EvalRow | undefined
              if (row) summary.resumed++
              else {
                engine ??= await LlamaCppEngine.load({
                  model: model.path,
                  parallel: options.inference.parallel,
                  contextSize: options.inference.contextSize,
                  threads: options.inference.threads,
                })
                row = await evaluateUnit(
                  engine,
                  grader,
                  model,
                  benchmark.name,
                  problemFiles.get(benchmark.name)!,
                  mode,
                  options,
                )
                store.completeUnit(options.runId, key, row)
              }
              await sink.write(row)
              summary.rows.push(row)
              summary.units++
              options.onProgress?.({
                done: summary.units,
                total,
                detail: `${key}: pass@1 ${row.pass1.toFixed(3)}`,
              })
            }
          }
        } finally {
          await engine?.close()
        }
      }
    } finally {
      await pool.close()
    }
    return summary
  })
}

function unitKey(model: string, benchmark: string, mode: string): string {
  return `${model}/${benchmark}/${mode}`
}

async function evaluateUnit(
  engine: LlamaCppEngine,
  grader: Grader,
  model: { label: string; path: string },
  benchmark: string,
  problems: string,
  mode: EvalMode,
  options: EvalOptions,
): Promise<EvalRow> {
  const traces = join(options.tracesDir, safe(model.label), benchmark, `${mode.name}.jsonl`)
  await mkdir(join(options.tracesDir, safe(model.label), benchmark), { recursive: true })
  const { inference } = options
  await runHintInfer({
    problems: [problems],
    model: model.path,
    engine,
    parallel: inference.parallel,
    samples: options.samples,
    sampling: { temperature: inference.temperature, topP: inference.topP, seed: inference.seed },
    hints:
      mode.thinkHints > 0
        ? { policy: { ...DEFAULT_HINT_POLICY, maxConnectiveHints: 0, thinkHints: mode.thinkHints } }
        : null,
    maxTokens: inference.maxTokens,
    maxToolCalls: mode.tools ? DEFAULT_MAX_TOOL_CALLS : 0,
    maxOutputChars: DEFAULT_MAX_OUTPUT_CHARS,
    mathPrompt: inference.mathPrompt,
    codePrompt: inference.codePrompt,
    system: inference.system,
    skipInvalid: false,
    sandbox: options.sandbox,
    out: traces,
    db: options.db,
    runId: `${options.runId}/${unitKey(model.label, benchmark, mode.name)}`,
    flags: options.flags,
    toolVersion: options.toolVersion,
  })
  const records: TrajectoryRecord[] = []
  for await (const { value } of readJsonl(traces)) records.push(value as TrajectoryRecord)
  const grades = await Promise.all(
    records.map(async (record) => {
      const parsed = parseReference(record as unknown as Record<string, unknown>)
      if ('error' in parsed) throw new Error(`${traces}: ${parsed.error}`)
      return { record, kind: parsed.reference.kind, ...(await grader.grade(record.text, parsed.reference)) }
    }),
  )
  const byProblem = new Map<string, typeof grades>()
  for (const grade of grades) {
    const samples = byProblem.get(grade.record.problemId)
    if (samples) samples.push(grade)
    else byProblem.set(grade.record.problemId, [grade])
  }
  const outcomes: ProblemOutcome[] = []
  for (const samples of byProblem.values()) {
    let majorityCorrect: boolean | null = null
    if (samples[0]!.kind === 'math') {
      const group = await majorityGroup(
        samples.map((s) => s.predicted),
        (a, b) => grader.mathEqual(a, b),
      )
      majorityCorrect = group.length > 0 && samples[group[0]!]!.correct
    }
    outcomes.push({ correct: samples.map((s) => s.correct), majorityCorrect })
  }
  const count = Math.max(records.length, 1)
  return {
    model: model.label,
    modelPath: model.path,
    benchmark,
    mode: mode.name,
    tools: mode.tools,
    thinkHints: mode.thinkHints,
    ...summarizeAccuracy(outcomes, options.samples),
    toolUseRate: records.filter((r) => r.toolCalls > 0).length / count,
    meanToolCalls: records.reduce((sum, r) => sum + r.toolCalls, 0) / count,
    meanChars: records.reduce((sum, r) => sum + r.text.length, 0) / count,
    meanTokens: records.reduce((sum, r) => sum + r.tokens.generatedTokens, 0) / count,
    hints: hintStats(grades),
  }
}

/** Which hints, placed where, led to code being run, and to right answers. */
export function hintStats(graded: { record: TrajectoryRecord; correct: boolean }[]): HintStat[] {
  const stats = new Map<string, HintStat>()
  for (const { record, correct } of graded) {
    for (const hint of record.hints) {
      const share = hint.offset / Math.max(record.text.length, 1)
      const position = share < 1 / 3 ? 'early' : share < 2 / 3 ? 'middle' : 'late'
      const key = `${hint.id}|${hint.trigger}|${position}`
      const stat = stats.get(key) ?? {
        hint: hint.id,
        trigger: hint.trigger,
        position,
        count: 0,
        followedByTool: 0,
        correct: 0,
      }
      stat.count++
      let at = 0
      const followed = record.segments.some((segment) => {
        const after = at >= hint.offset && segment.kind === 'output'
        at += segment.text.length
        return after
      })
      if (followed) stat.followedByTool++
      if (correct) stat.correct++
      stats.set(key, stat)
    }
  }
  return [...stats.values()].sort((a, b) => b.count - a.count)
}

function resolveBenchmark(benchmark: string, dataDir: string | undefined): { name: string; file: string } {
  if (existsSync(benchmark)) return { name: basename(benchmark).replace(/\.jsonl$/, ''), file: benchmark }
  if (dataDir) {
    const file = join(dataDir, `${benchmark}.jsonl`)
    if (existsSync(file)) return { name: benchmark, file }
    throw new UsageError(`--benchmarks ${benchmark}: neither a file nor ${file}`)
  }
  throw new UsageError(
    `--benchmarks ${benchmark}: no such file`,
    'give a JSONL file, or a name with --data DIR',
  )
}

/** Models as given: files and URIs as they are; an `start rft` run id becomes the model it exported. */
function resolveModels(models: string[], db: string): { label: string; path: string }[] {
  const labels = new Set<string>()
  return models.map((model) => {
    let path = model
    let label = basename(model).replace(/\.gguf$/i, '')
    if (!existsSync(model) && !/^[a-z]+:/.test(model)) {
      path = exportedModel(model, db)
      label = model
    }
    while (labels.has(label)) label = `${label}'`
    labels.add(label)
    return { label, path }
  })
}

function exportedModel(runId: string, dbFile: string): string {
  const db = openDatabase(dbFile)
  try {
    const store = new RunStore(db)
    const run = store.get(runId)
    if (!run) throw new UsageError(`--model ${runId}: no such file, and no run with that id in ${dbFile}`)
    const units = store.finishedUnits(runId)
    const exported = (units.get('export-start') ?? units.get('export-start-0')) as
      | { gguf?: string }
      | undefined
    if (run.command !== 'rft' || !exported?.gguf) {
      throw new UsageError(`--model ${runId}: that run (start ${run.command}) has not exported a model`)
    }
    return exported.gguf
  } finally {
    db.close()
  }
}

function safe(label: string): string {
  return label.replace(/[^\w.-]+/g, '_')
}
