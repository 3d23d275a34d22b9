import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** `--name value` from the command line, or the fallback. */
export function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 ? process.argv[at + 1]! : fallback
}

/** The first `count` problems of the testbed's dev set, in a file of their own under `dir`. */
export function devProblems(count: number, dir: string): string {
  const file = join(dir, 'problems.jsonl')
  const lines = readFileSync(resolve('../shared/datasets/testbed-dev.jsonl'), 'utf8').split('\n')
  writeFileSync(file, lines.slice(0, count).join('\n'))
  return file
}
