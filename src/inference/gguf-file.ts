import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { UsageError } from '../core/errors.js'

/** The fixed start of a GGUF file (v2 and v3): magic, version, tensor count, metadata entry count. */
const HEADER_BYTES = 24
/** The fewest bytes a tensor's description takes (name length, no dimensions, type, offset). */
const MIN_TENSOR_INFO_BYTES = 24
/** The fewest bytes a metadata entry takes (key length, type, a one-byte value). */
const MIN_ENTRY_BYTES = 13

/**
 * What is wrong with a GGUF file's header, if anything. Pure: `header` is the file's first bytes, `size`
 * its length. Counts that could not fit in the file are garbage, and node-llama-cpp's reader would loop
 * on them for good, so they are refused here, before anything reads the file.
 */
export function ggufHeaderProblem(header: Buffer, size: number): string | undefined {
  if (header.length < 4 || header.toString('latin1', 0, 4) !== 'GGUF') return 'not a GGUF model'
  if (header.length < HEADER_BYTES) return `a GGUF model cut short (${size} bytes)`
  const version = header.readUInt32LE(4)
  // llama.cpp reads versions 2 and 3; 1 is long retired, and a byte-swapped 3 means a big-endian file.
  if (version !== 2 && version !== 3) return `a GGUF model of version ${version}, not 2 or 3`
  const tensors = header.readBigUInt64LE(8)
  const entries = header.readBigUInt64LE(16)
  const needed = tensors * BigInt(MIN_TENSOR_INFO_BYTES) + entries * BigInt(MIN_ENTRY_BYTES)
  if (needed > BigInt(size - HEADER_BYTES))
    return `a corrupt or cut-short GGUF model (${tensors} tensors and ${entries} metadata entries cannot fit in ${size} bytes)`
  return undefined
}

/** Refuses a missing file or a GGUF file whose header is unsound, naming the flag; returns the file's size. */
export function checkGgufFile(path: string, flag: string): number {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    throw new UsageError(`${flag} ${path}: no such file`)
  }
  const header = Buffer.alloc(HEADER_BYTES)
  let read: number
  let size: number
  try {
    read = readSync(fd, header, 0, HEADER_BYTES, 0)
    size = fstatSync(fd).size
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`)
  } finally {
    closeSync(fd)
  }
  const problem = ggufHeaderProblem(header.subarray(0, read), size)
  if (problem) throw new UsageError(`${flag} ${path}: ${problem}`)
  return size
}
