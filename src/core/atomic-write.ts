import { readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isProcessAlive } from './process-alive.js'

/** The temporary file this process writes `file` through before renaming it into place. */
export function temporaryFor(file: string): string {
  return `${file}.tmp-${process.pid}`
}

/**
 * Where an output named `file` is written. A regular file, or none yet, is written whole beside itself
 * and renamed into place (through a symlink, the file it points to). Anything else is written in place:
 * `/dev/null`, `/dev/stdout`, a FIFO or `>(cmd)`. Renaming over those would replace them with a file,
 * and as root that removes /dev/null for every process on the machine.
 */
export async function outputTarget(file: string): Promise<{ path: string; inPlace: boolean }> {
  const stats = await stat(file).catch(() => undefined)
  if (!stats) return { path: file, inPlace: false }
  if (!stats.isFile()) return { path: file, inPlace: true }
  return { path: await realpath(file), inPlace: false }
}

/** Writes a whole file or nothing: a temporary file renamed into place (see `outputTarget`). */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const target = await outputTarget(file)
  if (target.inPlace) return writeFile(target.path, content)
  await removeStaleTemporaries(target.path)
  const temporary = temporaryFor(target.path)
  await writeFile(temporary, content)
  await rename(temporary, target.path)
}

/** Removes the `<file>.tmp-PID` files that killed runs left beside `file` (not those of live processes). */
export async function removeStaleTemporaries(file: string): Promise<void> {
  const prefix = `${basename(file)}.tmp-`
  const names = await readdir(dirname(file)).catch(() => [] as string[])
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(name.slice(prefix.length))
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid))
      await rm(join(dirname(file), name), { force: true })
  }
}
