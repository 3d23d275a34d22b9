import { UsageError } from './errors.js'

/**
 * One stage option, declared once in the stage's `options.ts`: its type, default and description.
 * The command flags (`src/cli/flags.ts`) and the pipeline config (`src/pipeline/config.ts`) are both
 * built from these declarations, so a default changed here changes every entry point.
 */
interface OptionBase {
  description: string
  /** One-letter flag alias. */
  char?: string
  /** A file, folder or glob: relative to the config file when a config gives it (names without a slash stay names). */
  path?: boolean
}

export type OptionSpec =
  | (OptionBase & { kind: 'integer'; default?: number; min?: number; max?: number })
  | (OptionBase & { kind: 'number'; default?: number; min?: number; max?: number })
  | (OptionBase & { kind: 'string'; default?: string; options?: readonly string[] })
  | (OptionBase & { kind: 'boolean'; default?: boolean })
  /** Repeatable flag / YAML list; `split` also splits each flag value on commas. */
  | (OptionBase & { kind: 'list'; default?: readonly string[]; split?: boolean })

export type OptionSpecs = Record<string, OptionSpec>

type ValueOf<S> = S extends { kind: 'integer' | 'number' }
  ? number
  : S extends { kind: 'boolean' }
    ? boolean
    : S extends { kind: 'list' }
      ? string[]
      : S extends { options: readonly (infer O)[] }
        ? O
        : string

/** The resolved values of a set of options: an option with a default always has a value. */
export type OptionValues<T extends OptionSpecs> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined
}

/** `maxTokens` -> `max-tokens`: the flag of a config key. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
}

/** What a value must be, for error messages. */
export function expectation(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'integer':
      return spec.max === undefined
        ? `an integer >= ${spec.min ?? 0}`
        : `an integer from ${spec.min ?? 0} to ${spec.max}`
    case 'number':
      return spec.max === undefined
        ? `a number >= ${spec.min ?? 0}`
        : `a number from ${spec.min ?? 0} to ${spec.max}`
    case 'string':
      return spec.options ? `one of ${spec.options.join(', ')}` : 'a non-empty string'
    case 'boolean':
      return 'true or false'
    case 'list':
      return 'a list of strings'
  }
}

/**
 * Checks one value given for an option: text from a flag, or a YAML/JSON value from a config file.
 * `where` names it in the error (`--max-tokens 0`, or `start.config.yaml: eval.maxTokens`).
 */
export function checkOption(spec: OptionSpec, value: unknown, where: string): unknown {
  const fail = (): never => {
    const shown = typeof value === 'string' && where.startsWith('--') ? `${where} ${value}` : where
    throw new UsageError(`${shown}: expected ${expectation(spec)}`)
  }
  switch (spec.kind) {
    case 'integer':
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
      if (typeof number !== 'number' || !Number.isFinite(number)) return fail()
      if (spec.kind === 'integer' && !Number.isInteger(number)) return fail()
      if (number < (spec.min ?? 0)) return fail()
      if (spec.max !== undefined && number > spec.max) return fail()
      return number
    }
    case 'string':
      if (typeof value !== 'string' || value.trim() === '') return fail()
      if (spec.options && !spec.options.includes(value)) return fail()
      return value
    case 'boolean':
      if (typeof value !== 'boolean') return fail()
      return value
    case 'list': {
      const items = typeof value === 'string' ? [value] : value
      if (!Array.isArray(items) || items.some((item) => typeof item !== 'string')) return fail()
      const strings = items as string[]
      return spec.split
        ? strings.flatMap((item) => item.split(',').map((part) => part.trim())).filter(Boolean)
        : strings
    }
  }
}

/** Where a layer of values came from, to name a bad one. */
export interface OptionLayer {
  values: Record<string, unknown>
  /** How the user wrote `key` in this layer, e.g. `--max-tokens` or `start.config.yaml: eval.maxTokens`. */
  where: (key: string) => string
}

/**
 * Each option's value from the first layer that sets it (flags before the config section before the
 * config's top level), else its default; every value checked against its declaration.
 */
export function resolveOptions<T extends OptionSpecs>(specs: T, layers: OptionLayer[]): OptionValues<T> {
  const values: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(specs)) {
    const layer = layers.find((candidate) => candidate.values[key] !== undefined)
    values[key] = layer ? checkOption(spec, layer.values[key], layer.where(key)) : copyDefault(spec.default)
  }
  return values as OptionValues<T>
}

/** The defaults alone. */
export function defaultOptions<T extends OptionSpecs>(specs: T): OptionValues<T> {
  return resolveOptions(specs, [])
}

function copyDefault(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value
}

/** The same options with other defaults (e.g. stage 2 samples 16 per problem where hint-infer samples 1). */
export function withDefaults<T extends OptionSpecs>(
  specs: T,
  defaults: Partial<Record<keyof T, number | string | boolean | readonly string[]>>,
): T {
  const result: OptionSpecs = { ...specs }
  for (const [key, value] of Object.entries(defaults))
    result[key] = { ...specs[key]!, default: value } as OptionSpec
  return result as T
}
