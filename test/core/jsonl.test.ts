import { execFileSync } from 'node:child_process'
import {
  closeSync,
  constants,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { writeFileAtomically } from '../../src/core/atomic-write.js'
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

  // `--out /dev/null` or `--out >(jq ...)`: a rename over the device or pipe would replace it with a
  // file (as root, /dev/null itself). A FIFO stands in for both.
  it('writes into a pipe in place and leaves it a pipe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'))
    const fifo = join(dir, 'out.fifo')
    execFileSync('mkfifo', [fifo])
    const reader = openFifo(fifo)
    const sink = await openJsonlSink(fifo)
    await sink.write({ a: 1 })
    await sink.write({ b: 2 })
    await sink.commit()
    expect(reader.written()).toBe('{"a":1}\n{"b":2}\n')
    expect(statSync(fifo).isFIFO()).toBe(true)
    expect(readdirSync(dir)).toEqual(['out.fifo'])
  })

  it('writes through a symlink to the file it points to, and leaves the link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'))
    writeFileSync(join(dir, 'real.jsonl'), 'old\n')
    symlinkSync(join(dir, 'real.jsonl'), join(dir, 'link.jsonl'))
    const sink = await openJsonlSink(join(dir, 'link.jsonl'))
    await sink.write({ a: 1 })
    await sink.commit()
    await writeFileAtomically(
      join(dir, 'link.jsonl'),
      `${readFileSync(join(dir, 'link.jsonl'), 'utf8')}{"b":2}\n`,
    )
    expect(lstatSync(join(dir, 'link.jsonl')).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(dir, 'real.jsonl'), 'utf8')).toBe('{"a":1}\n{"b":2}\n')
    expect(readdirSync(dir).sort()).toEqual(['link.jsonl', 'real.jsonl'])
  })
})

/**
 * A FIFO's read end, opened without waiting for a writer (read-write, Linux). `written` returns what was
 * written so far, and throws EAGAIN when nothing was: a write that went elsewhere fails, not hangs.
 */
function openFifo(fifo: string): { written: () => string } {
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK)
  return {
    written: () => {
      const buffer = Buffer.alloc(1 << 16)
      try {
        return buffer.toString('utf8', 0, readSync(fd, buffer))
      } finally {
        closeSync(fd)
      }
    },
  }
}

describe('writeFileAtomically', () => {
  it('writes into a pipe in place and leaves it a pipe', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'start-'))
    const fifo = join(dir, 'report.fifo')
    execFileSync('mkfifo', [fifo])
    const reader = openFifo(fifo)
    await writeFileAtomically(fifo, '<html></html>\n')
    expect(reader.written()).toBe('<html></html>\n')
    expect(statSync(fifo).isFIFO()).toBe(true)
    expect(readdirSync(dir)).toEqual(['report.fifo'])
  })
})
