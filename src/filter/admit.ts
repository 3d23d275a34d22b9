import { exactKey, RecentProblems } from './dedup.js'
import type { FilterPolicy, RejectReason } from './types.js'

/**
 * The last gate of the filter, after the rules: a trajectory is kept unless it repeats a kept one of its
 * problem, exactly or nearly (MinHash), or its problem already has `perProblem` kept. Pure: the state is
 * what was kept so far.
 */
export class Admission {
  private readonly recent: RecentProblems
  private readonly keptPerProblem = new Map<string, number>()

  constructor(private readonly policy: Pick<FilterPolicy, 'nearDuplicate' | 'perProblem'>) {
    this.recent = new RecentProblems(policy.nearDuplicate)
  }

  /** Null when kept (and remembered), else why not. */
  admit(problemId: string, text: string, signature: Uint32Array): RejectReason | null {
    const kept = this.recent.get(problemId)
    const key = exactKey(text)
    const count = this.keptPerProblem.get(problemId) ?? 0
    if (kept.exact.has(key)) return 'duplicate'
    if (this.policy.nearDuplicate < 1 && kept.near.has(signature)) return 'near-duplicate'
    if (this.policy.perProblem > 0 && count >= this.policy.perProblem) return 'per-problem-cap'
    kept.exact.add(key)
    kept.near.add(signature)
    this.keptPerProblem.set(problemId, count + 1)
    return null
  }

  /** Problems with at least one kept trajectory. */
  get keptProblems(): number {
    return this.keptPerProblem.size
  }
}
