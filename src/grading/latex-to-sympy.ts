import { balanced } from './normalize-answer.js'

/**
 * Turns a normalized LaTeX expression into text sympy's `parse_expr` reads (with implicit
 * multiplication): `\frac{a}{b}` -> `((a)/(b))`, `\sqrt[3]{x}` -> `((x)**(1/(3)))`, `x^{2}` -> `x**(2)`.
 * Returns undefined for anything it does not know, so that an unknown command never passes as equal.
 */
export function latexToSympy(latex: string): string | undefined {
  if (latex.length > MAX_LENGTH) return undefined
  try {
    const text = splitUnknownNames(convert(latex))
    if (!/^[a-zA-Z0-9+\-*/().,!_ ]+$/.test(text) || /\.\s*[a-zA-Z]/.test(text)) return undefined
    return balanced(text, '(', ')') ? text : undefined
  } catch {
    return undefined
  }
}

const MAX_LENGTH = 300

const CONSTANTS: Record<string, string> = { pi: 'pi', infty: 'oo', infinity: 'oo' }
const OPERATORS: Record<string, string> = { cdot: '*', times: '*', ast: '*', div: '/' }
const FUNCTIONS = new Set([
  'sin',
  'cos',
  'tan',
  'cot',
  'sec',
  'csc',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'ln',
  'log',
  'exp',
])

/** `\sum_{k=1}^{n}` -> `sum(k,1,n)`, then its terms: the checker reads the product after it as the body. */
const BIG_OPERATORS = new Set(['sum', 'prod'])

/** The only names sympy may see: the functions and constants above; every other name is letters multiplied. */
const KNOWN_NAMES = new Set([...FUNCTIONS, ...BIG_OPERATORS, 'sqrt', 'pi', 'oo'])

/**
 * `xy` -> `x*y`: a run of letters that is not a known name is a product of one-letter symbols, never a
 * name Python could resolve (`exec`, `open`, `getattr` are in parse_expr's namespace).
 */
function splitUnknownNames(text: string): string {
  return text.replace(/[a-zA-Z]{2,}/g, (name) => (KNOWN_NAMES.has(name) ? name : name.split('').join('*')))
}

function convert(s: string): string {
  let out = ''
  let i = 0
  /** The LaTeX of the next argument: a braced group, a command or a single character (\frac12, \sqrt2). */
  const rawGroup = (): string => {
    while (s[i] === ' ') i++
    if (s[i] === '{') {
      const end = closing(s, i)
      const inner = s.slice(i + 1, end)
      i = end + 1
      return inner
    }
    if (s[i] === '\\') {
      const name = /^\\[a-zA-Z]+/.exec(s.slice(i))![0]
      i += name.length
      return name
    }
    return s[i++] ?? ''
  }
  const group = (): string => convert(rawGroup())
  const expect = (char: string): void => {
    while (s[i] === ' ') i++
    if (s[i++] !== char) throw new Error(`expected ${char} at ${i - 1}`)
  }
  while (i < s.length) {
    const char = s[i]
    if (char === '\\') {
      const name = /^\\([a-zA-Z]+)/.exec(s.slice(i))?.[1]
      if (!name) throw new Error(`unknown escape at ${i}`)
      i += name.length + 1
      if (name === 'frac') {
        const numerator = group()
        const denominator = group()
        out += `((${numerator})/(${denominator}))`
      } else if (name === 'sqrt') {
        if (s[i] === '[') {
          const end = s.indexOf(']', i)
          const index = convert(s.slice(i + 1, end))
          i = end + 1
          out += `((${group()})**(1/(${index})))`
        } else {
          out += `sqrt(${group()})`
        }
      } else if (BIG_OPERATORS.has(name)) {
        expect('_')
        const lower = /^\s*([a-zA-Z])\s*=(.+)$/.exec(rawGroup())
        if (!lower) throw new Error(`\\${name} without an index = start`)
        expect('^')
        out += ` ${name}(${lower[1]},${convert(lower[2]!)},${group()}) `
      } else if (name in CONSTANTS) out += ` ${CONSTANTS[name]} `
      else if (name in OPERATORS) out += OPERATORS[name]
      else if (FUNCTIONS.has(name)) out += ` ${name === 'ln' ? 'log' : name} `
      else throw new Error(`unknown command \\${name}`)
    } else if (char === '{') {
      const end = closing(s, i)
      out += `(${convert(s.slice(i + 1, end))})`
      i = end + 1
    } else if (char === '_') {
      // A subscript names an indexed letter: a_n -> a_(n), F_{n-k-1} -> F_(n-k-1), a_{ij} -> a_(i,j).
      if (!/[a-zA-Z]$/.test(out)) throw new Error(`subscript after no letter at ${i}`)
      i++
      const index = rawGroup()
      out += `_(${/^[a-zA-Z]{2,}$/.test(index) ? index.split('').join(',') : convert(index)})`
    } else if (char === '^') {
      i++
      out += `**(${group()})`
    } else if (char === '[') {
      out += '('
      i++
    } else if (char === ']') {
      out += ')'
      i++
    } else {
      out += char
      i++
    }
  }
  return out
}

function closing(s: string, open: number): number {
  let depth = 0
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++
    else if (s[i] === '}' && --depth === 0) return i
  }
  throw new Error('unbalanced braces')
}
