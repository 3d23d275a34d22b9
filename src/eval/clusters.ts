import { seededRandom } from '../hints/policy.js'

/**
 * Problems made from one template are not independent: a model that learns the template solves them
 * all. With a cluster key (`--cluster-key meta.code`), problems whose key has the same shape once its
 * numbers are blanked form one cluster, and intervals and paired tests count clusters, not problems.
 */

/** A problem's cluster: the value at the dotted `path`, its numbers blanked; its own id when it has none. */
export function clusterOf(problem: Record<string, unknown>, path: string, id: string): string {
  let value: unknown = problem
  for (const key of path.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined
  }
  if (value === undefined || value === null) return `#${id}`
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.replace(/\d+(?:\.\d+)?/g, '#')
}

/** Per-problem scores grouped by cluster (problems without a cluster are their own). */
function byCluster(scores: Record<string, number>, clusters: Record<string, string>): number[][] {
  const groups = new Map<string, number[]>()
  for (const [id, score] of Object.entries(scores)) {
    const cluster = clusters[id] ?? `#${id}`
    groups.set(cluster, [...(groups.get(cluster) ?? []), score])
  }
  return [...groups.values()]
}

/**
 * A 95% interval of the mean per-problem score by the cluster bootstrap: clusters drawn with
 * replacement, each with all its problems (seeded: the same data gives the same interval).
 */
export function clusterBootstrapInterval(
  scores: Record<string, number>,
  clusters: Record<string, string>,
  resamples = 2000,
  seed = 1,
): [number, number] {
  const groups = byCluster(scores, clusters)
  if (groups.length === 0) return [0, 0]
  const random = seededRandom(seed)
  const means: number[] = []
  for (let r = 0; r < resamples; r++) {
    let total = 0
    let count = 0
    for (let i = 0; i < groups.length; i++) {
      const group = groups[Math.floor(random() * groups.length)]!
      for (const score of group) total += score
      count += group.length
    }
    means.push(total / count)
  }
  means.sort((a, b) => a - b)
  return [
    means[Math.floor(0.025 * resamples)]!,
    means[Math.min(resamples - 1, Math.floor(0.975 * resamples))]!,
  ]
}

export interface ClusteredTest {
  clusters: number
  /** Mean over clusters of (first - second), each cluster's problems averaged first. */
  meanDifference: number
  /** Two-sided sign-flip randomization test over clusters (exact up to 2^16 clusters' flips). */
  pValue: number
}

/** Two models on the same problems, the clusters the unit: how likely such a difference is by chance. */
export function clusteredPairedTest(
  first: Record<string, number>,
  second: Record<string, number>,
  clusters: Record<string, string>,
  seed = 1,
): ClusteredTest {
  const differences = new Map<string, number[]>()
  for (const [id, score] of Object.entries(first)) {
    const other = second[id]
    if (other === undefined) continue
    const cluster = clusters[id] ?? `#${id}`
    differences.set(cluster, [...(differences.get(cluster) ?? []), score - other])
  }
  const perCluster = [...differences.values()].map(
    (values) => values.reduce((a, b) => a + b, 0) / values.length,
  )
  const n = perCluster.length
  if (n === 0) return { clusters: 0, meanDifference: 0, pValue: 1 }
  const mean = (signs: (i: number) => number) => perCluster.reduce((sum, d, i) => sum + signs(i) * d, 0) / n
  const observed = Math.abs(mean(() => 1))
  const tolerance = 1e-12
  let extreme = 0
  let trials = 0
  if (n <= 16) {
    for (let mask = 0; mask < 2 ** n; mask++) {
      trials++
      if (Math.abs(mean((i) => ((mask >> i) & 1 ? -1 : 1))) >= observed - tolerance) extreme++
    }
  } else {
    const random = seededRandom(seed)
    for (; trials < 20_000; trials++) {
      if (Math.abs(mean(() => (random() < 0.5 ? -1 : 1))) >= observed - tolerance) extreme++
    }
  }
  return { clusters: n, meanDifference: mean(() => 1), pValue: extreme / trials }
}
