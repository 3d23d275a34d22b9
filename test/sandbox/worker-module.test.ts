import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CLONE_NAMESPACE_FLAGS, SECCOMP_DENIED, SECCOMP_UNAVAILABLE } from '../../src/sandbox/isolation.js'

const MODULES = ['settings', 'linux', 'seccomp', 'cgroup', 'runner', 'world', 'protocol', 'main']

/** Runs `body` in a python3 that imported the worker's modules (no sandbox, no worker started). */
function withWorker(body: string, input: unknown = null): unknown {
  const script = [
    'import json, os, sys',
    'fds = sorted(os.listdir("/proc/self/fd"))',
    `from sandbox_worker import ${MODULES.join(', ')}`,
    'data = json.load(sys.stdin)',
    body,
  ].join('\n')
  const stdout = execFileSync('python3', ['-c', script], {
    input: JSON.stringify(input),
    env: { ...process.env, PYTHONPATH: 'src/sandbox/python', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return JSON.parse(String(stdout))
}

const SETTINGS = {
  limits: { memoryMb: 64 },
  scratch: '/tmp',
  outputHeadBytes: 4,
  outputTailBytes: 3,
}

describe('the sandbox worker as modules', () => {
  it('changes nothing when imported: no process started, no descriptor duplicated, no signal handler set', () => {
    const imported = withWorker(
      'import signal\nprint(json.dumps({"fdsUnchanged": fds == sorted(os.listdir("/proc/self/fd")), "children": len(os.listdir(f"/proc/{os.getpid()}/task")), "sigpipe": signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN}))',
    )
    expect(imported).toEqual({ fdsUnchanged: true, children: 1, sigpipe: true })
  })

  it('reads its settings from the JSON the TypeScript writes, with the memory note naming the limit', () => {
    const settings = withWorker(
      's = settings.Settings.from_config(data)\nprint(json.dumps({"bytes": s.memory_bytes, "note": s.memory_limit_note.decode(), "uid": s.cell_uid, "rules": s.seccomp_rules}))',
      SETTINGS,
    )
    expect(settings).toEqual({
      bytes: 64 * 1024 * 1024,
      note: "memory limit exceeded: a record's processes, scratch and shared memory hold at most 64 MiB\n",
      uid: null,
      rules: { deny: [], unavailable: [], cloneFlags: [] },
    })
  })

  it("compiles the cells' seccomp filter from the rules the TypeScript passes: one BPF program", () => {
    const rules = {
      deny: SECCOMP_DENIED,
      unavailable: SECCOMP_UNAVAILABLE,
      cloneFlags: CLONE_NAMESPACE_FLAGS,
    }
    const compiled = withWorker(
      'program = seccomp.compile_seccomp_filter(data)\nprint(json.dumps({"bytes": len(program)}))',
      rules,
    ) as { bytes: number }
    // a sock_filter is 8 bytes; a rule per denied call at least
    expect(compiled.bytes % 8).toBe(0)
    expect(compiled.bytes / 8).toBeGreaterThan(SECCOMP_DENIED.length)
    const fewer = withWorker('print(json.dumps({"bytes": len(seccomp.compile_seccomp_filter(data))}))', {
      deny: ['ptrace'],
      unavailable: [],
      cloneFlags: [],
    }) as { bytes: number }
    expect(fewer.bytes).toBeLessThan(compiled.bytes)
  })

  it('keeps the head and tail of an output within the configured caps and says how much it cut', () => {
    const text = withWorker(
      [
        'capture = protocol.Capture(4, 3)',
        'capture.add(b"0123456789")',
        'capture.add(b"abc")',
        'result = protocol.cell_result(capture, protocol.Capture(4, 3), 0, None, False, 1.23456, False)',
        'print(json.dumps(result))',
      ].join('\n'),
    )
    expect(text).toEqual({
      stdout: '0123\n... [6 bytes truncated] ...\nabc',
      stderr: '',
      exitCode: 0,
      signal: null,
      timedOut: false,
      truncated: true,
      stdoutBytes: 13,
      stderrBytes: 0,
      durationMs: 1.235,
      sessionEnded: false,
    })
  })

  it('frames a cell for the runner as header, code and stdin, with the echo and session bits', () => {
    const framed = withWorker(
      [
        'raw = runner.encode_cell("print(1)", "in", True, False)',
        'length, feed, flags = runner.CELL_HEADER.unpack(raw[:runner.CELL_HEADER.size])',
        'body = raw[runner.CELL_HEADER.size:]',
        'print(json.dumps({"code": length, "stdin": feed, "flags": flags, "body": body.decode()}))',
      ].join('\n'),
    )
    expect(framed).toEqual({ code: 8, stdin: 2, flags: 1, body: 'print(1)in' })
  })

  it("reports a cell's sys.exit the way a process's exit status would", () => {
    const statuses = withWorker(
      'print(json.dumps([runner.exit_status(SystemExit(c)) for c in (None, 0, 3, 257, "bye")]))',
    )
    expect(statuses).toEqual([0, 0, 3, 1, 1])
  })
})
