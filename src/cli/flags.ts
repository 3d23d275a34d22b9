import { Flags } from '@oclif/core'
import {
  flagName,
  type OptionLayer,
  type OptionSpec,
  type OptionSpecs,
  type OptionValues,
  resolveOptions,
} from '../core/options.js'
import { type ConfigSection, configLayers, loadConfig, type PipelineConfig } from '../pipeline/config.js'

/**
 * oclif flags built from a stage's option declarations. They carry no oclif default: a flag the user
 * did not give is undefined, so the config (`--config`) can fill it before the declared default does.
 */
// biome-ignore lint/suspicious/noExplicitAny: oclif's flag types differ per kind; values are read through settingsFrom
export function flagsFor(specs: OptionSpecs): Record<string, any> {
  return Object.fromEntries(Object.entries(specs).map(([key, spec]) => [flagName(key), flagFor(spec)]))
}

function flagFor(spec: OptionSpec) {
  const noDefault = spec.default === undefined || (Array.isArray(spec.default) && spec.default.length === 0)
  const description = noDefault
    ? spec.description
    : `${spec.description} [default: ${Array.isArray(spec.default) ? spec.default.join(',') : spec.default}]`
  const char = spec.char as 'k' | undefined
  if (spec.kind === 'boolean') return Flags.boolean({ description, char })
  // Repeatable, one value each time: a greedy list flag would swallow the positional arguments after it.
  if (spec.kind === 'list')
    return Flags.string({ description, char, multiple: true, multipleNonGreedy: true })
  const options = spec.kind === 'string' && spec.options ? ` (${spec.options.join(', ')})` : ''
  return Flags.string({ description: `${description}${options}`, char })
}

/** The flags the user gave, as a layer over the config and the defaults. */
export function flagLayer(flags: Record<string, unknown>): OptionLayer {
  const values: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(flags)) {
    const key = name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())
    values[key] = value
  }
  return { values, where: (key) => `--${flagName(key)}` }
}

/** The `--config` flag of every stage command. */
export const configFlag = {
  config: Flags.string({
    description: 'take the settings from this pipeline config (YAML/JSON); flags given here win',
  }),
}

/** A stage's settings: the flags given, then the config's section and top level, then the defaults. */
export function settingsFrom<T extends OptionSpecs>(
  specs: T,
  flags: Record<string, unknown>,
  config?: { config: PipelineConfig; section: ConfigSection },
): OptionValues<T> {
  const layers = [flagLayer(flags)]
  if (config) layers.push(...configLayers(config.config, config.section))
  return resolveOptions(specs, layers)
}

export function configFrom(flags: { config?: string }): PipelineConfig | undefined {
  return flags.config ? loadConfig(flags.config) : undefined
}
