import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { defaultOptions } from '../../src/core/options.js'
import { EVAL_OPTIONS } from '../../src/eval/options.js'
import { FILTER_OPTIONS } from '../../src/filter/options.js'
import { BACKEND_OPTIONS, HINT_INFER_OPTIONS } from '../../src/inference/options.js'
import { parseConfig, stageSettings } from '../../src/pipeline/config.js'
import { pipelineModels, pipelineRlSettings } from '../../src/pipeline/layout.js'
import { RFT_OPTIONS } from '../../src/rft/options.js'
import { RL_OPTIONS } from '../../src/rl/options.js'

const MINIMAL = 'run: r1\nout: out\nmodel: m.gguf\nproblems: p.jsonl\neval: { benchmarks: [dev.jsonl] }\n'

describe('parseConfig', () => {
  it('fills every section with the defaults the stage commands use', () => {
    const config = parseConfig(MINIMAL, 'start.config.yaml')
    expect(config).toMatchObject({ run: 'r1', out: resolve('out'), model: resolve('m.gguf') })
    expect(stageSettings(config, 'hintInfer', HINT_INFER_OPTIONS)).toEqual(defaultOptions(HINT_INFER_OPTIONS))
    expect(stageSettings(config, 'filter', FILTER_OPTIONS)).toEqual(defaultOptions(FILTER_OPTIONS))
    expect(stageSettings(config, 'rft.stage1', RFT_OPTIONS)).toEqual(defaultOptions(RFT_OPTIONS))
    expect(stageSettings(config, 'eval', EVAL_OPTIONS)).toEqual({
      ...defaultOptions(EVAL_OPTIONS),
      benchmarks: ['dev.jsonl'].map((file) => resolve(file)),
    })
    expect(stageSettings(config, 'rft.stage2', RFT_OPTIONS)).toMatchObject({
      samples: 16,
      hints: false,
      perProblem: 1,
    })
  })

  it('a section beats the top level, which beats the defaults; paths are relative to the file', () => {
    const config = parseConfig(
      `${MINIMAL}temperature: 0\nthreads: 2\nhintInfer: { temperature: 0.3, hints: my-hints.json }\n`,
      'conf/start.config.yaml',
    )
    expect(stageSettings(config, 'hintInfer', HINT_INFER_OPTIONS)).toMatchObject({
      temperature: 0.3,
      threads: 2,
      hints: resolve('conf/my-hints.json'),
    })
    expect(stageSettings(config, 'eval', EVAL_OPTIONS)).toMatchObject({ temperature: 0, threads: 2 })
    expect(config.out).toBe(resolve('conf/out'))
  })

  it('backend: is where every sampling stage runs the model; the chat template is relative to the file', () => {
    expect(stageSettings(parseConfig(MINIMAL, 'c.yaml'), 'hintInfer', BACKEND_OPTIONS)).toEqual(
      defaultOptions(BACKEND_OPTIONS),
    )
    const config = parseConfig(
      `${MINIMAL}backend: { backend: openai, baseUrl: 'http://gpu:8000', concurrency: 64, chatTemplate: qwq.jinja }\n`,
      'conf/start.config.yaml',
    )
    for (const section of ['hintInfer', 'rft.stage2', 'eval'] as const) {
      expect(stageSettings(config, section, BACKEND_OPTIONS)).toMatchObject({
        backend: 'openai',
        baseUrl: 'http://gpu:8000',
        concurrency: 64,
        chatTemplate: resolve('conf/qwq.jinja'),
        serverKind: 'auto',
      })
    }
  })

  it('rl: is optional; given, the pipeline runs start rl and evaluates its policy, its settings over the top level', () => {
    const without = parseConfig(MINIMAL, 'c.yaml')
    expect(without.rl).toBe(false)
    expect(pipelineModels(without)).toHaveLength(3)
    const config = parseConfig(
      `${MINIMAL}promptTemplate: '{problem}'\ntemperature: 0.2\nrl: { maxSteps: 7, lr: 0.0001 }\n`,
      'c.yaml',
    )
    expect(config.rl).toBe(true)
    expect(pipelineModels(config).at(-1)).toBe(resolve('out/rl/rl.gguf'))
    expect(stageSettings(config, 'rl', RL_OPTIONS)).toEqual({
      ...defaultOptions(RL_OPTIONS),
      maxSteps: 7,
      lr: 0.0001,
      promptTemplate: '{problem}',
      temperature: 0.2,
    })
    expect(() => parseConfig(`${MINIMAL}rl: { steps: 3 }\n`, 'c.yaml')).toThrow(
      /c\.yaml: rl\.steps: expected an option/,
    )
  })

  it("rl with a pass band reads stage 2's samples for the rates when they exist, unless --pass-rates-from says otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-config-'))
    const file = join(dir, 'c.yaml')
    const config = parseConfig(`${MINIMAL}rl: { passBand: '0.1,0.9' }\n`, file)
    const settings = stageSettings(config, 'rl', RL_OPTIONS)
    const samples = join(dir, 'out', 'rft', 'stage-2', 'samples.jsonl')
    expect(pipelineRlSettings(config, settings).passRatesFrom).toBeUndefined() // no samples yet
    mkdirSync(dirname(samples), { recursive: true })
    writeFileSync(samples, '')
    expect(pipelineRlSettings(config, settings).passRatesFrom).toEqual([samples])
    const own = { ...settings, passRatesFrom: ['mine.jsonl'] }
    expect(pipelineRlSettings(config, own).passRatesFrom).toEqual(['mine.jsonl'])
    const unbanded = parseConfig(`${MINIMAL}rl: { maxSteps: 2 }\n`, file)
    expect(
      pipelineRlSettings(unbanded, stageSettings(unbanded, 'rl', RL_OPTIONS)).passRatesFrom,
    ).toBeUndefined()
  })

  it('swirl: is optional; given, one step-wise model per rule (and one without the held-out family) is evaluated', () => {
    expect(parseConfig(MINIMAL, 'c.yaml').swirl).toBe(false)
    const config = parseConfig(
      `${MINIMAL}swirl: { rules: [process, both], holdOut: ntheory, epochs: 2 }\n`,
      'c.yaml',
    )
    expect(config.swirl).toBe(true)
    expect(pipelineModels(config).slice(3)).toEqual([
      resolve('out/swirl/swirl-process.gguf'),
      resolve('out/swirl/swirl-both.gguf'),
      resolve('out/swirl/swirl-process-without-ntheory.gguf'),
    ])
    expect(stageSettings(config, 'swirl', RFT_OPTIONS).epochs).toBe(2)
    expect(() => parseConfig(`${MINIMAL}swirl: { rules: [process, best] }\n`, 'c.yaml')).toThrow(
      'c.yaml: swirl.rules: expected process, outcome, both, none, not "best"',
    )
    expect(() => parseConfig(`${MINIMAL}swirl: { transferRule: correct }\n`, 'c.yaml')).toThrow(
      /c\.yaml: swirl\.transferRule: expected one of process, outcome, both, none/,
    )
  })

  it('reads JSON too', () => {
    const config = parseConfig(
      JSON.stringify({
        run: 'r',
        out: 'o',
        model: 'm',
        problems: 'p',
        eval: { benchmarks: ['b'] },
        rft: { stage1: { maxSteps: 3 } },
      }),
      'start.config.json',
    )
    expect(stageSettings(config, 'rft.stage1', RFT_OPTIONS).maxSteps).toBe(3)
  })

  it.each([
    [
      'out: o\nmodel: m\nproblems: p\neval: { benchmarks: [b] }',
      'start.config.yaml: run: expected a non-empty string',
    ],
    [`${MINIMAL}hintInfer: { samples: 0 }`, 'start.config.yaml: hintInfer.samples: expected an integer >= 1'],
    [
      `${MINIMAL}filter: { rule: best }`,
      'start.config.yaml: filter.rule: expected one of hint-gain, correct, process, outcome, both, none',
    ],
    [
      `${MINIMAL}rft: { stage2: { hints: yes please } }`,
      'start.config.yaml: rft.stage2.hints: expected true or false',
    ],
    [
      `${MINIMAL}rft: { stage1: { outtype: q4 } }`,
      'start.config.yaml: rft.stage1.outtype: expected one of f32, f16, bf16, q8_0',
    ],
    [
      MINIMAL.replace('eval: { benchmarks: [dev.jsonl] }', 'eval: { benchmarks: [] }'),
      'eval.benchmarks: expected at least one benchmark',
    ],
    [`${MINIMAL}eval2: {}`, 'start.config.yaml: eval2: expected a known key'],
    [
      `${MINIMAL}rl: { noExport: true }`,
      'start.config.yaml: rl.noExport: the pipeline evaluates the RL policy as a GGUF',
    ],
    [
      `${MINIMAL}filter: { maxTokens: 5 }`,
      'start.config.yaml: filter.maxTokens: expected an option of this section',
    ],
    [
      `${MINIMAL}rft: { stage1: { samples: 4 } }`,
      'start.config.yaml: rft.stage1.samples: expected an option',
    ],
    [
      MINIMAL.replace('[dev.jsonl] }', '[dev.jsonl], modes: [tools, best] }'),
      'start.config.yaml: eval.modes: expected no-tools, tools or hints',
    ],
    [
      `${MINIMAL}backend: { backend: vllm }`,
      'start.config.yaml: backend.backend: expected one of llama-cpp, openai',
    ],
    [`${MINIMAL}backend: { temperature: 0 }`, 'start.config.yaml: backend.temperature: expected an option'],
    [`${MINIMAL}topP: 2`, 'start.config.yaml: topP: expected a number from 0 to 1'],
    ['run: [unclosed', 'start.config.yaml: cannot parse'],
    ['- a list', 'start.config.yaml: (top level): expected a mapping'],
  ])('rejects %j', (text, message) => {
    expect(() => parseConfig(text, 'start.config.yaml')).toThrow(message)
  })
})
