import type { OptionSpecs, OptionValues } from '../core/options.js'
import { DEFAULT_MAX_TOOL_CALLS } from '../inference/options.js'
import { type FilterPolicy, STEP_RULES, TRAJECTORY_RULES } from './types.js'

export const DEFAULT_FILTER_POLICY: FilterPolicy = {
  rule: 'hint-gain',
  judgement: 'process',
  maxPlainAccuracy: 0,
  minToolCalls: 1,
  maxToolCalls: DEFAULT_MAX_TOOL_CALLS,
  maxChars: 32_768,
  maxRepetition: 0.4,
  maxRepeatedCode: 1,
  nearDuplicate: 0.8,
  perProblem: 0,
}

/** Word n-gram length of the contamination check. */
export const DEFAULT_NGRAM = 13

/** `start filter`'s selection, dedup and decontamination: its flags and the config's `filter:` keys. */
export const FILTER_OPTIONS = {
  rule: {
    kind: 'string',
    options: [...TRAJECTORY_RULES, ...STEP_RULES],
    default: DEFAULT_FILTER_POLICY.rule,
    description:
      'trajectories: hint-gain (START: right where the plain runs fail) or correct; step records (SWiRL): process, outcome, both or none',
  },
  judgement: {
    kind: 'string',
    default: DEFAULT_FILTER_POLICY.judgement,
    description:
      'step rules process and both: the judgement read (process: start judge --judge rules or model; counterfactual: --judge counterfactual)',
  },
  maxPlainAccuracy: {
    kind: 'number',
    min: 0,
    max: 1,
    default: DEFAULT_FILTER_POLICY.maxPlainAccuracy,
    description: 'hint-gain: highest share of correct plain runs a problem may have',
  },
  minToolCalls: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_FILTER_POLICY.minToolCalls,
    description: 'fewest tool calls kept',
  },
  maxToolCalls: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_FILTER_POLICY.maxToolCalls,
    description: 'most tool calls kept',
  },
  maxChars: {
    kind: 'integer',
    min: 1,
    default: DEFAULT_FILTER_POLICY.maxChars,
    description: 'longest trajectory kept',
  },
  maxRepetition: {
    kind: 'number',
    min: 0,
    max: 1,
    default: DEFAULT_FILTER_POLICY.maxRepetition,
    description: 'highest share of repeated word 8-grams',
  },
  maxRepeatedCode: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_FILTER_POLICY.maxRepeatedCode,
    description: 'most code blocks repeated verbatim',
  },
  nearDuplicate: {
    kind: 'number',
    min: 0,
    max: 1,
    default: DEFAULT_FILTER_POLICY.nearDuplicate,
    description: 'MinHash Jaccard at which trajectories of a problem are duplicates (1 turns it off)',
  },
  perProblem: {
    kind: 'integer',
    min: 0,
    default: DEFAULT_FILTER_POLICY.perProblem,
    description: 'most trajectories kept per problem (0: no cap)',
  },
  decontaminate: {
    kind: 'list',
    path: true,
    default: [],
    description: 'evaluation problem sets (JSONL or glob) to keep out',
  },
  ngram: {
    kind: 'integer',
    min: 3,
    default: DEFAULT_NGRAM,
    description: 'word n-gram length of the contamination check',
  },
  dropHints: { kind: 'boolean', default: false, description: 'remove the inserted hints from the kept text' },
  name: { kind: 'string', default: 'D_seed', description: "the dataset's name in the store" },
} as const satisfies OptionSpecs

export type FilterSettings = OptionValues<typeof FILTER_OPTIONS>

/** The selection thresholds of the settings (the rest says what to read and write). */
export function toFilterPolicy(settings: FilterSettings): FilterPolicy {
  const { decontaminate, ngram, dropHints, name, ...policy } = settings
  return policy
}
