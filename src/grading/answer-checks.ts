import { normalizeAnswer, splitTopLevel } from './normalize-answer.js'

/**
 * Why an answer is wrong whatever its value, before any comparison: it qualifies its value
 * (`\text{at least } 9`), offers several candidates where the reference is one value, or names a unit
 * other than the reference's. Undefined when none applies. Pure.
 */
export function answerRefusal(
  predicted: string,
  reference: string,
): 'qualified' | 'hedged' | 'unit' | undefined {
  const qualifier = qualifierIn(predicted)
  if (qualifier && qualifierIn(reference) !== qualifier) return 'qualified'
  if (
    candidateCount(predicted) > 1 &&
    candidateCount(reference) === 1 &&
    !/[([]/.test(normalizeAnswer(reference))
  )
    return 'hedged'
  const [p, r] = [unitOf(predicted), unitOf(reference)]
  if (p && r && !sameUnit(p, r)) return 'unit'
  return undefined
}

/** Words that bound, negate or doubt a value, inside an answer or right beside it (`at least \boxed{40}`). */
export const BOUND_WORDS = String.raw`not|never|at\s+(?:least|most)|(?:more|less|fewer|greater|smaller|larger|bigger)\s+than|up\s+to|approx(?:imately)?|about|around|roughly|nearly|almost|maybe|perhaps|possibly|probably|likely`

/** Words that bound a value from after it: `40 or more`, `$40$ or so`, `give or take`. */
export const TRAILING_BOUND_WORDS = String.raw`or\s+(?:more|less|fewer|so|above|below|higher|lower|greater|smaller|thereabouts)|give\s+or\s+take|more\s+or\s+less`

/**
 * Words that bound, negate, doubt or condition a value (`\text{not } 6`, `at least 40`, `40 or so`, `120
 * \text{ is impossible}`, `C. \text{(possibly D)}`): an answer so worded does not state the value.
 */
const QUALIFIER = new RegExp(
  String.raw`\b(?:${BOUND_WORDS}|${TRAILING_BOUND_WORDS}|cannot|can't|isn't|impossible|no\s+(?:more|less|fewer)|between|either|unless|if|otherwise|except)\b`,
  'i',
)

/** The qualifying word of an answer, lower-cased with single spaces; undefined when it has none. */
export function qualifierIn(answer: string): string | undefined {
  const words = answer.replace(/\\[a-zA-Z]+/g, ' ')
  return QUALIFIER.exec(words)?.[0].toLowerCase().replace(/\s+/g, ' ')
}

/** How many candidates an answer names at its top level: `1, 2` and `2 \text{ or } 3` name two; `(1, 2)` one. */
function candidateCount(answer: string): number {
  const normalized = normalizeAnswer(answer)
  const inner = /^\\\{(.*)\\\}$/.exec(normalized)?.[1] ?? normalized
  return splitTopLevel(inner, ',').length + (splitTopLevel(inner, '\\pm').length - 1)
}

/** Each unit's spellings, to one canonical name. Plurals ("inches", "cents") reduce to these. */
const UNIT_NAMES: Record<string, string> = {
  in: 'inch',
  inch: 'inch',
  inche: 'inch',
  ft: 'foot',
  foot: 'foot',
  feet: 'foot',
  yd: 'yard',
  mi: 'mile',
  cm: 'centimeter',
  centimetre: 'centimeter',
  mm: 'millimeter',
  millimetre: 'millimeter',
  m: 'meter',
  metre: 'meter',
  km: 'kilometer',
  kilometre: 'kilometer',
  s: 'second',
  sec: 'second',
  min: 'minute',
  h: 'hour',
  hr: 'hour',
  yr: 'year',
  g: 'gram',
  kg: 'kilogram',
  lb: 'pound',
  oz: 'ounce',
  l: 'liter',
  litre: 'liter',
  ml: 'milliliter',
  gal: 'gallon',
  deg: 'degree',
  rad: 'radian',
  '¢': 'cent',
  usd: 'dollar',
}

/** Words after a value that name no unit: the answer's own words around it. */
const NOT_UNITS = /^(?:and|or|of|the|a|an|is|are|total|in|per|each|only|exactly|units?)$/

/**
 * The unit an answer gives its value, canonical (`inch^2`, `degree`, `dollar`, `cent`); undefined when it
 * names none or is not a value with a unit (a text answer such as `\text{Evelyn}` has none).
 */
export function unitOf(answer: string): string | undefined {
  const s = answer.trim().replace(/^\$+|\$+$/g, '')
  if (!/\d/.test(s)) return undefined
  if (/\^\s*\{?\s*\\circ|°|\\degree/.test(s)) return 'degree'
  if (/\\\$|^\$(?=\s*\d)/.test(s)) return 'dollar'
  // What follows the value: from its first word or \text{}, `\text{ cm}^2`, `inches^2`, `square feet`.
  const start = /\\(?:text|mbox|mathrm|textrm|textnormal)\s*\{|(?<=[\s\d])[a-zA-Z]{2,}|¢/.exec(s)?.index
  const tail = start === undefined ? '' : s.slice(start)
  const squared = /\^\s*\{?\s*2|\bsquare\b|\bsq\b/.test(tail)
    ? '^2'
    : /\^\s*\{?\s*3|\bcubic\b/.test(tail)
      ? '^3'
      : ''
  const words = tail
    .replace(/\\(?:text|mbox|mathrm|textrm|textnormal)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/\\[a-zA-Z]+|\^\s*\{?\s*\d\}?|\b(?:square|sq|cubic)\b/g, ' ')
    .toLowerCase()
    .match(/[a-z¢]+/g)
  const named = (words ?? []).filter((word) => !NOT_UNITS.test(word))
  if (named.length === 0) return squared ? `unit${squared}` : undefined
  const name = named.map((word) => UNIT_NAMES[word] ?? UNIT_NAMES[singular(word)] ?? singular(word)).join(' ')
  return `${name}${squared}`
}

function singular(word: string): string {
  return word.length > 3 && word.endsWith('s') ? word.slice(0, -1) : word
}

/** "12 square units" names no particular unit: it agrees with any unit of the same power. */
function sameUnit(a: string, b: string): boolean {
  const power = (unit: string) => /\^\d$/.exec(unit)?.[0] ?? ''
  return a === b || ((a.startsWith('unit') || b.startsWith('unit')) && power(a) === power(b))
}
