import type { OptionSpecs, OptionValues } from '../core/options.js'
import { HINT_OPTIONS } from '../hints/options.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'

const { samples: _samples, ...SAMPLING } = SAMPLING_OPTIONS
const { noHints: _noHints, ...HINTS } = HINT_OPTIONS

/**
 * `start hints evolve`'s flags and the config's `hints:` keys: how prefixes and continuations are sampled
 * (as hint-infer), where the first hint point is (the hint policy), and the A/B's size and level.
 */
export const EVOLVE_OPTIONS = {
  ...SAMPLING,
  temperature: { ...SAMPLING.temperature, default: 0.6 },
  ...HINTS,
  prefixes: {
    kind: 'integer',
    min: 1,
    default: 16,
    description: 'problems sampled up to their first hint point (each such point is one prefix)',
  },
  continuations: {
    kind: 'integer',
    min: 1,
    default: 4,
    description: 'continuations per hint per prefix (the same seeds for every hint)',
  },
  candidates: {
    kind: 'integer',
    min: 0,
    default: 2,
    description: "candidates per category from the grammar's rephrasings",
  },
  grammar: {
    kind: 'string',
    path: true,
    description: 'rephrasing grammar JSON (default: hint-library/grammar.json)',
  },
  proposer: {
    kind: 'string',
    path: true,
    description: 'a GGUF model that writes new hints per category from a meta-prompt with their efficacy',
  },
  proposals: {
    kind: 'integer',
    min: 1,
    default: 2,
    description: 'with --proposer: hints it is asked for per category',
  },
  metric: {
    kind: 'string',
    options: ['correct', 'code'],
    default: 'correct',
    description: 'what a candidate must do better than its parent: correct answers, or code run after it',
  },
  alpha: {
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.05,
    description: "level of the paired test, after Holm's correction across candidates",
  },
  replace: {
    kind: 'boolean',
    default: false,
    description: 'a candidate that beats its parent replaces it (default: joins the library beside it)',
  },
} as const satisfies OptionSpecs

export type EvolveSettings = OptionValues<typeof EVOLVE_OPTIONS>
