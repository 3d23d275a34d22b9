import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { execa } from 'execa'

/** The real CLI, as built by `npm run build` (the test script builds first). */
export const CLI = resolve('bin/run.js')

export interface CliResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
}

export async function runCli(args: string[], options: { input?: string } = {}): Promise<CliResult> {
  const result = await execa('node', [CLI, ...args], { reject: false, input: options.input ?? '' })
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'start-it-'))
}

/** The records of a JSONL file the CLI wrote. */
// biome-ignore lint/suspicious/noExplicitAny: records are checked field by field in the tests
export function readJsonlFile(file: string): any[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
}
