import { fileURLToPath } from 'node:url'
import { UsageError } from '../core/errors.js'
import { readJsonFile } from '../core/json-file.js'
import { type Hint, type HintLibrary, unknownPlaceholder } from '../hints/library.js'
import type { Random } from '../hints/policy.js'

/** A hint tried against its parent (the library hint it would join or replace). */
export interface Candidate extends Hint {
  parent: string
  origin: 'mutation' | 'proposer'
}

/** What `start hints evolve` rephrases hints from: openers, reasons by category, instructions by domain. */
export interface HintGrammar {
  openers: string[]
  reasons: Record<string, string[]>
  instructions: { math: string[]; code: string[] }
}

export const DEFAULT_GRAMMAR = fileURLToPath(new URL('../../hint-library/grammar.json', import.meta.url))

/** The shortest and longest hint a candidate may be (the shipped hints are 40-100 characters). */
const MIN_CHARS = 16
const MAX_CHARS = 200

/**
 * Why `text` cannot be a hint of `library`, or undefined. A hint must ask for the interpreter (Python,
 * code, a script: that is what it is for), must not carry a number or a boxed answer (nothing of a problem's answer may leak into every
 * trajectory), and may use no {placeholder}: the loop fills none.
 */
export function candidateProblem(
  text: string,
  library: HintLibrary,
  domain: 'math' | 'code' = 'math',
): string | undefined {
  const trimmed = text.trim()
  if (trimmed.length < MIN_CHARS) return `shorter than ${MIN_CHARS} characters`
  if (trimmed.length > MAX_CHARS) return `longer than ${MAX_CHARS} characters`
  if (/\\boxed|\d/.test(trimmed)) return 'carries a number or a boxed answer (an answer could leak)'
  const unknown = unknownPlaceholder(trimmed, domain)
  if (unknown !== undefined) return `placeholder {${unknown}} unknown to the library`
  if (!/\b(?:python|code|script)\b/i.test(trimmed))
    return 'does not ask for the interpreter (Python, code, a script)'
  const same = library.hints.find((hint) => normalized(hint.text) === normalized(trimmed))
  if (same) return `the same as ${same.id}`
  return undefined
}

const normalized = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim()

/** Checks a parsed grammar; returns what is wrong, or the grammar. */
export function parseGrammar(value: unknown): HintGrammar | { error: string } {
  if (typeof value !== 'object' || value === null) return { error: 'expected a JSON object' }
  const { openers, reasons, instructions } = value as Record<string, unknown>
  const strings = (list: unknown) =>
    Array.isArray(list) && list.length > 0 && list.every((item) => typeof item === 'string' && item.trim())
  if (!strings(openers)) return { error: '"openers" must be a non-empty list of strings' }
  if (typeof reasons !== 'object' || reasons === null)
    return { error: '"reasons" must map categories to lists' }
  for (const [category, list] of Object.entries(reasons)) {
    if (!strings(list)) return { error: `reasons.${category}: expected a non-empty list of strings` }
  }
  const { math, code } = (instructions ?? {}) as Record<string, unknown>
  if (!strings(math) || !strings(code)) {
    return { error: '"instructions" must have non-empty "math" and "code" lists of strings' }
  }
  return value as HintGrammar
}

export async function loadGrammar(file = DEFAULT_GRAMMAR): Promise<HintGrammar> {
  const value = await readJsonFile('--grammar', file)
  const grammar = parseGrammar(value)
  if ('error' in grammar) throw new UsageError(`--grammar ${file}: ${grammar.error}`)
  return grammar
}

/** The library's hints of a domain (its own and "any"), by category, in library order. */
export function categoriesOf(library: HintLibrary, domain: 'math' | 'code'): Map<string, Hint[]> {
  const categories = new Map<string, Hint[]>()
  for (const hint of library.hints) {
    if (hint.domain !== domain && hint.domain !== 'any') continue
    categories.set(hint.category, [...(categories.get(hint.category) ?? []), hint])
  }
  return categories
}

/**
 * Up to `perCategory` rephrasings of each category's hints from the grammar: every opener, reason (the
 * category's) and instruction (the domain's) combined, those the library has or refuses left out, then a
 * seeded draw. Each candidate's parent is a hint of its category, drawn too.
 */
export function mutations(
  library: HintLibrary,
  grammar: HintGrammar,
  options: { domain: 'math' | 'code'; perCategory: number; random: Random },
): Candidate[] {
  const candidates: Candidate[] = []
  const taken = new Set(library.hints.map((hint) => hint.id))
  for (const [category, hints] of categoriesOf(library, options.domain)) {
    const texts: string[] = []
    for (const opener of grammar.openers) {
      for (const instruction of grammar.instructions[options.domain]) {
        texts.push(`${opener} ${instruction}`)
        for (const reason of grammar.reasons[category] ?? [])
          texts.push(`${opener} ${reason}; ${instruction}`)
      }
    }
    const valid = texts.filter((text) => candidateProblem(text, library, options.domain) === undefined)
    for (const text of draw(valid, options.perCategory, options.random)) {
      const parent = hints[Math.floor(options.random() * hints.length)]!
      const id = freshId(`${category}-m`, taken)
      candidates.push({ id, category, domain: options.domain, text, parent: parent.id, origin: 'mutation' })
    }
  }
  return candidates
}

/** `count` items of `items` without repeats, in a seeded order. */
function draw<T>(items: T[], count: number, random: Random): T[] {
  const pool = [...items]
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, count)
}

/** `prefix` + the first number that no hint or earlier candidate has taken (and takes it). */
export function freshId(prefix: string, taken: Set<string>): string {
  let n = 1
  while (taken.has(`${prefix}${n}`)) n++
  taken.add(`${prefix}${n}`)
  return `${prefix}${n}`
}

/** What the proposer is shown of a category: its hints, best first, with their measured efficacy. */
export interface RatedHint {
  hint: Hint
  /** Share of continuations that ran code / were correct, when measured. */
  code?: number
  correct?: number
}

/**
 * The proposer's meta-prompt for one category: the best and worst hints with their measured efficacy,
 * what a hint is for and what it must not do, and the answer's form (one hint per line).
 */
export function proposerPrompt(
  category: string,
  domain: 'math' | 'code',
  rated: RatedHint[],
  count: number,
): string {
  const shown = (rated.length > 4 ? [...rated.slice(0, 2), ...rated.slice(-2)] : rated).map(
    ({ hint, code, correct }) => {
      const measured =
        code === undefined || correct === undefined
          ? 'not measured yet'
          : `followed by code ${(code * 100).toFixed(0)}%, correct ${(correct * 100).toFixed(0)}%`
      return `- "${hint.text}" (${measured})`
    },
  )
  return [
    `A reasoning model solving ${domain === 'math' ? 'math problems' : 'programming problems'} is interrupted while it thinks, and a short sentence (a hint) is inserted into its thoughts to make it use a Python interpreter.`,
    `Hints of the kind "${category}", best first:`,
    ...shown,
    `Write ${count} new hints of this kind that would make the model write and run Python code more often and reach correct answers. Each hint is one sentence in the model's own voice, starts with "Wait," or "Hmm," or "Alternatively,", mentions Python, and contains no numbers, no answers and no placeholders.`,
    'Answer with one hint per line and nothing else.',
  ].join('\n')
}

/**
 * The usable hints in a proposer's answer: one per line, bullets, numbering and quotes stripped, each
 * checked as any candidate (and against those taken before it); at most `count`.
 */
export function parseProposals(
  answer: string,
  library: HintLibrary,
  count: number,
  domain: 'math' | 'code' = 'math',
): { texts: string[]; refused: { text: string; reason: string }[] } {
  const texts: string[] = []
  const refused: { text: string; reason: string }[] = []
  const seen: HintLibrary = { ...library, hints: [...library.hints] }
  for (const line of answer.split('\n')) {
    const text = line
      .replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '')
      .trim()
      .replace(/^["“']+|["”']+$/g, '')
      .trim()
    if (!text) continue
    const reason = candidateProblem(text, seen, domain)
    if (reason) {
      refused.push({ text, reason })
      continue
    }
    texts.push(text)
    seen.hints.push({ id: `#${texts.length}`, category: '', domain: 'any', text })
    if (texts.length === count) break
  }
  return { texts, refused }
}
