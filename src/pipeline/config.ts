import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { UsageError } from '../core/errors.js'
import {
  checkOption,
  type OptionLayer,
  type OptionSpecs,
  type OptionValues,
  resolveOptions,
} from '../core/options.js'
import { EVAL_MODES, EVAL_OPTIONS } from '../eval/options.js'
import { EVOLVE_OPTIONS } from '../evolve/options.js'
import { FILTER_OPTIONS } from '../filter/options.js'
import { STEP_RULES } from '../filter/types.js'
import { BACKEND_OPTIONS, HINT_INFER_OPTIONS, SAMPLING_OPTIONS } from '../inference/options.js'
import { RFT_OPTIONS } from '../rft/options.js'
import { RL_OPTIONS } from '../rl/options.js'
import { SANDBOX_OPTIONS } from '../sandbox/options.js'
import { SWIRL_OPTIONS } from '../swirl/options.js'
import { TRAINING_OPTIONS } from '../training/options.js'

/**
 * `start.config.yaml` / `.json`: the whole START loop in one file. Each section takes the options of its
 * stage's command under their camelCase names (`maxTokens` for `--max-tokens`), declared once in the
 * stage's `options.ts`; sampling options at the top level are the defaults of every sampling section,
 * `sandbox:` holds the sandbox limits of every stage, and `backend:` where the sampling stages run the
 * model (in process, or a served model). Paths are relative to the file.
 */
export interface PipelineConfig {
  file: string
  /** Run id prefix: every stage's run is `<run>-<stage>`. */
  run: string
  /** Where everything goes. */
  out: string
  /** The base model (GGUF). */
  model: string
  /** Problems whose hinted and plain trajectories make D_seed. */
  problems: string
  /** Only the first N problems. */
  limit?: number
  /** Stage 2's problem pool (default: `problems`) and its first-N cut. */
  pool: { problems: string; limit?: number }
  /** Each section's values as written (paths resolved), checked against the stage's options. */
  sections: Record<ConfigSection, Record<string, unknown>>
  /** The sampling options given at the top level. */
  top: Record<string, unknown>
  /** The config has an `rl:` section: the pipeline runs `start rl` from START-0 and evaluates its policy. */
  rl: boolean
  /** The config has a `swirl:` section: the pipeline trains step-wise (SWiRL) models and evaluates them. */
  swirl: boolean
}

/** One section of the config: where it sits (`rft.stage1` is `stage1:` under `rft:`) and what it takes. */
interface SectionSpec {
  name: string
  options: OptionSpecs
  /** A sampling section: the top level's sampling options and `backend:` are its defaults. */
  sampling?: boolean
  /** Keys the section takes beside its stage's options. */
  extraKeys?: readonly string[]
  /** A section read by a command outside the pipeline's stages (with --config), not by a stage. */
  command?: string
}

/**
 * The config's sections, each with its stage's options: the one list the parser, the checks and the
 * layering read (adding a stage's section is one entry here).
 */
export const CONFIG_SECTIONS = [
  { name: 'hintInfer', options: HINT_INFER_OPTIONS, sampling: true },
  { name: 'filter', options: FILTER_OPTIONS },
  { name: 'rft.stage1', options: TRAINING_OPTIONS },
  // stage 2's own pool of problems, and its first-N cut
  { name: 'rft.stage2', options: RFT_OPTIONS, sampling: true, extraKeys: ['problems', 'limit'] },
  { name: 'eval', options: EVAL_OPTIONS, sampling: true },
  { name: 'sandbox', options: SANDBOX_OPTIONS },
  { name: 'backend', options: BACKEND_OPTIONS },
  { name: 'rl', options: RL_OPTIONS, sampling: true },
  { name: 'swirl', options: SWIRL_OPTIONS },
  { name: 'hints', options: EVOLVE_OPTIONS, sampling: true, command: 'start hints evolve' },
] as const satisfies readonly SectionSpec[]
export type ConfigSection = (typeof CONFIG_SECTIONS)[number]['name']

const sectionSpec = (name: ConfigSection): SectionSpec => CONFIG_SECTIONS.find((spec) => spec.name === name)!
/** The top-level keys: the pipeline's own, then each section's (or the mapping that holds it). */
const PIPELINE_KEYS = [
  ...['run', 'out', 'model', 'problems', 'limit'],
  ...new Set(CONFIG_SECTIONS.map((spec) => spec.name.split('.')[0]!)),
]

/** Reads, checks and resolves a config file; every error names the file and the key. */
export function loadConfig(file: string): PipelineConfig {
  if (!existsSync(file)) throw new UsageError(`--config ${file}: no such file`)
  return parseConfig(readFileSync(file, 'utf8'), file)
}

/** Parses and checks a config's text; `file` names it in errors and anchors its relative paths. */
export function parseConfig(text: string, file: string): PipelineConfig {
  let raw: unknown
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new UsageError(`${file}: cannot parse (${(error as Error).message.split('\n')[0]})`)
  }
  const fail = (key: string, expected: string): never => {
    throw new UsageError(`${file}: ${key || '(top level)'}: expected ${expected}`)
  }
  const mapping = (value: unknown, key: string): Record<string, unknown> => {
    if (value === undefined) return {}
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(key, 'a mapping')
    return value as Record<string, unknown>
  }
  const root = mapping(raw ?? fail('', 'a mapping'), '')
  const known = [...PIPELINE_KEYS, ...Object.keys(SAMPLING_OPTIONS)]
  const unknown = Object.keys(root).find((key) => !known.includes(key))
  if (unknown) fail(unknown, `a known key (${PIPELINE_KEYS.join(', ')}, or a sampling option)`)

  const at = anchor(dirname(file))
  const text_ = (key: string, value: unknown) =>
    checkOption({ kind: 'string', description: '' }, value, `${file}: ${key}`) as string
  const count = (key: string, value: unknown) =>
    value === undefined
      ? undefined
      : (checkOption({ kind: 'integer', min: 1, description: '' }, value, `${file}: ${key}`) as number)

  // A section under a mapping (rft.stage1) is read from that mapping, whose other keys are errors.
  const written = {} as Record<ConfigSection, Record<string, unknown>>
  for (const { name } of CONFIG_SECTIONS) {
    const [outer, inner] = name.split('.') as [string, string | undefined]
    if (!inner) {
      written[name] = mapping(root[outer], name)
      continue
    }
    const holder = mapping(root[outer], outer)
    const nested = CONFIG_SECTIONS.filter((spec) => spec.name.startsWith(`${outer}.`))
    const stray = Object.keys(holder).find((key) => !nested.some((spec) => spec.name === `${outer}.${key}`))
    if (stray) fail(`${outer}.${stray}`, nested.map((spec) => spec.name.split('.')[1]).join(' or '))
    written[name] = mapping(holder[inner], name)
  }
  const top = Object.fromEntries(Object.entries(root).filter(([key]) => key in SAMPLING_OPTIONS))
  const sections = {} as Record<ConfigSection, Record<string, unknown>>
  for (const { name: section, options: specs, ...spec } of CONFIG_SECTIONS) {
    const extra: readonly string[] = 'extraKeys' in spec ? spec.extraKeys : []
    const values = written[section]
    const stray = Object.keys(values).find((key) => !(key in specs) && !extra.includes(key))
    if (stray) fail(`${section}.${stray}`, `an option of this section (${Object.keys(specs).join(', ')})`)
    sections[section] = resolvePaths(specs, values, at)
  }
  const config: PipelineConfig = {
    file,
    run: text_('run', root.run),
    out: at(text_('out', root.out)),
    model: atModel(at, text_('model', root.model)),
    problems: at(text_('problems', root.problems)),
    limit: count('limit', root.limit),
    pool: {
      problems: at(
        written['rft.stage2'].problems === undefined
          ? text_('problems', root.problems)
          : text_('rft.stage2.problems', written['rft.stage2'].problems),
      ),
      limit: count('rft.stage2.limit', written['rft.stage2'].limit),
    },
    sections,
    top: resolvePaths(SAMPLING_OPTIONS, top, at),
    rl: root.rl !== undefined,
    swirl: root.swirl !== undefined,
  }
  // Check every value now, so a bad one is named before any stage runs.
  for (const { name, options } of CONFIG_SECTIONS)
    if (name !== 'eval') resolveOptions(options, configLayers(config, name))
  const evaluation = resolveOptions(EVAL_OPTIONS, configLayers(config, 'eval'))
  if (!evaluation.benchmarks?.length)
    fail('eval.benchmarks', 'at least one benchmark (a file, or a name with eval.data)')
  const rule = resolveOptions(SWIRL_OPTIONS, configLayers(config, 'swirl')).rules.find(
    (name) => !(STEP_RULES as readonly string[]).includes(name),
  )
  if (rule) fail('swirl.rules', `${STEP_RULES.join(', ')}, not "${rule}"`)
  if (sections.rl.noExport === true) {
    throw new UsageError(
      `${file}: rl.noExport: the pipeline evaluates the RL policy as a GGUF`,
      'remove the key (start rl --no-export runs without one)',
    )
  }
  for (const mode of evaluation.modes) {
    if (!(EVAL_MODES as readonly string[]).includes(mode))
      fail('eval.modes', `${EVAL_MODES.slice(0, -1).join(', ')} or ${EVAL_MODES.at(-1)}, not "${mode}"`)
  }
  return config
}

/** A stage's settings from the config: its section, the top level, the sandbox section, the defaults. */
export function stageSettings<T extends OptionSpecs>(
  config: PipelineConfig,
  section: ConfigSection,
  specs: T,
): OptionValues<T> {
  return resolveOptions(specs, configLayers(config, section))
}

/**
 * The layers a stage reads from a config, most specific first: its section, then (for sampling stages)
 * the top level and the `backend:` section, then the `sandbox:` section. A command puts its explicit
 * flags in front.
 */
export function configLayers(config: PipelineConfig, section: ConfigSection): OptionLayer[] {
  const layer = (at: ConfigSection): OptionLayer => ({
    values: config.sections[at],
    where: (key) => `${config.file}: ${at}.${key}`,
  })
  const layers = [layer(section)]
  if (sectionSpec(section).sampling) {
    layers.push({ values: config.top, where: (key) => `${config.file}: ${key}` })
    layers.push(layer('backend'))
  }
  if (section !== 'sandbox') layers.push(layer('sandbox'))
  return layers
}

function anchor(base: string): (path: string) => string {
  return (path) => (isAbsolute(path) ? path : resolve(base, path))
}

/** A model URI (hf:user/repo) stays as written; a file is relative to the config. */
function atModel(at: (path: string) => string, model: string): string {
  return /^[a-z]+:/.test(model) ? model : at(model)
}

/** Path options made relative to the config file; a bare name (a benchmark name) stays a name. */
function resolvePaths(
  specs: OptionSpecs,
  values: Record<string, unknown>,
  at: (path: string) => string,
): Record<string, unknown> {
  const looksLikePath = (value: string) => value.includes('/') || /\.\w+$/.test(value)
  const resolved = { ...values }
  for (const [key, value] of Object.entries(values)) {
    if (!specs[key]?.path) continue
    if (typeof value === 'string' && looksLikePath(value)) resolved[key] = at(value)
    else if (Array.isArray(value))
      resolved[key] = value.map((item) => (typeof item === 'string' && looksLikePath(item) ? at(item) : item))
  }
  return resolved
}
