import { OUTPUT_BLOCK, outputBody } from '../core/fences.js'
import { promptOpensThinking } from '../grading/extract-answer.js'
import type { Segment } from '../inference/types.js'
import { minHashSignature, repetitionRate, wordHashes } from './text-features.js'
import type { FilterTrajectory, TrajectoryScores } from './types.js'

/**
 * Splits a text into model and output segments at its ```output blocks: for trajectories made
 * elsewhere, which carry no segments of their own.
 */
export function segmentsFromText(text: string): Segment[] {
  const segments: Segment[] = []
  let last = 0
  for (const match of text.matchAll(OUTPUT_BLOCK)) {
    if (match.index > last) segments.push({ kind: 'model', text: text.slice(last, match.index) })
    segments.push({ kind: 'output', text: match[0] })
    last = match.index + match[0].length
  }
  if (last < text.length) segments.push({ kind: 'model', text: text.slice(last) })
  return segments
}

/** The scores of one trajectory, and the MinHash signature dedup needs (computed from the same words). */
export function scoreTrajectory(
  trajectory: FilterTrajectory,
  grade: { correct: boolean; predicted: string | null },
): { scores: TrajectoryScores; signature: Uint32Array } {
  const modelText = trajectory.segments
    .filter((segment) => segment.kind === 'model')
    .map((segment) => segment.text)
    .join('')
  const words = wordHashes(modelText)
  const thinks = promptOpensThinking(trajectory.prompt) || trajectory.text.includes('<think>')
  return {
    scores: {
      correct: grade.correct,
      answered: grade.predicted !== null,
      thinkingClosed: !thinks || trajectory.text.includes('</think>'),
      toolCalls: trajectory.toolCalls,
      failedExecutions: trajectory.segments.filter(isFailedOutput).length,
      outputsUsed: countOutputsUsed(trajectory.segments),
      repetition: repetitionRate(words),
      repeatedCode: countRepeatedCode(modelText),
      chars: trajectory.text.length,
      tokens: trajectory.generatedTokens ?? null,
    },
    signature: minHashSignature(words),
  }
}

function isFailedOutput(segment: Segment): boolean {
  if (segment.kind !== 'output') return false
  const { execution } = segment
  if (execution) return execution.exitCode !== 0 || execution.timedOut
  return /Traceback \(most recent call last\)|\b\w+Error\b|timed out/.test(segment.text)
}

/** Outputs some of whose numbers or names (3+ characters) the model wrote again after reading them. */
function countOutputsUsed(segments: Segment[]): number {
  let used = 0
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    if (segment.kind !== 'output') continue
    const body = outputBody(segment.text)
    const salient = [...new Set(body.match(/-?\d+(?:\.\d+)?|[A-Za-z_]\w{2,}/g) ?? [])]
      .filter((token) => token.length >= 2 && !COMMON_OUTPUT_WORDS.has(token))
      .slice(0, 8)
    if (salient.length === 0) continue
    const later = segments
      .slice(i + 1)
      .filter((next) => next.kind === 'model')
      .map((next) => next.text)
      .join('')
    if (salient.some((token) => later.includes(token))) used++
  }
  return used
}

const COMMON_OUTPUT_WORDS = new Set(['True', 'False', 'None', 'the', 'and', 'Traceback', 'line', 'File'])

/** Code blocks identical to an earlier block of the text. */
export function countRepeatedCode(modelText: string): number {
  const seen = new Set<string>()
  let repeated = 0
  for (const match of modelText.matchAll(/```python\n([\s\S]*?)```/g)) {
    const code = match[1]!.trim()
    if (seen.has(code)) repeated++
    else seen.add(code)
  }
  return repeated
}
