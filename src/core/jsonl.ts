import { createReadStream } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import fg from 'fast-glob'
import { outputTarget, removeStaleTemporaries, temporaryFor, writeFileAtomically } from './atomic-write.js'
import { UsageError } from './errors.js'

/** One parsed JSONL line and where it came from, so errors can point at it. */
export interface JsonlLine {
  value: unknown
  file: string
  line: number
}

export const STDIN = '-'

function openSource(file: string): Readable {
  return file === STDIN ? process.stdin : createReadStream(file)
}

const NEWLINE = 0x0a
const BOM = '\uFEFF'

/**
 * The lines of a byte stream, each decoded as strict UTF-8 (a line that is not says so: decoding it
 * loosely would change the data silently). A trailing CR is dropped.
 */
async function* readLines(input: Readable, name: string): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let line = 0
  // The start of a line that continues in the next chunk (kept as pieces: one long line is not recopied).
  let partial: Buffer[] = []
  const decode = (bytes: Buffer): string => {
    try {
      const text = decoder.decode(bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes)
      return line === 1 && text.startsWith(BOM) ? text.slice(1) : text
    } catch {
      throw new UsageError(`${name}:${line}: invalid UTF-8`, 'JSONL files are UTF-8 text')
    }
  }
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    let start = 0
    for (let end = bytes.indexOf(NEWLINE); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
      line++
      const piece = bytes.subarray(start, end)
      const text = decode(partial.length > 0 ? Buffer.concat([...partial, piece]) : piece)
      partial = []
      start = end + 1
      yield { text, line }
    }
    if (start < bytes.length) partial.push(bytes.subarray(start))
  }
  if (partial.length > 0) {
    line++
    yield { text: decode(Buffer.concat(partial)), line }
  }
}

/**
 * Streams the JSON values of a JSONL file (or stdin for "-") as its lines arrive; blank lines are
 * skipped, a UTF-8 byte-order mark is accepted, and a bad line stops with `file:line: what is wrong`.
 */
export async function* readJsonl(
  file: string,
  input: Readable = openSource(file),
): AsyncGenerator<JsonlLine> {
  const name = file === STDIN ? '<stdin>' : file
  const opened = new Promise<void>((resolve, reject) => {
    input.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new UsageError(`${name}: no such file`)
          : new UsageError(`${name}: cannot read (${error.message})`),
      ),
    )
    input.once('readable', resolve)
    input.once('end', resolve)
  })
  await opened
  for await (const { text, line } of readLines(input, name)) {
    if (text.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new UsageError(`${name}:${line}: invalid JSON (${(error as Error).message})`)
    }
    yield { value, file: name, line }
  }
}

/** Expands files and globs ("-" is stdin) in the order given; a pattern matching nothing is an error. */
export async function expandInputs(patterns: string[]): Promise<string[]> {
  const files: string[] = []
  for (const pattern of patterns) {
    if (pattern === STDIN || !fg.isDynamicPattern(pattern)) {
      files.push(pattern)
      continue
    }
    const matches = (await fg(pattern, { onlyFiles: true })).sort()
    if (matches.length === 0) throw new UsageError(`${pattern}: no file matches`)
    files.push(...matches)
  }
  return files
}

/** Non-blank lines across the inputs, for progress totals; undefined when reading stdin. */
export async function countRecords(patterns: string[]): Promise<number | undefined> {
  const files = await expandInputs(patterns)
  if (files.includes(STDIN)) return undefined
  let count = 0
  for (const file of files) {
    try {
      const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })
      for await (const line of lines) if (line.trim() !== '') count++
    } catch {
      return undefined // the reader reports the missing file with its own message
    }
  }
  return count
}

/** Streams the lines of every input (files, globs, "-" for stdin) in order. */
export async function* readJsonlInputs(patterns: string[]): AsyncGenerator<JsonlLine> {
  for (const file of await expandInputs(patterns)) yield* readJsonl(file)
}

/** The first `limit` records of a JSONL file, written whole to `target` (a file of their own). */
export async function writeFirstRecords(source: string, limit: number, target: string): Promise<string> {
  const lines: string[] = []
  for await (const { value } of readJsonl(source)) {
    if (lines.length >= limit) break
    lines.push(JSON.stringify(value))
  }
  await writeFileAtomically(target, `${lines.join('\n')}\n`)
  return target
}

/** Where JSONL output goes: a file written atomically (temp file + rename), a device or pipe, or stdout. */
export interface JsonlSink {
  write(record: unknown): Promise<void>
  /** Makes the file appear; without it a file sink leaves no partial output behind. */
  commit(): Promise<void>
  abort(): Promise<void>
}

/** A file sink flushes when this much is pending, or when the oldest pending record is this old. */
const FLUSH_BYTES = 1 << 16
const FLUSH_MS = 1000

export async function openJsonlSink(file: string | undefined): Promise<JsonlSink> {
  if (!file || file === STDIN) {
    return {
      write: (record) => writeStdout(`${JSON.stringify(record)}\n`),
      commit: async () => {},
      abort: async () => {},
    }
  }
  const target = await outputTarget(file)
  if (!target.inPlace) await removeStaleTemporaries(target.path)
  const writing = target.inPlace ? target.path : temporaryFor(target.path)
  const handle = await open(writing, 'w').catch((error: Error) => {
    throw new UsageError(`--out ${file}: cannot write (${error.message})`)
  })
  let pending = ''
  let pendingSince = 0
  const flush = async () => {
    if (pending) await handle.write(pending)
    pending = ''
  }
  return {
    async write(record) {
      if (!pending) pendingSince = Date.now()
      pending += `${JSON.stringify(record)}\n`
      if (pending.length > FLUSH_BYTES || Date.now() - pendingSince > FLUSH_MS) await flush()
    },
    async commit() {
      await flush()
      if (target.inPlace) return handle.close()
      await handle.sync()
      await handle.close()
      await rename(writing, target.path)
    },
    async abort() {
      await handle.close().catch(() => {})
      if (!target.inPlace) await rm(writing, { force: true })
    },
  }
}

async function writeStdout(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve))
}
