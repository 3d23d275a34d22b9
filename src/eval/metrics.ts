/**
 * The accuracy estimators of the reasoning-model literature, pure: pass@k (the unbiased estimator of
 * Chen et al. 2021), maj@k (majority vote over equivalent answers), and a 95% interval.
 */

/** Probability that at least one of k samples drawn from n (c of them correct) is correct. */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@${k} needs at least ${k} samples, got ${n}`)
  if (n - c < k) return 1
  // 1 - C(n-c, k) / C(n, k), as a product to stay in floating-point range.
  let missAll = 1
  for (let i = n - c + 1; i <= n; i++) missAll *= 1 - k / i
  return 1 - missAll
}

/**
 * Groups answers by equivalence and returns the indices of the largest group (ties: the group seen
 * first). `equivalent` decides whether two answers are the same (math equivalence, not string equality).
 */
export async function majorityGroup(
  answers: (string | null)[],
  equivalent: (a: string, b: string) => Promise<boolean>,
): Promise<number[]> {
  const groups: { representative: string; members: number[] }[] = []
  for (const [index, answer] of answers.entries()) {
    if (answer === null) continue
    let placed = false
    for (const group of groups) {
      if (group.representative === answer || (await equivalent(answer, group.representative))) {
        group.members.push(index)
        placed = true
        break
      }
    }
    if (!placed) groups.push({ representative: answer, members: [index] })
  }
  let best: number[] = []
  for (const group of groups) if (group.members.length > best.length) best = group.members
  return best
}

/** Wilson score interval for a proportion, 95% by default. */
export function wilsonInterval(successes: number, total: number, z = 1.96): [number, number] {
  if (total === 0) return [0, 0]
  const p = successes / total
  const denominator = 1 + (z * z) / total
  const centre = (p + (z * z) / (2 * total)) / denominator
  const half = (z * Math.sqrt((p * (1 - p)) / total + (z * z) / (4 * total * total))) / denominator
  return [Math.max(0, centre - half), Math.min(1, centre + half)]
}

/** One problem's samples, graded. */
export interface ProblemOutcome {
  problemId: string
  correct: boolean[]
  /** Whether the majority answer (over equivalent answers) is correct; null where voting does not apply (code). */
  majorityCorrect: boolean | null
}

export interface AccuracySummary {
  problems: number
  samples: number
  /** Mean over problems of the share of correct samples (pass@1 averaged over k samples). */
  pass1: number
  /** 95% Wilson interval of pass@1 over all samples. */
  pass1Interval: [number, number]
  passK: number
  majK: number | null
  k: number
}

export function summarizeAccuracy(outcomes: ProblemOutcome[], k: number): AccuracySummary {
  const problems = outcomes.length
  let pass1 = 0
  let passK = 0
  let majority = 0
  let voted = 0
  let correctSamples = 0
  let samples = 0
  for (const outcome of outcomes) {
    const n = outcome.correct.length
    const c = outcome.correct.filter(Boolean).length
    correctSamples += c
    samples += n
    pass1 += n ? c / n : 0
    passK += n >= k ? passAtK(n, c, k) : n ? passAtK(n, c, n) : 0
    if (outcome.majorityCorrect !== null) {
      voted++
      if (outcome.majorityCorrect) majority++
    }
  }
  return {
    problems,
    samples,
    pass1: problems ? pass1 / problems : 0,
    pass1Interval: wilsonInterval(correctSamples, samples),
    passK: problems ? passK / problems : 0,
    majK: voted ? majority / voted : null,
    k,
  }
}

/** Two models on the same problems: where each did better, and how likely such a split is by chance. */
export interface PairedTest {
  problems: number
  /** Problems where the first model's share of correct samples is higher. */
  wins: number
  losses: number
  ties: number
  /** Two-sided exact sign test on the untied problems (McNemar's exact test with one sample each). */
  pValue: number
}

/** The paired sign test over the problems both results have (per-problem shares of correct samples). */
export function pairedSignTest(first: Record<string, number>, second: Record<string, number>): PairedTest {
  let wins = 0
  let losses = 0
  let ties = 0
  for (const [id, share] of Object.entries(first)) {
    const other = second[id]
    if (other === undefined) continue
    if (share > other) wins++
    else if (share < other) losses++
    else ties++
  }
  const untied = wins + losses
  // P(X <= min) for X ~ Binomial(untied, 1/2), doubled, summed in log space to stay in range.
  let tail = 0
  for (let i = 0; i <= Math.min(wins, losses); i++) tail += Math.exp(logChoose(untied, i) - untied * Math.LN2)
  return { problems: untied + ties, wins, losses, ties, pValue: untied === 0 ? 1 : Math.min(1, 2 * tail) }
}

function logChoose(n: number, k: number): number {
  let total = 0
  for (let i = 1; i <= k; i++) total += Math.log((n - k + i) / i)
  return total
}
