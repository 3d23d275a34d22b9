import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeError, EXIT_FAILURE, EXIT_USAGE, exitCodeFor, UsageError } from '../../src/core/errors.js'
import { checkOutputDirectory } from '../../src/core/output-paths.js'
import { tempDir } from '../integration/cli.js'

/** The error a file system call throws. */
function thrown(call: () => unknown): unknown {
  try {
    call()
  } catch (error) {
    return error
  }
  throw new Error('did not throw')
}

describe('errors the user sees', () => {
  it('a file system refusal on a path is one line naming the path, exit 2 (not a raw EEXIST, exit 1)', () => {
    const file = join(tempDir(), 'file')
    writeFileSync(file, 'x')
    const exists = thrown(() => mkdirSync(file))
    expect(describeError(exists)).toBe(`${file}: exists already (and is not what is needed here) (EEXIST)`)
    expect(exitCodeFor(exists)).toBe(EXIT_USAGE)
    const below = thrown(() => mkdirSync(join(file, 'sub')))
    expect(describeError(below)).toBe(
      `${join(file, 'sub')}: a part of the path is a file, not a directory (ENOTDIR)`,
    )
    // anything else stays ours: exit 1
    expect(exitCodeFor(new Error('a bug'))).toBe(EXIT_FAILURE)
    expect(exitCodeFor(new UsageError('--x: bad'))).toBe(EXIT_USAGE)
  })

  it('an output directory that cannot be one is refused before any work', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'file'), 'x')
    expect(() => checkOutputDirectory('--out', join(dir, 'file'))).toThrow('--out')
    expect(() => checkOutputDirectory('--out', join(dir, 'file', 'a', 'b'))).toThrow(
      `--out ${join(dir, 'file', 'a', 'b')}: ${join(dir, 'file')} is a file, not a directory`,
    )
    mkdirSync(join(dir, 'ok'))
    expect(() => checkOutputDirectory('--out', join(dir, 'ok'))).not.toThrow()
    expect(() => checkOutputDirectory('--out', join(dir, 'new', 'deep'))).not.toThrow()
  })
})
