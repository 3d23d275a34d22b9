/**
 * Hint-infer on llama-server (`--backend openai`) against plain /completion requests of the same lengths
 * at the same concurrency, and against its own requests replayed with no loop around them, in the same
 * run: for --parallel N slots and N x K requests in flight (--per-slot K). Also the prompt tokens the
 * server processed on resubmits beyond what the loop appended (goal 0).
 *
 *   npm run bench:served [-- --problems 24 --parallel 1,2,4 --per-slot 1,2 --rounds 3 --model path.gguf
 *                           --threads N --scale FFN,LAYERS --server-cpus LIST]
 *
 * Each round runs hint-infer and then the baselines, for each K in turn; the table gives the median of
 * the rounds and their range. "Best plain" is the fastest plain figure on that server whatever the
 * requests in flight: the server's own limit.
 *
 * Every measurement gets a llama-server started for it alone. A server keeps finished prompts in its RAM
 * prompt cache, and greedy decoding writes the same trajectories every round, so on a server that ran
 * them before a resubmit finds the hint or output it appends already evaluated (measured: 3,100 prompt
 * tokens processed instead of 4,040) and a replay finds everything: work that no real run is spared.
 *
 * More requests in flight than slots: llama-server queues them, starts the next one the moment a slot
 * is free (no round trip in between), and keeps a waiting trajectory's prefix in its RAM prompt cache
 * (`--cache-ram`, on by default), so a slot never waits while a trajectory runs its code.
 *
 * The server's CPU seconds (from /proc) are given for hint-infer, the plain requests of the same length
 * and the replay: on a machine shared with the client, the same requests cost the server more CPU while
 * hint-infer's client and sandbox work beside it, and this column shows how much.
 *
 * --server-cpus pins llama-server to those CPUs (e.g. `1`, `2-3`) and this process, with its sandbox, to
 * the others (Linux, `taskset`): a stand-in for a server on machines of its own, as users' GPU servers
 * are, so that neither side's CPU work slows the other. --threads defaults to the server's CPUs.
 *
 * --scale serves, instead of the model, one that computes the same function at a higher cost per token
 * (bench/scaled_model.py: wider feed-forward layers and added blocks whose outputs are zero), so that a
 * per-request cost weighs on the comparison as it does for a larger model: the testbed decodes a token in
 * about half a millisecond.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import pLimit from 'p-limit'
import { defaultOptions } from '../src/core/options.js'
import { ServedEngine } from '../src/inference/http-engine.js'
import { HINT_INFER_OPTIONS, IN_PROCESS } from '../src/inference/options.js'
import { runHintInfer } from '../src/inference/run-hint-infer.js'
import type { TrajectoryRecord } from '../src/inference/types.js'
import { ensureLlamaServer, startServer } from '../src/llama-server/runner.js'
import { argument, devProblems } from './arguments.js'
import { scaledModel } from './scaled-model.js'

const source = resolve(argument('model', '../shared/models/testbed-tir-f32.gguf'))
const scale = argument('scale', '')
const problemCount = Number(argument('problems', '24'))
const rounds = Number(argument('rounds', '3'))
const perSlot = argument('per-slot', '1,2').split(',').map(Number)
const serverCpus = argument('server-cpus', '')
const clientCpus = serverCpus ? otherCpus(serverCpus) : ''
const threads = Number(
  argument('threads', String(serverCpus ? cpuList(serverCpus).length : availableParallelism())),
)
const maxTokens = 1024

/** `1,3` or `2-3` as CPU numbers. */
function cpuList(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [low, high = low] = part.split('-').map(Number)
    return Array.from({ length: high! - low! + 1 }, (_, i) => low! + i)
  })
}

function otherCpus(spec: string): string {
  const taken = new Set(cpuList(spec))
  const rest = Array.from({ length: availableParallelism() }, (_, cpu) => cpu).filter(
    (cpu) => !taken.has(cpu),
  )
  if (rest.length === 0) throw new Error(`--server-cpus ${spec}: no CPU left for the client`)
  return rest.join(',')
}

/** Every thread of `pid` onto `cpus`; processes it starts later inherit them. */
async function pin(pid: number, cpus: string): Promise<void> {
  await execa('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(pid)])
}

const dir = mkdtempSync(join(tmpdir(), 'start-bench-served-'))
const model = scale ? await scaledModel(source, scale, dir) : source

const problems = devProblems(problemCount, dir)
const { binary } = await ensureLlamaServer((line) => console.log(line))
if (clientCpus) await pin(process.pid, clientCpus)

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; model ${source.split('/').pop()}${scale ? ` scaled to feed-forward ${scale.replace(',', ', blocks ')}` : ''}`,
)
console.log(
  `${problemCount} problems, greedy, llama-server ${threads} threads${serverCpus ? ` on CPUs ${serverCpus}, this process and its sandbox on ${clientCpus}` : ''}, ${maxTokens} tokens per slot, ${rounds} rounds: median (range)\n`,
)
console.log(
  '| slots | requests in flight | generated + appended tokens | hint-infer generated tok/s | plain, same count | ratio | hint-infer context tok/s | plain, same length | ratio | best plain, same length | ratio | the same requests replayed | ratio | server CPU s: hint-infer, plain same length, replay | requests | prompt tokens processed | prompt + appended + 1 per resubmit | re-evaluated (records) |',
)
console.log(`|${' --- |'.repeat(18)}`)

/** The server's own counters (llama-server --metrics). */
async function metrics(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.startsWith('llamacpp:'))
      .map((line) => {
        const [name, value] = line.split(' ')
        return [name!.slice('llamacpp:'.length), Number(value)]
      }),
  )
}

/** What one round measures on a server: hint-infer, then the baselines, the same trajectories. */
interface Round {
  generated: number
  appended: number
  requests: number
  /** Prompt tokens the server processed during hint-infer (its own counter). */
  processed: number
  /** Prompts + appended tokens + one sampled-but-unevaluated token per resubmit. */
  bound: number
  reevaluated: number
  /** Generated tokens/s, and context (generated + appended) tokens/s. */
  hintRate: number
  contextRate: number
  sameCount: number
  sameLength: number
  replay: number
  /** CPU seconds the server spent on hint-infer, the plain requests of the same length, and the replay. */
  cpu: { hintInfer: number; sameLength: number; replay: number }
}

let runs = 0
let starts = 0

/** A llama-server started for one measurement. */
interface FreshServer {
  url: string
  pid: number
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return Number.NaN
  }
}

/** The CPU seconds the server spent while `work` ran, and what `work` returned. */
async function serverCpu<T>(server: FreshServer, work: () => Promise<T>): Promise<[T, number]> {
  const before = cpuSecondsOf(server.pid)
  const result = await work()
  return [result, cpuSecondsOf(server.pid) - before]
}

/** Runs `work` on a llama-server started for it alone: its prompt cache holds nothing of an earlier measurement. */
async function onFreshServer<T>(parallel: number, work: (server: FreshServer) => Promise<T>): Promise<T> {
  // A port of its own each time, so that no connection of the last server's is in the way.
  const port = 18_400 + (starts++ % 500)
  const server = await startServer(
    binary,
    { model, host: '127.0.0.1', port, parallel, ctxSize: maxTokens * parallel, threads },
    join(dir, `llama-server-${parallel}.log`),
  )
  try {
    const pid = server.process.pid!
    if (serverCpus) await pin(pid, serverCpus)
    return await work({ url: server.url, pid })
  } finally {
    server.process.kill('SIGKILL')
    await server.exited
  }
}

/**
 * Hint-infer on `server`: its records, summary, requests, the prompt tokens the server processed, and
 * the server's CPU seconds during the run.
 */
async function hintInfer(server: FreshServer, inFlight: number) {
  const { url } = server
  const engine = await ServedEngine.connect({
    baseUrl: url,
    serverKind: 'llama-server',
    concurrency: inFlight,
    requestTimeoutMs: 600_000,
    retries: 0,
    model,
  })
  const before = await metrics(url)
  // A run of its own each time: a repeated name would resume the earlier run instead of sampling.
  const name = `${++runs}-${inFlight}`
  const out = join(dir, `traj-${name}.jsonl`)
  const [summary, cpu] = await serverCpu(server, () =>
    runHintInfer({
      problems: [problems],
      model,
      backend: { ...IN_PROCESS, backend: 'openai', baseUrl: url, concurrency: inFlight },
      engine,
      settings: {
        ...defaultOptions(HINT_INFER_OPTIONS),
        temperature: 0,
        topP: 1,
        maxTokens,
        promptTemplate: '{problem}',
        codePromptTemplate: '{problem}',
      },
      out,
      db: join(dir, 'bench.db'),
      runId: `bench-served-${name}`,
      flags: {},
      toolVersion: 'bench',
      sandbox: {},
    }),
  )
  const after = await metrics(url)
  const records = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TrajectoryRecord)
  // The replay's requests: each model segment is a request for the prompt plus the trajectory's text
  // before it, generating as many tokens as the segment holds (the server's tokenizer counts them).
  const replays = await Promise.all(
    records.map(async (record) => {
      const requests: { prompt: string; tokens: number }[] = []
      let text = ''
      for (const segment of record.segments) {
        if (segment.kind === 'model' && segment.text)
          requests.push({ prompt: record.prompt + text, tokens: await tokenCount(url, segment.text) })
        text += segment.text
      }
      return requests
    }),
  )
  const processed = after.prompt_tokens_total! - before.prompt_tokens_total!
  return { records, summary, requests: engine.requests, processed, replays, cpu }
}

async function tokenCount(url: string, text: string): Promise<number> {
  const response = await fetch(`${url}/tokenize`, {
    method: 'POST',
    body: JSON.stringify({ content: text, add_special: false }),
  })
  return ((await response.json()) as { tokens: number[] }).tokens.length
}

/** One greedy /completion past the end of turn (ignore_eos); the tokens it generated. */
async function complete(url: string, prompt: string, tokens: number): Promise<number> {
  const response = await fetch(`${url}/completion`, {
    method: 'POST',
    body: JSON.stringify({ prompt, n_predict: tokens, temperature: 0, ignore_eos: true, cache_prompt: true }),
  })
  return ((await response.json()) as { tokens_predicted: number }).tokens_predicted
}

/** Seconds to run `work` once per item, `inFlight` at a time. */
async function timed<T>(items: T[], inFlight: number, work: (item: T) => Promise<unknown>): Promise<number> {
  const limit = pLimit(inFlight)
  const started = performance.now()
  await Promise.all(items.map((item) => limit(() => work(item))))
  return (performance.now() - started) / 1000
}

/**
 * Hint-infer, then its baselines, each on a server of its own. Baselines: plain requests from the same
 * prompts at the same requests in flight, each generating exactly as many tokens as its trajectory,
 * (a) generated and (b) generated + appended; (c) the same requests replayed with no loop around them, so
 * that the server does the same work (the appended text evaluated as prompt) and the client neither runs
 * code nor decides anything.
 */
async function measureRound(parallel: number, inFlight: number): Promise<Round> {
  const run = await onFreshServer(parallel, (server) => hintInfer(server, inFlight))
  const { records, summary } = run
  const plainRate = (target: (record: TrajectoryRecord) => number) =>
    onFreshServer(parallel, async (server) => {
      let tokens = 0
      const [seconds, cpu] = await serverCpu(server, () =>
        timed(records, inFlight, async (record) => {
          // not `tokens += await ...`: that reads `tokens` before the request and loses concurrent updates
          const generated = await complete(server.url, record.prompt, target(record))
          tokens += generated
        }),
      )
      const wanted = records.reduce((sum, record) => sum + target(record), 0)
      if (tokens !== wanted) console.log(`(plain requests generated ${tokens} tokens of ${wanted} asked)`)
      return { rate: tokens / seconds, cpu }
    })
  const sameCount = await plainRate((record) => record.tokens.generatedTokens)
  const sameLength = await plainRate((record) => record.tokens.generatedTokens + record.tokens.appendedTokens)
  const [replaySeconds, replayCpu] = await onFreshServer(parallel, (server) =>
    serverCpu(server, () =>
      timed(run.replays, inFlight, async (requests) => {
        for (const request of requests) await complete(server.url, request.prompt, request.tokens)
      }),
    ),
  )
  const prompts = records.reduce((sum, record) => sum + record.tokens.promptTokens, 0)
  const appended = records.reduce((sum, record) => sum + record.tokens.appendedTokens, 0)
  const context = summary.generatedTokens + appended
  return {
    generated: summary.generatedTokens,
    appended,
    requests: run.requests,
    processed: run.processed,
    bound: prompts + appended + run.requests - records.length,
    reevaluated: summary.reevaluatedTokens,
    hintRate: summary.tokensPerSecond,
    contextRate: (summary.tokensPerSecond * context) / summary.generatedTokens,
    sameCount: sameCount.rate,
    sameLength: sameLength.rate,
    replay: context / replaySeconds,
    cpu: { hintInfer: run.cpu, sameLength: sameLength.cpu, replay: replayCpu },
  }
}

/** The middle value, or the mean of the two middle ones (`percentile(values, 0.5)` takes the upper one). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** The median of the rounds, and their range when there are several: `0.91x (0.85-0.95)`. */
function spread(values: number[], digits: number, unit = ''): string {
  const sorted = [...values].sort((a, b) => a - b)
  const text = `${median(values).toFixed(digits)}${unit}`
  return sorted.length > 1
    ? `${text} (${sorted[0]!.toFixed(digits)}-${sorted.at(-1)!.toFixed(digits)})`
    : text
}

for (const parallel of argument('parallel', '1,2,4').split(',').map(Number)) {
  // Rounds alternate hint-infer and its baselines, and the requests in flight, so that a slow spell
  // of a shared machine weighs on all of them rather than on whichever ran during it.
  const inFlight = perSlot.map((k) => Math.max(1, Math.round(parallel * k)))
  const measured = inFlight.map((): Round[] => [])
  for (let round = 0; round < rounds; round++)
    for (const [k, requests] of inFlight.entries()) measured[k]!.push(await measureRound(parallel, requests))
  const bestPlain = Math.max(...measured.map((rows) => median(rows.map((r) => r.sameLength))))
  for (const [k, rows] of measured.entries()) {
    const first = rows[0]!
    const column = (pick: (round: Round) => number, digits = 0, unit = '') =>
      spread(rows.map(pick), digits, unit)
    console.log(
      `| ${parallel} | ${inFlight[k]} | ${first.generated} + ${first.appended} | ${column((r) => r.hintRate)} | ${column((r) => r.sameCount)} | ${column((r) => r.hintRate / r.sameCount, 2, 'x')} | ${column((r) => r.contextRate)} | ${column((r) => r.sameLength)} | ${column((r) => r.contextRate / r.sameLength, 2, 'x')} | ${bestPlain.toFixed(0)} | ${column((r) => r.contextRate / bestPlain, 2, 'x')} | ${column((r) => r.replay)} | ${column((r) => r.contextRate / r.replay, 2, 'x')} | ${column((r) => r.cpu.hintInfer, 2)}, ${column((r) => r.cpu.sameLength, 2)}, ${column((r) => r.cpu.replay, 2)} | ${first.requests} | ${first.processed} | ${first.bound} | ${first.reevaluated} |`,
    )
    if (rows.some((round) => round.generated !== first.generated || round.appended !== first.appended))
      console.log('(the rounds did not generate the same tokens: greedy decoding should)')
  }
}
// The scaled copy is large (tens of MB) and made again on every run; the logs and databases stay.
if (scale) rmSync(model)
