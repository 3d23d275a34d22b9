import { readdir, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { isProcessAlive } from './process-alive.js'

/** The temporary file this process writes `file` through before renaming it into place. */
export function temporaryFor(file: string): string {
  return `${file}.tmp-${process.pid}`
}

/** Writes a whole file or nothing: a temporary file renamed into place. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  await removeStaleTemporaries(file)
  const temporary = temporaryFor(file)
  await writeFile(temporary, content)
  await rename(temporary, file)
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
