import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Grader } from '../../src/grading/grader.js'
import type { TrajectoryRecord } from '../../src/inference/types.js'
import { rolloutReward } from '../../src/rl/reward.js'
import { gradeRollout } from '../../src/rl/rollouts.js'
import { SandboxPool } from '../../src/sandbox/pool.js'
import { ensureTrainingEnv } from '../../src/training/python-env.js'
import { CLI, readJsonlFile, runCli, tempDir } from './cli.js'

const HF = resolve('../shared/models/testbed-tir-hf')
const CODE = resolve('test/fixtures/problems/code.jsonl')

/** Runs Python in the trainer's virtualenv (pyarrow, transformers) with the export on its path. */
async function python(dir: string, code: string, env: Record<string, string> = {}): Promise<string> {
  const { python } = await ensureTrainingEnv()
  const result = await execa(python, ['-c', code], { env: { PYTHONPATH: dir, ...env }, reject: false })
  if (result.exitCode !== 0) throw new Error(String(result.stderr))
  return String(result.stdout)
}

describe('start export --format verl', () => {
  const dir = tempDir()
  const out = join(dir, 'verl')
  const train = join(dir, 'train.jsonl')
  let server: ReturnType<typeof execa>
  let url = ''

  beforeAll(async () => {
    writeFileSync(
      train,
      readFileSync('../shared/datasets/testbed-train.jsonl', 'utf8').split('\n').slice(0, 5).join('\n'),
    )
    server = execa('node', [CLI, 'sandbox', 'serve', '--port', '0'], { reject: false })
    url = await new Promise<string>((done) => {
      let seen = ''
      server.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        const found = /listening on (http:\/\/\S+)/.exec(seen)
        if (found) done(found[1]!)
      })
    })
  }, 120_000)
  afterAll(() => {
    server.kill('SIGKILL')
  })

  it('writes verl-shaped parquet (read back), the agent loop module, its config and the verl command', async () => {
    const result = await runCli([
      'export',
      '--format',
      'verl',
      '--problems',
      train,
      '--val',
      CODE,
      '--out',
      out,
      '--hints',
      '--json',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ train: 5, val: 1 })
    const rows = JSON.parse(
      await python(
        out,
        `import json, pyarrow.parquet as pq
print(json.dumps([pq.read_table("${out}/train.parquet").to_pylist(), pq.read_table("${out}/val.parquet").to_pylist()]))`,
      ),
    )
    const [first] = rows[0]
    const problem = JSON.parse(readFileSync(train, 'utf8').split('\n')[0]!)
    expect(first).toEqual({
      data_source: 'testbed',
      agent_name: 'start_tir_agent',
      prompt: [
        {
          role: 'user',
          content: `${problem.problem}\nPlease reason step by step, and put your final answer within \\boxed{}.`,
        },
      ],
      ability: 'math',
      reward_model: { style: 'rule', ground_truth: problem.answer },
      extra_info: { split: 'train', index: 0, id: problem.id, problem: problem.problem },
    })
    expect(JSON.parse(rows[1][0].reward_model.ground_truth)).toMatchObject({ entry_point: 'add' })
    const config = JSON.parse(readFileSync(join(out, 'start_verl.json'), 'utf8'))
    expect(config).toMatchObject({ thinkHints: 1, maxToolCalls: 6 })
    expect(config.hints.length).toBeGreaterThan(0)
    const script = readFileSync(join(out, 'run_verl.sh'), 'utf8')
    expect(script).toContain('custom_reward_function.name=compute_score')
    expect(script).toContain(`agent_loop_config_path="$HERE/agent_loop.yaml"`)
    expect(readFileSync(join(out, 'agent_loop.yaml'), 'utf8')).toContain(
      '_target_: start_verl.StartToolAgentLoop',
    )
  }, 300_000)

  it("the reward function agrees with start grade on the grader's peer cases and code tests", async () => {
    const { cases } = JSON.parse(readFileSync('test/fixtures/grading/peer-cases.json', 'utf8'))
    const records = [
      ...cases.map((c: { predicted: string; reference: string }) => ({
        completion: `The answer is $\\boxed{${c.predicted}}$.`,
        answer: c.reference,
      })),
      ...['return a + b', 'return a - b'].map((body) => ({
        ...JSON.parse(readFileSync(CODE, 'utf8').split('\n')[0]!),
        completion: `\`\`\`python\ndef add(a, b):\n    ${body}\n\`\`\``,
      })),
    ]
    const input = join(dir, 'grade.jsonl')
    writeFileSync(input, records.map((record) => JSON.stringify(record)).join('\n'))
    const graded = await runCli(['grade', input, '--out', join(dir, 'graded.jsonl')])
    expect(graded.exitCode, graded.stderr).toBe(0)
    const expected = readJsonlFile(join(dir, 'graded.jsonl')).map((record) => (record.correct ? 1 : -1))
    expect(new Set(expected).size).toBe(2)
    const scores = JSON.parse(
      await python(
        out,
        `import json, start_verl
records = [json.loads(line) for line in open("${input}")]
def truth(r):
    if "answer" in r: return r["answer"]
    return json.dumps({"tests": r["tests"], "entry_point": r["entry_point"], "problem": r["problem"]})
print(json.dumps([start_verl.compute_score("x", r["completion"], truth(r))["score"] for r in records]))`,
        { START_GRADER_URL: url },
      ),
    )
    expect(scores).toEqual(expected)
  }, 300_000)

  it('killed with SIGKILL while writing its parquet: nothing under its final names, no writer left, a rerun completes', async () => {
    const killed = join(dir, 'killed')
    const args = ['export', '--format', 'verl', '--problems', train, '--out', killed]
    const child = execa('node', [CLI, ...args], { reject: false })
    // The moment the staging directory holds the writer's input: the Python writer is starting.
    const writing = () =>
      existsSync(killed) &&
      readdirSync(killed).some(
        (name) => name.startsWith('.export-') && existsSync(join(killed, name, 'train.jsonl')),
      )
    const deadline = Date.now() + 120_000
    while (!writing() && Date.now() < deadline) await new Promise((done) => setTimeout(done, 10))
    expect(writing()).toBe(true)
    child.kill('SIGKILL')
    expect((await child).signal).toBe('SIGKILL')
    await new Promise((done) => setTimeout(done, 1500))
    expect(
      readdirSync(killed).filter((name) => !name.startsWith('.export-') && name !== 'export.log'),
    ).toEqual([])
    const writers = await execa('pgrep', ['-f', `parquet --jsonl ${killed}`], { reject: false })
    expect(writers.stdout).toBe('')
    const rerun = await runCli(args)
    expect(rerun.exitCode, rerun.stderr).toBe(0)
    expect(readdirSync(killed).sort()).toEqual(
      [
        'agent_loop.yaml',
        'export.log',
        'run_verl.sh',
        'start_verl.json',
        'start_verl.py',
        'train.parquet',
      ].sort(),
    )
  }, 300_000)

  it("one referee: start grade, start rl's reward and the exported reward function agree on every record, in context", async () => {
    // Issue 29's probes, and each again cut off at the length limit, and under a prompt that opens <think>.
    const { cases } = JSON.parse(readFileSync('test/fixtures/grading/referee-probes.json', 'utf8'))
    const records = cases.flatMap((probe: Record<string, unknown>, i: number) => {
      const record = {
        problemId: `probe-${i}`,
        text: probe.completion,
        answer: probe.answer,
        ...(probe.segments ? { segments: probe.segments } : {}),
        ...(probe.problem ? { problem: probe.problem } : {}),
        finishReason: 'stop',
      }
      return [
        record,
        { ...record, finishReason: 'length' },
        { ...record, prompt: '<|assistant|>\n<think>\n' },
      ]
    })
    const input = join(dir, 'parity.jsonl')
    writeFileSync(input, records.map((record: object) => JSON.stringify(record)).join('\n'))
    const graded = await runCli(['grade', input, '--out', join(dir, 'parity-graded.jsonl')])
    expect(graded.exitCode, graded.stderr).toBe(0)
    const byGrade = readJsonlFile(join(dir, 'parity-graded.jsonl')).map((record) => (record.correct ? 1 : -1))
    expect(new Set(byGrade)).toEqual(new Set([1, -1]))
    // start rl's reward: the rollout's grade as start rl takes it, outcome reward
    const pool = new SandboxPool({ workers: 2 })
    try {
      const grader = new Grader(pool)
      const byRl = await Promise.all(
        records.map(async (record: TrajectoryRecord) =>
          rolloutReward('outcome', {
            ...(await gradeRollout(grader, record)),
            answered: true,
            toolCalls: 0,
            failedCalls: 0,
          }),
        ),
      )
      expect(byRl).toEqual(byGrade)
    } finally {
      await pool.close()
    }
    const byVerl = JSON.parse(
      await python(
        out,
        `import json, start_verl
records = [json.loads(line) for line in open("${input}")]
def context(r):
    return {"finish_reason": r["finishReason"], "prompt": r.get("prompt"), "segments": r.get("segments"), "problem": r.get("problem")}
print(json.dumps([start_verl.compute_score("x", r["text"], r["answer"], context(r))["score"] for r in records]))`,
        { START_GRADER_URL: url },
      ),
    )
    expect(byVerl).toEqual(byGrade)
  }, 300_000)

  it('inserted text is data: a "</s>" in a cell\'s output is text, never EOS (the verl loop and start rl)', async () => {
    const training = resolve('src/training')
    const report = JSON.parse(
      await python(
        `${out}:${training}`,
        `import json, start_verl, start_rl
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained("${HF}")
trajectory = start_verl.Trajectory(tok)
trajectory.add_inserted("\`\`\`output\\nstop </s> here\\n\`\`\`\\n")
generator = start_rl.PolicyGenerator(tok, {}, ["<|end|>"])
print(json.dumps({"eos": tok.eos_token_id, "verl": trajectory.ids, "rl": generator.continuation_ids("stop </s> here"), "text": trajectory.text}))`,
      ),
    )
    expect(report.verl).not.toContain(report.eos)
    expect(report.rl).not.toContain(report.eos)
    expect(report.text).toContain('stop </s> here')
  }, 120_000)

  it('the agent loop: code output and a hint go in masked, token for token (fake server, real tokenizer and sandbox)', async () => {
    const report = JSON.parse(
      await python(
        out,
        `import asyncio, json, start_verl
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained("${HF}")
script = ["I will compute.\\n</think>", "\`\`\`python\\nprint(6 * 7)\\n\`\`\`\\n", "So it is 42.\\n</think>\\nThe answer is \\\\boxed{42}."]
calls = []
async def generate(ids, stops, max_tokens):
    calls.append(stops)
    text = script.pop(0)
    # As a server samples it: a continuation, with no word-start piece of its own at the seam.
    newline = tok.encode("\\n", add_special_tokens=False)
    ids = tok.encode("\\n" + text, add_special_tokens=False)[len(newline):]
    return ids + ([tok.eos_token_id] if not script else [])
prompt = tok.encode("<s><|user|>\\nQ<|end|>\\n<|assistant|>\\n<think>\\n", add_special_tokens=False)
trajectory, info = asyncio.run(start_verl.roll_out(generate, tok, prompt, 400, seed=1))
masked = tok.decode([t for t, m in zip(trajectory.ids, trajectory.mask) if m == 0])
context = {"finish_reason": info["finish_reason"], "prompt": tok.decode(prompt), "segments": trajectory.segments()}
verdicts = [start_verl.grade(trajectory.text, "42", c)["correct"] for c in (context, {**context, "finish_reason": "length"})]
print(json.dumps({"text": trajectory.text, "masked": masked, "info": info, "calls": calls, "segments": context["segments"], "verdicts": verdicts}))`,
        { START_SANDBOX_URL: url, START_GRADER_URL: url },
      ),
    )
    const hints: string[] = JSON.parse(readFileSync(join(out, 'start_verl.json'), 'utf8')).hints
    const hint = hints.find((text) => report.masked.startsWith(text))
    expect(hint, report.masked).toBeDefined()
    expect(report.masked).toBe(`${hint}\n\`\`\`output\n42\n\`\`\`\n`)
    expect(report.text).toContain(`I will compute.\n${hint}\n\`\`\`python`)
    expect(report.text).not.toContain('compute.\n</think>')
    expect(report.info).toEqual({ tool_calls: 1, think_hints: 1, finish_reason: 'stop' })
    // Its segments, as start's records keep them, add up to its text; the referee reads them with the
    // finish reason and the prompt, as start rl does: right when it ended its turn, not when cut off.
    expect(report.segments.map((segment: { kind: string }) => segment.kind)).toEqual([
      'model',
      'hint',
      'model',
      'output',
      'model',
    ])
    expect(report.segments.map((segment: { text: string }) => segment.text).join('')).toBe(report.text)
    expect(report.verdicts).toEqual([true, false])
    expect(report.calls[0]).toEqual(['```\n', '</think>'])
    expect(report.calls[1]).toEqual(['```\n'])
  }, 300_000)
})
