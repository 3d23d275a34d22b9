import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/core/errors.js'
import { runSandboxFile, workFor } from '../../src/sandbox/run-sandbox.js'
import { tempDir } from '../integration/cli.js'

describe('workFor', () => {
  it('runs a code field alone, found by dotted path', () => {
    expect(workFor({ code: 'print(1)' }, 'code')).toEqual({ kind: 'code', code: 'print(1)' })
    expect(workFor({ meta: { code: 'print(2)' } }, 'meta.code')).toEqual({ kind: 'code', code: 'print(2)' })
  })

  it('runs the python blocks of a trajectory as one session', () => {
    expect(workFor({ text: 'a\n```python\nx = 1\n```\nb\n```python\nprint(x)\n```\n' }, 'code')).toEqual({
      kind: 'trajectory',
      blocks: ['x = 1', 'print(x)'],
    })
  })

  it('says what is missing', () => {
    expect(workFor({ text: 'no code' }, 'code')).toEqual({ error: '"text" has no ```python block' })
    expect(workFor({ code: 5 }, 'code')).toEqual({ error: '"code" must be a string' })
    expect(workFor({ other: 1 }, 'code')).toEqual({
      error: 'missing "code" (or a trajectory "text" with ```python blocks)',
    })
    expect(workFor('x', 'code')).toEqual({ error: 'expected a JSON object' })
  })
})

describe('start sandbox on a file', () => {
  const dir = tempDir()
  const run = (input: string, extra: { runId?: string } = {}) =>
    runSandboxFile({
      input,
      out: join(dir, 'out.jsonl'),
      db: join(dir, 's.db'),
      runId: extra.runId ?? 'r',
      flags: {},
      toolVersion: '0',
      codeField: 'code',
      concurrency: 1,
      echo: false,
      skipInvalid: false,
      sandbox: { workers: 1 },
    })

  it('names a missing input file', async () => {
    await expect(run(join(dir, 'nope.jsonl'))).rejects.toThrow(`${join(dir, 'nope.jsonl')}: no such file`)
  })

  it('rejects a second record with the same id, naming both lines, or skips it with --skip-invalid', async () => {
    const input = join(dir, 'dup.jsonl')
    writeFileSync(
      input,
      '{"id": 7, "code": "print(1)"}\n{"id": 8, "code": "print(2)"}\n{"id": 7, "code": "print(3)"}\n',
    )
    const failure = run(input, { runId: 'dup' })
    await expect(failure).rejects.toThrow(UsageError)
    await expect(failure).rejects.toThrow(`${input}:3: duplicate id 7 (first at ${input}:1)`)
    const skipped: string[] = []
    const summary = await runSandboxFile({
      input,
      out: join(dir, 'out.jsonl'),
      db: join(dir, 's.db'),
      runId: 'dup-skip',
      flags: {},
      toolVersion: '0',
      codeField: 'code',
      concurrency: 1,
      echo: false,
      skipInvalid: true,
      onEvent: (event) => {
        if (event.kind === 'invalid') skipped.push(event.message)
      },
      sandbox: { workers: 1 },
    })
    expect(summary).toMatchObject({ records: 2, skipped: 1 })
    expect(skipped).toEqual([`${input}:3: duplicate id 7 (first at ${input}:1)`])
  })
})
