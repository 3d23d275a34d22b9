import { createHash } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A short hash of the size and modification time of files (for a directory: of the files in it).
 * Outputs appear by rename, so a remade input gets a new fingerprint and what was made from the old
 * one is seen to be stale.
 */
export function fingerprint(paths: string[]): string {
  const hash = createHash('sha256')
  for (const path of paths) {
    if (!path || !existsSync(path)) {
      hash.update(`${path}:missing\n`)
      continue
    }
    const stat = statSync(path)
    const files = stat.isDirectory()
      ? readdirSync(path)
          .sort()
          .map((name) => join(path, name))
      : [path]
    for (const file of files) {
      const { size, mtimeMs } = statSync(file)
      hash.update(`${file}:${size}:${mtimeMs}\n`)
    }
  }
  return hash.digest('hex').slice(0, 16)
}
