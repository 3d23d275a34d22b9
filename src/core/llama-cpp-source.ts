import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { UsageError } from './errors.js'
import { startHome } from './start-home.js'

/**
 * The llama.cpp source that node-llama-cpp's npm package carries as a git bundle
 * (`llama/gitRelease.bundle`), cloned once into start's home: it has convert_hf_to_gguf.py, so
 * exporting to GGUF needs no network.
 */
export async function ensureLlamaCppSource(): Promise<string> {
  const llamaDir = join(packageRoot(createRequire(import.meta.url).resolve('node-llama-cpp')), 'llama')
  const bundle = join(llamaDir, 'gitRelease.bundle')
  const tag = (JSON.parse(readFileSync(join(llamaDir, 'llama.cpp.info.json'), 'utf8')) as { tag: string }).tag
  const target = join(startHome(), `llama.cpp-${tag}`)
  if (existsSync(join(target, 'convert_hf_to_gguf.py'))) return target
  if (!existsSync(bundle)) throw new UsageError(`${bundle}: missing; reinstall node-llama-cpp`)
  await mkdir(startHome(), { recursive: true })
  const partial = `${target}.partial-${process.pid}`
  await rm(partial, { recursive: true, force: true })
  try {
    await execa('git', ['clone', '--quiet', bundle, partial])
  } catch (error) {
    throw new UsageError(
      `cloning llama.cpp from ${bundle} failed: ${(error as Error).message.split('\n')[0]}`,
    )
  }
  await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
    // Another process cloned it meanwhile.
    await rm(partial, { recursive: true, force: true })
    if (!existsSync(join(target, 'convert_hf_to_gguf.py'))) throw error
  })
  return target
}

/** The package directory above a file of the package. */
function packageRoot(file: string): string {
  let dir = dirname(file)
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'llama'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new UsageError(`${file}: cannot find node-llama-cpp's package directory`)
    dir = parent
  }
  return dir
}
