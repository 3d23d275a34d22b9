import { chmod, copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../core/errors.js'
import { checkOutputDirectory } from '../core/output-paths.js'
import { isProcessAlive } from '../core/process-alive.js'
import { loadHintLibrary } from '../hints/library.js'
import { readProblems } from '../problems/read-problems.js'
import type { Problem } from '../problems/types.js'
import { ensureTrainingEnv } from '../training/python-env.js'
import { TrlTrainer } from '../training/trainer.js'
import type { ExportSettings } from './options.js'
import { verlAgentLoopYaml, verlLoopConfig, verlRow, verlRunScript } from './verl.js'

const AGENT_MODULE = fileURLToPath(new URL('../../src/export/start_verl.py', import.meta.url))

export interface ExportOptions {
  problems: string[]
  /** Validation problems (verl's data.val_files). */
  val?: string[]
  out: string
  settings: ExportSettings
}

export interface ExportSummary {
  out: string
  format: string
  train: number
  val: number
  files: string[]
}

/**
 * `start export --format verl`: the RL dataset as parquet in verl's fields, the agent loop and reward
 * function (start_verl.py, start_verl.json, agent_loop.yaml) and the command that runs verl on them.
 */
export async function runExport(options: ExportOptions): Promise<ExportSummary> {
  for (const [flag, url] of [
    ['--sandbox-url', options.settings.sandboxUrl],
    ['--grader-url', options.settings.graderUrl],
  ] as const)
    if (!isHttpUrl(url)) throw new UsageError(`${flag} ${url}: expected an http:// or https:// URL`)
  checkOutputDirectory('--out', options.out)
  const problems = await readAll(options.problems)
  if (problems.length === 0) throw new UsageError(`--problems ${options.problems.join(' ')}: no problems`)
  const val = options.val?.length ? await readAll(options.val) : []
  await mkdir(options.out, { recursive: true })
  const trainer = new TrlTrainer(await ensureTrainingEnv({ venv: options.settings.venv }))
  const log = join(options.out, 'export.log')
  // Everything is written into a staging directory of this process's and moved into place when all of it
  // is there: a killed export leaves no half-written parquet under its final name (and its writer dies with it).
  await removeStaleStaging(options.out)
  const staging = join(options.out, `${STAGING}${process.pid}`)
  await mkdir(staging, { recursive: true })
  const parquet = async (rows: Problem[], split: string) => {
    const jsonl = join(staging, `${split}.jsonl`)
    const lines = rows.map(
      (problem, index) => `${JSON.stringify(verlRow(problem, index, split, options.settings))}\n`,
    )
    await writeFile(jsonl, lines.join(''))
    await trainer.writeParquet(jsonl, join(staging, `${split}.parquet`), log)
    await rm(jsonl, { force: true })
  }
  await parquet(problems, 'train')
  if (val.length > 0) await parquet(val, 'val')

  const domains = new Set(['any', ...problems.map((problem) => problem.kind)])
  const library = await loadHintLibrary()
  const hints = library.hints.filter((hint) => domains.has(hint.domain)).map((hint) => hint.text)
  const config = verlLoopConfig(options.settings, hints)
  await writeFile(join(staging, 'start_verl.json'), `${JSON.stringify(config, null, 2)}\n`)
  await copyFile(AGENT_MODULE, join(staging, 'start_verl.py'))
  await writeFile(join(staging, 'agent_loop.yaml'), verlAgentLoopYaml())
  await writeFile(join(staging, 'run_verl.sh'), verlRunScript(val.length > 0))
  await chmod(join(staging, 'run_verl.sh'), 0o755)
  const files = [
    'train.parquet',
    ...(val.length ? ['val.parquet'] : []),
    'start_verl.py',
    'start_verl.json',
    'agent_loop.yaml',
    'run_verl.sh',
  ]
  for (const file of files) await rename(join(staging, file), join(options.out, file))
  await rm(staging, { recursive: true, force: true })
  return { out: options.out, format: 'verl', train: problems.length, val: val.length, files }
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol)
  } catch {
    return false
  }
}

/** The staging directories of exports into the same place: `.export-<pid>`. */
const STAGING = '.export-'

/** Removes the staging directories that killed exports left (their process is gone). */
async function removeStaleStaging(out: string): Promise<void> {
  for (const name of await readdir(out)) {
    const pid = name.startsWith(STAGING) ? Number(name.slice(STAGING.length)) : Number.NaN
    if (Number.isInteger(pid) && !isProcessAlive(pid))
      await rm(join(out, name), { recursive: true, force: true })
  }
}

async function readAll(patterns: string[]): Promise<Problem[]> {
  const problems: Problem[] = []
  for await (const { problem } of readProblems(patterns)) problems.push(problem)
  return problems
}
