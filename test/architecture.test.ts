import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import fastGlob from 'fast-glob'
import { describe, expect, it } from 'vitest'
import { TIERS } from './tiers.js'

/** Every source file under src/, with its text. */
function sources(dir = 'src'): { file: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return path.endsWith('.ts') ? [{ file: relative('.', path), text: readFileSync(path, 'utf8') }] : []
  })
}

const importsOf = (text: string) => [...text.matchAll(/from '([^']+)'/g)].map((match) => match[1]!)

/** Each source file's relative imports, as source paths. */
function importGraph(files: { file: string; text: string }[]): Map<string, string[]> {
  return new Map(
    files.map(({ file, text }) => [
      file,
      importsOf(text)
        .filter((path) => path.startsWith('.'))
        .map((path) => join(dirname(file), path).replace(/\.js$/, '.ts')),
    ]),
  )
}

/** The files that reach themselves through their imports (a depth-first search per file; the graph is small). */
function circles(graph: Map<string, string[]>): string[] {
  const reaches = (from: string, target: string, seen: Set<string>): boolean =>
    (graph.get(from) ?? []).some((next) => {
      if (next === target) return true
      if (seen.has(next)) return false
      seen.add(next)
      return reaches(next, target, seen)
    })
  return [...graph.keys()].filter((file) => reaches(file, file, new Set()))
}

describe('the layout', () => {
  const files = sources()

  it('keeps the CLI glue apart: only src/commands imports src/cli', () => {
    const offenders = files
      .filter(({ file }) => !file.startsWith('src/commands/') && !file.startsWith('src/cli/'))
      .filter(({ text }) => importsOf(text).some((path) => /(^|\/)cli\//.test(path)))
      .map(({ file }) => file)
    expect(offenders).toEqual([])
  })

  it('builds on the ground floor: core imports nothing of src, the store only core', () => {
    const outside = (folder: string, allowed: string[]) =>
      files
        .filter(({ file }) => file.startsWith(`src/${folder}/`))
        .flatMap(({ file, text }) =>
          importsOf(text)
            .filter((path) => path.startsWith('../') && !allowed.some((ok) => path.startsWith(`../${ok}/`)))
            .map((path) => `${file} -> ${path}`),
        )
    expect(outside('core', [])).toEqual([])
    expect(outside('store', ['core'])).toEqual([])
  })

  it('has no import circles: between src/ folders, nor between files', () => {
    const graph = importGraph(files)
    const folderOf = (file: string) => file.split('/')[1]!
    const folders = new Map<string, Set<string>>()
    for (const [file, targets] of graph)
      for (const target of targets)
        if (folderOf(file) !== folderOf(target)) {
          const set = folders.get(folderOf(file)) ?? new Set()
          folders.set(folderOf(file), set.add(folderOf(target)))
        }
    const folderCycles = [...folders].flatMap(([from, tos]) =>
      [...tos].filter((to) => from < to && folders.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
    )
    expect(folderCycles).toEqual([])
    expect(circles(graph)).toEqual([])
  })

  it('has one file per engine that imports it, and SQL only in src/store', () => {
    const importing = (module: string) =>
      files.filter(({ text }) => importsOf(text).includes(module)).map(({ file }) => file)
    expect(importing('node-llama-cpp')).toEqual(['src/inference/llama-cpp.ts'])
    expect(importing('better-sqlite3')).toEqual(['src/store/store.ts'])
    const sql = files.filter(
      ({ file, text }) => !file.startsWith('src/store/') && /\.prepare\(|\bSELECT\b.*\bFROM\b/.test(text),
    )
    expect(sql.map(({ file }) => file)).toEqual([])
  })
})

describe('the test tiers', () => {
  /** What a unit file must not touch: each needs a tier of its own (test/tiers.ts). */
  const NEEDS = {
    sandbox: /new SandboxPool|new Grader\(/,
    model: /shared\/models|\.gguf['`]/,
    trainer: /ensureTrainingEnv|TrlTrainer|\.start-venv|['"]python3['"]/,
    browser: /chromium/i,
    'the built CLI': /runCli\(|bin\/run\.js/,
  }

  it('keeps the unit tier to pure logic: no sandbox, model, trainer, browser or CLI', () => {
    const unit = TIERS.find((tier) => tier.name === 'unit')!
    const excluded = new Set(unit.exclude!.flatMap((pattern) => fastGlob.sync(pattern)))
    const files = unit.include
      .flatMap((pattern) => fastGlob.sync(pattern))
      .filter((file) => !excluded.has(file) && file !== 'test/architecture.test.ts')
    expect(files.length).toBeGreaterThan(30)
    const offenders = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8')
      return Object.entries(NEEDS)
        .filter(([, pattern]) => pattern.test(text))
        .map(([need]) => `${file} needs ${need}`)
    })
    expect(offenders).toEqual([])
  })

  it('names only files that exist in the other tiers', () => {
    for (const tier of TIERS.filter((tier) => tier.name !== 'unit'))
      for (const pattern of tier.include) expect(fastGlob.sync(pattern), pattern).not.toEqual([])
  })
})
