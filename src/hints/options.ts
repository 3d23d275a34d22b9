import type { OptionSpecs, OptionValues } from '../core/options.js'
import { DEFAULT_HINT_POLICY, type HintPolicy } from './policy.js'

/** Where hints go and from which library: `start hint-infer`'s flags, the config's `hintInfer:` keys. */
export const HINT_OPTIONS = {
  noHints: { kind: 'boolean', default: false, description: 'the plain model: no hints (code still runs)' },
  hints: { kind: 'string', path: true, description: 'hint library JSON (default: hint-library/start.json)' },
  thinkHints: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_HINT_POLICY.thinkHints,
    description: 'hints before the thinking closes',
  },
  connectiveHints: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_HINT_POLICY.maxConnectiveHints,
    description: 'hints after connectives',
  },
  connectives: {
    kind: 'list',
    split: true,
    default: DEFAULT_HINT_POLICY.connectives,
    description: 'comma-separated words after which a hint may go in',
  },
  hintProbability: {
    kind: 'number',
    min: 0,
    max: 1,
    default: DEFAULT_HINT_POLICY.probability,
    description: 'chance an eligible connective gets a hint',
  },
  hintDistance: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_HINT_POLICY.minDistance,
    description: 'characters between connective hints',
  },
} as const satisfies OptionSpecs

export type HintSettings = OptionValues<typeof HINT_OPTIONS>

/** The policy the settings describe; null for the plain model. */
export function toHintPolicy(settings: HintSettings): HintPolicy | null {
  if (settings.noHints) return null
  return {
    connectives: settings.connectives,
    maxConnectiveHints: settings.connectiveHints,
    minDistance: settings.hintDistance,
    probability: settings.hintProbability,
    thinkHints: settings.thinkHints,
  }
}
