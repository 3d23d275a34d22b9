/** The content of the last \boxed{...} (or \fbox{...}), braces balanced; undefined if none is closed. */
export function extractBoxed(text: string): string | undefined {
  const pattern = /\\(?:boxed|fbox)\s*\{/g
  let found: string | undefined
  for (const match of text.matchAll(pattern)) {
    let depth = 1
    let end = match.index + match[0].length
    for (; end < text.length && depth > 0; end++) {
      if (text[end] === '{') depth++
      else if (text[end] === '}') depth--
    }
    if (depth === 0) found = text.slice(match.index + match[0].length, end - 1).trim()
  }
  return found
}

export interface ExtractOptions {
  /**
   * Fall back to the last number in the text (GSM8K style). Default: off; `extractAnswer`'s callers
   * turn it on when the reference answer is a plain number.
   */
  lastNumber?: boolean
}

/**
 * The model's final answer: the last \boxed{}, else an "answer is X" / "Answer: X" statement, else
 * (with `lastNumber`) the last number. The thinking section is skipped when it is closed, so that a
 * number tried on the way is not taken for the answer.
 */
export function extractAnswer(text: string, options: ExtractOptions = {}): string | undefined {
  const boxed = extractBoxed(text)
  if (boxed !== undefined) return boxed
  const thinkEnd = text.lastIndexOf('</think>')
  const answerPart = thinkEnd >= 0 ? text.slice(thinkEnd + '</think>'.length) : text
  const stated = [...answerPart.matchAll(ANSWER_STATEMENT)].at(-1)?.[1]
  if (stated !== undefined) return stated.trim().replace(/[.\s]+$/, '')
  if (!options.lastNumber) return undefined
  const numbers = answerPart.match(/-?\d[\d,]*(?:\.\d+)?|-?\.\d+/g)
  return numbers?.at(-1)?.replace(/,(?=\d{3}\b)/g, '')
}

const ANSWER_STATEMENT =
  /(?:(?:final|the)\s+answer(?:\s+is)?\s*[:：]?|\banswer\s*[:：])\s*\$?((?:[^$\n.]|\.(?=\d))+?)\$?\s*(?:\.(?:\s|$)|\n|$)/gi

/**
 * The solution code of a completion: the last ```python block that defines `entryPoint` (the last
 * block at all if none does); with no fenced block, the completion itself (HumanEval's raw style).
 */
export function extractCode(text: string, entryPoint?: string): string | undefined {
  const blocks = [...text.matchAll(/```(?:python|py)?[^\S\n]*\n([\s\S]*?)```/g)].map(
    (match) => match[1] ?? '',
  )
  if (blocks.length === 0) return text.includes('```') || text.trim() === '' ? undefined : text
  if (entryPoint) {
    const defining = blocks.filter((block) => definesFunction(block, entryPoint))
    if (defining.length > 0) return defining.at(-1)
  }
  return blocks.at(-1)
}

export function definesFunction(code: string, name: string): boolean {
  return new RegExp(`^\\s*(?:async\\s+)?def\\s+${name}\\s*\\(`, 'm').test(code)
}
