import { mkdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { writeFileAtomically } from '../core/atomic-write.js'
import { UsageError } from '../core/errors.js'
import { orderedMap } from '../core/ordered-map.js'
import { checkOutputDirectory } from '../core/output-paths.js'
import { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import {
  DEFAULT_LIBRARY,
  fillable,
  type Hint,
  type HintEfficacy,
  type HintLibrary,
  type HintValues,
  loadHintLibrary,
} from '../hints/library.js'
import { toHintPolicy } from '../hints/options.js'
import { type HintPolicy, hintInsertion, sampleSeed, seededRandom } from '../hints/policy.js'
import { type InferenceEngine, PromptTooLongError } from '../inference/engine.js'
import { modelLabel, openEngine, trajectoriesInFlight } from '../inference/open-engine.js'
import { type BackendSettings, IN_PROCESS } from '../inference/options.js'
import { outputTokenLimit, runLoopInSession, sampleTrajectory } from '../inference/run-hint-infer.js'
import type { Segment, TrajectoryRecord } from '../inference/types.js'
import { readProblems } from '../problems/read-problems.js'
import { sampleTests } from '../problems/sample-tests.js'
import type { Problem } from '../problems/types.js'
import { noticesTo } from '../runner/events.js'
import { runStage, type StageRunOptions } from '../runner/stage-run.js'
import { type SandboxOptions, SandboxPool } from '../sandbox/pool.js'
import { recordHintLibrary } from '../store/hint-libraries.js'
import type { RunStore } from '../store/runs.js'
import { type Continuation, efficacyOf, judgeCandidates, type Verdict } from './decide.js'
import type { EvolveSettings } from './options.js'
import {
  type Candidate,
  categoriesOf,
  freshId,
  loadGrammar,
  mutations,
  parseProposals,
  proposerPrompt,
  type RatedHint,
} from './propose.js'

export interface EvolveOptions extends Omit<StageRunOptions, 'out'> {
  /** The GGUF (in process), or with a served backend the GGUF whose chat template renders prompts. */
  model?: string
  problems: string[]
  /** The directory the new library version and the candidates' record go to. */
  out: string
  settings: EvolveSettings
  backend?: BackendSettings
  sandbox: SandboxOptions
  dryRun: boolean
  /** An engine already loaded (tests, benchmarks); default: `backend` on `model`. */
  engine?: InferenceEngine
}

export interface EvolveSummary {
  run: string
  out: string
  dryRun: boolean
  /** The library evolved, and the generation written. */
  parent: string
  generation: number
  problems: number
  candidates: (Candidate & { verdict?: string })[]
  /** Continuations planned: every prefix x its hints x --continuations (at most: a problem may reach no hint point). */
  planned: number
  prefixes: number
  continuations: number
  resumed: number
  continuationsPerSecond: number
  /** Over the continuations run now: tokens sampled, and prompt tokens whose KV was kept, not evaluated. */
  generatedTokens: number
  promptTokens: number
  reusedTokens: number
  verdicts: Verdict[]
  admitted: string[]
  /** The new library version, `--hints` for every command. */
  library?: string
  efficacy: Record<string, HintEfficacy>
}

/** A problem sampled up to its first hint point, as a stored unit. */
type PrefixUnit = { record: TrajectoryRecord } | { none: string }

/** One continuation after one hint, as a stored unit. */
interface ContinuationUnit {
  hint: string
  prefix: string
  continuation: number
  correct: boolean
  code: boolean
  finishReason: string
  generatedTokens: number
  promptTokens: number
  reusedTokens: number
  error?: string
}

/** Where `start hints evolve --out DIR` writes. */
export function evolveLayout(out: string, library: HintLibrary, generation: number) {
  const name = `${library.name.replace(/-g\d+$/, '')}-g${generation}`
  return {
    name,
    library: join(out, 'hint-library', `${name}.json`),
    candidates: join(out, 'candidates.jsonl'),
  }
}

/**
 * `start hints evolve`: candidates for the library's hints (the grammar's rephrasings, a proposer
 * model's), each tested against its parent on the same prefixes with the same seeds, and those that win a
 * corrected paired test written into a new library version with their lineage.
 */
export async function runEvolve(options: EvolveOptions): Promise<EvolveSummary> {
  const { settings } = options
  checkOutputDirectory('--out', options.out)
  const parentPath = resolve(settings.hints ?? DEFAULT_LIBRARY)
  const library = await loadHintLibrary(parentPath)
  const grammar = await loadGrammar(settings.grammar)
  const policy = toHintPolicy({ ...settings, noHints: false })!
  if (policy.thinkHints + policy.maxConnectiveHints === 0)
    throw new UsageError('--think-hints, --connective-hints: both 0 leave no hint point to test hints at')
  const problems = await firstProblems(options.problems, settings.prefixes)
  const domains = [...new Set(problems.map((problem) => problem.kind))]
  const random = seededRandom(settings.seed)
  const candidates = domains.flatMap((domain) =>
    mutations(library, grammar, { domain, perCategory: settings.candidates, random }),
  )
  const generation = (library.generation ?? 0) + 1
  const summary: EvolveSummary = {
    run: options.runId,
    out: options.out,
    dryRun: options.dryRun,
    parent: parentPath,
    generation,
    problems: problems.length,
    candidates,
    planned: 0,
    prefixes: 0,
    continuations: 0,
    resumed: 0,
    continuationsPerSecond: 0,
    generatedTokens: 0,
    promptTokens: 0,
    reusedTokens: 0,
    verdicts: [],
    admitted: [],
    efficacy: {},
  }
  const proposed = settings.proposer ? settings.proposals * categoryCount(library, domains) : 0
  summary.planned = plannedContinuations(problems, library, candidates, settings.continuations, proposed)
  if (options.dryRun) return summary
  if (candidates.length === 0 && !settings.proposer)
    throw new UsageError('--candidates 0 and no --proposer: there is nothing to test')

  const backend = options.backend ?? IN_PROCESS
  const stage = {
    ...options,
    out: undefined,
    inputs: options.problems,
    command: 'hints evolve',
    model: modelLabel(options.model, backend),
  }
  return runStage(stage, async ({ db, store, finished }) => {
    if (settings.proposer) {
      candidates.push(...(await proposerCandidates(options, library, domains, candidates, store, finished)))
      summary.planned = plannedContinuations(problems, library, candidates, settings.continuations, 0)
    }
    const pool = new SandboxPool({ ...options.sandbox, workers: 1 })
    const grader = new Grader(pool)
    let engine = options.engine
    const outcomes = new Map<string, Continuation[]>()
    try {
      engine ??= await openEngine(options.model, settings, backend, noticesTo(options.onEvent))
      const loaded = engine
      const started = performance.now()
      const width = trajectoriesInFlight(settings, backend)
      const tested = orderedMap(toAsync(problems), width, async (problem) => {
        const prefix = await prefixOf(loaded, pool, problem, options, { policy, library }, store, finished)
        if ('none' in prefix) return []
        const units: ContinuationUnit[] = []
        const values = { tests: sampleTests(problem) }
        const arms = armsFor(problem, library, candidates).filter((hint) => fillable(hint, values))
        // continuation j of every hint from the same prefix with the same seed: the hint is the only difference
        for (let j = 0; j < settings.continuations; j++) {
          for (const hint of arms) {
            const key = `continuation:${problem.id}:${hint.id}:${j}`
            const done = finished.get(key) as ContinuationUnit | undefined
            if (done) summary.resumed++
            const unit =
              done ??
              (await continueAfter(
                loaded,
                pool,
                grader,
                prefix.record,
                { hint, values },
                j,
                settings,
                policy,
              ))
            if (!done) {
              store.completeUnit(options.runId, key, unit)
              summary.generatedTokens += unit.generatedTokens
              summary.promptTokens += unit.promptTokens
              summary.reusedTokens += unit.reusedTokens
            }
            units.push(unit)
          }
        }
        return units
      })
      for await (const units of tested) {
        if (units.length > 0) summary.prefixes++
        for (const unit of units) {
          summary.continuations++
          if (unit.error) continue // the prefix and hint did not fit the context: no outcome
          const list = outcomes.get(unit.hint) ?? []
          list.push({ prefix: unit.prefix, code: unit.code, correct: unit.correct })
          outcomes.set(unit.hint, list)
        }
        const seconds = (performance.now() - started) / 1000
        summary.continuationsPerSecond = (summary.continuations - summary.resumed) / Math.max(seconds, 1e-3)
        const detail = `${summary.prefixes} prefixes, ${summary.continuationsPerSecond.toFixed(1)} continuations/s`
        options.onEvent?.({ kind: 'progress', done: summary.continuations, total: summary.planned, detail })
      }
    } finally {
      await pool.close()
      if (!options.engine) await engine?.close()
    }
    summary.efficacy = Object.fromEntries([...outcomes].map(([id, list]) => [id, efficacyOf(list)]))
    summary.verdicts = judgeCandidates(candidates, outcomes, {
      metric: settings.metric as 'correct' | 'code',
      alpha: settings.alpha,
    })
    summary.admitted = summary.verdicts
      .filter((verdict) => verdict.admitted)
      .map((verdict) => verdict.candidate)
    summary.candidates = candidates.map((candidate) => ({
      ...candidate,
      verdict: summary.verdicts.find((verdict) => verdict.candidate === candidate.id)?.reason,
    }))
    const layout = evolveLayout(options.out, library, generation)
    const next = nextLibrary(library, candidates, summary, settings.replace, parentPath, layout.name)
    await mkdir(join(options.out, 'hint-library'), { recursive: true })
    await writeFileAtomically(layout.library, `${JSON.stringify(next, null, 1)}\n`)
    await writeFileAtomically(
      layout.candidates,
      summary.candidates
        .map((candidate) => JSON.stringify({ ...candidate, efficacy: summary.efficacy[candidate.id] }))
        .join('\n')
        .concat(candidates.length > 0 ? '\n' : ''),
    )
    recordHintLibrary(db, {
      path: resolve(layout.library),
      name: next.name,
      generation,
      parentPath,
      runId: options.runId,
      library: next,
      verdicts: summary.verdicts,
    })
    summary.library = layout.library
    return summary
  })
}

/** The first `count` problems of the inputs, each checked (a problem without an answer names file:line). */
async function firstProblems(files: string[], count: number): Promise<Problem[]> {
  const problems: Problem[] = []
  for await (const { problem } of readProblems(files)) {
    problems.push(problem)
    if (problems.length === count) break
  }
  if (problems.length === 0) throw new UsageError(`PROBLEMS ${files.join(' ')}: no problems`)
  return problems
}

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items
}

function categoryCount(library: HintLibrary, domains: ('math' | 'code')[]): number {
  return domains.reduce((count, domain) => count + categoriesOf(library, domain).size, 0)
}

/** The hints continued from a problem's prefix: the candidates of its domain and their parents. */
function armsFor(problem: Problem, library: HintLibrary, candidates: Candidate[]): Hint[] {
  const mine = candidates.filter(
    (candidate) => candidate.domain === problem.kind || candidate.domain === 'any',
  )
  const parents = new Set(mine.map((candidate) => candidate.parent))
  return [...library.hints.filter((hint) => parents.has(hint.id)), ...mine]
}

/** Continuations at most: every problem's hints x k, plus `extra` candidates spread over the problems' hints. */
function plannedContinuations(
  problems: Problem[],
  library: HintLibrary,
  candidates: Candidate[],
  k: number,
  extra: number,
): number {
  return problems.reduce(
    (total, problem) => total + (armsFor(problem, library, candidates).length + extra) * k,
    0,
  )
}

/** A problem sampled up to its first hint point (a stored unit: a rerun continues from the same text). */
async function prefixOf(
  engine: InferenceEngine,
  pool: SandboxPool,
  problem: Problem,
  options: EvolveOptions,
  hints: { policy: HintPolicy; library: HintLibrary },
  store: RunStore,
  finished: Map<string, unknown>,
): Promise<PrefixUnit> {
  const key = `prefix:${problem.id}`
  const done = finished.get(key) as PrefixUnit | undefined
  if (done) return done
  // the hint chosen does not matter: the loop stops before inserting it
  const record = await sampleTrajectory(engine, pool, problem, 0, options, hints, { stopAtHint: true })
  const unit: PrefixUnit = record.hintPoint
    ? { record }
    : { none: record.error ?? `no hint point (the model ended: ${record.finishReason})` }
  store.completeUnit(options.runId, key, unit)
  return unit
}

/**
 * Continuation `j` after `hint` at the prefix's hint point: the loop without further hints (code still
 * runs, after the prefix's own blocks are replayed in the session), graded as a whole trajectory.
 */
async function continueAfter(
  engine: InferenceEngine,
  pool: SandboxPool,
  grader: Grader,
  prefix: TrajectoryRecord,
  { hint, values }: { hint: Hint; values: HintValues },
  j: number,
  settings: EvolveSettings,
  policy: HintPolicy,
): Promise<ContinuationUnit> {
  const point = prefix.hintPoint!
  const insertion = hintInsertion(point, hint, policy.connectives, values)
  const base = { hint: hint.id, prefix: prefix.problemId, continuation: j }
  const used = prefix.tokens.generatedTokens + prefix.tokens.appendedTokens
  const seed = sampleSeed(settings.seed, `${prefix.problemId}:continuation`, j)
  const sampling = { temperature: settings.temperature, topP: settings.topP, seed }
  let stream: Awaited<ReturnType<InferenceEngine['startGeneration']>> | undefined
  try {
    stream = await engine.startGeneration(prefix.prompt, sampling, {
      reusePrefix: true,
      continuation: prefix.text + insertion,
    })
    const replay = prefix.segments.flatMap((segment) => (segment.execution ? [segment.execution.code] : []))
    const result = await runLoopInSession(
      stream,
      pool,
      {
        hints: null,
        domain: prefix.answer === undefined ? 'code' : 'math',
        startsThinking: point.thinking,
        maxTokens: Math.max(1, settings.maxTokens - used),
        maxToolCalls: Math.max(0, settings.maxToolCalls - prefix.toolCalls),
        maxOutputChars: settings.maxOutputChars,
        outputTokens: outputTokenLimit(settings, engine),
      },
      replay,
    )
    const hinted: Segment = {
      kind: 'hint',
      text: insertion,
      hint: { id: hint.id, category: hint.category, trigger: point.trigger },
    }
    const segments = [...prefix.segments, hinted, ...result.segments]
    const parsed = parseReference(prefix as unknown as Record<string, unknown>)
    if ('error' in parsed) throw new Error(`${prefix.problemId}: ${parsed.error}`)
    const grade = await grader.grade(`${prefix.text}${insertion}${result.text}`, parsed.reference, {
      finishReason: result.finishReason,
      prompt: prefix.prompt,
      segments,
      problem: prefix.problem,
    })
    return {
      ...base,
      correct: grade.correct,
      code: result.toolCalls > 0,
      finishReason: result.finishReason,
      generatedTokens: result.stats.generatedTokens,
      promptTokens: result.stats.promptTokens,
      reusedTokens: result.stats.reusedTokens ?? 0,
    }
  } catch (error) {
    if (!(error instanceof PromptTooLongError)) throw error
    const none = { generatedTokens: 0, promptTokens: error.promptTokens, reusedTokens: 0 }
    return { ...base, correct: false, code: false, finishReason: 'context', ...none, error: error.message }
  } finally {
    await stream?.close()
  }
}

/**
 * `--proposer`: per category, the proposer model writes hints from a meta-prompt with the category's
 * hints and their measured efficacy; the usable ones are candidates against the category's best hint.
 * Each answer is a stored unit (a rerun asks nothing again); none usable at all is an error.
 */
async function proposerCandidates(
  options: EvolveOptions,
  library: HintLibrary,
  domains: ('math' | 'code')[],
  taken: Candidate[],
  store: RunStore,
  finished: Map<string, unknown>,
): Promise<Candidate[]> {
  const { settings } = options
  const proposer = settings.proposer!
  const ids = new Set([...library.hints.map((hint) => hint.id), ...taken.map((candidate) => candidate.id)])
  const candidates: Candidate[] = []
  const refusals: string[] = []
  let engine: InferenceEngine | undefined
  try {
    for (const domain of domains) {
      for (const [category, hints] of categoriesOf(library, domain)) {
        const key = `proposals:${domain}:${category}`
        let answer = finished.get(key) as string | undefined
        if (answer === undefined) {
          engine ??= await openEngine(
            proposer,
            { ...settings, parallel: 1 },
            IN_PROCESS,
            noticesTo(options.onEvent),
          )
          answer = await propose(
            engine,
            proposerPrompt(category, domain, rated(hints), settings.proposals),
            settings,
          )
          store.completeUnit(options.runId, key, answer)
        }
        const { texts, refused } = parseProposals(
          answer,
          { ...library, hints: [...library.hints, ...taken, ...candidates] },
          settings.proposals,
          domain,
        )
        refusals.push(...refused.map((item) => `"${item.text.slice(0, 60)}": ${item.reason}`))
        const parent = rated(hints)[0]!.hint
        for (const text of texts) {
          const id = freshId(`${category}-p`, ids)
          candidates.push({ id, category, domain, text, parent: parent.id, origin: 'proposer' })
        }
      }
    }
  } finally {
    await engine?.close()
  }
  if (candidates.length === 0) {
    const example = refusals[0] ? ` (e.g. ${refusals[0]})` : ' (it wrote nothing)'
    throw new UsageError(
      `--proposer ${proposer}: wrote no usable hint${example}`,
      'a hint must be one sentence that asks for Python, with no numbers or placeholders',
    )
  }
  return candidates
}

/** A category's hints, the best measured first (by correct rate, then code rate; unmeasured last). */
function rated(hints: Hint[]): RatedHint[] {
  return hints
    .map((hint) => ({ hint, code: hint.efficacy?.code.rate, correct: hint.efficacy?.correct.rate }))
    .sort((a, b) => (b.correct ?? -1) - (a.correct ?? -1) || (b.code ?? -1) - (a.code ?? -1))
}

/** The proposer's answer to the meta-prompt, as a chat turn. */
async function propose(engine: InferenceEngine, prompt: string, settings: EvolveSettings): Promise<string> {
  const stream = await engine.startGeneration(engine.renderPrompt([{ role: 'user', content: prompt }]), {
    temperature: settings.temperature,
    topP: settings.topP,
    seed: settings.seed,
  })
  let text = ''
  try {
    for (let i = 0; i < settings.maxTokens; i++) {
      const piece = await stream.next()
      if (piece === null) break
      text += piece
    }
  } catch (error) {
    if (!(error instanceof PromptTooLongError)) throw error
    throw new UsageError(`--proposer: ${error.message}`)
  } finally {
    await stream.close()
  }
  // a thinking model's answer follows its thoughts
  return text.includes('</think>') ? text.slice(text.lastIndexOf('</think>') + 8) : text
}

/**
 * The next version: every hint of the parent with the efficacy measured now (or kept from before), the
 * admitted candidates beside their parents (or, with --replace, instead of them), with the test's verdict.
 */
function nextLibrary(
  library: HintLibrary,
  candidates: Candidate[],
  summary: EvolveSummary,
  replace: boolean,
  parentPath: string,
  name: string,
): HintLibrary {
  const admitted = new Map(summary.verdicts.filter((v) => v.admitted).map((v) => [v.candidate, v]))
  const beaten = new Set([...admitted.values()].map((verdict) => verdict.parent))
  const withEfficacy = (hint: Hint): Hint => {
    const efficacy = summary.efficacy[hint.id] ?? hint.efficacy
    return efficacy ? { ...hint, efficacy } : hint
  }
  const kept = library.hints.filter((hint) => !(replace && beaten.has(hint.id))).map(withEfficacy)
  const joined = candidates
    .filter((candidate) => admitted.has(candidate.id))
    .map(({ parent, origin: _origin, ...hint }) => {
      const verdict = admitted.get(hint.id)!
      return withEfficacy({
        ...hint,
        admitted: { parent, reason: verdict.reason, pValue: verdict.pValue, adjustedP: verdict.adjustedP },
      })
    })
  return {
    ...library,
    name,
    generation: summary.generation,
    parent: basename(parentPath),
    hints: [...kept, ...joined],
  }
}
