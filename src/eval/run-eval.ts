import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { UsageError } from '../core/errors.js'
import { fingerprint } from '../core/fingerprint.js'
import { readJsonl, writeFirstRecords } from '../core/jsonl.js'
import { defaultOptions } from '../core/options.js'
import { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import { HINT_OPTIONS } from '../hints/options.js'
import type { InferenceEngine } from '../inference/engine.js'
import { openEngine } from '../inference/open-engine.js'
import { type BackendSettings, IN_PROCESS } from '../inference/options.js'
import { runHintInfer } from '../inference/run-hint-infer.js'
import type { TrajectoryRecord } from '../inference/types.js'
import { noticesTo } from '../runner/events.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { RunStore } from '../store/runs.js'
import { openDatabase } from '../store/store.js'
import { clusterBootstrapInterval, clusterOf } from './clusters.js'
import { summarizeAccuracy } from './metrics.js'
import { EVAL_MODES, type EvalSettings } from './options.js'
import { codeUse, type GradedTrajectory, hintStats, problemOutcomes, share } from './outcomes.js'
import type { EvalMode, EvalRow, EvalSummary } from './types.js'

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
    throw new UsageError(`--modes ${name}: unknown mode`, `modes are ${EVAL_MODES.join(', ')}`)
  })
}

export interface EvalOptions extends StageRunOptions {
  /** GGUF paths, model URIs, or run ids of `start rft` (their exported model). */
  models: string[]
  settings: EvalSettings
  /** Where each unit's trajectories are written. */
  tracesDir: string
  sandbox: SandboxOptions
  /** Where the models run; default: in process. With a server, the one model it serves is evaluated. */
  backend?: BackendSettings
}

/** `start eval`: every model x benchmark x mode, graded; each finished unit is stored and skipped on a rerun. */
export async function runEval(options: EvalOptions): Promise<EvalSummary> {
  const { settings } = options
  if (!settings.benchmarks?.length) {
    throw new UsageError(
      '--benchmarks: expected at least one benchmark',
      'a JSONL file, or a name with --data DIR',
    )
  }
  const modes = evalModes(settings.modes, settings.thinkHints)
  const benchmarks = settings.benchmarks.map((benchmark) => resolveBenchmark(benchmark, settings.data))
  const backend = options.backend ?? IN_PROCESS
  const models =
    backend.backend === 'openai'
      ? [servedModel(options.models, backend)]
      : resolveModels(options.models, options.db)
  return runStage({ ...options, command: 'eval' }, async ({ sink, finished, store }) => {
    const summary: EvalSummary = {
      run: options.runId,
      out: options.out ?? '-',
      units: 0,
      resumed: 0,
      rows: [],
      settings,
    }
    const problemFiles = await benchmarkFiles(benchmarks, settings.limit, options.tracesDir)
    const total = models.length * benchmarks.length * modes.length
    const pool = new SandboxPool(options.sandbox)
    const grader = new Grader(pool, { lenient: settings.lenient })
    try {
      for (const model of models) {
        let engine: InferenceEngine | undefined
        try {
          for (const benchmark of benchmarks) {
            for (const mode of modes) {
              const key = unitKey(model, benchmark.name, mode.name)
              let row = finished.get(key) as EvalRow | undefined
              if (row) summary.resumed++
              else {
                engine ??= await openEngine(
                  model.path || undefined,
                  settings,
                  backend,
                  noticesTo(options.onEvent),
                )
                const file = problemFiles.get(benchmark.name)!
                row = await evaluateUnit(engine, grader, model, benchmark.name, file, mode, options)
                store.completeUnit(options.runId, key, row)
              }
              await sink.write(row)
              summary.rows.push(row)
              summary.units++
              const detail = `${key}: pass@1 ${row.pass1.toFixed(3)}`
              options.onEvent?.({ kind: 'progress', done: summary.units, total, detail })
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

/** Each benchmark's problem file: the benchmark's own, or (with `limit`) its first records, written once. */
async function benchmarkFiles(
  benchmarks: { name: string; file: string }[],
  limit: number | undefined,
  tracesDir: string,
): Promise<Map<string, string>> {
  await mkdir(tracesDir, { recursive: true })
  const files = new Map<string, string>()
  for (const benchmark of benchmarks) {
    const subset = join(tracesDir, `${benchmark.name}-first-${limit}.jsonl`)
    files.set(benchmark.name, limit ? await writeFirstRecords(benchmark.file, limit, subset) : benchmark.file)
  }
  return files
}

/**
 * A model's results under its label and, for a model file, the file's fingerprint: a remade model (a
 * pipeline rerun, a new RL policy under the same name) is evaluated afresh, not resumed from the old one.
 */
function unitKey(model: { label: string; path: string }, benchmark: string, mode: string): string {
  const stamp = model.path && existsSync(model.path) ? `@${fingerprint([model.path])}` : ''
  return `${model.label}${stamp}/${benchmark}/${mode}`
}

async function evaluateUnit(
  engine: InferenceEngine,
  grader: Grader,
  model: { label: string; path: string },
  benchmark: string,
  problems: string,
  mode: EvalMode,
  options: EvalOptions,
): Promise<EvalRow> {
  const traces = join(options.tracesDir, safe(model.label), benchmark, `${mode.name}.jsonl`)
  await mkdir(join(options.tracesDir, safe(model.label), benchmark), { recursive: true })
  await runHintInfer({
    problems: [problems],
    model: model.path || undefined,
    engine,
    backend: options.backend,
    settings: {
      ...defaultOptions(HINT_OPTIONS),
      ...options.settings,
      noHints: mode.thinkHints === 0,
      thinkHints: mode.thinkHints,
      connectiveHints: 0,
      maxToolCalls: mode.tools ? options.settings.maxToolCalls : 0,
      skipInvalid: false,
    },
    sandbox: options.sandbox,
    out: traces,
    db: options.db,
    runId: `${options.runId}/${unitKey(model, benchmark, mode.name)}`,
    flags: options.flags,
    toolVersion: options.toolVersion,
  })
  const records: TrajectoryRecord[] = []
  for await (const { value } of readJsonl(traces)) records.push(value as TrajectoryRecord)
  const graded: GradedTrajectory[] = await Promise.all(
    records.map(async (record) => {
      const parsed = parseReference(record as unknown as Record<string, unknown>)
      if ('error' in parsed) throw new Error(`${traces}: ${parsed.error}`)
      const grade = await grader.grade(record.text, parsed.reference, record)
      return { record, kind: parsed.reference.kind, ...grade }
    }),
  )
  const outcomes = await problemOutcomes(graded, (a, b) => grader.mathEqual(a, b))
  const uses = records.map(codeUse)
  const count = Math.max(records.length, 1)
  const perProblem = Object.fromEntries(
    outcomes.map((outcome) => [
      outcome.problemId,
      outcome.correct.filter(Boolean).length / Math.max(outcome.correct.length, 1),
    ]),
  )
  const clusterKey = options.settings.clusterKey
  const clusters = clusterKey ? await problemClusters(problems, clusterKey) : undefined
  return {
    model: model.label,
    modelPath: model.path,
    benchmark,
    mode: mode.name,
    tools: mode.tools,
    thinkHints: mode.thinkHints,
    ...summarizeAccuracy(outcomes, options.settings.samples),
    toolUseRate: share(records, (record) => record.toolCalls > 0),
    meanToolCalls: records.reduce((sum, r) => sum + r.toolCalls, 0) / count,
    unrunCodeRate: share(uses, (use) => use.unrunCode),
    inventedOutputRate: share(uses, (use) => use.inventedOutput),
    meanChars: records.reduce((sum, r) => sum + r.text.length, 0) / count,
    meanTokens: records.reduce((sum, r) => sum + r.tokens.generatedTokens, 0) / count,
    hints: hintStats(graded),
    perProblem,
    ...(clusters ? { clusters, pass1ClusterInterval: clusterBootstrapInterval(perProblem, clusters) } : {}),
  }
}

/** Each problem's cluster under `--cluster-key`, from the benchmark's own records. */
async function problemClusters(file: string, key: string): Promise<Record<string, string>> {
  const clusters: Record<string, string> = {}
  for await (const { value } of readJsonl(file)) {
    const problem = value as Record<string, unknown>
    clusters[String(problem.id)] = clusterOf(problem, key, String(problem.id))
  }
  return clusters
}

/** A benchmark's name and file: a JSONL file as given, or `<data>/<name>.jsonl`. */
export function resolveBenchmark(
  benchmark: string,
  dataDir: string | undefined,
): { name: string; file: string } {
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
/** The served model: labelled by its name on the server, or by the GGUF given for its chat template. */
function servedModel(models: string[], backend: BackendSettings): { label: string; path: string } {
  if (models.length > 1) {
    throw new UsageError(
      `--model: ${models.length} models given, but --backend openai evaluates the one model the server serves`,
      'run start eval once per served model',
    )
  }
  const path = models[0] ?? ''
  return { label: backend.servedModel ?? (path ? basename(path).replace(/\.gguf$/i, '') : 'served'), path }
}

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
