import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { flagName, type OptionSpec, type OptionSpecs } from '../core/options.js'
import { EVAL_OPTIONS } from '../eval/options.js'
import { EVOLVE_OPTIONS } from '../evolve/options.js'
import { EXPORT_OPTIONS } from '../export/options.js'
import { FILTER_OPTIONS } from '../filter/options.js'
import { GRADING_OPTIONS } from '../grading/options.js'
import { HINT_OPTIONS } from '../hints/options.js'
import { BACKEND_OPTIONS, SAMPLING_OPTIONS } from '../inference/options.js'
import { SERVER_OPTIONS } from '../llama-server/options.js'
import { CONFIG_SECTIONS } from '../pipeline/config.js'
import { PIPELINE_STAGES } from '../pipeline/stages.js'
import { RFT_OPTIONS } from '../rft/options.js'
import { RL_OPTIONS } from '../rl/options.js'
import { SANDBOX_JOB_OPTIONS, SANDBOX_OPTIONS, SANDBOX_SERVE_OPTIONS } from '../sandbox/options.js'
import { JUDGE_OPTIONS, SWIRL_OPTIONS } from '../swirl/options.js'
import { TRAINING_OPTIONS } from '../training/options.js'

/**
 * The option tables of the command pages (docs/commands/*.md), one per group, generated from the
 * declarations (`npm run docs`); a test checks the pages hold exactly these, so their defaults cannot drift
 * from the code's.
 */
export const OPTION_GROUPS: Record<string, OptionSpecs> = {
  sandbox: SANDBOX_OPTIONS,
  'sandbox-job': SANDBOX_JOB_OPTIONS,
  sampling: SAMPLING_OPTIONS,
  hints: HINT_OPTIONS,
  backend: BACKEND_OPTIONS,
  grading: Object.fromEntries(Object.entries(GRADING_OPTIONS).filter(([key]) => !(key in SANDBOX_OPTIONS))),
  filter: FILTER_OPTIONS,
  training: TRAINING_OPTIONS,
  'rft-stage-2': Object.fromEntries(
    Object.entries(RFT_OPTIONS).filter(([key]) => !(key in TRAINING_OPTIONS) && !(key in SAMPLING_OPTIONS)),
  ),
  server: SERVER_OPTIONS,
  rl: RL_OPTIONS,
  'sandbox-serve': SANDBOX_SERVE_OPTIONS,
  judge: JUDGE_OPTIONS,
  swirl: Object.fromEntries(Object.entries(SWIRL_OPTIONS).filter(([key]) => !(key in TRAINING_OPTIONS))),
  export: EXPORT_OPTIONS,
  evolve: Object.fromEntries(
    Object.entries(EVOLVE_OPTIONS).filter(
      ([key]) => !(key in SAMPLING_OPTIONS && key !== 'temperature') && !(key in HINT_OPTIONS),
    ),
  ),
  eval: Object.fromEntries(
    Object.entries(EVAL_OPTIONS).filter(([key]) => !(key in SAMPLING_OPTIONS) || key === 'samples'),
  ),
}

/** Groups that are config sections only, with no command flags. */
const CONFIG_ONLY = new Set(['swirl'])

export function formatDefault(spec: OptionSpec): string {
  const value = spec.default
  if (value === undefined) return '-'
  if (typeof value === 'boolean') return value ? 'on' : 'off'
  if (Array.isArray(value)) return value.length === 0 ? 'none' : `\`${value.join(',')}\``
  if (typeof value === 'string') {
    const text = value.replaceAll('\n', '\\n').replaceAll('|', '\\|')
    return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``
  }
  return String(value)
}

/** A markdown table: flag (config key), default, meaning. */
export function optionTable(specs: OptionSpecs, configOnly = false): string {
  const rows = Object.entries(specs).map(([key, spec]) => {
    const flag = configOnly ? '-' : `\`--${flagName(key)}\`${spec.char ? ` (\`-${spec.char}\`)` : ''}`
    const values = spec.kind === 'string' && spec.options ? ` (${spec.options.join(', ')})` : ''
    return `| ${flag} | \`${key}\` | ${formatDefault(spec)} | ${spec.description.replaceAll('|', '\\|')}${values} |`
  })
  return ['| flag | config key | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

/**
 * The pipeline's stages in order, from the stage registry: each stage's config section and whether it
 * always runs; then the sections no one stage owns.
 */
export function stagesTable(): string {
  const rows = PIPELINE_STAGES.map((stage) => {
    const section = 'section' in stage ? `\`${stage.section}:\`` : '-'
    const runs = 'when' in stage ? `with a ${section} section` : 'always'
    return `| \`${stage.id}\` | ${section} | ${runs} | ${stage.does} |`
  })
  const owned = new Set<string>(
    PIPELINE_STAGES.flatMap((stage) => ('section' in stage ? [stage.section] : [])),
  )
  const unowned = CONFIG_SECTIONS.filter((section) => !owned.has(section.name))
  const shared = unowned.filter((section) => !('command' in section))
  const commands = unowned.flatMap((section) =>
    'command' in section ? [`\`${section.name}:\` (\`${section.command} --config\`)`] : [],
  )
  return [
    '| stage | config section | runs | what it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
    `Read by every stage that runs them: ${shared.map((section) => `\`${section.name}:\``).join(', ')}.`,
    ...(commands.length > 0 ? ['', `Read by a command outside the pipeline: ${commands.join(', ')}.`] : []),
  ].join('\n')
}

/**
 * Replaces the body of every generated block of a markdown text: `<!-- options: NAME -->` ...
 * `<!-- /options -->` (an option group's table) and `<!-- stages -->` ... `<!-- /stages -->`.
 */
export function renderOptionTables(markdown: string): string {
  return markdown
    .replace(/<!-- options: ([\w-]+) -->[\s\S]*?<!-- \/options -->/g, (_, name: string) => {
      const specs = OPTION_GROUPS[name]
      if (!specs) throw new Error(`no option group "${name}"`)
      return `<!-- options: ${name} -->\n${optionTable(specs, CONFIG_ONLY.has(name))}\n<!-- /options -->`
    })
    .replace(
      /<!-- stages -->[\s\S]*?<!-- \/stages -->/g,
      () => `<!-- stages -->\n${stagesTable()}\n<!-- /stages -->`,
    )
}

/** The markdown files that may hold option tables: the README and every page under docs/. */
export function optionDocFiles(root: string): string[] {
  const pages = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .sort()
  return ['README.md', ...pages.map((name) => join('docs', name))].map((name) => join(root, name))
}
