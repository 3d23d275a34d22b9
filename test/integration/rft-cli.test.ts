import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { LlamaCppEngine } from '../../src/inference/llama-cpp.js'
import { readJsonlFile, runCli, tempDir } from './cli.js'
import { faultProxy, llamaServer, stopServer } from './served.js'

const GGUF = resolve('../shared/models/testbed-tir-f32.gguf')
const HF = resolve('../shared/models/testbed-tir-hf')
const D_SEED = resolve('test/fixtures/training/d_seed_testbed.jsonl')
const SAMPLE = '<|user|>\nCompute 4821 * 317 - 2904.\n<|assistant|>\n<think>\nI need to compute 4821 * 317.'

/** The first `n` training problems in a file of their own. */
function trainProblems(n: number): string {
  const file = join(tempDir(), 'pool.jsonl')
  const lines = readFileSync('../shared/datasets/testbed-train.jsonl', 'utf8').split('\n').slice(0, n)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

// Tiny runs: the full batch of the 13 fixture examples each step, so the losses compare step to step.
const TINY = ['--batch-size', '13', '--grad-accum', '1', '--lr', '2e-4', '--outtype', 'f32']

describe('start rft on the testbed model (CPU)', () => {
  const dir = tempDir()
  const out = join(dir, 'rft')
  const db = join(dir, 's.db')
  const stage1 = [
    'rft',
    '--stage',
    '1',
    '--base',
    GGUF,
    '--data',
    D_SEED,
    '--out',
    out,
    '--db',
    db,
    '--max-steps',
    '5',
    ...TINY,
  ]
  const engines: LlamaCppEngine[] = []
  afterAll(async () => {
    for (const engine of engines) await engine.close()
  })

  it('stage 1: GGUF base -> HF -> a few steps where the loss falls -> a GGUF that tokenizes like the base and generates', async () => {
    const result = await runCli([...stage1, '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual([
      'base-hf:done',
      'train-start-0:done',
      'export-start-0:done',
    ])
    expect(summary.model).toBe(join(out, 'start-0.gguf'))
    // The converted base keeps the GGUF's special tokens (transformers' GGUF loader reads EOS as <s> here),
    // so the model goes on learning to end its turn with </s>.
    const tokenizer = JSON.parse(readFileSync(join(out, 'base-hf', 'tokenizer_config.json'), 'utf8'))
    expect(tokenizer).toMatchObject({ bos_token: '<s>', eos_token: '</s>' })
    expect(JSON.parse(readFileSync(join(out, 'base-hf', 'config.json'), 'utf8'))).toMatchObject({
      eos_token_id: 2,
    })

    const store = new Database(db, { readonly: true })
    const losses = (
      store.prepare('SELECT loss FROM training_log WHERE run_id = ? ORDER BY step').all(summary.run) as {
        loss: number
      }[]
    ).map((row) => row.loss)
    const parents = store
      .prepare(
        "SELECT parent_kind, parent_id FROM lineage WHERE child_kind = 'model' AND child_id = ? ORDER BY 1, 2",
      )
      .all(join(out, 'start-0'))
    store.close()
    expect(losses).toHaveLength(5)
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]!)
    expect(parents).toEqual([
      { parent_kind: 'dataset', parent_id: D_SEED },
      { parent_kind: 'model', parent_id: join(out, 'base-hf') },
      { parent_kind: 'run', parent_id: summary.run },
    ])

    const base = await LlamaCppEngine.load({ model: GGUF, threads: 1 })
    const trained = await LlamaCppEngine.load({ model: summary.model, threads: 1 })
    engines.push(base, trained)
    expect(trained.tokenize(SAMPLE)).toEqual(base.tokenize(SAMPLE))
    const stream = await trained.startGeneration(
      trained.renderPrompt([{ role: 'user', content: 'Compute 12 * 3.' }]),
      {
        temperature: 0,
        topP: 1,
        seed: 0,
      },
    )
    let text = ''
    for (let i = 0; i < 20; i++) text += (await stream.next()) ?? ''
    await stream.close()
    expect(text.length).toBeGreaterThan(0)
  }, 180_000)

  it('start eval takes the run id of the rft run for the model it exported', async () => {
    const problems = join(dir, 'one.jsonl')
    writeFileSync(
      problems,
      `${readFileSync('../shared/datasets/testbed-dev.jsonl', 'utf8').split('\n')[0]}\n`,
    )
    const runId = JSON.parse((await runCli([...stage1, '--dry-run', '--json'])).stdout).run
    const result = await runCli([
      'eval',
      '--model',
      runId,
      '--benchmarks',
      problems,
      '--modes',
      'tools',
      '--max-tokens',
      '100',
      '--prompt-template',
      '{problem}',
      '--threads',
      '1',
      '--db',
      db,
      '--out',
      join(dir, 'eval.jsonl'),
      '--json',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(readJsonlFile(join(dir, 'eval.jsonl'))[0]).toMatchObject({
      model: runId,
      modelPath: join(out, 'start-0.gguf'),
    })
  }, 120_000)

  it('a rerun skips every step whose output is there; --dry-run shows the plan', async () => {
    const again = await runCli([...stage1, '--json'])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout).steps.map((s: { status: string }) => s.status)).toEqual([
      'skipped',
      'skipped',
      'skipped',
    ])
    // An output deleted since: its step runs again, the others stay skipped.
    rmSync(join(out, 'start-0.gguf'))
    const redo = await runCli([...stage1, '--json'])
    expect(redo.exitCode, redo.stderr).toBe(0)
    expect(JSON.parse(redo.stdout).steps.map((s: { status: string }) => s.status)).toEqual([
      'skipped',
      'skipped',
      'done',
    ])
    expect(existsSync(join(out, 'start-0.gguf'))).toBe(true)
    const plan = await runCli([
      'rft',
      '--stage',
      '2',
      '--base',
      GGUF,
      '--problems',
      'pool.jsonl',
      '--out',
      out,
      '--dry-run',
    ])
    expect(plan.exitCode).toBe(0)
    expect(plan.stdout.trim().split('\n')).toEqual([
      `[done] base-hf: convert the GGUF base model to a Hugging Face checkpoint -> ${join(out, 'base-hf')}`,
      `[pending] sample: START-0 samples solutions to the problem pool (hint-infer) -> ${join(out, 'stage-2', 'samples.jsonl')}`,
      `[pending] select: rejection sampling: correct, deduplicated, capped samples become D_START (filter) -> ${join(out, 'd_start.jsonl')}`,
      `[pending] train-start: fine-tune the base model on D_START into START -> ${join(out, 'start')}`,
      `[pending] export-start: export START to GGUF -> ${join(out, 'start.gguf')}`,
    ])
  }, 120_000)

  it('stage 2: START-0, served by llama-server, samples; the correct samples become D_START, START is trained and exported', async () => {
    // Sampling on a served model (--backend openai), as at scale: START-0 from stage 1 behind the server.
    const server = await llamaServer(join(out, 'start-0.gguf'), { parallel: 2 })
    const proxy = await faultProxy(server.url, () => 'pass')
    const result = await runCli([
      'rft',
      '--stage',
      '2',
      '--base',
      GGUF,
      '--problems',
      trainProblems(8),
      '--out',
      out,
      '--db',
      db,
      '--samples',
      '1',
      '--temperature',
      '0',
      // The testbed only writes code after a hint (START's stage 2 samples without).
      '--hints',
      '--think-hints',
      '0',
      '--prompt-template',
      '{problem}',
      '--max-tokens',
      '400',
      '--threads',
      '1',
      '--max-steps',
      '2',
      ...TINY,
      '--backend',
      'openai',
      '--base-url',
      proxy.url,
      '--concurrency',
      '2',
      '--json',
    ]).finally(async () => {
      await proxy.close()
      await stopServer(server)
    })
    expect(result.exitCode, result.stderr).toBe(0)
    expect(result.stderr).toContain(
      `stage 2 samples START-0 on ${proxy.url}: serve ${join(out, 'start-0.gguf')} there`,
    )
    // Every sample's first request went to the server, its prompt rendered with START-0's template.
    const firsts = proxy.completions.filter((c) => c.prompt.endsWith('<|assistant|>\n<think>\n'))
    expect(firsts).toHaveLength(8)
    const summary = JSON.parse(result.stdout)
    expect(summary.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual([
      'base-hf:skipped',
      'sample:done',
      'select:done',
      'train-start:done',
      'export-start:done',
    ])
    expect(summary.samples).toBe(8)
    expect(summary.kept).toBeGreaterThan(0)
    const dStart = readJsonlFile(join(out, 'd_start.jsonl'))
    expect(dStart).toHaveLength(summary.kept)
    expect(dStart.every((record) => record.messages.at(-1).role === 'assistant')).toBe(true)
    expect(existsSync(join(out, 'start.gguf'))).toBe(true)
  }, 300_000)

  it('LoRA on a Hugging Face base, merged for export', async () => {
    const loraOut = join(dir, 'lora')
    const result = await runCli([
      'rft',
      '--stage',
      '1',
      '--base',
      HF,
      '--data',
      D_SEED,
      '--out',
      loraOut,
      '--db',
      db,
      '--max-steps',
      '2',
      '--lora',
      '--lora-r',
      '4',
      ...TINY,
      '--json',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    const summary = JSON.parse(result.stdout)
    expect(summary.steps.map((s: { id: string }) => s.id)).toEqual(['train-start-0', 'export-start-0'])
    const trained = await LlamaCppEngine.load({ model: summary.model, threads: 1 })
    engines.push(trained)
    expect(trained.tokenize(SAMPLE).length).toBeGreaterThan(10)
  }, 180_000)

  it('a bad data line fails in the trainer with the line and the log to read', async () => {
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, '{"messages": [{"role": "user", "content": "hi"}]}\n')
    const badData = await runCli([
      'rft',
      '--stage',
      '1',
      '--base',
      HF,
      '--data',
      bad,
      '--out',
      join(dir, 'bad'),
      '--db',
      db,
    ])
    expect(badData.exitCode).toBe(2)
    expect(badData.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^start: ${bad}:1: .*the last message must be the assistant's \\(log: .*train-start-0.log\\)`,
      ),
    )
    expect(existsSync(join(dir, 'bad', 'start-0'))).toBe(false)
  }, 120_000)
})
