import type { ChatMessage } from '../inference/engine.js'
import type { FilterPolicy, FilterTrajectory, RejectReason, SeedRecord, TrajectoryScores } from './types.js'

/** How the plain (hint-free) runs of a problem did. */
export interface PlainRuns {
  runs: number
  correct: number
}

/**
 * Why a trajectory is not kept, by the policy's rules, or null when it passes them. Dedup and the
 * per-problem cap come after, as they depend on what was kept before.
 */
export function rejectReason(
  scores: TrajectoryScores,
  context: { contaminated: boolean; plain: PlainRuns | undefined; finishReason?: string },
  policy: FilterPolicy,
): RejectReason | null {
  if (context.contaminated) return 'contaminated'
  const finishedEarly = context.finishReason !== undefined && context.finishReason !== 'stop'
  if (!scores.answered || !scores.thinkingClosed || finishedEarly) return 'malformed'
  if (!scores.correct) return 'incorrect'
  if (policy.rule === 'hint-gain') {
    if (!context.plain || context.plain.runs === 0) return 'no-plain-run'
    if (context.plain.correct / context.plain.runs > policy.maxPlainAccuracy) return 'no-hint-gain'
  }
  if (scores.toolCalls < policy.minToolCalls) return 'no-tool-use'
  if (scores.toolCalls > policy.maxToolCalls) return 'tool-cap'
  if (scores.chars > policy.maxChars) return 'over-long'
  if (scores.repetition > policy.maxRepetition || scores.repeatedCode > policy.maxRepeatedCode)
    return 'repetitive'
  return null
}

/**
 * The D_seed example of a kept trajectory: the prompt's messages plus the trajectory as the assistant
 * turn (with the `<think>` the generation prompt opened, so the turn is whole), and the spans of
 * interpreter output in it. `dropHints` removes the inserted hints from the text.
 */
export function toSeedRecord(trajectory: FilterTrajectory, dropHints: boolean): SeedRecord {
  const opened = /<think>\s*$/.exec(trajectory.prompt ?? '')?.[0] ?? ''
  let content = opened
  const outputSpans: [number, number][] = []
  const hints: SeedRecord['hints'] = []
  for (const segment of trajectory.segments) {
    if (segment.kind === 'hint') {
      if (dropHints) continue
      if (segment.hint) {
        const { id, category, trigger } = segment.hint
        hints.push({ id, category, trigger, offset: content.length })
      }
    }
    if (segment.kind === 'output') outputSpans.push([content.length, content.length + segment.text.length])
    content += segment.text
  }
  const input: ChatMessage[] = trajectory.messages ?? [
    { role: 'user', content: trajectory.problem ?? trajectory.prompt ?? '' },
  ]
  return {
    messages: [...input, { role: 'assistant', content }],
    outputSpans,
    problemId: trajectory.problemId,
    source: trajectory.source,
    sample: trajectory.sample,
    ...(trajectory.run ? { run: trajectory.run } : {}),
    toolCalls: trajectory.toolCalls,
    hints,
  }
}
