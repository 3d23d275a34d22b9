import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
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

  const values = async (chunks: (string | Buffer)[], file = 'x.jsonl') => {
    const lines = []
    for await (const line of readJsonl(file, Readable.from(chunks))) lines.push(line)
    return lines
  }

  it('accepts a UTF-8 byte-order mark', async () => {
    expect(await values(['\uFEFF{"a":1}\n{"b":"\uFEFF"}\n'])).toEqual([
      { value: { a: 1 }, file: 'x.jsonl', line: 1 },
      { value: { b: '\uFEFF' }, file: 'x.jsonl', line: 2 },
    ])
  })

  it('names the line of invalid UTF-8 instead of replacing it', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"a":"ok"}\n{"a":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n'),
    ])
    await expect(values([bad])).rejects.toThrow('x.jsonl:2: invalid UTF-8')
  })

  it('joins lines and multi-byte characters split across chunks', async () => {
    const text = Buffer.from('{"a":"é€"}\n{"b":2}')
    const chunks = [text.subarray(0, 8), text.subarray(8, 9), text.subarray(9, 15), text.subarray(15)]
    expect((await values(chunks)).map((line) => [line.value, line.line])).toEqual([
      [{ a: 'é€' }, 1],
      [{ b: 2 }, 2],
    ])
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

  it('removes the temporary files that killed runs left beside the output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'))
    const file = join(dir, 'out.jsonl')
    // A pid no process has: the run that wrote it is gone.
    writeFileSync(`${file}.tmp-999999999`, '{"partial":')
    writeFileSync(`${file}.tmp-${process.ppid}`, 'a live process writes this one')
    const sink = await openJsonlSink(file)
    await sink.write({ a: 1 })
    await sink.commit()
    expect(readdirSync(dir).sort()).toEqual(['out.jsonl', `out.jsonl.tmp-${process.ppid}`])
  })

  it('leaves nothing behind on abort', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'))
    const sink = await openJsonlSink(join(dir, 'out.jsonl'))
    await sink.write({ a: 1 })
    await sink.abort()
    expect(existsSync(join(dir, 'out.jsonl'))).toBe(false)
  })
})
