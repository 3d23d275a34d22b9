/**
 * Puts a final answer (LaTeX or plain) into one canonical spelling, so that answers that differ only in
 * presentation (`\dfrac 12` vs `\frac{1}{2}`, `90^\circ` vs `90`, `\$18.90` vs `18.90`, `10,\!080` vs
 * `10080`, `x = 5` vs `5`) compare equal as strings. Pure; what strings cannot settle goes to math-equal.
 */
export function normalizeAnswer(answer: string): string {
  let s = answer.trim()
  s = stripMathDelimiters(s)
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\s*(\\?[()[\]{}|.])/g, (_, d) =>
    d === '.' ? '' : d,
  )
  s = s.replace(/\\displaystyle|(?<!\\)\\[!,;:> ]|~/g, ' ')
  s = s.replace(/\\[dt]frac/g, '\\frac')
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree/g, '')
  s = s.replace(/\\\$|\$/g, '')
  s = s.replace(/\\%/g, '%')
  s = s.replace(/\\(?:mathbf|mathrm|textbf|textit|operatorname)\s*\{([^{}]*)\}/g, '$1')
  s = unwrapText(s)
  s = stripTrailingUnits(s)
  s = collapseSpaces(s)
  s = s.replace(/\\frac(\d)(\d)/g, '\\frac{$1}{$2}')
  s = s.replace(/\\frac\{([^{}]*)\}(\d)/g, '\\frac{$1}{$2}')
  s = s.replace(/\\frac(\d)\{/g, '\\frac{$1}{')
  s = s.replace(/\\sqrt(\d+|[a-zA-Z])(?![a-zA-Z])/g, '\\sqrt{$1}')
  s = s.replace(/([\^_])\{(\w)\}/g, '$1$2')
  s = s.replace(/\\(?:in|le|ge|lt|gt)(?![a-zA-Z])/g, (m) => ` ${m} `).trim()
  s = s.replace(/\.$/, '')
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replaceAll(',', '')
  s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2')
  return s
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

/** `x=5` -> `5`, `x \in [-2,7]` -> `[-2,7]`: a single variable named in front of the value. */
export function stripVariable(s: string): string {
  const match = /^[a-zA-Z](?:_\w)?\s*(?:=|\\in\s)\s*(.+)$/.exec(s)
  return match?.[1] && !match[1].includes('=') ? match[1].trim() : s
}
