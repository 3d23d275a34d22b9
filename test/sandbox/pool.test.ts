import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxPool } from '../../src/sandbox/pool.js'

describe('SandboxPool', () => {
  let pool: SandboxPool
  beforeAll(async () => {
    pool = new SandboxPool({ workers: 2, limits: { timeoutMs: 5000 } })
    await pool.warm()
  })
  afterAll(() => pool.close())

  it('runs a cell and reports stdout, stderr and the exit status', async () => {
    const ok = await pool.execute('import sys\nprint("out")\nprint("err", file=sys.stderr)')
    expect(ok).toMatchObject({
      stdout: 'out\n',
      stderr: 'err\n',
      exitCode: 0,
      timedOut: false,
      truncated: false,
    })
    const raised = await pool.execute('x = 1\nraise ValueError("bad value")')
    expect(raised.exitCode).toBe(1)
    expect(raised.stderr).toContain('line 2')
    expect(raised.stderr).toContain('ValueError: bad value')
    expect(raised.stderr).not.toMatch(/sandbox_worker|run_worker|\/opt\/start/)
    const exited = await pool.execute('import sys\nsys.exit(3)')
    expect(exited.exitCode).toBe(3)
  })

  it('has numpy and sympy ready', async () => {
    const result = await pool.execute(
      'import numpy as np, sympy as sp\nx = sp.Symbol("x")\nprint(sp.solve(x**2 - 4, x), np.arange(3).sum())',
    )
    expect(result.stdout).toBe('[-2, 2] 3\n')
  })

  it('gives each stateless cell a fresh namespace and scratch directory', async () => {
    await pool.execute('leak = 1\nopen("left-behind", "w").write("x")')
    await pool.execute('leak = 1\nopen("left-behind", "w").write("x")')
    const result = await pool.execute('import os\nprint("leak" in globals(), os.listdir("."))')
    expect(result.stdout).toBe('False []\n')
  })

  it('echoes a trailing expression only when asked', async () => {
    expect((await pool.execute('1 + 1')).stdout).toBe('')
    expect((await pool.execute('1 + 1', { echo: true })).stdout).toBe('2\n')
    expect((await pool.execute('None', { echo: true })).stdout).toBe('')
  })

  it('runs cells in parallel across workers', async () => {
    const started = Date.now()
    const results = await Promise.all(
      [1, 2].map(() => pool.execute('import time\ntime.sleep(0.6)\nprint("done")')),
    )
    expect(results.map((result) => result.stdout)).toEqual(['done\n', 'done\n'])
    expect(Date.now() - started).toBeLessThan(1100)
  })

  it('keeps variables and files across the cells of a session', async () => {
    const session = await pool.openSession()
    try {
      await session.execute('import sympy as sp\nx = sp.Symbol("x")\nroots = sp.solve(x**2 - 9, x)')
      await session.execute('open("notes.txt", "w").write("kept")')
      const result = await session.execute('print(roots, open("notes.txt").read())')
      expect(result.stdout).toBe('[-3, 3] kept\n')
    } finally {
      await session.close()
    }
  })

  it('restarts a session cleanly after a timeout or a crash', async () => {
    const session = await pool.openSession()
    try {
      await session.execute('a = 1')
      const stuck = await session.execute('while True:\n    pass', { timeoutMs: 500 })
      expect(stuck).toMatchObject({ timedOut: true, sessionEnded: true })
      const fresh = await session.execute('print("a" in globals())')
      expect(fresh.stdout).toBe('False\n')
      await session.execute('b = 2')
      const crashed = await session.execute('import os\nos._exit(9)')
      expect(crashed).toMatchObject({ exitCode: 9, sessionEnded: true })
      expect((await session.execute('print("b" in globals())')).stdout).toBe('False\n')
    } finally {
      await session.close()
    }
  })

  it('ends the stray processes of a session cell before the next cell, and keeps the session', async () => {
    const session = await pool.openSession()
    try {
      await session.execute(
        'import subprocess, sys\nkept = 1\nsubprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])',
      )
      const next = await session.execute(
        'import os\nprint(kept, sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))',
      )
      expect(next.stdout).toBe('1 [1]\n')
    } finally {
      await session.close()
    }
  })

  it('reads stdin when given, and ends a cell over its CPU seconds before the wall-clock limit', async () => {
    expect((await pool.execute('print(input()[::-1])', { stdin: 'olleh\n' })).stdout).toBe('hello\n')
    expect((await pool.execute('import sys\nprint(len(sys.stdin.read()))')).stdout).toBe('0\n')
    const cpuBound = new SandboxPool({ workers: 1, limits: { timeoutMs: 8000, cpuSeconds: 1 } })
    try {
      const started = performance.now()
      const spin = await cpuBound.execute('while True:\n    pass')
      expect(spin).toMatchObject({ timedOut: false, exitCode: 152 })
      expect(spin.stderr).toContain('CPU time limit exceeded')
      expect(performance.now() - started).toBeLessThan(5000)
    } finally {
      await cpuBound.close()
    }
  })

  it('does not let one session see another', async () => {
    const [first, second] = await Promise.all([pool.openSession(), pool.openSession()])
    try {
      await first.execute('secret = 1')
      expect((await second.execute('print("secret" in globals())')).stdout).toBe('False\n')
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })

  it('reports a bad interpreter as a usage error', async () => {
    const broken = new SandboxPool({ python: '/nonexistent/python3' })
    await expect(broken.execute('1')).rejects.toThrow(
      '--python /nonexistent/python3: cannot run it (not found)',
    )
    await broken.close()
  })
})
