import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/pipeline/config.js'

const MINIMAL = 'run: r1\nout: out\nmodel: m.gguf\nproblems: p.jsonl\neval: { benchmarks: [dev.jsonl] }\n'

describe('parseConfig', () => {
  it('fills the defaults of a minimal YAML config', () => {
    const config = parseConfig(MINIMAL, 'start.config.yaml')
    expect(config).toMatchObject({
      run: 'r1',
      hintInfer: { samples: 1, temperature: 0.6, thinkHints: 1 },
      filter: { rule: 'hint-gain', perProblem: 0, decontaminate: [] },
      rft: { stage1: { lr: 1e-5, outtype: 'f16' }, stage2: { samples: 16, hints: false, perProblem: 1 } },
      eval: { benchmarks: ['dev.jsonl'], modes: ['no-tools', 'tools', 'hints'], samples: 1 },
    })
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
    expect(config.rft.stage1.maxSteps).toBe(3)
  })

  it.each([
    [
      'out: o\nmodel: m\nproblems: p\neval: { benchmarks: [b] }',
      'start.config.yaml: run: expected a non-empty string',
    ],
    [`${MINIMAL}hintInfer: { samples: 0 }`, 'start.config.yaml: hintInfer.samples: expected an integer >= 1'],
    [
      `${MINIMAL}filter: { rule: best }`,
      'start.config.yaml: filter.rule: expected one of hint-gain, correct',
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
    ['run: [unclosed', 'start.config.yaml: cannot parse'],
    ['- a list', 'start.config.yaml: (top level): expected a mapping'],
  ])('rejects %j', (text, message) => {
    expect(() => parseConfig(text, 'start.config.yaml')).toThrow(message)
  })
})
