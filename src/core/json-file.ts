import { readFile } from 'node:fs/promises'
import { UsageError } from './errors.js'

/** A JSON data file the user named with `flag` (a library, a grammar), parsed; a missing or bad one names both. */
export async function readJsonFile(flag: string, file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
}
