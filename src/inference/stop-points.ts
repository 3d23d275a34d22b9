/**
 * Where generation stops for a decision. Pure: given the text so far and the piece (one token's
 * text) the model just produced, says whether that piece closes a ```python block, completes a
 * connective, or starts closing the thinking.
 */
export type StopPoint =
  | { kind: 'code'; code: string }
  | { kind: 'connective'; word: string; boundary: string }
  /** The model started writing </think> at `tagStart` (an index into text + piece). */
  | { kind: 'think-end'; tagStart: number }

const OPEN_FENCE = /(?:^|\n)```(?:python|py)[ \t]*\n/g
const FENCE = '```'
const CLOSE_TAG = '</think>'
/**
 * What a served model may write right after a connective for the stop to fire: the common ones of
 * `\P{L}`. A server matches stop strings literally, so the boundary is part of each.
 */
export const CONNECTIVE_BOUNDARIES = [' ', ',', '.', '!', '?', ':', ';', '\n', '-', '\u2014'] as const

/** The body of the last ```python block if it is still open at the end of `text`, else undefined. */
export function openCodeBody(text: string): { body: string; start: number } | undefined {
  let last: RegExpExecArray | undefined
  for (const match of text.matchAll(OPEN_FENCE)) last = match as RegExpExecArray
  if (!last) return undefined
  const start = last.index + last[0].length
  const body = text.slice(start)
  return /(?:^|\n)```/.test(body) ? undefined : { body, start }
}

export interface StopPointOptions {
  connectives: readonly string[]
  /** Whether the model is inside its thinking (a <think> was opened and not closed). */
  thinking: boolean
}

export function detectStopPoint(
  before: string,
  piece: string,
  options: StopPointOptions,
): StopPoint | undefined {
  const text = before + piece
  const open = openCodeBody(before)
  if (open) {
    // Inside a code block only its closing fence matters.
    const body = text.slice(open.start)
    const close = /(?:^|\n)```/.exec(body)
    if (!close) return undefined
    return { kind: 'code', code: body.slice(0, close.index) }
  }
  if (options.thinking) {
    // A line that begins "</" while thinking is the closing tag on its way (one token in most
    // reasoning models' vocabularies, several in small ones).
    const lineStart = text.lastIndexOf('\n') + 1
    const line = text.slice(lineStart)
    if (line.length >= 2 && CLOSE_TAG.startsWith(line)) return { kind: 'think-end', tagStart: lineStart }
  }
  if (options.connectives.length > 0) {
    const pattern = connectivePattern(options.connectives)
    const from = Math.max(0, before.length - 40)
    for (const match of text.slice(from).matchAll(pattern)) {
      const end = from + match.index + match[0].length
      if (end > before.length) return { kind: 'connective', word: match[1]!, boundary: match[2]! }
    }
  }
  return undefined
}

export interface DecisionStopOptions {
  /** Connectives after which a hint may still go in. */
  connectives: readonly string[]
  /** Whether closing the thinking is still a decision: the model is thinking and a think hint is due. */
  thinkEnd: boolean
  /** Whether a closed code block still runs (tool calls are left). */
  code: boolean
}

/**
 * The stop strings of a served model's next request: only where the loop may act, since every stop costs
 * a request. Inside a code block: its closing fence, if the block runs or a decision may follow it.
 * Outside: a fence that ends its line while code still runs (a closing one; an opening fence goes on with
 * the language name, so it costs no request), the end of thinking while a hint is due there, and each
 * connective with a boundary after it.
 */
export function decisionStops(text: string, options: DecisionStopOptions): string[] {
  const decisions = [
    ...(options.thinkEnd ? [CLOSE_TAG] : []),
    ...options.connectives.flatMap((word) => CONNECTIVE_BOUNDARIES.map((boundary) => word + boundary)),
  ]
  if (openCodeBody(text)) return options.code || decisions.length > 0 ? [FENCE] : []
  return options.code ? [`${FENCE}\n`, ...decisions] : decisions
}

/**
 * A served model's answer cut into pieces so that every place the loop may act ends a piece: after each
 * line, each fence and each stop string. The server stops at most of them; the cut finds the rest (a
 * fence right before the end of the turn, a stop the server's matching missed).
 */
export function splitAtDecisionPoints(text: string, stops: readonly string[]): string[] {
  const cuts = new Set<number>()
  for (const marker of ['\n', FENCE, ...stops]) {
    for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + 1))
      cuts.add(at + marker.length)
  }
  const pieces: string[] = []
  let start = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut > start && cut < text.length) {
      pieces.push(text.slice(start, cut))
      start = cut
    }
  }
  if (start < text.length) pieces.push(text.slice(start))
  return pieces
}

const patterns = new Map<string, RegExp>()

/** Compiled once per list: this runs on every generated token. */
function connectivePattern(connectives: readonly string[]): RegExp {
  const key = connectives.join('\u0000')
  let pattern = patterns.get(key)
  if (!pattern) {
    pattern = new RegExp(`(?<!\\p{L})(${connectives.map(escapeRegExp).join('|')})(\\P{L})`, 'gu')
    patterns.set(key, pattern)
  }
  return pattern
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
