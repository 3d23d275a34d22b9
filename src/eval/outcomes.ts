import { isRefusal } from '../grading/grader.js'
import type { TrajectoryRecord } from '../inference/types.js'
import { extractPythonBlocks } from '../sandbox/code-blocks.js'
import { majorityGroup, type ProblemOutcome } from './metrics.js'
import type { HintStat } from './types.js'

/** One graded trajectory of an eval unit. */
export interface GradedTrajectory {
  record: TrajectoryRecord
  kind: 'math' | 'humaneval' | 'stdio'
  predicted: string | null
  correct: boolean
  /** Why it is not correct; an answer refused for its form (`hedged`, ...) casts no majority vote. */
  reason?: string
}

/**
 * Per problem: each sample's correctness, and (math) whether the majority answer was right. Samples
 * are grouped by problem in the order the problems first appear.
 */
export async function problemOutcomes(
  graded: GradedTrajectory[],
  equivalent: (a: string, b: string) => Promise<boolean>,
): Promise<ProblemOutcome[]> {
  const byProblem = new Map<string, GradedTrajectory[]>()
  for (const grade of graded) {
    const samples = byProblem.get(grade.record.problemId)
    if (samples) samples.push(grade)
    else byProblem.set(grade.record.problemId, [grade])
  }
  const outcomes: ProblemOutcome[] = []
  for (const [problemId, samples] of byProblem) {
    let majorityCorrect: boolean | null = null
    if (samples[0]!.kind === 'math') {
      const group = await majorityGroup(
        samples.map((sample) => (isRefusal(sample.reason) ? null : sample.predicted)),
        equivalent,
      )
      majorityCorrect = group.length > 0 && samples[group[0]!]!.correct
    }
    outcomes.push({ problemId, correct: samples.map((sample) => sample.correct), majorityCorrect })
  }
  return outcomes
}

/** Which hints, placed where, led to code being run, and to right answers. */
export function hintStats(graded: { record: TrajectoryRecord; correct: boolean }[]): HintStat[] {
  const stats = new Map<string, HintStat>()
  for (const { record, correct } of graded) {
    for (const hint of record.hints) {
      const share = hint.offset / Math.max(record.text.length, 1)
      const position = share < 1 / 3 ? 'early' : share < 2 / 3 ? 'middle' : 'late'
      const key = `${hint.id}|${hint.trigger}|${position}`
      const stat = stats.get(key) ?? {
        hint: hint.id,
        trigger: hint.trigger,
        position,
        count: 0,
        followedByTool: 0,
        correct: 0,
      }
      stat.count++
      let at = 0
      const followed = record.segments.some((segment) => {
        const after = at >= hint.offset && segment.kind === 'output'
        at += segment.text.length
        return after
      })
      if (followed) stat.followedByTool++
      if (correct) stat.correct++
      stats.set(key, stat)
    }
  }
  return [...stats.values()].sort((a, b) => b.count - a.count)
}

/** What a trajectory did with code: blocks it wrote that did not run, and output blocks it wrote itself. */
export function codeUse(record: Pick<TrajectoryRecord, 'segments' | 'toolCalls'>): {
  unrunCode: boolean
  inventedOutput: boolean
} {
  const modelText = record.segments
    .filter((segment) => segment.kind === 'model')
    .map((segment) => segment.text)
    .join('')
  return {
    unrunCode: extractPythonBlocks(modelText).length > record.toolCalls,
    inventedOutput: /^`{3,}output[ \t]*$/m.test(modelText),
  }
}

/** The share of records for which `test` holds. */
export function share<T>(records: T[], test: (record: T) => boolean): number {
  return records.length === 0 ? 0 : records.filter(test).length / records.length
}
