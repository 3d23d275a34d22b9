import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { UsageError } from '../core/errors.js'
import { isProcessAlive } from '../core/process-alive.js'
import { startHome } from '../core/start-home.js'

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
  const given = options.venv !== undefined ? '--venv' : process.env.START_VENV ? '$START_VENV' : undefined
  const venv = options.venv ?? defaultVenv()
  const python = join(venv, 'bin', 'python')
  const marker = join(venv, READY_MARKER)
  const packages = pinnedPackages()
  const wanted = packages.join('\n')
  const ready = () => existsSync(marker) && readFileSync(marker, 'utf8') === wanted
  if (ready()) return { venv, python, installed: false, packages }
  const refuse = () => {
    const problem = venvProblem(venv, given !== undefined)
    if (problem) throw new UsageError(`${given ?? 'the virtualenv'} ${venv}: ${problem}`)
  }
  refuse()
  await mkdir(join(venv, '..'), { recursive: true })
  const release = await lockInstall(`${venv}.lock`, options.onLog)
  try {
    if (ready()) return { venv, python, installed: false, packages }
    refuse()
    const log = `${venv}.install.log`
    await writeFile(log, '')
    await rm(venv, { recursive: true, force: true })
    await run(options.python ?? 'python3', ['-m', 'venv', venv], log)
    await writeFile(join(venv, OWN_MARKER), 'made by start: start may remove and remake this directory\n')
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

/** Written once the packages are in: the install finished (its text is the pins it installed). */
const READY_MARKER = '.start-ready'
/** Written as soon as start has made the virtualenv: the directory is start's to remove and remake. */
const OWN_MARKER = '.start-venv'

/**
 * Why the virtualenv cannot be (re)made at `venv`, or undefined. start removes only a directory it made:
 * one holding its marker, or (when no path was given) its own default place under the start home; an empty
 * directory is used as it is. Anything else (a project directory given by mistake, a file, a link) is
 * refused, never deleted.
 */
export function venvProblem(venv: string, givenByUser: boolean): string | undefined {
  let entries: string[]
  try {
    if (!lstatSync(venv).isDirectory())
      return 'exists and is not a directory; give the path of a new or empty directory'
    entries = readdirSync(venv)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return `cannot be read (${(error as NodeJS.ErrnoException).code}); give another path`
  }
  if (entries.length === 0 || !givenByUser || entries.includes(OWN_MARKER) || entries.includes(READY_MARKER))
    return undefined
  return `is a directory start did not make (${entries.length} entries); start only removes a virtualenv it made: give the path of a new or empty directory`
}

/**
 * Holds `path` (a directory, with the holder's pid in it) while one process installs. A lock whose holder
 * is gone (a killed install) is taken over at once; one without a pid (an older start's, or a holder that
 * has just made it) after a minute. A live holder is waited for, said once, up to `waitMs`.
 */
export async function lockInstall(
  path: string,
  onLog?: (line: string) => void,
  waitMs = 30 * 60_000,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs
  const pidFile = join(path, 'pid')
  let told = false
  for (;;) {
    try {
      await mkdir(path)
      await writeFile(pidFile, String(process.pid))
      return () => rm(path, { recursive: true, force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10)
      const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
      if (Number.isInteger(holder) ? !isProcessAlive(holder) : age > 60_000) {
        await rm(path, { recursive: true, force: true })
        continue
      }
      const who = Number.isInteger(holder) ? `another install (pid ${holder})` : 'another install'
      if (Date.now() > deadline) throw new UsageError(`${path}: ${who} holds the lock`)
      if (!told) onLog?.(`waiting for ${who} to finish (${path})`)
      told = true
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
  }
}
