import { countRepeatedCode } from '../filter/scores.js'
import { minHashSignature, repetitionRate, wordHashes } from '../filter/text-features.js'
import type { FilterPolicy, RejectReason, SeedRecord, StepRule } from '../filter/types.js'
import type { JudgedStep } from './read-steps.js'

/** What the step rules need that the step alone does not say. */
export interface StepContext {
  contaminated: boolean
  /** Whether the trajectory's final answer is right (outcome and both rules). */
  correct?: boolean
}

/** What a rule reads: the process judge's verdict, the trajectory's outcome, or both. */
export function ruleReads(rule: StepRule): { process: boolean; outcome: boolean } {
  return { process: rule === 'process' || rule === 'both', outcome: rule === 'outcome' || rule === 'both' }
}

/**
 * Why a step is not kept, or null when it passes the rules (dedup and the cap come after). Process:
 * the judgement `policy.judgement` (the process judge's, or the counterfactual judge's) said yes
 * (unjudged is not yes); outcome: the trajectory's answer is right.
 */
export function stepRejectReason(
  step: JudgedStep,
  context: StepContext,
  policy: FilterPolicy & { rule: StepRule },
): RejectReason | null {
  if (context.contaminated) return 'contaminated'
  const reads = ruleReads(policy.rule)
  if (reads.process) {
    const verdict = step.judgements?.[policy.judgement]?.verdict
    if (verdict === 'unjudged') return 'unjudged'
    if (verdict !== 'yes') return 'unreasonable'
  }
  if (reads.outcome && !context.correct) return 'incorrect'
  if (step.state.text.length + step.action.length > policy.maxChars) return 'over-long'
  if (
    repetitionRate(wordHashes(step.action)) > policy.maxRepetition ||
    countRepeatedCode(step.state.text + step.action) > policy.maxRepeatedCode
  )
    return 'repetitive'
  return null
}

/**
 * What dedup compares: two steps are the same when state and action are; near duplicates are judged on
 * the action alone (states of one trajectory overlap by construction).
 */
export function stepIdentity(step: JudgedStep): { text: string; signature: Uint32Array } {
  return {
    text: `${step.state.text}\u0000${step.action}`,
    signature: minHashSignature(wordHashes(step.action)),
  }
}

/**
 * The step-wise SFT example of a kept step (SWiRL): the prompt's messages, then the state and the action
 * as the assistant turn, with the state (earlier reasoning, code and outputs) masked from the loss so only
 * the action is learned. A step that ends at a tool call `continues`: the turn is not closed after it.
 * `dropHints` masks the hints inserted in the action too (the state is context either way).
 */
export function toStepSeedRecord(step: JudgedStep, dropHints: boolean): SeedRecord {
  const opened = /<think>\s*$/.exec(step.state.prompt)?.[0] ?? ''
  const actionAt = opened.length + step.state.text.length
  const hintSpans = step.insertedSpans.map(([start, end]): [number, number] => [
    actionAt + start,
    actionAt + end,
  ])
  return {
    messages: [
      ...step.state.messages,
      { role: 'assistant', content: opened + step.state.text + step.action },
    ],
    outputSpans: [[0, actionAt], ...(dropHints ? hintSpans : [])],
    problemId: step.problemId,
    source: step.source ?? 'unknown',
    sample: step.sample,
    run: step.run,
    toolCalls: step.final ? 0 : 1,
    hints: [],
    step: step.step,
    ...(step.final ? {} : { continues: true }),
  }
}
