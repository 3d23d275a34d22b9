/** Every closed \boxed{...} (or \fbox{...}), braces balanced, with where it starts and ends. */
function boxes(text: string): { content: string; start: number; end: number }[] {
  const found: { content: string; start: number; end: number }[] = []
  for (const match of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
    let depth = 1
    let end = match.index + match[0].length
    for (; end < text.length && depth > 0; end++) {
      if (text[end] === '{') depth++
      else if (text[end] === '}') depth--
    }
    if (depth === 0)
      found.push({
        content: text.slice(match.index + match[0].length, end - 1).trim(),
        start: match.index,
        end,
      })
  }
  return found
}

/** The content of the last \boxed{...} (or \fbox{...}), braces balanced; undefined if none is closed. */
export function extractBoxed(text: string): string | undefined {
  return boxes(text).at(-1)?.content
}

export interface ExtractOptions {
  /**
   * Fall back to a number of the final statement (GSM8K style). Default: off; `extractAnswer`'s
   * callers turn it on when the reference answer is a plain number.
   */
  lastNumber?: boolean
  /** The prompt left the model inside `<think>` (a reasoning model's generation prompt). */
  startsThinking?: boolean
  /** How the generation ended; anything but `stop` (cut off at the token limit) has no answer. */
  finishReason?: string
  /** Today's looser rule: take an answer from a cut-off trajectory or an unclosed thought. Default off. */
  lenient?: boolean
}

/** The prompt left the model inside `<think>`: a reasoning model's generation prompt opens it. */
export function promptOpensThinking(prompt: string | undefined): boolean {
  return prompt !== undefined && /<think>\s*$/.test(prompt)
}

/**
 * What may stand between two boxes that together are one answer: `\boxed{-2} \quad\text{and}\quad \boxed{1}`,
 * `y_1 = \boxed{a}\) and \(y_2 = \boxed{b}`, `\boxed{(3, 3)} \text{ for part (a) and } \boxed{(1, 1)}`, and a
 * unit word before the joiner, `\boxed{1} papers and \boxed{2} bins` (not "wait," or "no,"). Words inside
 * a \text{} of the math are allowed; other prose is not (it parts an earlier result from the answer).
 * Taking more boxes never hedges: a list equals only the same list.
 */
const BETWEEN_BOXES =
  /^(?:\s|[,;$]|\\[()[\]]|\\q?quad|\\[,;!]|[a-zA-Z](?:_\{?\w+\}?)?\s*=|\\text\s*\{[^{}]*\}|\band\b|\bor\b|\b(?!(?:wait|no|not|but|so|then|actually|hmm)\b)[a-zA-Z]+(?=\s*(?:,|and\b)))*$/

/**
 * The text outside fenced blocks. Fences pair as they open and close: outside a block any ``` opens one;
 * inside, a bare ``` closes it and a fence with a language (```output) closes it and opens the next, as
 * no block holds a fence with a language. So a malformed opener the model wrote (``python) cannot shift
 * the pairing of the fences after it and swallow the answer; an unclosed block runs to the end.
 */
function outsideFences(completion: string): string {
  let kept = ''
  let from = 0
  let inside = false
  for (const fence of completion.matchAll(/`{3,}(\w*)/g)) {
    if (!inside) {
      kept += completion.slice(from, fence.index)
      inside = true
    } else if (!fence[1]) {
      inside = false
      from = fence.index + fence[0].length
    }
  }
  return inside ? kept : kept + completion.slice(from)
}

/**
 * The model's final answer, in a documented order: a trajectory cut off at the token limit, or whose
 * thinking never closed, has none (unless `lenient`); otherwise the later of the last \boxed{} (with the
 * boxes just before it that list the same answer) and the last "answer is X" / "Answer: X" statement after
 * the thinking; else the last math span after the thinking, unless (with `lastNumber`) a whole number of
 * the final line comes after it; else a bare final line that is math, not prose.
 * Fenced blocks (the code and the interpreter's output) are never read.
 */
export function extractAnswer(completion: string, options: ExtractOptions = {}): string | undefined {
  // Neither the interpreter's output nor the code is the model's answer: code could print any \boxed{}.
  const text = outsideFences(completion)
  const thinkEnd = text.lastIndexOf('</think>')
  if (!options.lenient) {
    if (options.finishReason !== undefined && options.finishReason !== 'stop') return undefined
    const opened = options.startsThinking || text.includes('<think>')
    if (opened && thinkEnd < 0) return undefined
  }
  const answerStart = thinkEnd >= 0 ? thinkEnd + '</think>'.length : 0
  const answerPart = text.slice(answerStart)
  const found = boxes(text)
  const statement = [...answerPart.matchAll(ANSWER_STATEMENT)].at(-1)
  const lastBox = found.at(-1)
  if (statement && (!lastBox || answerStart + statement.index >= lastBox.end)) {
    const stated = statement[1]!.trim().replace(/^(?:the\s+)?(?:final\s+)?answer\s+is\s*[:：]?\s*/i, '')
    const inner = extractBoxed(stated)
    // A sentence for a number: "Final Answer: Jane started 3 hours ago" states 3.
    const number =
      options.lastNumber && !inner && hasWords(stated) ? stated.match(WHOLE_NUMBER)?.at(-1) : undefined
    return number?.replace(/,/g, '') ?? (inner ?? stated).trim().replace(/[.\s]+$/, '')
  }
  if (lastBox) return listedAtEnd(found, text)
  const span = lastMathSpan(answerPart)
  const finalLine = answerPart.trim().split('\n').at(-1)?.trim() ?? ''
  if (options.lastNumber) {
    // A number after the last math span is said later, so it is the answer: "the largest $n$ is 34".
    const lineStart = answerPart.trimEnd().length - finalLine.length
    const number = [...finalLine.matchAll(WHOLE_NUMBER)].at(-1)
    if (number && (!span || lineStart + number.index >= span.end)) return number[0].replace(/,/g, '')
  }
  if (span !== undefined) return span.content
  // A bare answer on the last line, without delimiters: `-\frac{10}{9}`, `28 %`.
  return finalLine.length <= 60 && /[\d\\]/.test(finalLine) && !hasWords(finalLine) ? finalLine : undefined
}

/** Prose, not math: a word of two letters or more standing alone, outside commands and braces (`$5 and gets $3`). */
function hasWords(text: string): boolean {
  const bare = text
    .replace(/\\(?:text|textbf|mathrm|mbox)\s*\{[^{}]*\}/g, ' ')
    .replace(/\\[a-zA-Z]+|\b(?:percent(?:age)?|pct)\b/g, ' ')
  return /(?:^|\s)[a-zA-Z]{2,}(?=[\s.,:;!?]|$)/.test(bare)
}

/**
 * The content of the last math span (`$...$`, `$$...$$`, `\(...\)`, `\[...\]`) of the text: an answer
 * written without a box or an answer statement, as math-verify reads it. An inline span stays on one line;
 * an escaped `\$` is a dollar sign, not a delimiter.
 */
function lastMathSpan(text: string): { content: string; end: number } | undefined {
  const spans: { content: string; start: number; end: number }[] = []
  for (const match of text.matchAll(MATH_SPAN)) {
    const content = (match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').trim()
    // One word is an answer ("$odd$"); words between values are prose ("$5 and gets $3").
    const prose = hasWords(content) && /\s/.test(content)
    if (content && !prose) spans.push({ content, start: match.index, end: match.index + match[0].length })
  }
  const last = spans.at(-1)
  // Spans with only separators between them list one answer, as boxes do: "$1$, $2$ and $3$".
  return last && { content: listedAtEnd(spans, text), end: last.end }
}

/** The last of `pieces` with those just before it that only separators part from it, as one list. */
function listedAtEnd(pieces: { content: string; start: number; end: number }[], text: string): string {
  let first = pieces.length - 1
  while (first > 0 && BETWEEN_BOXES.test(text.slice(pieces[first - 1]!.end, pieces[first]!.start))) first--
  return pieces
    .slice(first)
    .map((piece) => piece.content)
    .join(', ')
}

const MATH_SPAN =
  /(?<!\\)\$\$([\s\S]+?)(?<!\\)\$\$|\\\[([\s\S]+?)\\\]|\\\((.+?)\\\)|(?<![\\$])\$(?!\$)((?:\\\$|[^$\n])+?)(?<!\\)\$/g

const ANSWER_STATEMENT =
  /(?:(?:final|the)\s+answer(?:\s+is)?\s*[:：]?|\banswer\s*[:：])\s*\$?((?:[^$\n.]|\.(?=\d))+?)\$?\s*(?:\.(?:\s|$)|\n|$)/gi

/** A number standing on its own: not the `2` of `AZYUK2A`, nor a piece of `3.14.15` or `x2`. */
const WHOLE_NUMBER = /(?<![\w.])-?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?!\d|[.,]\d)/g

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
