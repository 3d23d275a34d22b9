import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { openJsonlSink, readJsonl } from '../../src/core/jsonl.js'

describe('readJsonl', () => {
  it('yields values with line numbers, skipping blank lines', async () => {
    const input = Readable.from(['{"a":1}\n\n', '{"b":2}\r\n'])
    const lines = []
    for await (const line of readJsonl('-', input)) lines.push(line)
    expect(lines).toEqual([
      { value: { a: 1 }, file: '<stdin>', line: 1 },
      { value: { b: 2 }, file: '<stdin>', line: 3 },
    ])
  })

  it('names the line of invalid JSON', async () => {
    const read = async () => {
      for await (const _ of readJsonl('x.jsonl', Readable.from(['{"a":1}\n{oops\n']))) {
      }
    }
    await expect(read()).rejects.toThrow(/^x\.jsonl:2: invalid JSON/)
  })
})

describe('openJsonlSink', () => {
  it('makes the file appear only on commit', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'start-')), 'out.jsonl')
    const sink = await openJsonlSink(file)
    await sink.write({ a: 1 })
    expect(existsSync(file)).toBe(false)
    await sink.commit()
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n')
  })

  it('leaves nothing behind on abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'))
    const sink = await openJsonlSink(join(dir, 'out.jsonl'))
    await sink.write({ a: 1 })
    await sink.abort()
    expect(existsSync(join(dir, 'out.jsonl'))).toBe(false)
  })
})
