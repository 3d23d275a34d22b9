import { createHash } from 'node:crypto'
import { estimatedJaccard, SIGNATURE_SIZE } from './text-features.js'

const BANDS = 16
const ROWS = SIGNATURE_SIZE / BANDS

/**
 * Near-duplicate search by MinHash LSH: signatures cut into 16 bands of 4 rows; two trajectories are
 * candidates when a band matches (likely from a Jaccard of about 0.5 up), and duplicates when their
 * estimated Jaccard reaches the threshold.
 */
export class LshIndex {
  private readonly signatures: Uint32Array[] = []
  private readonly buckets = new Map<number, number[]>()

  constructor(private readonly threshold: number) {}

  /** True when a similar signature is already in the index. */
  has(signature: Uint32Array): boolean {
    for (let band = 0; band < BANDS; band++) {
      for (const index of this.buckets.get(bandKey(signature, band)) ?? []) {
        if (estimatedJaccard(signature, this.signatures[index]!) >= this.threshold) return true
      }
    }
    return false
  }

  add(signature: Uint32Array): void {
    const index = this.signatures.push(signature) - 1
    for (let band = 0; band < BANDS; band++) {
      const key = bandKey(signature, band)
      const bucket = this.buckets.get(key)
      if (bucket) bucket.push(index)
      else this.buckets.set(key, [index])
    }
  }
}

function bandKey(signature: Uint32Array, band: number): number {
  let hash = band + 1
  for (let row = band * ROWS; row < (band + 1) * ROWS; row++)
    hash = Math.imul(hash ^ signature[row]!, 0x01000193)
  return hash >>> 0
}

/** Exact-duplicate key: the text with case and whitespace differences removed. */
export function exactKey(text: string): string {
  return createHash('sha1').update(text.toLowerCase().replace(/\s+/g, ' ').trim()).digest('base64')
}

/** What is kept of one problem: its text keys, its MinHash index, and how many were kept. */
export interface ProblemKept {
  exact: Set<string>
  near: LshIndex
}

/**
 * Dedup state per problem, for the problems seen most recently. Input grouped by problem (as
 * hint-infer writes it) keeps memory flat however long it is; a problem that comes back after
 * `capacity` others starts afresh.
 */
export class RecentProblems {
  private readonly problems = new Map<string, ProblemKept>()

  constructor(
    private readonly threshold: number,
    private readonly capacity = 4096,
  ) {}

  get(problemId: string): ProblemKept {
    let kept = this.problems.get(problemId)
    if (kept) {
      this.problems.delete(problemId)
    } else {
      kept = { exact: new Set(), near: new LshIndex(this.threshold) }
      if (this.problems.size >= this.capacity)
        this.problems.delete(this.problems.keys().next().value as string)
    }
    this.problems.set(problemId, kept)
    return kept
  }
}
