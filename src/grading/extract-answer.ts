import { BOUND_WORDS, qualifierIn, TRAILING_BOUND_WORDS } from './answer-checks.js'
import { normalizeAnswer, stripVariable } from './normalize-answer.js'
import { type TextPiece, visibleText } from './visible-text.js'

/** A candidate answer found in the text, and where. */
interface Piece {
  content: string
  start: number
  end: number
}

/**
 * Every closed \boxed{...} (or \fbox{...}, or `\boxed 3`), braces balanced, outermost only (the inner box
 * of `\boxed{\boxed{4}}` is the same answer). One pass with a stack: linear in the text.
 */
function boxes(text: string): Piece[] {
  const found: Piece[] = []
  const open: { start: number; contentStart: number; depth: number }[] = []
  let depth = 0
  for (const token of text.matchAll(/\\(?:boxed|fbox)(?![a-zA-Z])\s*(\{?)|[{}]/g)) {
    const at = token.index
    if (token[0] === '{') depth++
    else if (token[0] === '}') {
      if (depth === 0) continue
      depth--
      if (open.at(-1)?.depth === depth) {
        const box = open.pop()!
        found.push({ content: text.slice(box.contentStart, at).trim(), start: box.start, end: at + 1 })
      }
    } else if (token[1]) {
      open.push({ start: at, contentStart: at + token[0].length, depth })
      depth++
    } else {
      // `\boxed 3`: TeX takes one token as the argument.
      const bare = /^[^\s${}\\]+/.exec(text.slice(at + token[0].length, at + token[0].length + 64))
      if (bare) found.push({ content: bare[0], start: at, end: at + token[0].length + bare[0].length })
    }
  }
  found.sort((a, b) => a.start - b.start)
  const outermost: Piece[] = []
  for (const box of found) if (box.start >= (outermost.at(-1)?.end ?? 0)) outermost.push(box)
  return outermost
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
  /** The record's segments: only what the model wrote is read (not hints, not the interpreter's output). */
  segments?: readonly TextPiece[]
}

/** Why a completion has no answer to grade, or why the answer it gives is wrong whatever its value. */
export type ExtractionFailure = 'cut off' | 'unclosed thought' | 'no answer' | 'hedged' | 'qualified'

export interface Extraction {
  /** The final answer (also given with `hedged`, to show what was refused). */
  answer?: string
  failure?: ExtractionFailure
}

/** The prompt left the model inside `<think>`: a reasoning model's generation prompt opens it. */
export function promptOpensThinking(prompt: string | undefined): boolean {
  return prompt !== undefined && /<think>\s*$/.test(prompt)
}

/** The model's final answer, or undefined when it has none or hedges (see `extractFinalAnswer`). */
export function extractAnswer(completion: string, options: ExtractOptions = {}): string | undefined {
  const extraction = extractFinalAnswer(completion, options)
  return extraction.failure ? undefined : extraction.answer
}

/**
 * The model's final answer, in a documented order. Only what the model wrote and a reader sees is read
 * (`visibleText`). A trajectory cut off at the token limit, or whose thinking never closed (or opened
 * again after `</think>`), has none (unless `lenient`); after a closed thought only the text after it is
 * read. The answer is the later of the last \boxed{} (with the boxes just before it that list the same
 * answer) and the last "answer is X" / "Answer: X" statement; else the last math span, unless (with
 * `lastNumber`) a number of the final line comes after it; else a bare final line that is math.
 *
 * Hedged (wrong whatever the value): another box or answer statement with a different value, another
 * math span offered as an alternative ("$a$ (or $b$)"), a revision or alternative with a value after the
 * answer ("\boxed{4}. Wait, actually it's 5."), a question mark right after it, or a sentence that names
 * several numbers. Qualified: a bound or doubt right beside the answer ("at least \boxed{40}"). Every
 * step is linear in the completion's length.
 */
export function extractFinalAnswer(completion: string, options: ExtractOptions = {}): Extraction {
  const text = visibleText(completion, options.segments)
  const thinkEnd = text.lastIndexOf('</think>')
  if (!options.lenient) {
    if (options.finishReason !== undefined && options.finishReason !== 'stop') return { failure: 'cut off' }
    const opened = options.startsThinking || text.includes('<think>')
    if (opened && (thinkEnd < 0 || text.includes('<think>', thinkEnd))) return { failure: 'unclosed thought' }
  }
  const answerPart = (thinkEnd >= 0 ? text.slice(thinkEnd + '</think>'.length) : text).replace(/\*\*|__/g, '')
  const found = boxes(answerPart)
  const statements = answerStatements(answerPart, options.lastNumber)
  const lastBox = found.at(-1)
  const lastStatement = statements.at(-1)
  let final: Piece[]
  if (lastStatement && (!lastBox || lastStatement.start >= lastBox.end)) final = [lastStatement]
  else if (lastBox) final = listedAtEnd(found, answerPart)
  else return fallbackAnswer(answerPart, options.lastNumber)
  const answer = final.map((piece) => piece.content).join(', ')
  // Every other box or statement must give the same answer (spelt alike, or normalised alike).
  const spelt = new Set(final.map((piece) => piece.content))
  const inFinal = new Set(final)
  let others = [...found, ...statements].filter((piece) => !inFinal.has(piece) && !spelt.has(piece.content))
  if (others.length > 0) {
    const keys = new Set(final.map((piece) => answerKey(piece.content)))
    others = others.filter((piece) => !keys.has(answerKey(piece.content)))
  }
  if (answer === '') return { failure: 'no answer' }
  if (final.some((piece) => piece.content === HEDGED)) return { failure: 'hedged' }
  const failure = others.length > 0 ? 'hedged' : besideProblem(answerPart, final[0]!.start, final.at(-1)!.end)
  return failure ? { answer, failure } : { answer }
}

/**
 * What the words around the answer at [start, end) say of it: hedged when it is offered as an
 * alternative or taken back just after; qualified when a bound or doubt stands right beside it.
 */
function besideProblem(text: string, start: number, end: number): ExtractionFailure | undefined {
  const before = text.slice(Math.max(0, start - 80), start)
  const after = text.slice(end)
  if (offeredAsAlternative(before) || revisedAfter(after) || ANOTHER_VALUE.test(after)) return 'hedged'
  if (QUALIFIER_BEFORE.test(before) || QUALIFIER_AFTER.test(after)) return 'qualified'
  return undefined
}

/** A bound or doubt written right before the answer: "at least \boxed{40}", "is not $40$", "roughly". */
const QUALIFIER_BEFORE = new RegExp(
  String.raw`(?:\b(?:${BOUND_WORDS})|\bapprox\.|n't|~)(?:\s|\$|\\[([])*$`,
  'i',
)

/** A bound written right after the answer: "\boxed{40} at most", "$40$ or more", "give or take". */
const QUALIFIER_AFTER = new RegExp(
  String.raw`^(?:\s|\$|\\[)\]])*(?:at\s+(?:least|most)|${TRAILING_BOUND_WORDS}|approximately|roughly)\b`,
  'i',
)

/** A statement naming several values ("the answer is 1 or 2"): hedged whatever they are. */
const HEDGED = '\u0000hedged'

/** Two spellings of one answer have one key: `x = 5`, `5`, `$5$`, `5 dollars`. */
function answerKey(content: string): string {
  return stripVariable(normalizeAnswer(content))
}

/** Words that take back or add to an answer just given: with another value after them, a hedge. */
const REVISION =
  /\b(?:or|maybe|perhaps|possibly|probably|alternatively|otherwise|unless|wait|actually|hmm|instead|rather|correction|either)\b/i

/**
 * "\boxed{4}. Wait, actually it's 5." or "\boxed{8}? Or 9": the text just after the answer (the rest of
 * its paragraph, two sentences at most) takes it back.
 */
function revisedAfter(after: string): boolean {
  if (/^\s*\$*\s*\?/.test(after)) return true
  const paragraph = after.split(/\n\s*\n/, 1)[0]!
  const near = paragraph
    .split(/(?<=[.?!])\s+/)
    .slice(0, 3)
    .join(' ')
  return REVISION.test(near) && /\d|\\boxed|\$/.test(near)
}

/**
 * Another value offered anywhere after the answer, in words: "(It could also be 43.)", "43 is also
 * possible", "another possible answer is 43". Each names a value (a digit right after "could also be", a
 * value before "is also possible"), so "it could also be written as 6 \cdot 7" is not one.
 */
const ANOTHER_VALUE =
  /\b(?:could|might|may|can)\s+also\s+be\s*[$\\{(]*-?\d|\d[^.\n]{0,20}?\b(?:is|are|would\s+be|seems?)\s+also\s+(?:possible|valid|correct|right|an?\s+(?:answer|solution))|\balso\s+(?:possible|valid|correct)\s*:?\s*[$\\{(]*-?\d|\banother\s+(?:possible\s+)?(?:answer|possibility|candidate|value)\b[^.\n]{0,40}?\d/i

/** "Alternatively, \boxed{42}", "or maybe $9$": the answer offered as one of several. */
function offeredAsAlternative(before: string): boolean {
  const line = before.slice(before.lastIndexOf('\n') + 1)
  return /\b(?:alternatively|or|maybe|perhaps|possibly|otherwise)\b[^.!]*$/i.test(line)
}

/** "The answer is X", "Final answer: X", "Answer: X" (a bold "**Answer:** X" once its asterisks go). */
const ANSWER_KEYWORD = /\b(?:(?:final|the)\s+answer\s*(?:is\b|[:：])|answer\s*[:：])/gi

/**
 * Every answer statement's value, where it can be read: the statement ends at its line's end, its
 * sentence's end or the next statement (so that repeated "answer:" stays linear). A box inside a
 * statement is the box's answer, read as a box.
 */
function answerStatements(text: string, lastNumber?: boolean): Piece[] {
  const keywords = [...text.matchAll(ANSWER_KEYWORD)]
  const pieces: Piece[] = []
  for (const [i, keyword] of keywords.entries()) {
    const start = keyword.index + keyword[0].length
    const limit = keywords[i + 1]?.index ?? text.length
    const end = sentenceEnd(text, start, limit)
    // "The answer is 4, so \boxed{5}": what stands before a box in the statement is a value of its own.
    const [raw = '', ...boxed] = text.slice(start, end).split(/\\(?:boxed|fbox)(?![a-zA-Z])/)
    const content = statedValue(raw, lastNumber)
    // "Final Answer: The final answer is 12", "the answer is $x \in \boxed{...}$": an earlier statement,
    // or the words before a box, count only where they state a value.
    const bare = i === keywords.length - 1 && boxed.length === 0
    if (content !== undefined && (bare || /\d/.test(content)))
      pieces.push({ content, start: keyword.index, end })
  }
  return pieces
}

/** Where a sentence that starts at `from` ends: a line break, or a full stop not inside a number. */
function sentenceEnd(text: string, from: number, limit: number): number {
  for (let i = from; i < limit; i++) {
    const char = text[i]
    if (char === '\n') return i
    if (char === '.' && !/\d/.test(text[i + 1] ?? '') && (i + 1 >= limit || /\s/.test(text[i + 1]!))) return i
  }
  return limit
}

/** A reason after the value ("because there are 72 groups of 7", "(double-checked 9 times)"). */
const REASON_CLAUSE =
  /\s(?:because|since|as|which|so|for|given|from|when|where)\s|\s\((?=[a-zA-Z]{2,})|;|\s[—–]\s/i

/**
 * What a statement states: the value before any reason; ", not 120" after a value goes. In a sentence
 * (words around the value) with `lastNumber`, its one number; several numbers hedge.
 */
function statedValue(raw: string, lastNumber?: boolean): string | undefined {
  let value = raw.trim()
  const reason = REASON_CLAUSE.exec(value)
  if (reason && reason.index > 0) value = value.slice(0, reason.index)
  value = value.replace(/(\S)\s*(?:,|\band\b|\bbut\b)\s*not\s.*$/i, '$1')
  value = value
    .trim()
    .replace(/^(?:\\?["'])+|(?:\\?["'])+$/g, '')
    .replace(/^\$+|\$+$/g, '')
    .replace(/[.,:\s]+$/, '')
    .trim()
  if (value === '') return undefined
  if (!lastNumber || !hasWords(value) || qualifierIn(value)) return value
  const numbers = value.match(WHOLE_NUMBER) ?? []
  if (numbers.length > 1) return HEDGED
  return numbers[0]?.replace(/,/g, '') ?? value
}

/**
 * No box and no statement: the last math span, unless (with `lastNumber`) a number of the final line
 * comes after it; else a bare final line that is math, not prose.
 */
function fallbackAnswer(answerPart: string, lastNumber?: boolean): Extraction {
  const spans = mathSpans(answerPart)
  const final = spans.length > 0 ? listedAtEnd(spans, answerPart) : []
  const span = final.at(-1)
  const finalLine = answerPart.trim().split('\n').at(-1)?.trim() ?? ''
  if (lastNumber) {
    // A number after the last math span is said later, so it is the answer: "the largest $n$ is 34".
    const lineStart = answerPart.trimEnd().length - finalLine.length
    const number = [...finalLine.matchAll(WHOLE_NUMBER)].at(-1)
    if (number && (!span || lineStart + number.index >= span.end)) {
      const value = number[0].replace(/,/g, '')
      const sentence = sentenceAround(finalLine, number.index)
      const numbers = sentence.text.match(WHOLE_NUMBER) ?? []
      if (qualifierIn(sentence.text)) return { answer: sentence.text.trim() } // the grader refuses it as qualified
      if (numbers.length === 1) return { answer: value }
      // Several numbers: the last is the answer only where a computation or a statement ends on it.
      if (REVISION.test(sentence.text) || /\.\.\.|\\[lc]?dots/.test(sentence.text))
        return { answer: value, failure: 'hedged' }
      const lead = finalLine.slice(sentence.start, number.index)
      return /(?:=|\bis|\bare|\bwas|\bequals|\btotal(?:\s+of)?)\s*\\?\$?\s*$/i.test(lead)
        ? { answer: value }
        : { failure: 'no answer' }
    }
  }
  if (span) {
    const answer = final.map((piece) => piece.content).join(', ')
    const first = final[0]!
    const previous = spans[spans.indexOf(first) - 1]
    const gap = previous ? answerPart.slice(previous.end, first.start) : ''
    const alternative = previous && !gap.includes('\n') && (REVISION.test(gap) || gap.includes('('))
    if (alternative && answerKey(previous.content) !== answerKey(span.content))
      return { answer, failure: 'hedged' }
    const failure = besideProblem(answerPart, first.start, span.end)
    return failure ? { answer, failure } : { answer }
  }
  // A bare answer on the last line, without delimiters: `-\frac{10}{9}`, `28 %`.
  return finalLine.length <= 60 && /[\d\\]/.test(finalLine) && !hasWords(finalLine)
    ? { answer: finalLine }
    : { failure: 'no answer' }
}

/** The sentence of `line` that holds position `at`, and where it starts. */
function sentenceAround(line: string, at: number): { text: string; start: number } {
  const before = line.slice(0, at)
  const start = Math.max(before.lastIndexOf('. '), before.lastIndexOf('? '), before.lastIndexOf('! ')) + 1
  const after = /[.?!](?:\s|$)/.exec(line.slice(at))
  return { text: line.slice(start, after ? at + after.index : line.length), start }
}

/** Prose, not math: a word of two letters or more standing alone, outside commands and braces (`$5 and gets $3`). */
function hasWords(text: string): boolean {
  const bare = text
    .replace(/\\(?:text|textbf|mathrm|mbox)\s*\{[^{}]*\}/g, ' ')
    .replace(/\\[a-zA-Z]+|\b(?:percent(?:age)?|pct)\b/g, ' ')
  return /(?:^|\s)[a-zA-Z]{2,}(?=[\s.,:;!?]|$)/.test(bare)
}

/**
 * The math spans (`$...$`, `$$...$$`, `\(...\)`, `\[...\]`) of the text: an answer written without a box
 * or an answer statement, as math-verify reads it. An inline span stays on one line; an escaped `\$` is
 * a dollar sign, not a delimiter. Words between values are prose ("$5 and gets $3"), not a span.
 * One scan; where each closing delimiter next occurs is remembered, so unclosed openers stay linear.
 */
function mathSpans(text: string): Piece[] {
  const spans: Piece[] = []
  const nextAt = new Map<string, number>()
  const next = (delimiter: string, from: number): number => {
    let at = nextAt.get(delimiter)
    if (at === undefined || (at >= 0 && at < from)) {
      at = text.indexOf(delimiter, from)
      while (at > 0 && delimiter !== '\n' && text[at - 1] === '\\' && !delimiter.startsWith('\\'))
        at = text.indexOf(delimiter, at + 1)
      nextAt.set(delimiter, at)
    }
    return at
  }
  const newlineAfter = (from: number) => {
    const at = next('\n', from)
    return at < 0 ? text.length : at
  }
  let i = 0
  while (i < text.length) {
    const pair = text.slice(i, i + 2)
    const close =
      pair === '\\[' ? '\\]' : pair === '\\(' ? '\\)' : pair === '$$' ? '$$' : text[i] === '$' ? '$' : ''
    if (!close) {
      i += text[i] === '\\' ? 2 : 1
      continue
    }
    const from = i + (close === '$' ? 1 : 2)
    const end = next(close, from)
    const oneLine = close === '\\)' || close === '$'
    if (end < 0 || (oneLine && newlineAfter(from) < end)) {
      i = from
      continue
    }
    const content = text.slice(from, end).trim()
    const prose = hasWords(content) && /\s/.test(content)
    if (content && !prose) spans.push({ content, start: i, end: end + close.length })
    i = end + close.length
  }
  return spans
}

/** The last of `pieces` with those just before it that only list joiners part from it. */
function listedAtEnd(pieces: Piece[], text: string): Piece[] {
  let first = pieces.length - 1
  while (first > 0 && isListJoiner(text.slice(pieces[first - 1]!.end, pieces[first]!.start))) first--
  return pieces.slice(first)
}

/**
 * What may stand between two boxes that together are one answer: `\boxed{-2} \quad\text{and}\quad \boxed{1}`,
 * `y_1 = \boxed{a}\) and \(y_2 = \boxed{b}`, `\boxed{(3, 3)} \text{ for part (a) and } \boxed{(1, 1)}`, and a
 * unit word before the joiner, `\boxed{1} papers and \boxed{2} bins` (not "wait," or "no,"). Taking more
 * boxes never pays a hedge: a list equals only the same list. Read token by token: linear.
 */
function isListJoiner(gap: string): boolean {
  if (gap.length > 200) return false
  const tokens: string[] = []
  const token =
    /\s+|[,;$]|\\[()[\]]|\\q?quad(?![a-zA-Z])|\\[,;!]|\\text\s*\{[^{}]*\}|[a-zA-Z](?:_\{?\w+\}?)?\s*=|[a-zA-Z]+|./y
  for (let match = token.exec(gap); match; match = token.exec(gap))
    if (!/^\s+$/.test(match[0])) tokens.push(match[0])
  return tokens.every((word, i) => {
    if (/^(?:[,;$]|\\[()[\],;!]|\\q?quad)$/.test(word) || /^\\text/.test(word) || /=$/.test(word)) return true
    if (/^(?:and|or)$/.test(word)) return true
    if (
      !/^[a-zA-Z]+$/.test(word) ||
      /^(?:wait|no|not|but|so|then|actually|hmm|maybe|perhaps|possibly)$/i.test(word)
    )
      return false
    // A unit word before a joiner: "papers" in `\boxed{1} papers and \boxed{2}`.
    return tokens[i + 1] === ',' || tokens[i + 1] === 'and'
  })
}

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
