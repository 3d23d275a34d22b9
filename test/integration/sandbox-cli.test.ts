import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { machineParentCandidates } from '../../src/sandbox/cgroup.js'
import { CLI, committedUnits, readJsonlFile, runCli, tempDir, writeJsonlFile } from './cli.js'

describe('start sandbox', () => {
  it('runs code records and trajectories from a file, in input order, with a --json summary', async () => {
    const dir = tempDir()
    const input = join(dir, 'in.jsonl')
    writeFileSync(
      input,
      [
        { id: 'slow', code: 'import time\ntime.sleep(0.3)\nprint("slow")' },
        { id: 'fast', code: 'print(2**10)' },
        {
          id: 't',
          text: 'Wait, Python.\n```python\nx = 6 * 7\n```\n```output\n```\nAgain\n```python\nprint(x)\n```\n',
        },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    )
    const out = join(dir, 'out.jsonl')
    const result = await runCli([
      'sandbox',
      input,
      '--out',
      out,
      '--db',
      join(dir, 's.db'),
      '--json',
      '--run',
      'it-1',
    ])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({
      run: 'it-1',
      records: 3,
      executed: 4,
      failed: 0,
      resumed: 0,
    })
    const records = readJsonlFile(out)
    expect(records.map((r) => r.id)).toEqual(['slow', 'fast', 't'])
    expect(records[1].result).toMatchObject({ stdout: '1024\n', exitCode: 0 })
    expect(records[2].executions.map((e: { stdout: string }) => e.stdout)).toEqual(['', '42\n'])
    expect(result.stderr).toBe('') // no progress noise off a TTY
  })

  it('reads stdin and writes stdout', async () => {
    const dir = tempDir()
    const result = await runCli(['sandbox', '--db', join(dir, 's.db')], {
      input: '{"code": "print(1 + 1)"}\n',
    })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).result.stdout).toBe('2\n')
  })

  it('resumes a killed run: finished records are not run again and the output is complete', async () => {
    const dir = tempDir()
    const input = join(dir, 'in.jsonl')
    const db = join(dir, 's.db')
    const out = join(dir, 'out.jsonl')
    writeFileSync(
      input,
      ['print("a")', 'print("b")', 'import time\ntime.sleep(30)\nprint("c")']
        .map((code, i) => JSON.stringify({ id: `r${i}`, code }))
        .join('\n'),
    )
    const first = execa(
      'node',
      [CLI, 'sandbox', input, '--out', out, '--db', db, '--run', 'kill-me', '--concurrency', '1'],
      {
        reject: false,
      },
    )
    // Wait until the two quick records are committed, then kill the process hard.
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && committedUnits(db, 'kill-me') < 2) {
      await new Promise((r) => setTimeout(r, 100))
    }
    first.kill('SIGKILL')
    await first
    expect(existsSync(out)).toBe(false) // output appears atomically or not at all

    const second = await runCli([
      'sandbox',
      input,
      '--out',
      out,
      '--db',
      db,
      '--run',
      'kill-me',
      '--timeout',
      '500',
      '--json',
    ])
    expect(second.exitCode).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({ records: 3, resumed: 2, executed: 1, timedOut: 1 })
    const records = readJsonlFile(out)
    expect(records.map((r) => r.result.stdout)).toEqual(['a\n', 'b\n', ''])
    expect(records[2].result.timedOut).toBe(true)

    const runs = await runCli(['runs', '--db', db, '--json'])
    expect(JSON.parse(runs.stdout).runs[0]).toMatchObject({
      id: 'kill-me',
      status: 'done',
      done: 3,
      total: 3,
    })
  })

  it('stops on a bad line with file:line and exit code 2, keeping what was done', async () => {
    const dir = tempDir()
    const input = join(dir, 'bad.jsonl')
    const out = join(dir, 'out.jsonl')
    writeFileSync(input, '{"id": 1, "code": "print(1)"}\n{"id": 2, "nothing": true}\n')
    const result = await runCli(['sandbox', input, '--out', out, '--db', join(dir, 's.db'), '--run', 'bad'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(`${input}:2: missing "code"`)
    expect(existsSync(out)).toBe(false)
    const skipped = await runCli([
      'sandbox',
      input,
      '--out',
      out,
      '--db',
      join(dir, 's.db'),
      '--skip-invalid',
      '--json',
    ])
    expect(skipped.exitCode).toBe(0)
    expect(JSON.parse(skipped.stdout)).toMatchObject({ records: 1, skipped: 1 })
  })
})

// A cgroup an administrator delegates: start makes its workers' cgroups inside it and removes them after.
const delegable = process.getuid?.() === 0 ? machineParentCandidates()[0] : undefined

describe('start sandbox --memory-cgroup', () => {
  it('refuses a directory that is not a memory cgroup, naming the flag', async () => {
    const dir = tempDir()
    const result = await runCli(['sandbox', 'exec', '--memory-cgroup', dir, '--code', 'print(1)'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(`--memory-cgroup ${dir}: not a memory cgroup`)
  })

  it.runIf(delegable)(
    'caps each record as a whole inside a delegated cgroup, and leaves it empty',
    async () => {
      const parent = join(delegable!.path, `delegated-${process.pid}`)
      mkdirSync(parent)
      if (delegable!.version === 2) writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory')
      try {
        const dir = tempDir()
        const input = writeJsonlFile(join(dir, 'in.jsonl'), [
          {
            id: 'fill',
            code: 'with open("/dev/shm/f", "wb") as f:\n    for _ in range(24): f.write(b"x" * (16 << 20)); f.flush()',
          },
          { id: 'fine', code: 'print(len(bytearray(64 << 20)))' },
        ])
        const out = join(dir, 'out.jsonl')
        const args = ['sandbox', input, '--out', out, '--db', join(dir, 's.db'), '--json']
        const limits = ['--memory-mb', '256', '--scratch-mb', '1024', '--file-size-mb', '1024']
        const result = await runCli([...args, ...limits, '--memory-cgroup', parent])
        expect(JSON.parse(result.stdout)).toMatchObject({ records: 2, failed: 1, memoryLimit: 'world' })
        const [fill, fine] = readJsonlFile(out)
        expect(fill.result).toMatchObject({ exitCode: null, signal: 'SIGKILL' })
        expect(fill.result.stderr).toContain('memory limit exceeded')
        expect(fine.result.stdout).toBe(`${64 << 20}\n`)
        expect(readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory())).toEqual(
          [],
        )
      } finally {
        rmdirSync(parent)
      }
    },
  )
})

describe('start sandbox exec', () => {
  it('prints the result as JSON and exits with the snippet status', async () => {
    const ok = await runCli(['sandbox', 'exec'], { input: 'import sympy\nprint(sympy.factorint(360))' })
    expect(ok.exitCode).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ stdout: '{2: 3, 3: 2, 5: 1}\n', exitCode: 0 })
    const failed = await runCli(['sandbox', 'exec', '--timeout', '300'], { input: 'while True: pass' })
    expect(failed.exitCode).toBe(1)
    expect(JSON.parse(failed.stdout)).toMatchObject({ timedOut: true })
  })
})
