import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/core/errors.js'
import {
  checkOption,
  defaultOptions,
  flagName,
  resolveOptions,
  withDefaults,
} from '../../src/core/options.js'

const SPECS = {
  samples: { kind: 'integer', min: 1, default: 1, description: 'samples' },
  topP: { kind: 'number', min: 0, max: 1, default: 0.95, description: 'nucleus' },
  rule: { kind: 'string', options: ['a', 'b'], default: 'a', description: 'rule' },
  lora: { kind: 'boolean', default: false, description: 'lora' },
  words: { kind: 'list', split: true, default: ['Wait'], description: 'words' },
  system: { kind: 'string', description: 'no default' },
} as const

describe('option declarations', () => {
  it('name flags in kebab case', () => {
    expect(flagName('maxTokens')).toBe('max-tokens')
    expect(flagName('topP')).toBe('top-p')
  })

  it('take flag text and config values alike, and say what was expected', () => {
    expect(checkOption(SPECS.samples, '4', '--samples')).toBe(4)
    expect(checkOption(SPECS.topP, 0.5, 'c.yaml: topP')).toBe(0.5)
    expect(checkOption(SPECS.words, ['Wait, Hmm', 'So'], '--words')).toEqual(['Wait', 'Hmm', 'So'])
    expect(() => checkOption(SPECS.samples, '0', '--samples')).toThrow(
      '--samples 0: expected an integer >= 1',
    )
    expect(() => checkOption(SPECS.samples, '1.5', '--samples')).toThrow('expected an integer >= 1')
    expect(() => checkOption(SPECS.topP, '1.5', '--top-p')).toThrow(
      '--top-p 1.5: expected a number from 0 to 1',
    )
    expect(() => checkOption(SPECS.topP, 'abc', '--top-p')).toThrow(UsageError)
    expect(() => checkOption(SPECS.rule, 'c', 'c.yaml: filter.rule')).toThrow(
      'c.yaml: filter.rule: expected one of a, b',
    )
    expect(() => checkOption(SPECS.lora, 'yes', 'c.yaml: lora')).toThrow(
      'c.yaml: lora: expected true or false',
    )
  })

  it('resolve each option from the first layer that sets it, else its default', () => {
    const flags = { values: { samples: '8' }, where: (key: string) => `--${flagName(key)}` }
    const section = { values: { samples: 2, topP: 0.5 }, where: (key: string) => `c.yaml: eval.${key}` }
    const top = { values: { topP: 0.7, rule: 'b' }, where: (key: string) => `c.yaml: ${key}` }
    expect(resolveOptions(SPECS, [flags, section, top])).toEqual({
      samples: 8,
      topP: 0.5,
      rule: 'b',
      lora: false,
      words: ['Wait'],
      system: undefined,
    })
    expect(() =>
      resolveOptions(SPECS, [{ values: { samples: -1 }, where: () => 'c.yaml: eval.samples' }]),
    ).toThrow('c.yaml: eval.samples: expected an integer >= 1')
  })

  it('copy list defaults, so a caller cannot change the declaration', () => {
    const values = defaultOptions(SPECS)
    values.words.push('Hmm')
    expect(defaultOptions(SPECS).words).toEqual(['Wait'])
  })

  it('derive the same options with other defaults', () => {
    const stage2 = withDefaults(SPECS, { samples: 16 })
    expect(defaultOptions(stage2).samples).toBe(16)
    expect(defaultOptions(SPECS).samples).toBe(1)
  })
})
