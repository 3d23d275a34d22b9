import { parse as parseYaml } from 'yaml'
import { UsageError } from '../cli/errors.js'

/** `start.config.yaml` / `.json`: the whole START loop in one file. Paths are relative to the file. */
export interface PipelineConfig {
  /** Run id prefix: every stage's run is `<run>-<stage>`. */
  run: string
  /** Where everything goes. */
  out: string
  /** The base model (GGUF, or Hugging Face directory for training with a GGUF `model` for sampling). */
  model: string
  /** Problems whose hinted and plain trajectories make D_seed. */
  problems: string
  /** Only the first N problems. */
  limit?: number
  promptTemplate?: string
  threads?: number
  hintInfer: {
    samples: number
    temperature: number
    maxTokens: number
    thinkHints: number
    connectiveHints: number
  }
  filter: { rule: 'hint-gain' | 'correct'; perProblem: number; decontaminate: string[] }
  rft: {
    stage1: Training
    stage2: Training & {
      problems?: string
      limit?: number
      samples: number
      temperature: number
      hints: boolean
      thinkHints: number
      perProblem: number
      maxTokens: number
    }
  }
  eval: {
    benchmarks: string[]
    data?: string
    samples: number
    modes: string[]
    thinkHints: number
    limit?: number
    temperature: number
    maxTokens: number
  }
}

export interface Training {
  maxSteps: number
  epochs: number
  lr: number
  batchSize: number
  gradAccum: number
  outtype: string
}

const TRAINING: Training = { maxSteps: 0, epochs: 3, lr: 1e-5, batchSize: 1, gradAccum: 8, outtype: 'f16' }

/** Reads and checks a config; every error names the file and the key, and says what was expected. */
export function parseConfig(text: string, file: string): PipelineConfig {
  let raw: unknown
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new UsageError(`${file}: cannot parse (${(error as Error).message.split('\n')[0]})`)
  }
  const check = new Checker(file)
  const root = check.object(raw, '')
  const section = (name: string) => check.object(root[name] ?? {}, name)
  const hintInfer = section('hintInfer')
  const filter = section('filter')
  const rft = section('rft')
  const stage1 = check.object(rft.stage1 ?? {}, 'rft.stage1')
  const stage2 = check.object(rft.stage2 ?? {}, 'rft.stage2')
  const evaluation = section('eval')
  const training = (values: Record<string, unknown>, at: string): Training => ({
    maxSteps: check.integer(values.maxSteps, `${at}.maxSteps`, TRAINING.maxSteps, 0),
    epochs: check.number(values.epochs, `${at}.epochs`, TRAINING.epochs),
    lr: check.number(values.lr, `${at}.lr`, TRAINING.lr),
    batchSize: check.integer(values.batchSize, `${at}.batchSize`, TRAINING.batchSize, 1),
    gradAccum: check.integer(values.gradAccum, `${at}.gradAccum`, TRAINING.gradAccum, 1),
    outtype: check.oneOf(values.outtype, `${at}.outtype`, ['f32', 'f16', 'bf16', 'q8_0'], TRAINING.outtype),
  })
  const config: PipelineConfig = {
    run: check.string(root.run, 'run'),
    out: check.string(root.out, 'out'),
    model: check.string(root.model, 'model'),
    problems: check.string(root.problems, 'problems'),
    limit: check.optionalInteger(root.limit, 'limit'),
    promptTemplate: check.optionalString(root.promptTemplate, 'promptTemplate'),
    threads: check.optionalInteger(root.threads, 'threads'),
    hintInfer: {
      samples: check.integer(hintInfer.samples, 'hintInfer.samples', 1, 1),
      temperature: check.number(hintInfer.temperature, 'hintInfer.temperature', 0.6),
      maxTokens: check.integer(hintInfer.maxTokens, 'hintInfer.maxTokens', 4096, 1),
      thinkHints: check.integer(hintInfer.thinkHints, 'hintInfer.thinkHints', 1, 0),
      connectiveHints: check.integer(hintInfer.connectiveHints, 'hintInfer.connectiveHints', 1, 0),
    },
    filter: {
      rule: check.oneOf(filter.rule, 'filter.rule', ['hint-gain', 'correct'], 'hint-gain') as
        | 'hint-gain'
        | 'correct',
      perProblem: check.integer(filter.perProblem, 'filter.perProblem', 0, 0),
      decontaminate: check.strings(filter.decontaminate, 'filter.decontaminate'),
    },
    rft: {
      stage1: training(stage1, 'rft.stage1'),
      stage2: {
        ...training(stage2, 'rft.stage2'),
        problems: check.optionalString(stage2.problems, 'rft.stage2.problems'),
        limit: check.optionalInteger(stage2.limit, 'rft.stage2.limit'),
        samples: check.integer(stage2.samples, 'rft.stage2.samples', 16, 1),
        temperature: check.number(stage2.temperature, 'rft.stage2.temperature', 0.6),
        hints: check.boolean(stage2.hints, 'rft.stage2.hints', false),
        thinkHints: check.integer(stage2.thinkHints, 'rft.stage2.thinkHints', 1, 0),
        perProblem: check.integer(stage2.perProblem, 'rft.stage2.perProblem', 1, 1),
        maxTokens: check.integer(stage2.maxTokens, 'rft.stage2.maxTokens', 4096, 1),
      },
    },
    eval: {
      benchmarks: check.strings(evaluation.benchmarks, 'eval.benchmarks'),
      data: check.optionalString(evaluation.data, 'eval.data'),
      samples: check.integer(evaluation.samples, 'eval.samples', 1, 1),
      modes: check.strings(evaluation.modes ?? ['no-tools', 'tools', 'hints'], 'eval.modes'),
      thinkHints: check.integer(evaluation.thinkHints, 'eval.thinkHints', 1, 1),
      limit: check.optionalInteger(evaluation.limit, 'eval.limit'),
      temperature: check.number(evaluation.temperature, 'eval.temperature', 0.6),
      maxTokens: check.integer(evaluation.maxTokens, 'eval.maxTokens', 4096, 1),
    },
  }
  if (config.eval.benchmarks.length === 0)
    check.fail('eval.benchmarks', 'at least one benchmark (a file, or a name with eval.data)')
  for (const mode of config.eval.modes) {
    if (!['no-tools', 'tools', 'hints'].includes(mode))
      check.fail('eval.modes', `no-tools, tools or hints, not "${mode}"`)
  }
  const known = [
    'run',
    'out',
    'model',
    'problems',
    'limit',
    'promptTemplate',
    'threads',
    'hintInfer',
    'filter',
    'rft',
    'eval',
  ]
  const unknown = Object.keys(root).find((key) => !known.includes(key))
  if (unknown) check.fail(unknown, `a known key (${known.join(', ')})`)
  return config
}

class Checker {
  constructor(private readonly file: string) {}

  fail(key: string, expected: string): never {
    throw new UsageError(`${this.file}: ${key || '(top level)'}: expected ${expected}`)
  }

  object(value: unknown, key: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(key, 'a mapping')
    return value as Record<string, unknown>
  }

  string(value: unknown, key: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(key, 'a non-empty string')
    return value as string
  }

  optionalString(value: unknown, key: string): string | undefined {
    return value === undefined ? undefined : this.string(value, key)
  }

  strings(value: unknown, key: string): string[] {
    if (value === undefined) return []
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
      this.fail(key, 'a list of strings')
    return value as string[]
  }

  number(value: unknown, key: string, fallback: number): number {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(key, 'a number >= 0')
    return value as number
  }

  integer(value: unknown, key: string, fallback: number, min: number): number {
    if (value === undefined) return fallback
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
      this.fail(key, `an integer >= ${min}`)
    return value as number
  }

  optionalInteger(value: unknown, key: string): number | undefined {
    return value === undefined ? undefined : this.integer(value, key, 1, 1)
  }

  boolean(value: unknown, key: string, fallback: boolean): boolean {
    if (value === undefined) return fallback
    if (typeof value !== 'boolean') this.fail(key, 'true or false')
    return value as boolean
  }

  oneOf(value: unknown, key: string, options: string[], fallback: string): string {
    if (value === undefined) return fallback
    if (typeof value !== 'string' || !options.includes(value)) this.fail(key, `one of ${options.join(', ')}`)
    return value as string
  }
}
