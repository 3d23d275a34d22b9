import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { refuseOverwritingInputs } from '../../src/core/output-paths.js'
import { tempDir } from '../integration/cli.js'

describe('an output that is one of the inputs', () => {
  const dir = tempDir()
  const input = join(dir, 't.jsonl')
  writeFileSync(input, '{}\n')
  const out = (path: string | undefined) => [{ flag: '--out', path }]

  it('is refused, however its path is spelt: the same path, another spelling, a link, a glob', async () => {
    for (const path of [input, join(dir, '.', 't.jsonl'), relative(process.cwd(), input)])
      await expect(refuseOverwritingInputs(out(path), [input])).rejects.toThrow(
        `--out ${path}: is the input ${input}; write the output to another file`,
      )
    const link = join(dir, 'link.jsonl')
    symlinkSync(input, link)
    await expect(refuseOverwritingInputs(out(link), [input])).rejects.toThrow('is the input')
    await expect(refuseOverwritingInputs(out(input), [join(dir, '*.jsonl')])).rejects.toThrow('is the input')
  })

  it('two outputs naming one file are refused too (--scores equal to --out), existing or not', async () => {
    const next = join(dir, 'new.jsonl')
    const both = [
      { flag: '--out', path: next },
      { flag: '--scores', path: join(dir, 'sub', '..', 'new.jsonl') },
    ]
    await expect(refuseOverwritingInputs(both, [input])).rejects.toThrow(
      `--scores ${join(dir, 'sub', '..', 'new.jsonl')}: is --out; write the output to another file`,
    )
  })

  it('lets a new file, stdout, another existing file and a device through', async () => {
    mkdirSync(join(dir, 'other'), { recursive: true })
    writeFileSync(join(dir, 'other', 't.jsonl'), '{}\n')
    for (const path of [join(dir, 'fresh.jsonl'), '-', undefined, join(dir, 'other', 't.jsonl'), '/dev/null'])
      await expect(refuseOverwritingInputs(out(path), [input, '-'])).resolves.toBeUndefined()
  })
})
