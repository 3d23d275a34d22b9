/** `\quad`, `\text{and}`, `\text{or}`, `\text{,}` or a bare "and"/"or" between two values. */
const SEPARATOR = String.raw`\\q?quad|\\(?:text|textnormal|mbox|textrm)\s*\{\s*(?:and|or|,)\s*\}|\b(?:and|or)\b`
/** A run of separators (commas among them) with at least one of the above: it becomes one comma. */
const SEPARATOR_RUN = new RegExp(String.raw`(?:\s*(?:${SEPARATOR}|,))*\s*(?:${SEPARATOR})\s*,?`, 'g')

/**
 * Puts a final answer (LaTeX or plain) into one canonical spelling, so that answers that differ only in
 * presentation (`\dfrac 12` vs `\frac{1}{2}`, `90^\circ` vs `90`, `\$18.90` vs `18.90`, `10,\!080` vs
 * `10080`, `x = 5` vs `5`) compare equal as strings. Pure; what strings cannot settle goes to math-equal.
 */
export function normalizeAnswer(answer: string): string {
  let s = answer.trim()
  s = stripMathDelimiters(s)
  // Presentation around the value: a box inside the box, a colour (\color{red}{6}, \textcolor{red}{6}).
  s = s.replace(/\\(?:text)?color\s*\{[^{}]*\}\s*/g, '')
  // At most a few levels: no answer is boxed deeper, and each level reads the whole answer once.
  for (let level = 0; level < MAX_WRAPPERS; level++) {
    const inner = /^(?:\\boxed\s*)?\{(.*)\}$/s.exec(s)
    if (!inner || !balanced(inner[1]!)) break
    s = inner[1]!.trim()
  }
  // A command escaped twice (`\\dfrac`, from a string written through two quotings) and a stray backslash at the end.
  if (!s.includes('\\begin')) s = s.replace(/\\\\(?=[a-zA-Z])/g, '\\')
  s = s.replace(/(?<!\\)\\$/, '')
  // A choice with its reason after it: "C. x = 42" is the choice C.
  s = s.replace(/^(\(?[A-E]\)?)[.:]\s.*$/s, '$1')
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*(\\?[()[\]{}|.])/g, (_, d) =>
    d === '.' ? '' : d,
  )
  // Thousands separators spelled in LaTeX (10,\!080, 14{,}916, 1\,000) before the thin spaces go.
  s = s.replace(/(\d)\s*(?:,\\!\s*|\{\s*,\s*\}\s*|\\,)(?=\d{3}(?!\d))/g, '$1,')
  // Words and spaces between values separate them: "2 \text{ or } 3" is a list, never 23.
  s = s.replace(SEPARATOR_RUN, ',')
  s = s.replace(/\\displaystyle|(?<!\\)\\[!,;:> ]|~/g, ' ')
  s = solutionsNamedByVariable(s)
  // A semicolon separates like a comma: (0;-2;6), -12;-11.
  s = s.replace(/;/g, ',')
  s = s.replace(/\\[dtc]frac/g, '\\frac')
  // A matrix written as an array in brackets is the matrix.
  s = s.replace(
    /^[[(]?\s*\\begin\{array\}\{[lcr|]*\}(.*)\\end\{array\}\s*[\])]?$/s,
    '\\begin{pmatrix}$1\\end{pmatrix}',
  )
  s = s.replace(/\\textnormal/g, '\\text')
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree/g, '')
  s = s.replace(/\\\$|\$/g, '')
  s = s.replace(/\\%/g, '%')
  s = s.replace(/(\d)\s*(?:percent(?:age)?|pct)\b/g, '$1%')
  s = s.replace(/\\(?:mathbf|mathrm|textbf|textit|operatorname)\s*\{([^{}]*)\}/g, '$1')
  s = unwrapText(s)
  s = stripTrailingUnits(s)
  // A value with its decimal approximation after it: the value is the answer ("x \approx 11" names it).
  s = s.replace(/^([a-zA-Z])\s*(?:\\approx|≈)\s*(?=\S)/, '')
  s = s.replace(/(\S)\s*(?:\\approx|≈).*$/, '$1')
  // A worked chain "x = 5+5+1 = 11" names its last value.
  s = s.replace(/^([a-zA-Z](?:_\{?\w+\}?)?)\s*=(?:[^=,{}]*=)+\s*([^=,]+)$/, '$1=$2')
  // "3,600" is a number; "3, 600" (a space after the comma) is a list of two.
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replaceAll(',', '')
  // Digits apart stay apart once the spaces go.
  s = s.replace(/(\d)\s+(?=[-+]?\d)/g, '$1,')
  s = collapseSpaces(s)
  s = s.replace(/\\frac(\d)(\d)/g, '\\frac{$1}{$2}')
  s = s.replace(/\\frac\{([^{}]*)\}(\d)/g, '\\frac{$1}{$2}')
  s = s.replace(/\\frac(\d)\{/g, '\\frac{$1}{')
  s = s.replace(/\\sqrt(\d+|[a-zA-Z])(?![a-zA-Z])/g, '\\sqrt{$1}')
  s = s.replace(/([\^_])\{(\w)\}/g, '$1$2')
  s = s.replace(/\\(le|ge|ne)q(?![a-zA-Z])/g, '\\$1')
  s = s.replace(/<=|≤/g, '\\le ').replace(/>=|≥/g, '\\ge ').replace(/!=|≠/g, '\\ne ')
  s = s.replace(/</g, '\\lt ').replace(/>/g, '\\gt ')
  s = s
    .replace(/\\(?:in|le|ge|lt|gt|ne)(?![a-zA-Z])/g, (m) => ` ${m} `)
    .replace(/\s+/g, ' ')
    .trim()
  s = variableFirst(s)
  s = chainedInequalityToInterval(s)
  s = s.replace(/\.$/, '')
  s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2')
  return s
}

/**
 * `p=5,q=2;p=7,q=2` -> `(5,2),(7,2)`: solutions separated by semicolons, each naming the same variables in
 * the same order, are the tuples of their values. One group alone stays as it is (`x=1,y=2` lists values).
 */
function solutionsNamedByVariable(s: string): string {
  const groups = s
    .split(';')
    .map((group) =>
      group.split(',').map((assignment) => /^\s*([a-zA-Z])\s*=\s*([^=]+?)\s*$/.exec(assignment)),
    )
  if (groups.length < 2 || groups.some((group) => group.length < 2 || group.some((match) => !match))) return s
  const names = (group: (RegExpExecArray | null)[]) => group.map((match) => match![1]).join()
  if (groups.some((group) => names(group) !== names(groups[0]!))) return s
  return groups.map((group) => `(${group.map((match) => match![2]).join(',')})`).join(',')
}

function stripMathDelimiters(s: string): string {
  for (const [open, close] of [
    ['$$', '$$'],
    ['$', '$'],
    ['\\(', '\\)'],
    ['\\[', '\\]'],
  ] as const) {
    if (s.length > open.length + close.length && s.startsWith(open) && s.endsWith(close)) {
      return s.slice(open.length, -close.length).trim()
    }
  }
  return s
}

/** `\text{Evelyn}` alone is the answer; `\text{ cm}^2` after a value is a unit and goes. */
function unwrapText(s: string): string {
  const text = /\\(?:text|mbox|textrm|mathrm)\s*\{([^{}]*)\}(\^\d)?/g
  const whole = s.replace(text, '').trim()
  if (whole === '') return s.replace(text, '$1').trim()
  // A unit after a value: drop it (with an exponent such as cm^2).
  return s
    .replace(text, (_match, content: string) => (/^\s*[a-zA-Z\s.]*$/.test(content) ? ' ' : content))
    .trim()
}

/** "5.4 cents", "864 inches^2", "12 square units": a value followed by words. */
function stripTrailingUnits(s: string): string {
  const match = /^(.*?[\d}])\s+(?:[a-zA-Z]{2,}\.?)(?:\^\d)?(?:\s+[a-zA-Z]{2,}(?:\^\d)?)*$/.exec(s)
  return match?.[1] && !/\\[a-zA-Z]+$/.test(match[1]) ? match[1] : s
}

/** Drops whitespace, except where it separates a command from a following letter (`\cot x`). */
function collapseSpaces(s: string): string {
  return s.replace(/(\\[a-zA-Z]+)\s+(?=[a-zA-Z])|\s+/g, (_, command?: string) =>
    command ? `${command} ` : '',
  )
}

const FLIPPED: Record<string, string> = { le: 'ge', ge: 'le', lt: 'gt', gt: 'lt', ne: 'ne' }

/** `5 \ge x` -> `x \le 5`, `-x \gt -1` -> `x \lt 1`: a bound on one variable reads variable first. */
function variableFirst(s: string): string {
  const flipped = /^([^\s\\]+)\s+\\(le|ge|lt|gt|ne)\s+([a-zA-Z])$/.exec(s)
  if (flipped && !/[a-zA-Z]/.test(flipped[1]!)) return `${flipped[3]} \\${FLIPPED[flipped[2]!]} ${flipped[1]}`
  const negated = /^-([a-zA-Z])\s+\\(le|ge|lt|gt|ne)\s+(-?)(\d+(?:\.\d+)?)$/.exec(s)
  if (negated) return `${negated[1]} \\${FLIPPED[negated[2]!]} ${negated[3] ? '' : '-'}${negated[4]}`
  return s
}

/**
 * `-2 \le x \le 7` -> `x \in [-2,7]`: the interval the chained inequality names; a bound on an absolute
 * value, `1 \le |z| \le 2`, names two: `z \in [-2,-1]\cup[1,2]` (one, `[-2,2]`, from 0).
 */
function chainedInequalityToInterval(s: string): string {
  const match = /^(\S+)\s+\\(le|lt)\s+([a-zA-Z](?:\([a-z]\))?|\|[a-zA-Z]\|)\s+\\(le|lt)\s+(\S+)$/.exec(s)
  if (!match) return s
  const [, low = '', lowRelation, variable = '', highRelation, high = ''] = match
  const brackets = (relation?: string) => (relation === 'le' ? ['[', ']'] : ['(', ')'])
  const [lowOpen, lowClose] = brackets(lowRelation)
  const [highOpen, highClose] = brackets(highRelation)
  if (!variable.startsWith('|')) return `${variable} \\in ${lowOpen}${low},${high}${highClose}`
  // |z| between low and high: z between -high and -low, or between low and high.
  const negated = (bound: string) => (bound.startsWith('-') ? bound.slice(1) : `-${bound}`)
  const name = variable[1]
  if (low === '0' && lowRelation === 'le')
    return `${name} \\in ${highOpen}${negated(high)},${high}${highClose}`
  return `${name} \\in ${highOpen}${negated(high)},${negated(low)}${lowClose}\\cup${lowOpen}${low},${high}${highClose}`
}

/**
 * `x=5` -> `5`, `x \in [-2,7]` -> `[-2,7]`, `f(x)=1` -> `1`, `(p,q)=(3,2)` -> `(3,2)`, `|AB|=1` -> `1`,
 * `A:B=1:2` -> `1:2`, `\frac{NO}{BO}=2` -> `2`: the value, when the answer names what it is the value of.
 */
export function stripVariable(s: string): string {
  return namedValue(s)?.value ?? s
}

/** `a_n = 2^{n+1}` -> `{name: 'a_n', value: '2^{n+1}'}`: what the answer names, and its value (see stripVariable). */
export function namedValue(s: string): { name: string; value: string } | undefined {
  // A letter (x, x_1, f(x)), letters in a tuple ((p,q)), a segment or its length (AB, |AB|) or a ratio's
  // names (A:B, V_{1}:V_{2}).
  const match =
    /^([a-zA-Z](?:_\w)?(?:\([a-z]\))?|\([a-zA-Z](?:,[a-zA-Z])+\)|\|[A-Z]+\||[A-Z]{2,3}|[A-Z](?:_\{?\w+\}?)?(?::[A-Z](?:_\{?\w+\}?)?)+|\\frac\{[A-Z]+\}\{[A-Z]+\})\s*(?:=|\\in\s)\s*(.+)$/.exec(
      s,
    )
  const [, name, value] = match ?? []
  // `a = b` relates two letters: it is not the value `b` (nor the choice "(B)").
  if (!name || !value || splitTopLevel(value, '=').length > 1 || /^[a-zA-Z]$/.test(value.trim()))
    return undefined
  return { name, value: value.trim() }
}

/** Boxes and brace groups unwrapped around a whole answer (`\boxed{\boxed{4}}`, `{6}`). */
const MAX_WRAPPERS = 4

/** Every `close` closes an `open` before it, and none is left open (braces by default). */
export function balanced(s: string, open = '{', close = '}'): boolean {
  let depth = 0
  for (const char of s) {
    if (char === open) depth++
    else if (char === close && --depth < 0) return false
  }
  return depth === 0
}

/** Splits at `separator` where no bracket is open. */
export function splitTopLevel(s: string, separator: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const char = s[i]
    if (char === '(' || char === '[' || char === '{') depth++
    else if (char === ')' || char === ']' || char === '}') depth--
    else if (depth === 0 && s.startsWith(separator, i)) {
      parts.push(s.slice(start, i))
      start = i + separator.length
      i += separator.length - 1
    }
  }
  parts.push(s.slice(start))
  return parts.map((part) => part.trim())
}
