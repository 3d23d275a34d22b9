import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { UsageError } from '../core/errors.js'

/** Shipped next to this file's source; dist/ resolves to the same src/training/ files. */
export const TRAINING_DIR = fileURLToPath(new URL('../../src/training/', import.meta.url))
const REQUIREMENTS = join(TRAINING_DIR, 'requirements.txt')

export interface TrainingEnvOptions {
  /** Where the virtualenv goes. Default `$START_HOME/venv-<hash of the requirements>`. */
  venv?: string
  /** The interpreter that creates it. Default "python3". */
  python?: string
  onLog?: (line: string) => void
}

export interface TrainingEnv {
  venv: string
  python: string
  /** Whether this call installed it (false: it was there). */
  installed: boolean
  packages: string[]
}

/** Where start keeps what it builds outside the repository: virtualenv, llama.cpp source. */
export function startHome(): string {
  return process.env.START_HOME ?? join(homedir(), '.cache', 'start')
}

export function pinnedPackages(): string[] {
  return readFileSync(REQUIREMENTS, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
}

export function defaultVenv(): string {
  const hash = createHash('sha256').update(pinnedPackages().join('\n')).digest('hex').slice(0, 10)
  return process.env.START_VENV ?? join(startHome(), `venv-${hash}`)
}

/**
 * The project's own virtualenv with the pinned trainer packages, created on first use. A marker file
 * says the install finished; a lock directory keeps two processes from installing at once.
 */
export async function ensureTrainingEnv(options: TrainingEnvOptions = {}): Promise<TrainingEnv> {
  const venv = options.venv ?? defaultVenv()
  const python = join(venv, 'bin', 'python')
  const marker = join(venv, '.start-ready')
  const packages = pinnedPackages()
  const wanted = packages.join('\n')
  const ready = () => existsSync(marker) && readFileSync(marker, 'utf8') === wanted
  if (ready()) return { venv, python, installed: false, packages }
  await mkdir(join(venv, '..'), { recursive: true })
  const release = await lock(`${venv}.lock`)
  try {
    if (ready()) return { venv, python, installed: false, packages }
    const log = `${venv}.install.log`
    await writeFile(log, '')
    await rm(venv, { recursive: true, force: true })
    await run(options.python ?? 'python3', ['-m', 'venv', venv], log)
    // --retries 1: an index that cannot be reached (an offline machine with a local mirror) is skipped
    // at once instead of after minutes of back-off.
    await run(
      python,
      ['-m', 'pip', 'install', '--retries', '1', '--disable-pip-version-check', '-r', REQUIREMENTS],
      log,
    )
    await writeFile(`${marker}.tmp`, wanted)
    await rename(`${marker}.tmp`, marker)
    return { venv, python, installed: true, packages }
  } finally {
    await release()
  }
}

async function run(command: string, args: string[], log: string): Promise<void> {
  try {
    await execa(command, args, {
      stdout: { file: log, append: true },
      stderr: { file: log, append: true },
    } as never)
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ENOENT' ? `${command} not found` : 'it failed'
    throw new UsageError(`setting up the trainer's virtualenv: ${reason}; see ${log}`)
  }
}

async function lock(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 30 * 60_000
  for (;;) {
    try {
      await mkdir(path)
      return () => rm(path, { recursive: true, force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
      if (age > 30 * 60_000) await rm(path, { recursive: true, force: true })
      else if (Date.now() > deadline) throw new UsageError(`${path}: another install holds the lock`)
      else await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}
