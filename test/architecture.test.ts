import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

/** Every source file under src/, with its text. */
function sources(dir = 'src'): { file: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return path.endsWith('.ts') ? [{ file: relative('.', path), text: readFileSync(path, 'utf8') }] : []
  })
}

const importsOf = (text: string) => [...text.matchAll(/from '([^']+)'/g)].map((match) => match[1]!)

describe('the layout', () => {
  const files = sources()

  it('keeps the CLI glue apart: only src/commands imports src/cli', () => {
    const offenders = files
      .filter(({ file }) => !file.startsWith('src/commands/') && !file.startsWith('src/cli/'))
      .filter(({ text }) => importsOf(text).some((path) => /(^|\/)cli\//.test(path)))
      .map(({ file }) => file)
    expect(offenders).toEqual([])
  })

  it('keeps the shared core free of stages and of the CLI', () => {
    const offenders = files
      .filter(({ file }) => file.startsWith('src/core/'))
      .filter(({ text }) =>
        importsOf(text).some((path) => path.startsWith('../') && !path.startsWith('../store/')),
      )
      .map(({ file }) => file)
    expect(offenders).toEqual([])
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
