import { outsideFences } from '../core/fences.js'

/** A piece of a recorded trajectory: only `model` pieces are the model's own words. */
export interface TextPiece {
  kind: string
  text: string
}

/**
 * What the model itself wrote, as a reader sees it: the recorded model segments when the record has them
 * and they add up to its text (hints and the interpreter's output are not the model's words), else the
 * text; then without fenced blocks (code, output), HTML comments, `\phantom{}` and quoted material
 * (a blockquote, or a quotation that mentions an answer), with look-alike characters made plain.
 */
export function visibleText(completion: string, segments?: readonly TextPiece[]): string {
  const joined = segments?.map((segment) => segment.text).join('')
  const own =
    segments && joined === completion
      ? segments.map((segment) => (segment.kind === 'model' ? segment.text : '\n')).join('')
      : completion
  return plainCharacters(withoutQuotes(withoutInvisible(outsideFences(own))))
}

/** HTML comments and `\phantom{}` (and its h/v forms): present in the text, never shown. Linear. */
function withoutInvisible(text: string): string {
  const hidden = /<!--|\\[hv]?phantom\s*\{/g
  let out = ''
  let from = 0
  for (let match = hidden.exec(text); match; match = hidden.exec(text)) {
    out += text.slice(from, match.index)
    const close = text.indexOf('-->', match.index + 4)
    from =
      match[0] === '<!--'
        ? close < 0
          ? text.length
          : close + 3
        : afterBraces(text, match.index + match[0].length - 1)
    hidden.lastIndex = from
  }
  return out + text.slice(from)
}

/** The index just after the brace group opening at `open` (the end of the text if it never closes). */
export function afterBraces(text: string, open: number): number {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++
    else if (text[i] === '}' && --depth === 0) return i + 1
  }
  return text.length
}

/**
 * Quoted material is somebody else's words: a blockquote line ("> Hint: the final answer is 11"), and a
 * quotation on one line that mentions an answer or a box, in double or single quotes ('the hint says
 * "the answer is 11"'). A single quote opens and closes only beside no letter: an apostrophe (don't,
 * it's) quotes nothing.
 */
function withoutQuotes(text: string): string {
  return text
    .replace(/^[ \t]*>[^\n]*/gm, '')
    .replace(QUOTATION, (quoted) => (/answer|boxed/i.test(quoted) ? '' : quoted))
}

const QUOTATION = /"[^"\n]*"|“[^”\n]*”|‘[^’\n]*’|(?<![\p{L}\d])'[^'\n]*'(?![\p{L}\d])/gu

const SUPERSCRIPTS = '⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻'
const SUPERSCRIPT_PLAIN = '0123456789+-'

/**
 * Characters that look like an answer's but are not ASCII: full-width digits and other compatibility
 * forms (NFKC), the minus sign U+2212, zero-width and soft-hyphen characters inside a number, superscript
 * powers (`x²` is `x^{2}`, which NFKC alone would make `x2`), π and √ as LaTeX.
 */
export function plainCharacters(text: string): string {
  // Every character below is outside ASCII: plain ASCII text (most completions) is already plain.
  if (!/[^\x00-\x7f]/.test(text)) return text
  return text
    .replace(/[\u200b-\u200d\u2060\ufeff\u00ad]/g, '')
    .replace(
      new RegExp(`[${SUPERSCRIPTS}]+`, 'g'),
      (run) => `^{${[...run].map((char) => SUPERSCRIPT_PLAIN[SUPERSCRIPTS.indexOf(char)]).join('')}}`,
    )
    .normalize('NFKC')
    .replace(/[\u2212\u2012]/g, '-')
    .replace(/\u2044/g, '/')
    .replace(/π/g, '\\pi ')
    .replace(/∞/g, '\\infty ')
    .replace(/×/g, '\\times ')
    .replace(/·/g, '\\cdot ')
    .replace(/√\s*(\d+(?:\.\d+)?|[a-zA-Z])/g, '\\sqrt{$1}')
    .replace(/√/g, '\\sqrt')
}
