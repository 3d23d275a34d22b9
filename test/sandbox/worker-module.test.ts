import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CLONE_NAMESPACE_FLAGS, SECCOMP_DENIED, SECCOMP_UNAVAILABLE } from '../../src/sandbox/isolation.js'

/** Runs `body` in a python3 that imported worker.py as a module (no sandbox, no worker started). */
function withWorker(body: string, input: unknown = null): unknown {
  const script = [
    'import json, os, sys',
    'fds = sorted(os.listdir("/proc/self/fd"))',
    'import worker',
    'data = json.load(sys.stdin)',
    body,
  ].join('\n')
  const stdout = execFileSync('python3', ['-c', script], {
    input: JSON.stringify(input),
    env: { ...process.env, PYTHONPATH: 'src/sandbox' },
  })
  return JSON.parse(String(stdout))
}

describe('worker.py as a module', () => {
  it('changes nothing when imported: no settings read, no descriptor duplicated', () => {
    const imported = withWorker(
      'print(json.dumps({"config": worker.CONFIG, "channel": worker.REPLIES, "fdsUnchanged": fds == sorted(os.listdir("/proc/self/fd"))}))',
    )
    expect(imported).toEqual({ config: null, channel: null, fdsUnchanged: true })
  })

  it("compiles the cells' seccomp filter from the rules the TypeScript passes: one BPF program", () => {
    const rules = {
      deny: SECCOMP_DENIED,
      unavailable: SECCOMP_UNAVAILABLE,
      cloneFlags: CLONE_NAMESPACE_FLAGS,
    }
    const compiled = withWorker(
      'program = worker.compile_seccomp_filter(data)\nprint(json.dumps({"bytes": len(program)}))',
      rules,
    ) as { bytes: number }
    // a sock_filter is 8 bytes; a rule per denied call at least
    expect(compiled.bytes % 8).toBe(0)
    expect(compiled.bytes / 8).toBeGreaterThan(SECCOMP_DENIED.length)
    const fewer = withWorker('print(json.dumps({"bytes": len(worker.compile_seccomp_filter(data))}))', {
      deny: ['ptrace'],
      unavailable: [],
      cloneFlags: [],
    }) as { bytes: number }
    expect(fewer.bytes).toBeLessThan(compiled.bytes)
  })

  it('keeps the head and tail of an output within the configured caps and says how much it cut', () => {
    const text = withWorker(
      [
        'worker.configure({"limits": {"memoryMb": 64}, "scratch": "/tmp", "outputHeadBytes": 4, "outputTailBytes": 3})',
        'capture = worker.Capture()',
        'capture.add(b"0123456789")',
        'capture.add(b"abc")',
        'print(json.dumps(capture.text()))',
      ].join('\n'),
    )
    expect(text).toBe('0123\n... [6 bytes truncated] ...\nabc')
  })
})
