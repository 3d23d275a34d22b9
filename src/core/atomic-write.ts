import { rename, writeFile } from 'node:fs/promises'

/** Writes a whole file or nothing: a temporary file renamed into place. */
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`
  await writeFile(temporary, content)
  await rename(temporary, file)
}
