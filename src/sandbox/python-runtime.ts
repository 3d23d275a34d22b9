import { realpathSync } from 'node:fs'
import { execa } from 'execa'
import { UsageError } from '../core/errors.js'

/** The Python interpreter the sandbox runs, and the directories it needs to see. */
export interface PythonRuntime {
  executable: string
  version: string
  /** Directories the interpreter reads: its prefix(es) and every sys.path entry. */
  paths: string[]
}

const PROBE = `import json, os, sys
print(json.dumps({"executable": os.path.realpath(sys.executable), "version": sys.version.split()[0],
  "paths": sorted({p for p in [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path] if p and os.path.isdir(p)})}))`

const cache = new Map<string, Promise<PythonRuntime>>()

/** Finds the real interpreter behind `python` (a name on PATH, a path, or a shim such as pyenv's). */
export function findPythonRuntime(python = 'python3'): Promise<PythonRuntime> {
  let found = cache.get(python)
  if (!found) {
    found = probe(python)
    cache.set(python, found)
  }
  return found
}

async function probe(python: string): Promise<PythonRuntime> {
  const result = await execa(python, ['-c', PROBE], { reject: false, timeout: 30_000 })
  if (result.exitCode !== 0) {
    throw new UsageError(
      `--python ${python}: cannot run it (${result.code === 'ENOENT' ? 'not found' : String(result.stderr || result.message).split('\n')[0]})`,
      'install python3, or point --python at an interpreter',
    )
  }
  const info = JSON.parse(result.stdout) as PythonRuntime
  return { ...info, paths: info.paths.map((p) => realpathSync(p)) }
}
