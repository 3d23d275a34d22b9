import { accessSync, constants, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { UsageError } from './errors.js'
import { expandInputs } from './jsonl.js'

/** A file a command writes, and the flag that names it. */
export interface NamedOutput {
  flag: string
  path: string | undefined
}

/**
 * Refuses, before any work, an output that is one of the command's inputs (the same file, also through a
 * link or another spelling of its path) or another of its outputs: writing it would replace what the user
 * gave, or two outputs would replace each other. stdout ("-" or none) and devices are never refused.
 */
export async function refuseOverwritingInputs(outputs: NamedOutput[], inputs: string[]): Promise<void> {
  const owners = new Map<string, string>()
  for (const file of await expandInputs(inputs)) {
    const identity = fileIdentity(file)
    if (identity) owners.set(identity, `the input ${file}`)
  }
  for (const { flag, path } of outputs) {
    if (path === undefined || path === '-') continue
    const identity = fileIdentity(path) ?? `path ${resolve(path)}`
    const owner = owners.get(identity)
    if (owner) throw new UsageError(`${flag} ${path}: is ${owner}; write the output to another file`)
    owners.set(identity, flag)
  }
}

/** The regular file a path names, whatever the spelling or the links: device and inode. */
function fileIdentity(path: string): string | undefined {
  try {
    const stats = statSync(path)
    return stats.isFile() ? `file ${stats.dev}:${stats.ino}` : undefined
  } catch {
    return undefined
  }
}

/**
 * Refuses, before any work, an output directory that cannot be one: a file, a path through a file, or a
 * place this process cannot write (read-only, not its own). A missing directory is fine: it is made.
 */
export function checkOutputDirectory(flag: string, dir: string): void {
  let existing = resolve(dir)
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) {
        const what =
          existing === resolve(dir)
            ? 'exists and is not a directory'
            : `${existing} is a file, not a directory`
        throw new UsageError(`${flag} ${dir}: ${what}`)
      }
      break
    } catch (error) {
      if (error instanceof UsageError) throw error
      const code = (error as NodeJS.ErrnoException).code
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(existing) === existing) throw error
      existing = dirname(existing)
    }
  }
  try {
    accessSync(existing, constants.W_OK)
  } catch (error) {
    throw new UsageError(
      `${flag} ${dir}: ${existing} cannot be written (${(error as NodeJS.ErrnoException).code})`,
    )
  }
}
