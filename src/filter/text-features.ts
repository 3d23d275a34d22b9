/**
 * Cheap text fingerprints for scoring and deduplication: words hashed once into 32-bit integers, then
 * n-gram repetition and MinHash signatures computed from those hashes. Pure and allocation-light,
 * since the filter runs them on every trajectory.
 */

/** FNV-1a hashes of the lower-cased alphanumeric words of `text`, in order. */
export function wordHashes(text: string): Uint32Array {
  const hashes = new Uint32Array(Math.ceil(text.length / 2) + 1)
  let count = 0
  let hash = 0x811c9dc5
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i)
    const isWord =
      (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95
    if (isWord) {
      if (code >= 65 && code <= 90) code += 32
      hash = Math.imul(hash ^ code, 0x01000193)
      inWord = true
    } else if (inWord) {
      hashes[count++] = hash >>> 0
      hash = 0x811c9dc5
      inWord = false
    }
  }
  if (inWord) hashes[count++] = hash >>> 0
  return hashes.subarray(0, count)
}

/** Hashes of every window of `n` consecutive words (a polynomial rolling hash). */
export function ngramHashes(words: Uint32Array, n: number): Uint32Array {
  if (words.length < n) return new Uint32Array(0)
  const out = new Uint32Array(words.length - n + 1)
  for (let i = 0; i < out.length; i++) {
    let hash = 0
    for (let j = 0; j < n; j++) hash = Math.imul(hash, 0x9e3779b1) + words[i + j]!
    out[i] = mix(hash)
  }
  return out
}

/** Share of word n-grams that repeat an earlier one: about 0 for prose, near 1 for a loop. */
export function repetitionRate(words: Uint32Array, n = 8): number {
  const grams = ngramHashes(words, n)
  if (grams.length === 0) return 0
  // An open-addressing set of the hashes, in a reused table: a Set<number> costs more than the rest of the filter.
  let size = 1024
  while (size < grams.length * 2) size *= 2
  if (seenTable.length < size) seenTable = new Uint32Array(size)
  const table = seenTable.subarray(0, size)
  table.fill(0)
  const mask = size - 1
  let repeated = 0
  for (let i = 0; i < grams.length; i++) {
    const gram = grams[i]! || 1 // 0 marks an empty slot
    let slot = gram & mask
    while (table[slot] !== 0 && table[slot] !== gram) slot = (slot + 1) & mask
    if (table[slot] === gram) repeated++
    else table[slot] = gram
  }
  return repeated / grams.length
}

let seenTable = new Uint32Array(1024)

export const SIGNATURE_SIZE = 64

/**
 * A MinHash signature of the word 5-gram shingles, by one-permutation hashing: each shingle is hashed
 * once into one of 64 buckets, and empty buckets borrow from the next full one (densification).
 * The share of equal positions of two signatures estimates the Jaccard similarity of their shingles.
 */
export function minHashSignature(words: Uint32Array, shingle = 5): Uint32Array {
  const signature = new Uint32Array(SIGNATURE_SIZE).fill(0xffffffff)
  const filled = new Uint8Array(SIGNATURE_SIZE)
  const grams = words.length >= shingle ? ngramHashes(words, shingle) : words
  for (const gram of grams) {
    const bucket = gram >>> 26
    const value = mix(gram ^ 0x5bd1e995)
    if (value <= signature[bucket]!) signature[bucket] = value
    filled[bucket] = 1
  }
  if (grams.length === 0) return signature
  for (let i = 0; i < SIGNATURE_SIZE; i++) {
    if (filled[i]) continue
    let j = i
    let distance = 0
    while (!filled[j]) {
      j = (j + 1) % SIGNATURE_SIZE
      distance++
    }
    signature[i] = (signature[j]! + Math.imul(distance, 0x61c88647)) >>> 0
  }
  return signature
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let equal = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++
  return equal / a.length
}

/** murmur3's finalizer: spreads the bits of a 32-bit value. */
function mix(value: number): number {
  let h = value >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
