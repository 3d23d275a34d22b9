import { fileURLToPath } from 'node:url'
import { UsageError } from '../core/errors.js'
import { readJsonFile } from '../core/json-file.js'

export interface Hint {
  id: string
  category: string
  /** Which problems it suits: math, code, or any. */
  domain: 'math' | 'code' | 'any'
  text: string
  /** What `start hints evolve` measured where it was inserted. */
  efficacy?: HintEfficacy
  /** For a hint `start hints evolve` admitted: the parent it beat and the test's verdict. */
  admitted?: { parent: string; reason: string; pValue: number; adjustedP: number }
}

/** A rate with its 95% interval (bootstrap over prefixes: a prefix's continuations are not independent). */
export interface Rate {
  rate: number
  low: number
  high: number
}

/** What a hint did where it was inserted: code run after it, correct answers. */
export interface HintEfficacy {
  code: Rate
  correct: Rate
  prefixes: number
  continuations: number
}

export interface HintLibrary {
  name: string
  hints: Hint[]
  /** Written by `start hints evolve`: its generation (the shipped library is 0), the file it came from. */
  generation?: number
  parent?: string
}

/** The placeholders a hint may hold, filled at insertion from the problem: `{tests}`, its sample tests. */
export const HINT_PLACEHOLDERS = ['tests'] as const
export type HintValues = Partial<Record<(typeof HINT_PLACEHOLDERS)[number], string>>

const PLACEHOLDER = /\{([^{}]*)\}/g

/** The `{name}` placeholders of a hint's text. */
function placeholdersOf(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!)
}

/** The first placeholder a hint of `domain` may not hold (only a code hint may hold `{tests}`), if any. */
export function unknownPlaceholder(text: string, domain: Hint['domain']): string | undefined {
  return placeholdersOf(text).find(
    (name) => !(HINT_PLACEHOLDERS as readonly string[]).includes(name) || domain !== 'code',
  )
}

/** Whether every placeholder of `hint` has a value here (a `{tests}` hint needs a problem with examples). */
export function fillable(hint: Hint, values: HintValues): boolean {
  return placeholdersOf(hint.text).every((name) => values[name as keyof HintValues] !== undefined)
}

/** `text` with each placeholder that has a value here replaced by it. */
export function fillPlaceholders(text: string, values: HintValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values[name as keyof HintValues] ?? whole)
}

export const DEFAULT_LIBRARY = fileURLToPath(new URL('../../hint-library/start.json', import.meta.url))

/** Checks a parsed library; returns what is wrong, or the library. */
export function parseHintLibrary(value: unknown): HintLibrary | { error: string } {
  if (typeof value !== 'object' || value === null) return { error: 'expected a JSON object' }
  const { name, hints } = value as { name?: unknown; hints?: unknown }
  if (typeof name !== 'string' || !name) return { error: 'missing "name"' }
  if (!Array.isArray(hints) || hints.length === 0) return { error: '"hints" must be a non-empty array' }
  const ids = new Set<string>()
  for (const [index, hint] of hints.entries()) {
    const at = `hints[${index}]`
    if (typeof hint !== 'object' || hint === null) return { error: `${at}: expected an object` }
    const { id, category, domain, text } = hint as Record<string, unknown>
    if (typeof id !== 'string' || !id) return { error: `${at}: missing "id"` }
    if (ids.has(id)) return { error: `${at}: duplicate id "${id}"` }
    ids.add(id)
    if (typeof category !== 'string' || !category) return { error: `${at}: missing "category"` }
    if (domain !== 'math' && domain !== 'code' && domain !== 'any') {
      return { error: `${at}: "domain" must be "math", "code" or "any"` }
    }
    if (typeof text !== 'string' || !text.trim()) return { error: `${at}: missing "text"` }
    const unknown = unknownPlaceholder(text, domain)
    if (unknown !== undefined) {
      return {
        error: `${at}: placeholder {${unknown}} unknown (a code hint may hold {tests}: the problem's sample tests)`,
      }
    }
    const { efficacy } = hint as { efficacy?: unknown }
    if (efficacy !== undefined && !isEfficacy(efficacy)) {
      return { error: `${at}: "efficacy" needs "code" and "correct" rates between 0 and 1` }
    }
  }
  const { generation } = value as { generation?: unknown }
  if (generation !== undefined && !(Number.isInteger(generation) && (generation as number) >= 0)) {
    return { error: '"generation" must be a whole number' }
  }
  return value as HintLibrary
}

function isEfficacy(value: unknown): boolean {
  const rate = (item: unknown) => {
    const figure = (item as Rate | undefined)?.rate
    return typeof figure === 'number' && figure >= 0 && figure <= 1
  }
  const { code, correct } = (value ?? {}) as Record<string, unknown>
  return typeof value === 'object' && rate(code) && rate(correct)
}

export async function loadHintLibrary(file = DEFAULT_LIBRARY): Promise<HintLibrary> {
  const value = await readJsonFile('--hints', file)
  const library = parseHintLibrary(value)
  if ('error' in library) {
    throw new UsageError(`--hints ${file}: ${library.error}`, 'see hint-library/start.json for the format')
  }
  return library
}
