import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fingerprint } from '../../src/core/fingerprint.js'
import { tempDir } from '../integration/cli.js'

describe('fingerprint', () => {
  it('is stable while inputs stay, and changes when a file or a file in a folder is remade', async () => {
    const dir = tempDir()
    const file = join(dir, 'data.jsonl')
    const model = join(dir, 'model')
    mkdirSync(model)
    writeFileSync(file, 'a\n')
    writeFileSync(join(model, 'weights'), 'w1')
    const first = fingerprint([file, model])
    expect(fingerprint([file, model])).toBe(first)
    await new Promise((resolve) => setTimeout(resolve, 20))
    // Remade by rename, as every stage writes its outputs, with the same size.
    writeFileSync(join(dir, 'next'), 'w2')
    renameSync(join(dir, 'next'), join(model, 'weights'))
    expect(fingerprint([file, model])).not.toBe(first)
    expect(fingerprint([join(dir, 'missing')])).not.toBe(fingerprint([file]))
  })
})
