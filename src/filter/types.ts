import type { Reference } from '../grading/grader.js'
import type { ChatMessage } from '../inference/engine.js'
import type { Segment } from '../inference/types.js'

/** A trajectory as the filter reads it (from `start hint-infer`, or any JSONL with the same fields). */
export interface FilterTrajectory {
  run?: string
  problemId: string
  source: string
  sample: number
  /** The problem statement, when the record has it (decontamination reads it). */
  problem?: string
  messages?: ChatMessage[]
  prompt?: string
  text: string
  /** The text's pieces; derived from its ```output blocks when the record has none. */
  segments: Segment[]
  reference: Reference
  toolCalls: number
  finishReason?: string
  generatedTokens?: number
}

/** What the filter measures on each trajectory. */
export interface TrajectoryScores {
  correct: boolean
  /** A final answer (or solution code) was found. */
  answered: boolean
  /** The thinking section was closed (true for models that do not think in tags). */
  thinkingClosed: boolean
  toolCalls: number
  /** Executions that raised, were killed or timed out. */
  failedExecutions: number
  /** Outputs whose numbers or names the model wrote again afterwards. */
  outputsUsed: number
  /** Share of repeated word 8-grams in the model's own text, 0..1. */
  repetition: number
  /** Code blocks identical to an earlier block of the same trajectory. */
  repeatedCode: number
  chars: number
  tokens: number | null
}

export const REJECT_REASONS = [
  'contaminated',
  'malformed',
  'unjudged',
  'unreasonable',
  'incorrect',
  'no-plain-run',
  'no-hint-gain',
  'no-tool-use',
  'tool-cap',
  'over-long',
  'repetitive',
  'duplicate',
  'near-duplicate',
  'per-problem-cap',
] as const

export type RejectReason = (typeof REJECT_REASONS)[number]

/** The rules over trajectories (START). */
export const TRAJECTORY_RULES = ['hint-gain', 'correct'] as const
/** The rules over step records of `start steps` (SWiRL): by the process judge, the outcome, both, or none. */
export const STEP_RULES = ['process', 'outcome', 'both', 'none'] as const
export type StepRule = (typeof STEP_RULES)[number]
export type SelectionRule = (typeof TRAJECTORY_RULES)[number] | StepRule

export function isStepRule(rule: SelectionRule): rule is StepRule {
  return (STEP_RULES as readonly string[]).includes(rule)
}

/** The selection thresholds. Each field states its default. */
export interface FilterPolicy {
  /**
   * Default 'hint-gain': keep hinted trajectories correct where the plain runs of the problem fail.
   * Over step records: process (the process judge said yes), outcome (the trajectory's answer is right),
   * both, or none.
   */
  rule: SelectionRule
  /** Step rules process and both: the judgement they read (`judgements.<name>`). Default 'process'. */
  judgement: string
  /** hint-gain: highest share of correct plain runs a problem may have. Default 0 (all wrong). */
  maxPlainAccuracy: number
  /** Fewest tool calls a kept trajectory makes. Default 1. */
  minToolCalls: number
  /** Most tool calls (START caps at 6). Default 6. */
  maxToolCalls: number
  /** Longest kept trajectory in characters. Default 32768. */
  maxChars: number
  /** Highest repetition score. Default 0.4. */
  maxRepetition: number
  /** Most code blocks repeated verbatim. Default 1. */
  maxRepeatedCode: number
  /** Estimated Jaccard similarity at which two kept trajectories of a problem count as duplicates. Default 0.8. */
  nearDuplicate: number
  /** Most trajectories kept per problem; 0 for no cap. Default 0. */
  perProblem: number
}

/** One D_seed example: chat messages ready for SFT, with the interpreter output marked for masking. */
export interface SeedRecord {
  messages: ChatMessage[]
  /** [start, end) character spans of interpreter output in the assistant message: no loss there. */
  outputSpans: [number, number][]
  problemId: string
  source: string
  sample: number
  run?: string
  toolCalls: number
  /** Hints kept in the text, with their offset in the assistant message. */
  hints: { id: string; category: string; trigger: string; offset: number }[]
  /** A step of a trajectory (step-wise SFT): its position; the state before it is in `outputSpans`. */
  step?: number
  /** The turn goes on after the content (a step that ends at a tool call): no end-of-turn is trained. */
  continues?: boolean
}
