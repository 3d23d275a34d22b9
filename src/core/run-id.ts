import { resolve } from 'node:path'

/** A run id that sorts by time and says which command made it. */
export function newRunId(command: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  return `${command}-${stamp}-${Math.random().toString(36).slice(2, 6)}`
}

/** A run id that stays the same for the same command and output directory, so a rerun resumes. */
export function outputRunId(command: string, out: string): string {
  return `${command}-${resolve(out)
    .replace(/[^\w.-]+/g, '_')
    .replace(/^_+/, '')}`
}
