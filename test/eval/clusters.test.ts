import { describe, expect, it } from 'vitest'
import { clusterBootstrapInterval, clusteredPairedTest, clusterOf } from '../../src/eval/clusters.js'

describe('clusters of problems made from one template', () => {
  it('a cluster is the key with its numbers blanked; a problem without the key is its own', () => {
    const problem = (code: string) => ({ meta: { code } })
    expect(clusterOf(problem('print(20 * 9 * 27)'), 'meta.code', 'p1')).toBe('print(# * # * #)')
    expect(clusterOf(problem('print(3 * 4 * 5)'), 'meta.code', 'p2')).toBe('print(# * # * #)')
    expect(clusterOf(problem('print(pow(13, 66, 9))'), 'meta.code', 'p3')).toBe('print(pow(#, #, #))')
    expect(clusterOf(problem('print(2.5 + 1)'), 'meta.code', 'p4')).toBe('print(# + #)')
    expect(clusterOf({ meta: {} }, 'meta.code', 'p5')).toBe('#p5')
    expect(clusterOf({ answer: 7 }, 'answer', 'p6')).toBe('#')
  })

  it('the cluster bootstrap interval is wider than treating correlated problems as independent would be', () => {
    // 20 problems in 4 templates, each template all right or all wrong: in effect 4 observations
    const scores: Record<string, number> = {}
    const clusters: Record<string, string> = {}
    for (let i = 0; i < 20; i++) {
      scores[`q${i}`] = i % 4 < 2 ? 1 : 0
      clusters[`q${i}`] = `t${i % 4}`
    }
    const [low, high] = clusterBootstrapInterval(scores, clusters)
    expect(low).toBeLessThanOrEqual(0.25)
    expect(high).toBeGreaterThanOrEqual(0.75)
    // each problem its own cluster: the usual, narrower interval around 0.5
    const [alone, aloneHigh] = clusterBootstrapInterval(scores, {})
    expect(alone).toBeGreaterThan(0.25)
    expect(aloneHigh).toBeLessThan(0.75)
    // seeded: the same data, the same interval
    expect(clusterBootstrapInterval(scores, clusters)).toEqual([low, high])
  })

  it('the paired test flips signs per cluster: exact for few clusters, a Monte Carlo share for many', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `q${i}`)
    const better = Object.fromEntries(ids.map((id) => [id, 1]))
    const worse = Object.fromEntries(ids.map((id) => [id, 0]))
    // 8 clusters all one way: 2 of the 256 sign patterns are as extreme
    const each = Object.fromEntries(ids.map((id) => [id, id]))
    expect(clusteredPairedTest(better, worse, each)).toEqual({
      clusters: 8,
      meanDifference: 1,
      pValue: 2 / 256,
    })
    // the same problems in 2 clusters: no evidence to speak of
    const two = Object.fromEntries(ids.map((id, i) => [id, i < 4 ? 'a' : 'b']))
    expect(clusteredPairedTest(better, worse, two).pValue).toBe(0.5)
    expect(clusteredPairedTest(better, better, two)).toEqual({ clusters: 2, meanDifference: 0, pValue: 1 })
    // 40 clusters: sampled, near the exact 2^-39
    const many = Array.from({ length: 40 }, (_, i) => `m${i}`)
    const up = Object.fromEntries(many.map((id) => [id, 1]))
    const down = Object.fromEntries(many.map((id) => [id, 0]))
    const sampled = clusteredPairedTest(up, down, Object.fromEntries(many.map((id) => [id, id])))
    expect(sampled.clusters).toBe(40)
    expect(sampled.pValue).toBeLessThan(0.001)
  })
})
