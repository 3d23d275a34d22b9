import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
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

/** Records as a JSONL file, one per line. */
export function writeJsonlFile(file: string, records: unknown[]): string {
  writeFileSync(file, `${records.map((record) => JSON.stringify(record)).join('\n')}\n`)
  return file
}

/**
 * Work units a run (still going, maybe) has committed to its store: 0 until the file and its tables are
 * there, since a process may be caught between creating the file and migrating it.
 */
export function committedUnits(db: string, runId: string): number {
  if (!existsSync(db)) return 0
  const store = new Database(db, { readonly: true, fileMustExist: true })
  try {
    return (
      store.prepare('SELECT COUNT(*) AS n FROM work_units WHERE run_id = ?').get(runId) as { n: number }
    ).n
  } catch {
    return 0
  } finally {
    store.close()
  }
}

/**
 * A rubric file the testbed model can answer: it ends every answer with "The answer is \boxed{N}", so the
 * word "boxed" is read as its verdict (`yes`/`no` say what that word means here).
 */
export function testbedRubric(
  dir: string,
  name: string,
  options: { scope: 'step' | 'final'; prompt: string; yes: string[]; no: string[] },
): string {
  const file = join(dir, `${name}.json`)
  const { scope, prompt, yes, no } = options
  const verdict = { pattern: 'answer is \\\\(\\w+)', yes, no }
  writeFileSync(file, JSON.stringify({ name, scope, prompt, verdict, maxTokens: 200 }))
  return file
}
