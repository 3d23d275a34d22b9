import { latexToSympy } from './latex-to-sympy.js'
import { namedValue, normalizeAnswer, splitTopLevel, stripVariable } from './normalize-answer.js'

/** A question only sympy can answer, in sympy syntax: are these expressions (equations, sets) equal? */
export type SymbolicCheck =
  | { kind: 'expr'; a: string; b: string }
  | { kind: 'equation'; a: string; b: string }
  | { kind: 'set'; a: string[]; b: string[] }
  /** A decimal `a` against an exact value `b`: equal where `b` cut or rounded to `places` is `a`. */
  | { kind: 'decimal'; a: string; b: string; places: number }

/** true / false when settled here; otherwise the symbolic checks that must all hold. */
export type MathVerdict = boolean | SymbolicCheck[]

/**
 * Is `predicted` the same answer as `reference`? Settles integers, decimals, fractions, percentages,
 * LaTeX spellings, text answers, choices, intervals, tuples, sets, `\pm`, unions and matrices here,
 * and hands what remains (expressions, equations) back as symbolic checks for sympy.
 */
export function compareMath(predicted: string, reference: string): MathVerdict {
  const [p, r] = withoutVariable(normalizeAnswer(predicted), normalizeAnswer(reference))
  if (p === '') return false
  if (p === r) return true
  return compareStructure(p, r)
}

/**
 * `x = 5` against `5`: the variable goes; against `y = 2x + 3` both stay whole, as equations; against
 * `x = \frac{10}{2}`, or `a_n = 2^{n+1}` against `a_n = 2 \cdot 2^n`, the same name goes from both and the
 * values compare.
 */
function withoutVariable(p: string, r: string): [string, string] {
  const relation = /=|\\in /
  if (relation.test(p) !== relation.test(r)) return [stripVariable(p), stripVariable(r)]
  const [pNamed, rNamed] = [namedValue(p), namedValue(r)]
  return pNamed && rNamed && pNamed.name === rNamed.name ? [pNamed.value, rNamed.value] : [p, r]
}

function compareStructure(p: string, r: string): MathVerdict {
  const rMatrix = parseMatrix(r)
  if (rMatrix) {
    const pMatrix = parseMatrix(p) ?? matrixArithmetic(p) ?? columnFromTuple(p)
    if (!pMatrix || pMatrix.length !== rMatrix.length) return false
    if (pMatrix.some((row, i) => row.length !== rMatrix[i]!.length)) return false
    return all(pMatrix.flatMap((row, i) => row.map((cell, j) => compareScalar(cell, rMatrix[i]![j]!))))
  }
  const rUnion = splitTopLevel(r, '\\cup')
  if (rUnion.length > 1) {
    const pUnion = splitTopLevel(p, '\\cup')
    if (pUnion.length !== rUnion.length) return false
    return all(pUnion.map((piece, i) => compareStructure(piece, rUnion[i]!)))
  }
  const rBracketed = bracketed(r)
  if (rBracketed) {
    const pBracketed = bracketed(p)
    if (!pBracketed) return rBracketed.items.length === 1 ? compareScalar(p, rBracketed.items[0]!) : false
    if (pBracketed.open !== rBracketed.open || pBracketed.close !== rBracketed.close) return false
    if (pBracketed.items.length !== rBracketed.items.length) return false
    return all(pBracketed.items.map((item, i) => compareScalar(item, rBracketed.items[i]!)))
  }
  const rSet = setItems(r)
  const pSet = setItems(p)
  if (rSet.length > 1 || pSet.length > 1) return compareSets(pSet, rSet)
  return compareScalar(p, r)
}

/** Order does not matter: "1,-2" equals "x=-2, x=1"; "3\pm2\sqrt{2}" equals both roots listed. */
function compareSets(p: string[], r: string[]): MathVerdict {
  if (p.length !== r.length) return false
  const unmatched = [...p]
  const left: string[] = []
  for (const item of r) {
    const index = unmatched.findIndex((candidate) => compareScalar(candidate, item) === true)
    if (index >= 0) unmatched.splice(index, 1)
    else left.push(item)
  }
  if (left.length === 0) return true
  if (left.every((item) => unmatched.every((candidate) => compareScalar(candidate, item) === false)))
    return false
  // Each item by its value: "x_1 = 10^{...}" against a bare root.
  const a = unmatched.map((item) => latexToSympy(stripVariable(item)))
  const b = left.map((item) => latexToSympy(stripVariable(item)))
  if (a.some((x) => x === undefined) || b.some((x) => x === undefined)) return false
  return [{ kind: 'set', a: a as string[], b: b as string[] }]
}

/** ∞, -∞, nan, zoo in any spelling: a value no closeness test may call equal to anything but itself. */
const INFINITY = String.raw`\\infty|\\inf(?![a-z])|(?<![a-z\\])(?:oo|inf|infinity)(?![a-z])`
const NON_FINITE = new RegExp(String.raw`${INFINITY}|(?<![a-z\\])(?:nan|zoo)(?![a-z])`, 'i')
const INFINITY_SPELLINGS = new RegExp(INFINITY, 'gi')

function canonicalNonFinite(s: string): string {
  return s.replace(/^\+/, '').replace(INFINITY_SPELLINGS, '\\infty')
}

function compareScalar(pRaw: string, rRaw: string): MathVerdict {
  const [p, r] = withoutVariable(pRaw, rRaw)
  if (p === r) return true
  // Never handed to a numeric comparison, where inf <= inf would make ∞ equal to every answer.
  if (NON_FINITE.test(p) || NON_FINITE.test(r)) return canonicalNonFinite(p) === canonicalNonFinite(r)
  const pNumber = parseNumber(p)
  const rNumber = parseNumber(r)
  if (pNumber && rNumber) return numbersEqual(pNumber, rNumber)
  if (pNumber?.places !== undefined && pNumber.places >= MIN_PLACES && !pNumber.percent && !rNumber) {
    const b = latexToSympy(r)
    return b ? [{ kind: 'decimal', a: p, b, places: pNumber.places }] : false
  }
  const rWord = /^\(?[A-E]\)?$/.test(r) || /^[a-zA-Z]{2,}$/.test(r) ? plainWord(r) : undefined
  if (rWord !== undefined) return plainWord(p) === rWord
  if (/^\d+_\d+$/.test(r)) return false // a numeral in another base: only its exact spelling counts
  // An `=` inside braces is no equation's: \sum_{k=0}^{n} k.
  const pEquation = splitTopLevel(p, '=')
  const rEquation = splitTopLevel(r, '=')
  if (pEquation.length !== rEquation.length || pEquation.length > 2) return false
  if (pEquation.length === 2) {
    const a = equationToSympy(pEquation)
    const b = equationToSympy(rEquation)
    return a && b ? [{ kind: 'equation', a, b }] : false
  }
  const a = latexToSympy(p)
  const b = latexToSympy(r)
  return a && b ? [{ kind: 'expr', a, b }] : false
}

function equationToSympy([left = '', right = '']: string[]): string | undefined {
  const l = latexToSympy(left)
  const r = latexToSympy(right)
  return l && r ? `${l}=${r}` : undefined
}

function all(verdicts: MathVerdict[]): MathVerdict {
  const pending: SymbolicCheck[] = []
  for (const verdict of verdicts) {
    if (verdict === false) return false
    if (verdict !== true) pending.push(...verdict)
  }
  return pending.length === 0 ? true : pending
}

/** A number as written: its exact value (a fraction of integers), and its places when written as a decimal. */
interface ParsedNumber {
  numerator: bigint
  denominator: bigint
  /** Digits after the decimal point of a number written as a decimal (`0.330`: 3); undefined otherwise. */
  places?: number
  percent: boolean
}

/** Integers, decimals, a/b, \frac{a}{b}, mixed numbers (1\frac{4}{5}), scientific notation, percentages. */
function parseNumber(text: string): ParsedNumber | undefined {
  const percent = text.endsWith('%')
  const s = percent ? text.slice(0, -1) : text
  const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s)
  if (decimal && /\d/.test(`${decimal[2]}${decimal[3] ?? ''}`) && Math.abs(Number(decimal[4] ?? 0)) <= 400) {
    const [, sign, whole = '', fraction = '', exponentText] = decimal
    const exponent = Number(exponentText ?? 0)
    let numerator = BigInt(`${whole}${fraction}` || '0') * (sign === '-' ? -1n : 1n)
    let denominator = 10n ** BigInt(fraction.length)
    if (exponent > 0) numerator *= 10n ** BigInt(exponent)
    else denominator *= 10n ** BigInt(-exponent)
    const written = decimal[3] !== undefined || exponentText !== undefined
    return {
      numerator,
      denominator,
      places: written ? Math.max(0, fraction.length - exponent) : undefined,
      percent,
    }
  }
  const fraction = /^([+-]?)(?:(\d+)?\\frac\{(-?\d+)\}\{(\d+)\}|(\d+)\/(\d+))$/.exec(s)
  if (!fraction) return undefined
  const [, sign, whole, num, den, slashNum, slashDen] = fraction
  const denominator = BigInt(den ?? slashDen!)
  if (denominator === 0n) return undefined
  let numerator = BigInt(num ?? slashNum!)
  if (whole !== undefined) numerator = BigInt(whole) * denominator + (numerator < 0n ? -numerator : numerator)
  return { numerator: sign === '-' ? -numerator : numerator, denominator, percent }
}

/**
 * Exact against exact is exact (`355/113` is no `\pi`, `70000.05` no `70000`). A decimal against a value
 * no decimal can write exactly (1/3) needs MIN_PLACES places and compares at its own places, rounded or
 * cut: `0.333333` and `0.3333333` are 1/3, `0.33` and `0.3333339` are not.
 * A percent sign is the number's unit: `50\%` is 50 (a percentage asked for as a number), never 0.5.
 */
function numbersEqual(p: ParsedNumber, r: ParsedNumber): boolean {
  if (p.numerator * r.denominator === r.numerator * p.denominator) return true
  if (p.places === undefined || p.places < MIN_PLACES || r.places !== undefined || terminates(r.denominator))
    return false
  return atPlaces(r, p.places).some(
    (value) => value * p.denominator === p.numerator * 10n ** BigInt(p.places!),
  )
}

/** Places a decimal needs to stand for a value no decimal writes exactly (math-verify rounds to 6). */
export const MIN_PLACES = 6

/** A fraction whose denominator has no prime but 2 and 5 is a finite decimal. */
function terminates(denominator: bigint): boolean {
  let d = denominator < 0n ? -denominator : denominator
  while (d % 2n === 0n) d /= 2n
  while (d % 5n === 0n) d /= 5n
  return d === 1n
}

/** `r` at `places` decimal places, cut and rounded half away from zero, as integers over 10^places. */
function atPlaces(r: ParsedNumber, places: number): bigint[] {
  const scaled = r.numerator * 10n ** BigInt(places)
  const cut = scaled / r.denominator
  const twice = (2n * scaled) / r.denominator
  const rounded = twice % 2n === 0n ? cut : cut + (scaled < 0n ? -1n : 1n)
  return [cut, rounded]
}

/** "Evelyn", "\text{east}" -> "east"; a choice "(C)" -> "c". Undefined when the answer is not a word. */
function plainWord(s: string): string | undefined {
  const choice = /^\(?([A-Ea-e])\)?$/.exec(s)
  if (choice) return choice[1]!.toUpperCase()
  return /^[a-zA-Z]{2,}$/.test(s) && !/^(?:pi|sqrt|frac)$/.test(s) ? s.toLowerCase() : undefined
}

/** `(a,b)`, `[a,b)`, `(a,b,c)`: the brackets and the items, when one bracket pair spans the whole text. */
function bracketed(s: string): { open: string; close: string; items: string[] } | undefined {
  const open = s[0] ?? ''
  const close = s[s.length - 1] ?? ''
  if (!open || !close || !'(['.includes(open) || !')]'.includes(close) || s.length < 3) return undefined
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const char = s[i]!
    if ('([{'.includes(char)) depth++
    else if (')]}'.includes(char)) depth--
    if (depth === 0 && i < s.length - 1) return undefined
  }
  const items = splitTopLevel(s.slice(1, -1), ',')
  return items.length >= 2 ? { open, close, items } : undefined
}

/** A bare list, a `\{...\}` set, or one item; `\pm` expands into both signs. */
function setItems(s: string): string[] {
  const inner = /^\\?\{(.*?)\\?\}$/.exec(s)?.[1] ?? s
  return splitTopLevel(inner, ',').flatMap((item) => {
    const [left, right, ...rest] = splitTopLevel(item, '\\pm')
    if (right === undefined || rest.length > 0) return [item]
    return [`${left}+${right}`, `${left}-${right}`]
  })
}

function parseMatrix(s: string): string[][] | undefined {
  const match = /^\\begin\{[pbvB]?matrix\}(.*)\\end\{[pbvB]?matrix\}$/.exec(s)
  // One matrix: `A+B` also begins with \begin and ends with \end.
  if (!match || /\\(begin|end)\{/.test(match[1]!)) return undefined
  return match[1]!
    .split('\\\\')
    .map((row) => row.trim())
    .filter(Boolean)
    .map((row) => row.split('&').map((cell) => cell.trim()))
}

/** Bounds of the matrix arithmetic an answer may ask for (beyond them it is not evaluated: not equal). */
const MAX_MATRIX_TERMS = 4
const MAX_MATRIX_CELLS = 64
const MAX_MATRIX_CELL_CHARS = 2048

const MATRIX = /\\begin\{([pbvB]?matrix)\}[\s\S]*?\\end\{\1\}/g

/**
 * A sum, difference or product of matrices written out (`A + B`, `A B`, `A \cdot B`, `2A`), as the matrix
 * it evaluates to, cell by cell in LaTeX (`(a)+(b)`): sympy then compares each cell.
 * Undefined when the text is not such an expression or the shapes do not fit.
 */
function matrixArithmetic(s: string): string[][] | undefined {
  const matrices = [...s.matchAll(MATRIX)].map((match) => parseMatrix(match[0])!)
  // A product's cells grow with each factor: an answer of many big factors must not exhaust the grader.
  if (
    matrices.length > MAX_MATRIX_TERMS ||
    matrices.some((matrix) => matrix.flat().length > MAX_MATRIX_CELLS)
  )
    return undefined
  if (matrices.length < 2 && !/^-?\d+(\.\d+)?\s*(\\cdot|\\times)?\s*\\begin/.test(s)) return undefined
  // What stands between the matrices: the operators, and a number before a matrix as a scalar factor.
  const gaps = s.split(MATRIX).filter((_, i) => i % 2 === 0)
  const [lead = '', ...between] = gaps
  const trailing = between.pop()
  if (trailing?.trim()) return undefined
  const scalar = /^\s*(-?\d+(?:\.\d+)?)?\s*(?:\\cdot|\\times)?\s*$/.exec(lead)
  if (!scalar) return undefined
  const wrap = (cell: string) => `(${cell})`
  let sum: string[][] | undefined
  let product = scalar[1]
    ? matrices[0]!.map((row) => row.map((cell) => `${scalar[1]}\\cdot${wrap(cell)}`))
    : matrices[0]!
  let sign = ''
  const close = () => {
    const signed = sign === '-' ? product.map((row) => row.map((cell) => `-${wrap(cell)}`)) : product
    if (!sum) return signed
    if (sum.length !== signed.length || sum.some((row, i) => row.length !== signed[i]!.length))
      return undefined
    return sum.map((row, i) => row.map((cell, j) => `${cell}+${wrap(signed[i]![j]!)}`))
  }
  for (const [index, gap] of between.entries()) {
    const next = matrices[index + 1]!
    const operator = gap.trim()
    if (operator === '+' || operator === '-') {
      sum = close()
      if (!sum) return undefined
      sign = operator
      product = next
    } else if (operator === '' || operator === '\\cdot' || operator === '\\times') {
      if (product[0]!.length !== next.length) return undefined
      product = product.map((row) =>
        next[0]!.map((_, j) => row.map((cell, k) => `${wrap(cell)}\\cdot${wrap(next[k]![j]!)}`).join('+')),
      )
      if (product.flat().some((cell) => cell.length > MAX_MATRIX_CELL_CHARS)) return undefined
    } else return undefined
  }
  return close()
}

function columnFromTuple(s: string): string[][] | undefined {
  const tuple = bracketed(s)
  return tuple?.items.map((item) => [item])
}
