import { clusterBootstrapInterval, clusteredPairedTest } from '../eval/clusters.js'
import type { HintEfficacy, Rate } from '../hints/library.js'
import type { Candidate } from './propose.js'

/** One continuation after a hint: the prefix it continued, whether code ran after the hint, whether it was right. */
export interface Continuation {
  prefix: string
  code: boolean
  correct: boolean
}

export type EfficacyMetric = 'correct' | 'code'

/** Per prefix, the share of its continuations with `metric`. */
function perPrefix(continuations: Continuation[], metric: EfficacyMetric): Record<string, number> {
  const sums = new Map<string, { hits: number; all: number }>()
  for (const continuation of continuations) {
    const sum = sums.get(continuation.prefix) ?? { hits: 0, all: 0 }
    sum.all++
    if (continuation[metric]) sum.hits++
    sums.set(continuation.prefix, sum)
  }
  return Object.fromEntries([...sums].map(([prefix, { hits, all }]) => [prefix, hits / all]))
}

function rate(scores: Record<string, number>): Rate {
  const values = Object.values(scores)
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0
  const [low, high] = clusterBootstrapInterval(scores, {})
  return { rate: mean, low, high }
}

export function efficacyOf(continuations: Continuation[]): HintEfficacy {
  const code = perPrefix(continuations, 'code')
  return {
    code: rate(code),
    correct: rate(perPrefix(continuations, 'correct')),
    prefixes: Object.keys(code).length,
    continuations: continuations.length,
  }
}

/** Why a candidate joined the library or did not. */
export interface Verdict {
  candidate: string
  parent: string
  metric: EfficacyMetric
  /** Prefixes both were continued from. */
  prefixes: number
  /** Mean over those prefixes of (candidate's rate - parent's rate). */
  difference: number
  /** One-sided paired sign-flip test over prefixes: the candidate better. */
  pValue: number
  /** Holm's step-down adjustment over every candidate of the generation. */
  adjustedP: number
  admitted: boolean
  reason: string
}

/**
 * Each candidate against its parent on the prefixes both were continued from: the paired difference of
 * their `metric` rates, a one-sided sign-flip test over prefixes, Holm's correction across candidates
 * (testing many rephrasings finds a lucky one otherwise), admitted when the adjusted p is at most `alpha`.
 */
export function judgeCandidates(
  candidates: Candidate[],
  continuations: Map<string, Continuation[]>,
  options: { metric: EfficacyMetric; alpha: number },
): Verdict[] {
  const tests = candidates.map((candidate) => {
    const mine = perPrefix(continuations.get(candidate.id) ?? [], options.metric)
    const parents = perPrefix(continuations.get(candidate.parent) ?? [], options.metric)
    const test = clusteredPairedTest(mine, parents, {})
    const pValue = test.clusters === 0 || test.meanDifference <= 0 ? 1 : test.pValue / 2
    return { candidate, prefixes: test.clusters, difference: test.meanDifference, pValue }
  })
  const adjusted = holm(tests.map((test) => test.pValue))
  return tests.map((test, i) => {
    const adjustedP = adjusted[i]!
    const admitted = test.prefixes > 0 && test.difference > 0 && adjustedP <= options.alpha
    const points = `${test.difference >= 0 ? '+' : ''}${(test.difference * 100).toFixed(1)} points of ${options.metric}`
    const figures = `${points} over ${test.candidate.parent} on ${test.prefixes} prefixes, p = ${test.pValue.toPrecision(2)} (Holm ${adjustedP.toPrecision(2)} ${admitted ? '<=' : '>'} ${options.alpha})`
    const reason =
      test.prefixes === 0
        ? `no prefix continued with both it and ${test.candidate.parent}`
        : admitted
          ? `admitted: ${figures}`
          : `not shown better: ${figures}`
    return {
      candidate: test.candidate.id,
      parent: test.candidate.parent,
      metric: options.metric,
      prefixes: test.prefixes,
      difference: test.difference,
      pValue: test.pValue,
      adjustedP,
      admitted,
      reason,
    }
  })
}

/** Holm's step-down adjusted p-values, in the input's order. */
export function holm(pValues: number[]): number[] {
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p)
  const adjusted = new Array<number>(pValues.length)
  let running = 0
  for (const [rank, { p, i }] of order.entries()) {
    running = Math.max(running, Math.min(1, (pValues.length - rank) * p))
    adjusted[i] = running
  }
  return adjusted
}
