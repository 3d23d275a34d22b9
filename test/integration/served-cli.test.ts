import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/llama-server/runner.js'
import { writeTwoHintLibrary } from '../hints/two-hint-library.js'
import { CLI, committedUnits, readJsonlFile, runCli, tempDir, testbedRubric, writeJsonlFile } from './cli.js'
import { type Fault, faultProxy, llamaServer, stopServer } from './served.js'

const MODEL = resolve('../shared/models/testbed-tir-f32.gguf')
const DEV = resolve('../shared/datasets/testbed-dev.jsonl')
const PROBLEMS = 6

// The testbed was trained on bare problems; greedy, so both engines must write the same tokens.
// Tool outputs cut to one token of the model's (the in-process engine's tokenizer against the server's
// /tokenize and /detokenize): the served trajectories must still equal the in-process ones.
const SAMPLING = [
  '--prompt-template',
  '{problem}',
  '--temperature',
  '0',
  '--max-tool-output-tokens',
  '1',
  '--truncate-side',
  'right',
]
/** The flags that send a command's model calls to the server at `url`. */
const backendFlags = (url: string) => ['--backend', 'openai', '--base-url', url]
const servedFlags = (url: string, extra: string[] = []) => [
  ...backendFlags(url),
  '--model',
  MODEL,
  ...SAMPLING,
  ...extra,
]

// biome-ignore lint/suspicious/noExplicitAny: records are compared field by field
type Record_ = any

/** What must be the same whichever engine ran the model. */
function trajectory(record: Record_) {
  return {
    problemId: record.problemId,
    text: record.text,
    segments: record.segments.map((segment: Record_) => [segment.kind, segment.text]),
    hints: record.hints,
    toolCalls: record.toolCalls,
    finishReason: record.finishReason,
    predicted: record.predicted,
    promptTokens: record.tokens.promptTokens,
  }
}

describe('hint-infer on a served model (the real llama-server)', () => {
  let server: RunningServer
  let problems: string
  let reference: ReturnType<typeof trajectory>[]
  /** Requests the first two trajectories take, one at a time: a server failing after them fails the third. */
  let twoTrajectories = 0

  beforeAll(async () => {
    server = await llamaServer(MODEL, { parallel: 2 })
    problems = join(tempDir(), 'problems.jsonl')
    writeFileSync(problems, `${readFileSync(DEV, 'utf8').split('\n').slice(0, PROBLEMS).join('\n')}\n`)
    const result = await hintInfer(tempDir(), 'in-process', ['--model', MODEL, ...SAMPLING, '--threads', '1'])
    expect(result.exitCode, result.stderr).toBe(0)
    reference = readJsonlFile(result.out).map(trajectory)
  }, 900_000)

  afterAll(async () => {
    if (server) await stopServer(server)
  })

  /** hint-infer on the problems with `flags`, as run `run` in `dir`: the CLI's result and the output file. */
  async function hintInfer(dir: string, run: string, flags: string[]) {
    const out = join(dir, `${run}.jsonl`)
    const db = join(dir, 's.db')
    const result = await runCli([
      'hint-infer',
      problems,
      ...flags,
      '--out',
      out,
      '--db',
      db,
      '--run',
      run,
      '--json',
    ])
    return { ...result, out }
  }

  /** hint-infer through `url`. */
  const servedRun = (url: string, dir: string, run: string, extra: string[] = []) =>
    hintInfer(dir, run, servedFlags(url, extra))

  it("greedy trajectories equal the in-process engine's; every resubmit evaluates only what was appended", async () => {
    const proxy = await faultProxy(server.url, () => 'pass')
    try {
      const dir = tempDir()
      const result = await servedRun(proxy.url, dir, 'same', ['--concurrency', '1'])
      expect(result.exitCode, result.stderr).toBe(0)
      const records = readJsonlFile(result.out)
      expect(records.map(trajectory)).toEqual(reference)
      expect(records.every((record) => record.tokens.reevaluatedTokens === 0)).toBe(true)
      expect(JSON.parse(result.stdout)).toMatchObject({ trajectories: PROBLEMS, reevaluatedTokens: 0 })
      expect(reference.some((record) => record.toolCalls > 0 && record.hints.length > 0)).toBe(true)
      // every output of two tokens or more was cut to its first, on both engines alike
      const outputs = records.flatMap((record) =>
        record.segments.filter((segment: { kind: string }) => segment.kind === 'output'),
      )
      expect(
        outputs.some((segment: { text: string }) => segment.text.includes('tokens truncated] ...')),
      ).toBe(true)

      // One request per segment, each a resubmit of the one before within a trajectory.
      const { completions } = proxy
      expect(completions.length).toBeGreaterThan(2 * PROBLEMS)
      let resubmits = 0
      for (let i = 1; i < completions.length; i++) {
        const before = completions[i - 1]!
        const now = completions[i]!
        if (!now.prompt.startsWith(before.prompt)) continue // the next trajectory
        resubmits++
        const kept = before.prompt + before.response.content + before.response.stopping_word
        let common = 0
        while (common < kept.length && kept[common] === now.prompt[common]) common++
        const tokenize = await fetch(`${server.url}/tokenize`, {
          method: 'POST',
          body: JSON.stringify({ content: now.prompt.slice(common) }),
        })
        const appended = ((await tokenize.json()) as { tokens: number[] }).tokens.length
        // The whole earlier prompt comes from the cache; what is evaluated is the appended text and
        // the last token the server sampled but had not evaluated yet.
        expect(now.response.timings.cache_n).toBeGreaterThanOrEqual(before.response.tokens_evaluated)
        expect(now.response.timings.prompt_n).toBeLessThanOrEqual(appended + 1)
      }
      expect(resubmits).toBe(completions.length - PROBLEMS)
      // A request ends at </think> only where a hint goes in: once the think hints are spent, the model
      // closes its thinking within a request.
      const thinkHints = records
        .flatMap((record) => record.segments)
        .filter((segment) => segment.hint?.trigger === 'think-end').length
      expect(thinkHints).toBeGreaterThan(0)
      const atThinkEnd = completions.filter((c) => c.response.stopping_word === '</think>')
      expect(atThinkEnd.length).toBeLessThanOrEqual(thinkHints)
      const starts = completions.flatMap((c, i) =>
        i === 0 || !c.prompt.startsWith(completions[i - 1]!.prompt) ? [i] : [],
      )
      twoTrajectories = starts[2]!
    } finally {
      await proxy.close()
    }
  }, 300_000)

  it('twice as many requests in flight as slots: the same trajectories, and each waiting trajectory keeps its text in the server cache', async () => {
    const result = await servedRun(server.url, tempDir(), 'queued', ['--concurrency', '4'])
    expect(result.exitCode, result.stderr).toBe(0)
    const records = readJsonlFile(result.out)
    expect(records.map(trajectory)).toEqual(reference)
    // Trajectories took turns on the 2 slots: a resubmit found its text in llama-server's RAM prompt
    // cache, not evaluated again.
    expect(records.map((record) => record.tokens.reevaluatedTokens)).toEqual(records.map(() => 0))
  }, 300_000)

  it('retries a 500, a dropped connection and a request that hangs; the records are the same', async () => {
    const plan: Record<number, Fault> = { 2: 'http-500', 4: 'close', 6: 'hang' }
    const proxy = await faultProxy(server.url, (n) => plan[n] ?? 'pass')
    try {
      const result = await servedRun(proxy.url, tempDir(), 'flaky', [
        '--request-timeout',
        '2',
        '--retries',
        '2',
      ])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(proxy.faults).toEqual(['http-500', 'close', 'hang'])
      expect(readJsonlFile(result.out).map(trajectory)).toEqual(reference)
      expect(result.stderr).toMatch(/HTTP 500 \(injected failure\); try 2 of 3/)
      expect(result.stderr).toMatch(/connection closed by the server; try 2 of 3/)
      expect(result.stderr).toMatch(/no answer within 2 s; try 2 of 3/)
    } finally {
      await proxy.close()
    }
  }, 300_000)

  it.each([
    ['http-500', 'HTTP 500 \\(injected failure\\)'],
    ['close', 'connection closed by the server'],
    ['hang', 'no answer within 1 s'],
  ] as const)(
    'a server that keeps failing (%s): one clear line, exit 1, and a rerun resumes what was done',
    async (fault, why) => {
      const proxy = await faultProxy(server.url, (n) => (n > twoTrajectories ? fault : 'pass'))
      const dir = tempDir()
      try {
        const failed = await servedRun(proxy.url, dir, 'broken', [
          '--concurrency',
          '1',
          '--retries',
          '1',
          '--request-timeout',
          '1',
        ])
        expect(failed.exitCode).toBe(1)
        const lines = failed.stderr.trim().split('\n')
        expect(lines.at(-1)).toMatch(
          new RegExp(`^start: POST http://127\\.0\\.0\\.1:\\d+/completion: ${why} \\(2 tries\\)$`),
        )
      } finally {
        await proxy.close()
      }
      const done = committedUnits(join(dir, 's.db'), 'broken')
      expect(done).toBeGreaterThan(0)
      expect(done).toBeLessThan(PROBLEMS)
      const rerun = await servedRun(server.url, dir, 'broken')
      expect(rerun.exitCode, rerun.stderr).toBe(0)
      expect(JSON.parse(rerun.stdout)).toMatchObject({ trajectories: PROBLEMS, resumed: done })
      expect(readJsonlFile(rerun.out).map(trajectory)).toEqual(reference)
    },
    300_000,
  )

  it('a server killed mid-run fails the run with one line; a rerun on the restarted server resumes', async () => {
    const own = await llamaServer(MODEL, { parallel: 1 })
    const port = Number(new URL(own.url).port)
    const dir = tempDir()
    const db = join(dir, 's.db')
    const out = join(dir, 'killed.jsonl')
    const args = ['hint-infer', problems, ...servedFlags(own.url, ['--concurrency', '1', '--retries', '1'])]
    const run = execa('node', [CLI, ...args, '--out', out, '--db', db, '--run', 'killed'], { reject: false })
    let ended = false
    void run.then(() => {
      ended = true
    })
    while (committedUnits(db, 'killed') < 2 && !ended) await new Promise((r) => setTimeout(r, 20))
    expect(ended).toBe(false)
    await stopServer(own)
    const failed = await run
    expect(failed.exitCode).toBe(1)
    expect(failed.stderr.trim().split('\n').at(-1), failed.stderr).toMatch(
      /^start: POST http:\/\/127\.0\.0\.1:\d+\/completion: connection (refused|closed by the server) \(2 tries\)$/,
    )
    const done = committedUnits(db, 'killed')
    const again = await llamaServer(MODEL, { parallel: 1, port })
    try {
      const rerun = await runCli([...args, '--out', out, '--db', db, '--run', 'killed', '--json'])
      expect(rerun.exitCode, rerun.stderr).toBe(0)
      expect(JSON.parse(rerun.stdout)).toMatchObject({ trajectories: PROBLEMS, resumed: done })
      expect(readJsonlFile(out).map(trajectory)).toEqual(reference)
    } finally {
      await stopServer(again)
    }
  }, 300_000)

  it('renders the prompt with --chat-template FILE when no GGUF is given; the trajectories are the same', async () => {
    const dir = tempDir()
    const withoutModel = (template: string) => [
      ...backendFlags(server.url),
      '--server-kind',
      'llama-server',
      '--chat-template',
      template,
      ...SAMPLING,
    ]
    const result = await hintInfer(
      dir,
      'templated',
      withoutModel(resolve('../shared/testbed/chat_template.jinja')),
    )
    expect(result.exitCode, result.stderr).toBe(0)
    expect(readJsonlFile(result.out).map(trajectory)).toEqual(reference)
    const missing = await hintInfer(dir, 'no-template', withoutModel(join(dir, 'nope.jinja')))
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain(`--chat-template ${join(dir, 'nope.jinja')}: no such file`)
  }, 300_000)

  it('reads the API key from --api-key-env, sends it, and never prints or stores it', async () => {
    const proxy = await faultProxy(server.url, () => 'pass')
    const secret = 'sk-test-4f9c2e71d0b8'
    process.env.START_TEST_API_KEY = secret
    try {
      const dir = tempDir()
      const result = await servedRun(proxy.url, dir, 'keyed', ['--api-key-env', 'START_TEST_API_KEY'])
      expect(result.exitCode, result.stderr).toBe(0)
      expect(proxy.completions.length).toBeGreaterThan(0)
      expect(proxy.completions.every((c) => c.authorization === `Bearer ${secret}`)).toBe(true)
      for (const written of [result.stdout, result.stderr, readFileSync(result.out, 'utf8')])
        expect(written).not.toContain(secret)
      for (const file of ['s.db', 's.db-wal'].map((name) => join(dir, name)))
        if (existsSync(file)) expect(readFileSync(file).includes(secret)).toBe(false)
      const missing = await servedRun(proxy.url, dir, 'unkeyed', ['--api-key-env', 'START_NO_SUCH_KEY'])
      expect(missing.exitCode).toBe(2)
      expect(missing.stderr).toContain('--api-key-env START_NO_SUCH_KEY: the variable is not set or empty')
    } finally {
      delete process.env.START_TEST_API_KEY
      await proxy.close()
    }
  }, 300_000)

  it('start eval --backend openai (chat template from /props) scores the served model as in process', async () => {
    const dir = tempDir()
    const common = ['--benchmarks', problems, '--modes', 'tools', ...SAMPLING, '--json']
    const local = await runCli([
      'eval',
      '--model',
      MODEL,
      '--threads',
      '1',
      ...common,
      '--db',
      join(dir, 'a.db'),
      '--out',
      join(dir, 'a.jsonl'),
    ])
    expect(local.exitCode, local.stderr).toBe(0)
    const served = await runCli([
      'eval',
      ...backendFlags(server.url),
      ...common,
      '--db',
      join(dir, 'b.db'),
      '--out',
      join(dir, 'b.jsonl'),
    ])
    expect(served.exitCode, served.stderr).toBe(0)
    const [localRow] = readJsonlFile(join(dir, 'a.jsonl'))
    const [servedRow] = readJsonlFile(join(dir, 'b.jsonl'))
    expect(servedRow.model).toBe('served')
    for (const key of ['pass1', 'toolUseRate', 'meanToolCalls', 'meanChars'])
      expect(servedRow[key], key).toBe(localRow[key])
  }, 300_000)

  it('start judge --judge model on the served model answers as in process (greedy: the same verdicts and words)', async () => {
    const dir = tempDir()
    const steps = join(dir, 'steps.jsonl')
    const actions = ['Compute 17 * 3 + 5.', 'Evaluate (25 - 7) * 4.']
    const records = actions.map((action, index) => ({
      run: 'r',
      problemId: `p${index}`,
      sample: 0,
      step: 0,
      steps: 1,
      trajectory: `r/p${index}#0`,
      state: { messages: [{ role: 'user', content: 'Q' }], prompt: '', text: '' },
      action,
      insertedSpans: [],
      toolOutput: null,
      final: true,
    }))
    writeJsonlFile(steps, records)
    const rubric = testbedRubric(dir, 'form', {
      scope: 'step',
      prompt: '{{action}}',
      yes: ['boxed'],
      no: ['fbox'],
    })
    const judge = (name: string, flags: string[]) =>
      runCli([
        'judge',
        steps,
        '--judge',
        'model',
        '--rubric',
        rubric,
        '--temperature',
        '0',
        ...flags,
        '--db',
        join(dir, `${name}.db`),
        '--out',
        join(dir, `${name}.jsonl`),
        '--json',
      ])
    const local = await judge('local', ['--model', MODEL, '--threads', '1'])
    expect(local.exitCode, local.stderr).toBe(0)
    const served = await judge('served', [...backendFlags(server.url), '--concurrency', '2'])
    expect(served.exitCode, served.stderr).toBe(0)
    const judgements = (name: string) =>
      readJsonlFile(join(dir, `${name}.jsonl`)).map(({ judgements: { form } }) => [form.verdict, form.text])
    expect(judgements('served')).toEqual(judgements('local'))
    expect(JSON.parse(served.stdout)).toMatchObject({ steps: 2, yes: 2 })
  }, 300_000)

  it('start hints evolve and the counterfactual judge on the served model measure as in process (greedy: the same outcomes)', async () => {
    const dir = tempDir()
    const library = writeTwoHintLibrary(join(dir, 'lib.json'))
    const evolve = (name: string, flags: string[]) =>
      runCli([
        'hints',
        'evolve',
        '--problems',
        problems,
        '--hints',
        library,
        ...[
          '--prefixes',
          '2',
          '--continuations',
          '1',
          '--candidates',
          '1',
          '--temperature',
          '0',
          '--max-tokens',
          '200',
        ],
        ...[
          '--prompt-template',
          '{problem}',
          ...flags,
          '--out',
          join(dir, name),
          '--db',
          join(dir, `${name}.db`),
          '--json',
        ],
      ])
    const local = await evolve('local', ['--model', MODEL, '--threads', '1'])
    expect(local.exitCode, local.stderr).toBe(0)
    const served = await evolve('served', [
      '--model',
      MODEL,
      ...backendFlags(server.url),
      '--concurrency',
      '2',
    ])
    expect(served.exitCode, served.stderr).toBe(0)
    const figures = (stdout: string) => {
      const summary = JSON.parse(stdout)
      return { continuations: summary.continuations, efficacy: summary.efficacy, verdicts: summary.verdicts }
    }
    expect(figures(served.stdout)).toEqual(figures(local.stdout))
    expect(JSON.parse(served.stdout).continuations).toBe(2 * 4)

    // the counterfactual judge, greedy with one continuation an arm, on the steps of two fixture trajectories
    const steps = join(dir, 'steps.jsonl')
    const trajectories = writeJsonlFile(
      join(dir, 'two.jsonl'),
      readJsonlFile(resolve('test/fixtures/trajectories/hinted.jsonl')).slice(0, 2),
    )
    expect((await runCli(['steps', trajectories, '--out', steps, '--db', join(dir, 's.db')])).exitCode).toBe(
      0,
    )
    const judge = (name: string, flags: string[]) =>
      runCli([
        'judge',
        steps,
        ...['--judge', 'counterfactual', '--k', '1', '--temperature', '0', '--max-tokens', '200'],
        ...flags,
        ...['--db', join(dir, `${name}.db`), '--out', join(dir, `${name}-judged.jsonl`), '--json'],
      ])
    const localJudge = await judge('local', ['--model', MODEL, '--threads', '1'])
    expect(localJudge.exitCode, localJudge.stderr).toBe(0)
    const servedJudge = await judge('served', ['--model', MODEL, ...backendFlags(server.url)])
    expect(servedJudge.exitCode, servedJudge.stderr).toBe(0)
    const credits = (name: string) =>
      readJsonlFile(join(dir, `${name}-judged.jsonl`)).map(({ judgements }) => judgements.counterfactual)
    expect(credits('served')).toEqual(credits('local'))
    expect(JSON.parse(servedJudge.stdout).continuations).toBeGreaterThan(0)
  }, 300_000)
})
