import { fillable, fillPlaceholders, type Hint, type HintLibrary, type HintValues } from './library.js'

/** When hints go in. Every field has a default (see DEFAULT_HINT_POLICY). */
export interface HintPolicy {
  /** Words after which a hint may go in. Default Wait, Alternatively, Hmm. */
  connectives: string[]
  /** Hints inserted at connectives per trajectory. Default 1. */
  maxConnectiveHints: number
  /** Characters of model text between two hints at connectives. Default 200. */
  minDistance: number
  /** Chance that an eligible connective gets a hint. Default 1. */
  probability: number
  /** Hints inserted when the model is about to close its thinking (START's test-time scaling knob). Default 1. */
  thinkHints: number
}

export const DEFAULT_HINT_POLICY: HintPolicy = {
  connectives: ['Wait', 'Alternatively', 'Hmm'],
  maxConnectiveHints: 1,
  minDistance: 200,
  probability: 1,
  thinkHints: 1,
}

/** What the policy needs to know about the trajectory so far. */
export interface HintState {
  connectiveHints: number
  thinkHints: number
  /** Length of the text at the last hint, or -Infinity. */
  lastHintAt: number
}

export type Random = () => number

/** A small seeded generator (mulberry32): the same seed gives the same hints. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A seed for one sample: stable across runs and independent between problems and samples. */
export function sampleSeed(seed: number, problemId: string, sample: number): number {
  let hash = 2166136261 ^ seed
  for (const char of `${problemId}#${sample}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619)
  return hash >>> 0
}

export function wantsConnectiveHint(
  policy: HintPolicy,
  state: HintState,
  textLength: number,
  random: Random,
): boolean {
  if (state.connectiveHints >= policy.maxConnectiveHints) return false
  if (textLength - state.lastHintAt < policy.minDistance) return false
  return random() < policy.probability
}

export function wantsThinkHint(policy: HintPolicy, state: HintState): boolean {
  return state.thinkHints < policy.thinkHints
}

export function pickHint(
  library: HintLibrary,
  domain: 'math' | 'code',
  random: Random,
  values: HintValues = {},
): Hint {
  const usable = library.hints.filter((hint) => fillable(hint, values))
  const suitable = usable.filter((hint) => hint.domain === domain || hint.domain === 'any')
  const pool = suitable.length > 0 ? suitable : usable
  return pool[Math.floor(random() * pool.length)]!
}

/** The text to insert after a connective the model wrote: the hint without its own leading connective. */
export function hintAfterConnective(hint: Hint, connectives: readonly string[], boundary: string): string {
  const words = connectives.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
  const body = hint.text.replace(new RegExp(`^(?:${words})[,.:;!]?\\s*`), '')
  return /\s/.test(boundary) ? body : ` ${body}`
}

/**
 * Where the loop would put a hint, and what it needs to put one there: after a connective the model wrote
 * (`boundary`: the character after it), or where the model was about to end its thinking or its turn
 * (`before`: text the insertion starts with, a newline when the text lacks one).
 */
export type HintPoint =
  | { trigger: 'connective'; word: string; boundary: string }
  | { trigger: 'think-end'; before: string }

/**
 * The text inserted for `hint` at `point`, its placeholders filled from `values`: the loop's insertion,
 * and `start hints evolve`'s arms.
 */
export function hintInsertion(
  point: HintPoint,
  hint: Hint,
  connectives: readonly string[],
  values: HintValues = {},
): string {
  const filled = { ...hint, text: fillPlaceholders(hint.text, values) }
  return point.trigger === 'connective'
    ? hintAfterConnective(filled, connectives, point.boundary)
    : `${point.before}${filled.text}\n`
}
