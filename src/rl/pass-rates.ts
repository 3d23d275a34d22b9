import pLimit from 'p-limit'
import { readJsonlInputs } from '../core/jsonl.js'
import { parseTrajectory } from '../filter/parse-trajectory.js'
import type { FilterTrajectory } from '../filter/types.js'
import type { Grader } from '../grading/grader.js'

/** Fewer samples than this say too little of a rate (one sample is 0 or 1): the trainer estimates those. */
export const MIN_SAMPLES_FOR_RATE = 2

/**
 * Pass rates from graded outcomes: per problem, the share right, for problems with at least
 * `MIN_SAMPLES_FOR_RATE` outcomes. Problems with fewer are left out (the trainer rolls them out instead).
 */
export function passRates(
  outcomes: Iterable<{ problemId: string; correct: boolean }>,
): Record<string, number> {
  const counts = new Map<string, { right: number; all: number }>()
  for (const { problemId, correct } of outcomes) {
    const count = counts.get(problemId) ?? { right: 0, all: 0 }
    count.all++
    if (correct) count.right++
    counts.set(problemId, count)
  }
  const rates: Record<string, number> = {}
  for (const [problemId, { right, all }] of counts)
    if (all >= MIN_SAMPLES_FOR_RATE) rates[problemId] = right / all
  return rates
}

/**
 * `--pass-rates-from`: the sampled trajectories of the training problems (stage 2's samples are the
 * starting policy's), read and checked whole before any expensive work; a bad line names file:line.
 */
export async function readSampleTrajectories(
  files: string[],
  problemIds: ReadonlySet<string>,
): Promise<FilterTrajectory[]> {
  const samples: FilterTrajectory[] = []
  for await (const line of readJsonlInputs(files)) {
    const trajectory = parseTrajectory(line)
    if (problemIds.has(trajectory.problemId)) samples.push(trajectory)
  }
  return samples
}

/** The samples graded by the rollouts' own grader, as pass rates. */
export async function gradedPassRates(
  samples: FilterTrajectory[],
  grader: Grader,
): Promise<Record<string, number>> {
  const limit = pLimit(16)
  const outcomes = await Promise.all(
    samples.map((sample) =>
      limit(async () => ({
        problemId: sample.problemId,
        correct: (await grader.grade(sample.text, sample.reference, sample)).correct,
      })),
    ),
  )
  return passRates(outcomes)
}
