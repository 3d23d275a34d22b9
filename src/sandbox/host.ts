import { accessSync, constants, existsSync, lstatSync, readlinkSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { execa } from 'execa'
import { UsageError } from '../core/errors.js'
import { ETC_ENTRIES, type HostLayout, systemEntries } from './isolation.js'

/** Reads the facts about this machine that the isolation policy needs. */
export function readHostLayout(): HostLayout {
  const system: HostLayout['system'] = []
  for (const path of systemEntries()) {
    let stat: ReturnType<typeof lstatSync>
    try {
      stat = lstatSync(path)
    } catch {
      continue
    }
    system.push(stat.isSymbolicLink() ? { path, symlinkTo: readlinkSync(path) } : { path })
  }
  return {
    system,
    etc: ETC_ENTRIES.filter((path) => existsSync(path)),
    root: process.getuid?.() === 0,
  }
}

let bwrapCheck: Promise<string> | undefined

/** Finds bubblewrap's full path, once; without it there is no isolation, so nothing runs. */
export function findBwrap(): Promise<string> {
  bwrapCheck ??= checkBwrap(onPath('bwrap') ?? 'bwrap')
  return bwrapCheck
}

function checkBwrap(path: string): Promise<string> {
  return execa(path, ['--version'], { reject: false }).then((result) => {
    if (result.exitCode !== 0) {
      throw new UsageError(
        'bubblewrap (bwrap) is not installed: the sandbox needs it to isolate Python',
        'install it: sudo apt-get install bubblewrap (Debian/Ubuntu), sudo dnf install bubblewrap (Fedora)',
      )
    }
    return path
  })
}

/** The executable `name` on this process's PATH (the sandbox is started with a bare environment). */
function onPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(directory || '.', name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}
