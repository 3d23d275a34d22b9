import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkGgufFile, ggufHeaderProblem } from '../../src/inference/gguf-file.js'
import { checkGgufModel } from '../../src/inference/llama-cpp.js'
import { tempDir } from '../integration/cli.js'

const MODEL = '../shared/models/testbed-tir-f32.gguf'

/** A GGUF header: magic, version, tensor count, metadata entry count. */
function header(version: number, tensors: bigint, entries: bigint): Buffer {
  const bytes = Buffer.alloc(24)
  bytes.write('GGUF', 0, 'latin1')
  bytes.writeUInt32LE(version, 4)
  bytes.writeBigUInt64LE(tensors, 8)
  bytes.writeBigUInt64LE(entries, 16)
  return bytes
}

describe('ggufHeaderProblem', () => {
  it('accepts a header whose counts fit the file', () => {
    expect(ggufHeaderProblem(header(3, 38n, 20n), 4_000_000)).toBeUndefined()
    expect(ggufHeaderProblem(header(2, 1n, 1n), 24 + 24 + 13)).toBeUndefined()
    expect(ggufHeaderProblem(readFileSync(MODEL).subarray(0, 24), 4_000_000)).toBeUndefined()
  })

  it('refuses a foreign file, a short one, an unknown version and counts no file of that size could hold', () => {
    expect(ggufHeaderProblem(Buffer.from('PK\u0003\u0004'), 4)).toBe('not a GGUF model')
    expect(ggufHeaderProblem(Buffer.from('GGUF\u0003'), 5)).toMatch(/cut short \(5 bytes\)/)
    expect(ggufHeaderProblem(header(1, 1n, 1n), 1000)).toMatch(/version 1, not 2 or 3/)
    expect(ggufHeaderProblem(header(0x03000000, 1n, 1n), 1000)).toMatch(/version 50331648/) // big-endian
    expect(ggufHeaderProblem(header(3, 1n, 1n), 24 + 24 + 12)).toMatch(/cannot fit in 60 bytes/)
    // The counts that made node-llama-cpp's reader spin for good.
    expect(ggufHeaderProblem(header(3, 2n ** 64n - 1n, 2n ** 64n - 1n), 24)).toMatch(
      /corrupt or cut-short GGUF/,
    )
  })
})

describe('checkGgufFile and checkGgufModel', () => {
  it('refuse a missing, foreign, corrupt or cut-short model, naming the flag and the file', async () => {
    const dir = tempDir()
    const refused = async (name: string, bytes: Buffer | string | undefined, why: string) => {
      const path = join(dir, name)
      if (bytes !== undefined) writeFileSync(path, bytes)
      await expect(checkGgufModel(path, '--model')).rejects.toThrow(`--model ${path}: ${why}`)
    }
    await refused('nope.gguf', undefined, 'no such file')
    await refused('fake.gguf', 'not a model', 'not a GGUF model')
    await refused(
      'spin.gguf',
      header(3, 2n ** 64n - 1n, 2n ** 64n - 1n),
      'a corrupt or cut-short GGUF model (',
    )
    // The metadata reader fails on a string longer than the file.
    await refused(
      'junk.gguf',
      Buffer.concat([header(3, 1n, 1n), Buffer.alloc(40, 0xff)]),
      'a corrupt GGUF model (',
    )
    const model = readFileSync(MODEL)
    await refused('cut.gguf', model.subarray(0, model.length / 2), 'a GGUF model cut short')
    expect(() => checkGgufFile(dir, '--base')).toThrow(`--base ${dir}: cannot read (EISDIR)`)
    await expect(checkGgufModel(MODEL, '--model')).resolves.toBeUndefined()
  })
})
